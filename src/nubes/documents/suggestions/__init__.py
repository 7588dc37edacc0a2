"""Suggestions of a document's type, correspondent and tags from matching rules, each with the words that drove
it, confirmed or rejected by people."""
