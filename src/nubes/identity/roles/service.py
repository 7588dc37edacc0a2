"""Roles: the role graph (built-in roles' grants from the code, custom roles' from their rows), the ranks (nobody
grants or changes more than they hold) and the tenant's last owner."""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, String, Subquery, delete, literal, literal_column, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.core import audit
from nubes.core.audit import Origin
from nubes.core.errors import Conflict, FieldError, Forbidden, NotFound, UnprocessableEntity
from nubes.core.principal import Principal
from nubes.identity.groups.models import GroupMember, GroupRole
from nubes.identity.roles import catalog
from nubes.identity.roles.models import Role, RolePermission, UserRole
from nubes.identity.roles.schemas import RoleCreate, RoleUpdate
from nubes.identity.tenants.models import Tenant
from nubes.identity.users.models import User


async def roles_by_name(session: AsyncSession, tenant_id: uuid.UUID, names: list[str]) -> list[Role]:
    """The tenant's roles named `names`, or 422 naming the unknown ones."""
    wanted = sorted(set(names))
    roles = list(await session.scalars(select(Role).where(Role.tenant_id == tenant_id, Role.name.in_(wanted))))
    missing = sorted(set(wanted) - {role.name for role in roles})
    if missing:
        raise UnprocessableEntity(
            f"No such role in this tenant: {', '.join(missing)}.",
            errors=[FieldError(loc=["body", "roles"], msg=f"unknown role {name!r}", type="unknown_role") for name in missing],
        )
    return roles


@dataclass(frozen=True, slots=True)
class RoleGraph:
    """A tenant's roles in one query: parent links and own permissions, plus which ones a user holds."""

    parents: dict[uuid.UUID, uuid.UUID | None]
    grants: dict[uuid.UUID, set[str]]
    names: dict[uuid.UUID, str]
    held: frozenset[uuid.UUID]

    def permissions_of(self, role_ids: Iterable[uuid.UUID]) -> frozenset[str]:
        """Every permission the roles grant, following parents (a cycle cannot loop forever)."""
        codes: set[str] = set()
        for role_id in role_ids:
            seen: set[uuid.UUID] = set()
            current: uuid.UUID | None = role_id
            while current is not None and current not in seen and current in self.parents:
                seen.add(current)
                codes |= self.grants[current]
                current = self.parents[current]
        return frozenset(codes & catalog.CODES)


async def role_graph(session: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID | None = None) -> RoleGraph:
    """Load the tenant's role graph (and the roles `user_id` holds) in a single query.

    A built-in role's own permissions come from the code (`catalog.BUILTIN_ROLES`), not from its rows, so a
    permission added there reaches every existing tenant without a data migration.
    """
    direct = select(UserRole.role_id).where(UserRole.user_id == user_id)
    via_groups = (
        select(GroupRole.role_id)
        .join(GroupMember, GroupMember.group_id == GroupRole.group_id)
        .where(GroupMember.user_id == user_id)
    )
    holds = Role.id.in_(direct.union(via_groups)) if user_id is not None else literal(None)
    rows = await session.execute(
        select(Role.id, Role.name, Role.parent_id, Role.builtin, RolePermission.permission, holds)
        .outerjoin(RolePermission, RolePermission.role_id == Role.id)
        .where(Role.tenant_id == tenant_id)
    )
    parents: dict[uuid.UUID, uuid.UUID | None] = {}
    grants: dict[uuid.UUID, set[str]] = {}
    names: dict[uuid.UUID, str] = {}
    held: set[uuid.UUID] = set()
    for role_id, name, parent_id, builtin, permission, holder in rows:
        parents[role_id], names[role_id] = parent_id, name
        if builtin and name in catalog.BUILTIN_ROLES:
            grants[role_id] = set(catalog.BUILTIN_ROLES[name][2])
        else:
            grants.setdefault(role_id, set())
            if permission is not None:
                grants[role_id].add(permission)
        if holder:
            held.add(role_id)
    return RoleGraph(parents=parents, grants=grants, names=names, held=frozenset(held))


async def bump_roles_version(*, session: AsyncSession, tenant_id: uuid.UUID) -> None:
    """Mark the tenant's role graph changed, in the caller's transaction: a cached copy is not used again."""
    await session.execute(
        update(Tenant)
        .where(Tenant.id == tenant_id)
        .values(roles_version=Tenant.roles_version + 1)
        .execution_options(synchronize_session=False)
    )


# Tenants' role graphs (no user's holdings), each under the `tenants.roles_version` it was read at; least recently
# used first. Process memory only: every replica keeps its own and checks the version on each request.
GRAPH_CACHE_SIZE = 512
_graphs: OrderedDict[uuid.UUID, tuple[int, RoleGraph]] = OrderedDict()


async def cached_role_graph(*, session: AsyncSession, tenant_id: uuid.UUID, version: int) -> RoleGraph:
    """The tenant's role graph (`held` empty) at `version`, from memory when it was read at that version.

    Call it only with a version read in the same transaction before it wrote anything: the graph is read after
    the version, so it is never older than the version it is kept under.
    """
    found = _graphs.get(tenant_id)
    if found is not None and found[0] == version:
        _graphs.move_to_end(tenant_id)
        return found[1]
    graph = await role_graph(session, tenant_id)
    _graphs[tenant_id] = (version, graph)
    _graphs.move_to_end(tenant_id)
    while len(_graphs) > GRAPH_CACHE_SIZE:
        _graphs.popitem(last=False)
    return graph


ROLE, GROUP = "r", "g"


def memberships(user_id: uuid.UUID | ColumnElement[uuid.UUID]) -> Subquery:
    """What a user belongs to, one row each (`kind`, `ref`): roles held directly or through a group (ROLE), groups (GROUP).

    Meant to be outer-joined to the caller's row, so the caller, their roles and their groups cost one statement.
    """
    direct = select(literal_column(f"'{ROLE}'", String).label("kind"), UserRole.role_id.label("ref")).where(
        UserRole.user_id == user_id
    )
    via_groups = (
        select(literal_column(f"'{ROLE}'", String), GroupRole.role_id)
        .join(GroupMember, GroupMember.group_id == GroupRole.group_id)
        .where(GroupMember.user_id == user_id)
    )
    groups = select(literal_column(f"'{GROUP}'", String), GroupMember.group_id).where(GroupMember.user_id == user_id)
    return union_all(direct, via_groups, groups).subquery("memberships")


async def granted_by(session: AsyncSession, tenant_id: uuid.UUID, roles: list[Role]) -> frozenset[str]:
    """Every permission `roles` grant in the tenant, inherited ones included."""
    graph = await role_graph(session, tenant_id)
    return graph.permissions_of(role.id for role in roles)


async def effective_permissions(*, session: AsyncSession, user: User) -> tuple[list[tuple[uuid.UUID, str]], frozenset[str]]:
    """The user's roles (id, name) and every permission they grant, inherited ones included."""
    graph = await role_graph(session, user.tenant_id, user.id)
    roles = sorted(((role_id, graph.names[role_id]) for role_id in graph.held), key=lambda role: role[1])
    return roles, graph.permissions_of(graph.held)


def check_can_grant(principal: Principal, codes: frozenset[str]) -> None:
    """Nobody hands out a permission they do not hold themselves (no escalation through role assignment)."""
    beyond = sorted(codes - principal.permissions)
    if beyond:
        raise Forbidden(f"You cannot grant permissions you do not hold: {', '.join(beyond)}.")


class OutRanked(Forbidden):
    """The target holds a permission (or the super-admin status) the actor lacks."""

    code, title = "outranked", "Above your rank"


def check_outranks(principal: Principal, codes: frozenset[str], target: str) -> None:
    """Refuse to act on `target` unless the principal holds every permission it holds or grants."""
    if principal.is_superadmin:
        return
    beyond = sorted(codes - principal.permissions)
    if beyond:
        raise OutRanked(
            f"You cannot change {target}: it holds permissions you do not ({', '.join(beyond)}); ask someone who holds them."
        )


async def check_rank_over_user(*, session: AsyncSession, principal: Principal, user: User) -> None:
    """403 unless the principal may act on `user`: super-admins only by super-admins, others by who holds all they hold."""
    if principal.is_superadmin:
        return
    if user.is_superadmin:
        raise OutRanked(f"You cannot change {user.username}: only a platform super-admin can change a super-admin.")
    _, codes = await effective_permissions(session=session, user=user)
    check_outranks(principal, codes, f"the user {user.username}")


class LastOwner(Conflict):
    """The change would leave a tenant without an active owner."""

    code, title = "last-owner", "A tenant keeps an owner"


async def owner_ids(session: AsyncSession, tenant_id: uuid.UUID) -> set[uuid.UUID]:
    """Active users of the tenant who hold its built-in `owner` role, directly or through a group."""
    owner = select(Role.id).where(Role.tenant_id == tenant_id, Role.name == "owner", Role.builtin.is_(True))
    direct = select(UserRole.user_id).where(UserRole.role_id.in_(owner))
    via_groups = (
        select(GroupMember.user_id)
        .join(GroupRole, GroupRole.group_id == GroupMember.group_id)
        .where(GroupRole.role_id.in_(owner))
    )
    rows = await session.scalars(
        select(User.id).where(User.tenant_id == tenant_id, User.is_active.is_(True), User.id.in_(direct.union(via_groups)))
    )
    return set(rows)


async def keep_an_owner(session: AsyncSession, tenant_id: uuid.UUID, before: set[uuid.UUID]) -> None:
    """After a change (flushed): refuse it when the tenant had an owner and now has none."""
    await session.flush()
    if before and not await owner_ids(session, tenant_id):
        raise LastOwner("This would leave the tenant without an owner; make another user owner first.")


async def role_names(*, session: AsyncSession, user_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    """The names of the roles assigned directly to each user, sorted."""
    names: dict[uuid.UUID, list[str]] = {user_id: [] for user_id in user_ids}
    if user_ids:
        rows = await session.execute(
            select(UserRole.user_id, Role.name).join(Role, Role.id == UserRole.role_id).where(UserRole.user_id.in_(user_ids))
        )
        for user_id, name in rows:
            names[user_id].append(name)
    return {user_id: sorted(found) for user_id, found in names.items()}


async def list_roles(*, session: AsyncSession, principal: Principal) -> tuple[list[Role], RoleGraph]:
    """The tenant's roles, by name, with the graph that explains their permissions."""
    graph = await role_graph(session, principal.tenant_id)
    roles = list(await session.scalars(select(Role).where(Role.tenant_id == principal.tenant_id).order_by(Role.name)))
    return roles, graph


async def get_role(*, session: AsyncSession, principal: Principal, role_id: uuid.UUID) -> Role:
    """A role of the principal's tenant, or 404."""
    role = await session.get(Role, role_id)
    if role is None or role.tenant_id != principal.tenant_id:
        raise NotFound("No such role.")
    return role


async def _check_rank_over_role(session: AsyncSession, principal: Principal, role: Role) -> None:
    """Changing or deleting a role takes from its holders: only someone holding all it grants may."""
    graph = await role_graph(session, role.tenant_id)
    check_outranks(principal, graph.permissions_of([role.id]), f"the role {role.name}")


def _known_codes(codes: list[str]) -> list[str]:
    unknown = sorted(set(codes) - catalog.CODES)
    if unknown:
        raise UnprocessableEntity(
            f"Unknown permission: {', '.join(unknown)}; GET /api/admin/permissions lists them.",
            errors=[
                FieldError(loc=["body", "permissions"], msg=f"unknown permission {c!r}", type="unknown_permission")
                for c in unknown
            ],
        )
    return sorted(set(codes))


async def _parent_id(
    session: AsyncSession, principal: Principal, parent: str | None, role_id: uuid.UUID | None
) -> uuid.UUID | None:
    if parent is None:
        return None
    (found,) = await roles_by_name(session, principal.tenant_id, [parent])
    graph = await role_graph(session, principal.tenant_id)
    current: uuid.UUID | None = found.id
    while current is not None:  # refuse a parent chain that would lead back to this role
        if current == role_id:
            raise UnprocessableEntity(f"A role cannot inherit from itself, even through {parent!r}.")
        current = graph.parents.get(current)
    return found.id


async def create_role(*, session: AsyncSession, principal: Principal, role_in: RoleCreate, origin: Origin) -> Role:
    """A custom role; nobody creates a role granting more than they hold."""
    if await session.scalar(select(Role.id).where(Role.tenant_id == principal.tenant_id, Role.name == role_in.name)):
        raise Conflict(f"A role named {role_in.name!r} exists.")
    codes = _known_codes(role_in.permissions)
    parent_id = await _parent_id(session, principal, role_in.parent, None)
    role = Role(
        tenant_id=principal.tenant_id,
        name=role_in.name,
        description=role_in.description,
        parent_id=parent_id,
        grants=[RolePermission(permission=code) for code in codes],
    )
    session.add(role)
    await session.flush()
    await bump_roles_version(session=session, tenant_id=principal.tenant_id)
    if not principal.is_superadmin:
        check_can_grant(principal, await granted_by(session, principal.tenant_id, [role]))
    await audit.record(
        session=session,
        action="role.create",
        origin=origin,
        principal=principal,
        target_type="role",
        target_id=role.id,
        detail={"name": role.name, "permissions": codes, "parent": role_in.parent},
    )
    return role


async def update_role(
    *, session: AsyncSession, principal: Principal, role_id: uuid.UUID, role_in: RoleUpdate, origin: Origin
) -> Role:
    """Change a custom role's description, parent or permissions."""
    role = await get_role(session=session, principal=principal, role_id=role_id)
    if role.builtin:
        raise Conflict("Built-in roles cannot change; create a custom role instead.")
    await _check_rank_over_role(session, principal, role)
    changes: dict[str, object] = {}
    if role_in.description is not None:
        role.description = changes["description"] = role_in.description
    if "parent" in role_in.model_fields_set:
        role.parent_id = await _parent_id(session, principal, role_in.parent, role.id)
        changes["parent"] = role_in.parent
    if role_in.permissions is not None:
        codes = _known_codes(role_in.permissions)
        await session.execute(delete(RolePermission).where(RolePermission.role_id == role.id))
        session.add_all(RolePermission(role_id=role.id, permission=code) for code in codes)
        changes["permissions"] = codes
    await session.flush()
    await bump_roles_version(session=session, tenant_id=role.tenant_id)
    if not principal.is_superadmin:
        check_can_grant(principal, await granted_by(session, principal.tenant_id, [role]))
    await audit.record(
        session=session,
        action="role.update",
        origin=origin,
        principal=principal,
        target_type="role",
        target_id=role.id,
        detail=changes,
    )
    return role


async def delete_role(*, session: AsyncSession, principal: Principal, role_id: uuid.UUID, origin: Origin) -> None:
    """Delete a custom role; its holders lose what it granted."""
    role = await get_role(session=session, principal=principal, role_id=role_id)
    if role.builtin:
        raise Conflict("Built-in roles cannot be deleted.")
    await _check_rank_over_role(session, principal, role)
    await audit.record(
        session=session,
        action="role.delete",
        origin=origin,
        principal=principal,
        target_type="role",
        target_id=role.id,
        detail={"name": role.name},
    )
    await session.execute(update(Role).where(Role.parent_id == role.id).values(parent_id=None))
    await session.delete(role)
    await session.flush()
    await bump_roles_version(session=session, tenant_id=role.tenant_id)
