"""The tenant's document vocabularies: types, correspondents, tags and the category tree."""
