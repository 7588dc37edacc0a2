"""Reading each document's text: the durable job, its readers (PDF, OCR, e-mail, office files) and its flows."""
