"""The documents classifier: a model per organization, trained on what people confirmed, that suggests a document's
type, correspondent, tags and categories with the words that drove each suggestion; and its date, from the text."""
