"""The permission catalog: `require()` refuses unknown codes, built-in roles take their grants from the code."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from nubes.config import Settings
from nubes.identity.deps import require
from nubes.identity.roles import catalog, service
from tests.factories import make_tenant, make_user


def test_require_refuses_an_unknown_code_when_the_route_is_defined() -> None:
    with pytest.raises(ValueError, match=r"files\.wirte"):
        require("files.read", "files.wirte")


def test_require_takes_known_codes() -> None:
    assert callable(require("files.read", "containers.manage"))


def test_the_catalog_has_each_code_once() -> None:
    codes = [permission.code for permission in catalog.CATALOG]
    assert len(codes) == len(set(codes)) == len(catalog.CODES)


async def test_a_code_added_to_a_builtin_role_reaches_an_existing_tenant_without_a_write(
    session: AsyncSession, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN a tenant made before a new domain's code existed
    WHEN the code joins the catalog and the built-in member role (as a new domain's permissions.py would)
    THEN the tenant's owner, who inherits from member, holds it, and reading the role graph wrote nothing.
    """
    tenant = await make_tenant(session)
    owner = await make_user(session, settings, tenant, roles=("owner",))
    _roles, before = await service.effective_permissions(session=session, user=owner)
    assert "widgets.use" not in before

    description, parent, codes = catalog.BUILTIN_ROLES["member"]
    monkeypatch.setitem(catalog.BUILTIN_ROLES, "member", (description, parent, codes | {"widgets.use"}))
    monkeypatch.setattr(catalog, "CODES", catalog.CODES | {"widgets.use"})
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    bind = session.bind
    assert isinstance(bind, AsyncConnection | AsyncEngine)
    engine = bind.sync_engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        _roles, after = await service.effective_permissions(session=session, user=owner)
    finally:
        event.remove(engine, "before_cursor_execute", seen)

    assert after == before | {"widgets.use"}
    assert statements, "the role graph was read from the database"
    assert not [s for s in statements if not s.lstrip().upper().startswith("SELECT")]
