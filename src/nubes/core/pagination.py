"""Paging parameters every list endpoint takes, bounded so no engine overflows on them."""

from typing import Annotated

from fastapi import Query

MAX_OFFSET = 1_000_000

Limit = Annotated[int, Query(ge=1, le=500, description="How many items to return.")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="How many items to skip.")]
