"""The organization's documents settings: upload limits (size, types) and the OCR languages."""
