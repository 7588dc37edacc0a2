"""Routes of the documents domain: every sub-package's router, in the order the app mounts them."""

from __future__ import annotations

from fastapi import APIRouter

from nubes.documents.assistant import api as assistant_api
from nubes.documents.bulk import api as bulk_api
from nubes.documents.classifier import api as classifier_api
from nubes.documents.fields import api as fields_api
from nubes.documents.records import api as records_api
from nubes.documents.settings import api as settings_api
from nubes.documents.suggestions import api as suggestions_api
from nubes.documents.views import api as views_api
from nubes.documents.vocabulary import api as vocabulary_api

routers: list[APIRouter] = [
    vocabulary_api.router,
    settings_api.router,
    fields_api.router,
    records_api.router,
    suggestions_api.router,
    views_api.router,
    bulk_api.router,
    classifier_api.router,
    assistant_api.router,
]
