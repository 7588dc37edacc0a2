"""Routes of search: one query over everything the caller may open."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from nubes.core.db import SessionDep
from nubes.core.principal import Principal
from nubes.core.routing import api_router
from nubes.documents.deps import Reader
from nubes.documents.records import facets
from nubes.identity.deps import require
from nubes.search import everything, service
from nubes.search.schemas import Everything, SnippetPart

router = api_router(tags=["search"])


class SearchHit(BaseModel):
    kind: str = Field(description="What was found: `document`, or `file` (a file's name or the text of its content).")
    document_id: uuid.UUID | None = Field(description="The document found (none for a plain file).")
    file_id: uuid.UUID
    title: str
    snippet: list[SnippetPart] = Field(description="Where the words matched, in the document's text.")
    rank: float = Field(description="Higher is better (comparable within one answer only).")


class FacetBucket(BaseModel):
    value: str = Field(description="The name of the type, correspondent or tag, or the year.")
    term_id: uuid.UUID | None = Field(description="The type's, correspondent's or tag's id (none for a year).")
    count: int


class Facets(BaseModel):
    """How many of the ranked matches have each value (the most frequent first); a `field:value` query narrows."""

    type: list[FacetBucket]
    correspondent: list[FacetBucket]
    tag: list[FacetBucket]
    year: list[FacetBucket]


class SearchResults(BaseModel):
    items: list[SearchHit]
    total: int = Field(description="How many matches you may open (never counting anyone else's).")
    total_exact: bool = Field(
        description="False when `total` is an estimate: the query matched more than `ranked` documents; the page is the best "
        "of the newest `ranked` (add a word or a filter to narrow)."
    )
    ranked: int = Field(description="How many matches were ranked to choose this page (and are counted in `facets`).")
    facets: Facets


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
    kind: Annotated[
        Literal["document", "file"] | None, Query(description="Only documents, or only other files (both when absent).")
    ] = None,
) -> SearchResults:
    found = await service.search(session, principal, q, limit=limit, kind=kind)
    counted = await facets.count(session, principal, found.document_ids)
    items = [
        SearchHit(
            kind=hit.kind, document_id=hit.document_id, file_id=hit.file_id, title=hit.title,
            snippet=[SnippetPart(**part) for part in service.snippet_parts(hit.snippet)], rank=hit.rank,
        )
        for hit in found.hits
    ]  # fmt: skip
    buckets = {
        name: [FacetBucket(value=bucket.value, term_id=bucket.term_id, count=bucket.count) for bucket in getattr(counted, name)]
        for name in ("type", "correspondent", "tag", "year")
    }
    return SearchResults(items=items, total=found.total, total_exact=found.exact, ranked=found.ranked, facets=Facets(**buckets))


@router.get(
    "/search/everything",
    operation_id="search-everything",
    response_model=Everything,
    summary="Find files, documents, containers and people (the top bar's search)",
)
async def search_everything(
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("files.read"))],
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=everything.MAX_QUERY,
            pattern=r"^\s*\S",  # at least one character that is not a space
            description="Words: names of files, containers and people that hold them; documents as `/api/search` reads them.",
        ),
    ],
    limit: Annotated[int, Query(ge=1, le=20, description="At most this many of each kind.")] = everything.GROUP_LIMIT,
) -> Everything:
    """The first matches of each kind you may see; a kind you (or your token) may not see is null, not an error."""
    return await everything.search(session=session, principal=principal, q=q, limit=limit)


routers: list[APIRouter] = [router]
