"""Routes of search: one query over everything the caller may open."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from nubes.core.db import SessionDep
from nubes.core.routing import api_router
from nubes.documents.deps import Reader
from nubes.search import service

router = api_router(tags=["search"])


class SnippetPart(BaseModel):
    text: str
    match: bool = Field(description="Whether this part is a word the query matched (show it marked).")


class SearchHit(BaseModel):
    kind: str = Field(description="What was found: `document`.")
    document_id: uuid.UUID
    file_id: uuid.UUID
    title: str
    snippet: list[SnippetPart] = Field(description="Where the words matched, in the document's text.")
    rank: float = Field(description="Higher is better (comparable within one answer only).")


class SearchResults(BaseModel):
    items: list[SearchHit]
    total: int = Field(description="How many matches you may open (never counting anyone else's).")


@router.get("/search", operation_id="search", response_model=SearchResults, summary="Full-text search")
async def search(
    session: SessionDep,
    principal: Reader,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=500,
            description='Words (all must match), "a phrase", prefix*, and tag:, type:, correspondent:, year: filters.',
        ),
    ],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> SearchResults:
    hits, total = await service.search(session, principal, q, limit=limit)
    items = [
        SearchHit(
            kind="document", document_id=hit.document_id, file_id=hit.file_id, title=hit.title,
            snippet=[SnippetPart(**part) for part in service.snippet_parts(hit.snippet)], rank=hit.rank,
        )
        for hit in hits
    ]  # fmt: skip
    return SearchResults(items=items, total=total)


routers: list[APIRouter] = [router]
