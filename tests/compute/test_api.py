"""The compute API in-process (no agent): eggs, nodes and registration, placement, containers, jobs, permissions."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.compute.eggs.models import Egg
from nubes.compute.nodes.models import Node
from nubes.config import Settings
from nubes.core.audit import AuditEvent
from nubes.identity.tenants.models import Tenant
from tests.compute.eggs import ECHO_EGG, TEST_IMAGE, egg
from tests.compute.test_rules import RULE_STRINGS
from tests.factories import SignedIn, login, make_tenant, make_user


@pytest.fixture
async def tenant(session: AsyncSession) -> Tenant:
    return await make_tenant(session)


@pytest.fixture
async def platform(client: httpx.AsyncClient, session: AsyncSession, settings: Settings, tenant: Tenant) -> SignedIn:
    """A platform administrator."""
    return await login(client, await make_user(session, settings, tenant, roles=("owner",), superadmin=True))


@pytest.fixture
async def admin(client: httpx.AsyncClient, session: AsyncSession, settings: Settings, tenant: Tenant) -> SignedIn:
    """A tenant admin: manages containers, not the platform."""
    return await login(client, await make_user(session, settings, tenant, roles=("admin",)))


@pytest.fixture
async def member(client: httpx.AsyncClient, session: AsyncSession, settings: Settings, tenant: Tenant) -> SignedIn:
    """A member: sees containers, changes none."""
    return await login(client, await make_user(session, settings, tenant, roles=("member",)))


async def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def _infrastructure(
    client: httpx.AsyncClient, platform: SignedIn, *, ports: list[str], memory_mb: int = 1024
) -> dict[str, str]:
    """A cluster with one node and the echo egg."""
    cluster = await _ok(
        await client.post("/api/clusters", json={"name": f"c-{uuid.uuid4().hex[:6]}"}, headers=platform.headers), 201
    )
    node = await _ok(
        await client.post(
            "/api/nodes",
            json={
                "name": f"n-{uuid.uuid4().hex[:6]}",
                "cluster_id": cluster["id"],
                "cpu": 200,
                "memory_mb": memory_mb,
                "disk_mb": 10_000,
            },
            headers=platform.headers,
        ),
        201,
    )
    if ports:
        await _ok(
            await client.post(
                f"/api/nodes/{node['id']}/allocations", json={"ip": "127.0.0.1", "ports": ports}, headers=platform.headers
            ),
            201,
        )
    imported = await _ok(await client.post("/api/eggs/import", json=ECHO_EGG, headers=platform.headers), 201)
    return {"cluster": cluster["id"], "node": node["id"], "egg": imported["id"], "token": node["registration_token"]}


def _container(ids: dict[str, str], **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "echo",
        "egg_id": ids["egg"],
        "cluster_id": ids["cluster"],
        "environment": {"GREETING": "hi"},
        "limits": {"cpu": 50, "memory_mb": 128, "disk_mb": 100},
    }
    body.update(changes)
    return body


# --- eggs ------------------------------------------------------------------------------------------


async def test_egg_import_and_export_round_trip_unchanged(
    client: httpx.AsyncClient, platform: SignedIn, member: SignedIn
) -> None:
    imported = await _ok(await client.post("/api/eggs/import", json=ECHO_EGG, headers=platform.headers), 201)
    assert imported["images"] == [TEST_IMAGE]
    visible = {variable["env_variable"] for variable in imported["variables"]}
    assert visible == {"GREETING", "MAX_PLAYERS"}  # BUILD is not user_viewable
    exported = await _ok(await client.get(f"/api/eggs/{imported['id']}/export", headers=platform.headers))
    assert exported == ECHO_EGG
    assert (await client.get("/api/eggs", headers=member.headers)).status_code == 200
    assert (await client.post("/api/eggs/import", json=ECHO_EGG, headers=member.headers)).status_code == 403


async def test_an_egg_edit_changes_its_basic_fields_and_its_export(
    client: httpx.AsyncClient, platform: SignedIn, admin: SignedIn
) -> None:
    imported = await _ok(await client.post("/api/eggs/import", json=ECHO_EGG, headers=platform.headers), 201)
    url = f"/api/eggs/{imported['id']}"
    edited = await _ok(await client.patch(url, json={"name": "Echo", "description": "Says it back."}, headers=platform.headers))
    assert (edited["name"], edited["description"], edited["author"]) == ("Echo", "Says it back.", ECHO_EGG["author"])
    exported = await _ok(await client.get(f"{url}/export", headers=platform.headers))
    assert exported == {**ECHO_EGG, "name": "Echo", "description": "Says it back."}
    assert (await client.patch(url, json={"name": ""}, headers=platform.headers)).status_code == 422
    assert (await client.patch(url, json={"name": "mine"}, headers=admin.headers)).status_code == 403
    assert (await _ok(await client.get(url, headers=admin.headers)))["name"] == "Echo"


async def test_ptdl_v1_image_list_is_read(client: httpx.AsyncClient, platform: SignedIn) -> None:
    document = egg(meta={"version": "PTDL_v1"}, images=["a/b:1", "a/b:2"])
    del document["docker_images"]
    imported = await _ok(await client.post("/api/eggs/import", json=document, headers=platform.headers), 201)
    assert imported["images"] == ["a/b:1", "a/b:2"]


@pytest.mark.parametrize(
    ("document", "where"),
    [
        (egg(meta={"version": "PTDL_v9"}), "meta.version"),
        (egg(docker_images={}), "body"),
        (egg(startup=""), "startup"),
        (egg(variables=[{**ECHO_EGG["variables"][0], "rules": "required|frobnicate"}]), "variables.0.rules"),
        (egg(variables=[{**ECHO_EGG["variables"][0], "rules": "regex:/(unclosed/"}]), "variables.0.rules"),
        (egg(variables=[{**ECHO_EGG["variables"][0], "env_variable": "BAD NAME"}]), "variables.0.env_variable"),
        (egg(variables=[ECHO_EGG["variables"][0], ECHO_EGG["variables"][0]]), "body"),
        ({"name": "no meta"}, "meta"),
    ],
)
async def test_bad_eggs_are_refused_naming_the_field(
    client: httpx.AsyncClient, platform: SignedIn, document: dict[str, Any], where: str
) -> None:
    response = await client.post("/api/eggs/import", json=document, headers=platform.headers)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["type"] == "urn:nubes:problem:validation-error"
    assert where in problem["detail"]


async def test_an_egg_that_is_not_json_is_a_clear_400(client: httpx.AsyncClient, platform: SignedIn) -> None:
    response = await client.post(
        "/api/eggs/import",
        content=b'{"meta": {"version": "PTDL_v2"',
        headers={**platform.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["type"] == "urn:nubes:problem:malformed-json"


# --- clusters, nodes, registration -----------------------------------------------------------------


async def test_infrastructure_is_for_platform_admins(client: httpx.AsyncClient, admin: SignedIn, platform: SignedIn) -> None:
    assert (await client.post("/api/clusters", json={"name": "mine"}, headers=admin.headers)).status_code == 403
    assert (await client.get("/api/nodes", headers=admin.headers)).status_code == 403
    assert (await client.get("/api/clusters", headers=admin.headers)).status_code == 200
    ids = await _infrastructure(client, platform, ports=["25600"])
    assert (await client.post(f"/api/nodes/{ids['node']}/revoke", headers=admin.headers)).status_code == 403


async def test_registration_token_works_once_and_is_stored_hashed(
    client: httpx.AsyncClient, platform: SignedIn, session: AsyncSession
) -> None:
    ids = await _infrastructure(client, platform, ports=[])
    node = await session.scalar(select(Node).where(Node.id == uuid.UUID(ids["node"])))
    assert node is not None
    assert node.registration_token_hash is not None
    assert ids["token"] not in node.registration_token_hash
    first = await _ok(await client.post("/api/nodes/register", json={"token": ids["token"]}))
    assert first["node_id"] == ids["node"]
    assert first["credential"].startswith("nbn_")
    again = await client.post("/api/nodes/register", json={"token": ids["token"]})
    assert again.status_code == 404
    assert "used or expired" in again.json()["detail"]
    await session.refresh(node)
    assert node.credential_hash is not None
    assert first["credential"] not in node.credential_hash
    assert node.status == "offline"


async def test_allocations_accept_ranges_and_refuse_nonsense(client: httpx.AsyncClient, platform: SignedIn) -> None:
    ids = await _infrastructure(client, platform, ports=["25600-25602", "25610"])
    listed = await _ok(await client.get(f"/api/nodes/{ids['node']}/allocations", headers=platform.headers))
    assert [item["port"] for item in listed] == [25600, 25601, 25602, 25610]
    for ports in (["80"], ["25610-25600"], ["abc"], ["20000-40000"]):
        response = await client.post(
            f"/api/nodes/{ids['node']}/allocations", json={"ip": "127.0.0.1", "ports": ports}, headers=platform.headers
        )
        assert response.status_code == 422, ports
    bad_ip = await client.post(
        f"/api/nodes/{ids['node']}/allocations", json={"ip": "999.1.1.1", "ports": ["25600"]}, headers=platform.headers
    )
    assert bad_ip.status_code == 422


# --- containers ------------------------------------------------------------------------------------


async def test_create_returns_202_with_the_job_and_renders_startup(
    client: httpx.AsyncClient, platform: SignedIn, admin: SignedIn, session: AsyncSession
) -> None:
    ids = await _infrastructure(client, platform, ports=["25600"])
    accepted = await _ok(await client.post("/api/containers", json=_container(ids), headers=admin.headers), 202)
    container, job = accepted["container"], accepted["job"]
    assert container["state"] == "installing"
    assert container["ports"] == [{"ip": "127.0.0.1", "port": 25600}]
    assert container["environment"] == {"GREETING": "hi", "MAX_PLAYERS": "10", "BUILD": "latest"}
    assert container["startup"].startswith("echo started hi on 25600 with 128;")
    assert job["action"] == "create"
    assert job["status"] == "queued"
    jobs = await _ok(await client.get("/api/jobs", params={"container_id": container["id"]}, headers=admin.headers))
    assert [item["id"] for item in jobs["items"]] == [job["id"]]
    audited = await session.scalar(select(AuditEvent).where(AuditEvent.action == "compute.container.create"))
    assert audited is not None
    assert audited.target_id == container["id"]
    # Not installed yet: power actions wait.
    power = await client.post(f"/api/containers/{container['id']}/power", json={"action": "start"}, headers=admin.headers)
    assert power.status_code == 409
    assert "still installing" in power.json()["detail"]


async def test_variables_are_checked_against_the_egg_rules(
    client: httpx.AsyncClient, platform: SignedIn, admin: SignedIn
) -> None:
    ids = await _infrastructure(client, platform, ports=["25600"])
    response = await client.post(
        "/api/containers",
        json=_container(ids, environment={"GREETING": "x" * 21, "MAX_PLAYERS": 500, "BUILD": "mine", "NOPE": "1"}),
        headers=admin.headers,
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    messages = {tuple(error["loc"]): error["msg"] for error in problem["errors"]}
    assert messages[("body", "environment", "GREETING")] == "GREETING must be at most 20 characters (rule max:20)"
    assert messages[("body", "environment", "MAX_PLAYERS")] == "MAX_PLAYERS must be between 1 and 100 (rule between:1,100)"
    assert "cannot be changed" in messages[("body", "environment", "BUILD")]
    assert "no such variable" in messages[("body", "environment", "NOPE")]
    required = await client.post("/api/containers", json=_container(ids, environment={"GREETING": ""}), headers=admin.headers)
    assert required.status_code == 422
    assert required.json()["errors"][0]["msg"] == "GREETING is required (rule required)"
    # Nothing was placed: the allocation is still free.
    assert (await client.post("/api/containers", json=_container(ids), headers=admin.headers)).status_code == 202


async def test_nodes_show_what_their_containers_reserve(client: httpx.AsyncClient, platform: SignedIn, admin: SignedIn) -> None:
    """GIVEN a node with two ports WHEN one container is placed THEN the node lists its reserved limits and ports."""
    ids = await _infrastructure(client, platform, ports=["25600-25601"])
    fresh = await _ok(await client.get(f"/api/nodes/{ids['node']}", headers=platform.headers))
    assert fresh["allocated"] == {
        "containers": 0,
        "cpu": 0,
        "memory_mb": 0,
        "disk_mb": 0,
        "allocations": 2,
        "allocations_used": 0,
    }
    await _ok(await client.post("/api/containers", json=_container(ids), headers=admin.headers), 202)
    listed = {node["id"]: node for node in await _ok(await client.get("/api/nodes", headers=platform.headers))}
    assert listed[ids["node"]]["allocated"] == {
        "containers": 1,
        "cpu": 50,
        "memory_mb": 128,
        "disk_mb": 100,
        "allocations": 2,
        "allocations_used": 1,
    }


async def test_placement_says_what_is_short(client: httpx.AsyncClient, platform: SignedIn, admin: SignedIn) -> None:
    ids = await _infrastructure(client, platform, ports=["25600"], memory_mb=256)
    too_big = await client.post("/api/containers", json=_container(ids, limits={"memory_mb": 512}), headers=admin.headers)
    assert too_big.status_code == 409
    assert "memory (needs 512 MiB, 256 MiB free)" in too_big.json()["detail"]
    await _ok(await client.post("/api/containers", json=_container(ids), headers=admin.headers), 202)
    exhausted = await client.post("/api/containers", json=_container(ids, name="second"), headers=admin.headers)
    assert exhausted.status_code == 409
    assert "a free allocation (ip:port)" in exhausted.json()["detail"]
    wrong_image = await client.post("/api/containers", json=_container(ids, image="evil/image:1"), headers=admin.headers)
    assert wrong_image.status_code == 422


async def test_members_read_but_do_not_manage(
    client: httpx.AsyncClient, platform: SignedIn, admin: SignedIn, member: SignedIn
) -> None:
    ids = await _infrastructure(client, platform, ports=["25600"])
    created = await _ok(await client.post("/api/containers", json=_container(ids), headers=admin.headers), 202)
    container_id = created["container"]["id"]
    assert (await client.post("/api/containers", json=_container(ids), headers=member.headers)).status_code == 403
    assert (await client.delete(f"/api/containers/{container_id}", headers=member.headers)).status_code == 403
    listed = await _ok(await client.get("/api/containers", headers=member.headers))
    assert [item["id"] for item in listed["items"]] == [container_id]


async def test_logs_of_a_node_without_agent_is_a_clear_error(
    client: httpx.AsyncClient, platform: SignedIn, admin: SignedIn
) -> None:
    ids = await _infrastructure(client, platform, ports=["25600"])
    created = await _ok(await client.post("/api/containers", json=_container(ids), headers=admin.headers), 202)
    response = await client.get(f"/api/containers/{created['container']['id']}/logs", headers=admin.headers)
    assert response.status_code == 409  # still installing: its output is in the create job
    assert "create job" in response.json()["detail"]


async def test_several_allocations_per_container(client: httpx.AsyncClient, platform: SignedIn, admin: SignedIn) -> None:
    ids = await _infrastructure(client, platform, ports=["25600-25604"])
    three = await _ok(await client.post("/api/containers", json=_container(ids, allocations=3), headers=admin.headers), 202)
    assert [port["port"] for port in three["container"]["ports"]] == [25600, 25601, 25602]
    assert "on 25600" in three["container"]["startup"]
    short = await client.post("/api/containers", json=_container(ids, name="more", allocations=3), headers=admin.headers)
    assert short.status_code == 409
    assert "3 free allocations (2 free)" in short.json()["detail"]
    listed = await _ok(await client.get(f"/api/nodes/{ids['node']}/allocations", headers=platform.headers))
    by_port = {item["port"]: item["id"] for item in listed}
    # Explicit allocations: these and no others; a used one is a 409, an unknown one a 422.
    chosen = [by_port[25604], by_port[25603]]
    explicit = await _ok(
        await client.post("/api/containers", json=_container(ids, name="picked", allocation_ids=chosen), headers=admin.headers),
        202,
    )
    assert [port["port"] for port in explicit["container"]["ports"]] == [25603, 25604]
    assert "on 25603" in explicit["container"]["startup"], "the lowest is SERVER_PORT, as on every start"
    used = await client.post(
        "/api/containers", json=_container(ids, name="again", allocation_ids=[by_port[25600]]), headers=admin.headers
    )
    assert used.status_code == 409
    assert "127.0.0.1:25600" in used.json()["detail"]
    unknown = await client.post(
        "/api/containers", json=_container(ids, name="ghost", allocation_ids=[str(uuid.uuid4())]), headers=admin.headers
    )
    assert unknown.status_code == 422


async def test_restart_policy_is_set_shown_and_changed(client: httpx.AsyncClient, platform: SignedIn, admin: SignedIn) -> None:
    ids = await _infrastructure(client, platform, ports=["25600"])
    policy = {"mode": "on-crash", "max_retries": 2, "window_seconds": 60, "backoff_seconds": 1}
    created = await _ok(await client.post("/api/containers", json=_container(ids, restart=policy), headers=admin.headers), 202)
    assert created["container"]["restart"] == policy
    container_id = created["container"]["id"]
    changed = await _ok(
        await client.patch(
            f"/api/containers/{container_id}", json={"name": "renamed", "restart": {"mode": "never"}}, headers=admin.headers
        )
    )
    assert changed["name"] == "renamed"
    assert changed["restart"]["mode"] == "never"
    bad = await client.patch(f"/api/containers/{container_id}", json={"restart": {"mode": "always"}}, headers=admin.headers)
    assert bad.status_code == 422


async def test_egg_categories_shelve_eggs(client: httpx.AsyncClient, platform: SignedIn, admin: SignedIn) -> None:
    games = await _ok(await client.post("/api/egg-categories", json={"name": "Games"}, headers=platform.headers), 201)
    bots = await _ok(await client.post("/api/egg-categories", json={"name": "Bots"}, headers=platform.headers), 201)
    taken = await client.post("/api/egg-categories", json={"name": "Games"}, headers=platform.headers)
    assert taken.status_code == 409
    assert (await client.post("/api/egg-categories", json={"name": "X"}, headers=admin.headers)).status_code == 403
    echo = await _ok(
        await client.post("/api/eggs/import", params={"category_id": games["id"]}, json=ECHO_EGG, headers=platform.headers), 201
    )
    other = await _ok(await client.post("/api/eggs/import", json=egg(name="Other"), headers=platform.headers), 201)
    in_games = await _ok(await client.get("/api/eggs", params={"category_id": games["id"]}, headers=admin.headers))
    assert [item["id"] for item in in_games] == [echo["id"]]
    moved = await _ok(await client.patch(f"/api/eggs/{other['id']}", json={"category_id": bots["id"]}, headers=platform.headers))
    assert moved["category_id"] == bots["id"]
    listed = await _ok(await client.get("/api/egg-categories", headers=admin.headers))
    assert [(item["name"], item["eggs"]) for item in listed] == [("Bots", 1), ("Games", 1)]
    renamed = await _ok(
        await client.patch(f"/api/egg-categories/{games['id']}", json={"name": "Game servers"}, headers=platform.headers)
    )
    assert renamed == {**games, "name": "Game servers", "eggs": 1}
    assert (await client.delete(f"/api/egg-categories/{games['id']}", headers=platform.headers)).status_code == 204
    kept = await _ok(await client.get(f"/api/eggs/{echo['id']}", headers=admin.headers))
    assert kept["category_id"] is None, "the egg stays, uncategorized"
    assert (await client.delete(f"/api/egg-categories/{games['id']}", headers=platform.headers)).status_code == 404


async def test_a_chosen_node_takes_the_container_or_says_why(
    client: httpx.AsyncClient, platform: SignedIn, admin: SignedIn
) -> None:
    ids = await _infrastructure(client, platform, ports=["25600-25601"])
    second = await _ok(
        await client.post(
            "/api/nodes",
            json={
                "name": f"n-{uuid.uuid4().hex[:6]}",
                "cluster_id": ids["cluster"],
                "cpu": 200,
                "memory_mb": 64,
                "disk_mb": 10_000,
            },
            headers=platform.headers,
        ),
        201,
    )
    await _ok(
        await client.post(
            f"/api/nodes/{second['id']}/allocations", json={"ip": "127.0.0.2", "ports": ["25600"]}, headers=platform.headers
        ),
        201,
    )
    placed = await _ok(
        await client.post("/api/containers", json=_container(ids, node_id=ids["node"]), headers=admin.headers), 202
    )
    assert placed["container"]["node_id"] == ids["node"]
    too_small = await client.post(
        "/api/containers",
        json=_container(ids, name="small", node_id=second["id"], limits={"memory_mb": 128}),
        headers=admin.headers,
    )
    assert too_small.status_code == 409
    assert "memory (needs 128 MiB, 64 MiB free)" in too_small.json()["detail"]
    elsewhere = await client.post(
        "/api/containers", json=_container(ids, name="stray", node_id=str(uuid.uuid4())), headers=admin.headers
    )
    assert elsewhere.status_code == 422
    assert elsewhere.json()["errors"][0]["loc"] == ["body", "node_id"]


# --- hostile eggs: patterns, reserved names, deep documents (issue 11) -------------------------------


def _nested(depth: int) -> Any:
    """A JSON value with `depth` arrays and objects inside each other."""
    value: Any = "bottom"
    for level in range(depth):
        value = [value] if level % 2 else {"deeper": value}
    return value


def _with_variable(env_variable: str, rules: str = "nullable|string", default: str = "1") -> dict[str, Any]:
    variable = {
        "name": env_variable,
        "description": "",
        "env_variable": env_variable,
        "default_value": default,
        "user_viewable": True,
        "user_editable": True,
        "rules": rules,
        "field_type": "text",
    }
    return egg(variables=[*ECHO_EGG["variables"], variable])


async def _store_unchecked(session: AsyncSession, document: dict[str, Any]) -> str:
    """An egg row as an older version stored it, without today's import checks."""
    row = Egg(name=document["name"], author="", description="", document=document)
    session.add(row)
    await session.commit()
    return str(row.id)


@pytest.mark.parametrize(
    ("pattern", "feature"),
    [
        ("/^(?=a)a$/", "look-ahead"),
        ("/^(?<!a)b$/", "look-behind"),
        ("/^(a)\\1$/", "back-reference"),
        ("/^(?>a+)$/", "atomic group"),
        ("/^a++$/", "possessive quantifier"),
        ("/^a$/x", "x (extended) flag"),
    ],
)
async def test_a_pattern_the_linear_engine_cannot_run_is_refused_naming_variable_and_feature(
    client: httpx.AsyncClient, platform: SignedIn, pattern: str, feature: str
) -> None:
    response = await client.post(
        "/api/eggs/import", json=_with_variable("LEVEL_NAME", f"required|regex:{pattern}"), headers=platform.headers
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert "LEVEL_NAME" in problem["detail"]
    assert feature in problem["detail"]
    assert problem["errors"][0]["loc"] == ["body", "variables", 3, "rules"]


async def test_a_catastrophic_pattern_is_checked_without_stalling(
    client: httpx.AsyncClient, platform: SignedIn, admin: SignedIn
) -> None:
    """GIVEN regex:/(a+)+$/ WHEN a value of a's and a ! is checked THEN 422 (backtracking took seconds, doubling per a)."""
    ids = await _infrastructure(client, platform, ports=["25600"])
    imported = await _ok(
        await client.post("/api/eggs/import", json=_with_variable("NAME", "regex:/^(a+)+$/"), headers=platform.headers), 201
    )
    body = _container({**ids, "egg": imported["id"]}, environment={"GREETING": "hi", "NAME": "a" * 4000 + "!"})
    response = await client.post("/api/containers", json=body, headers=admin.headers)
    assert response.status_code == 422, response.text
    assert "NAME does not match the pattern" in response.json()["detail"]


@pytest.mark.parametrize(
    "name", ["SERVER_PORT", "SERVER_IP", "SERVER_MEMORY", "STARTUP", "TZ", "P_SERVER_UUID", "PATH", "HOME", "LD_PRELOAD", "path"]
)
async def test_reserved_variable_names_are_refused_at_import(client: httpx.AsyncClient, platform: SignedIn, name: str) -> None:
    response = await client.post("/api/eggs/import", json=_with_variable(name), headers=platform.headers)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert f"{name} is a name Nubes sets itself" in problem["detail"]
    assert problem["errors"][0]["loc"] == ["body", "variables", 3, "env_variable"]


async def test_built_ins_win_over_a_stored_egg_s_variable_of_the_same_name(
    client: httpx.AsyncClient, platform: SignedIn, admin: SignedIn, session: AsyncSession
) -> None:
    """GIVEN an egg stored before reserved names were refused, declaring SERVER_PORT and LD_PRELOAD
    WHEN a container is made THEN its startup has the real port and neither variable reaches it."""
    ids = await _infrastructure(client, platform, ports=["25600"])
    document = _with_variable("SERVER_PORT", default="1")
    document["variables"].append({**document["variables"][-1], "env_variable": "LD_PRELOAD", "default_value": "evil.so"})
    egg_id = await _store_unchecked(session, document)
    accepted = await _ok(
        await client.post("/api/containers", json=_container({**ids, "egg": egg_id}), headers=admin.headers), 202
    )
    container = accepted["container"]
    assert container["startup"].startswith("echo started hi on 25600 with 128;")
    assert "SERVER_PORT" not in container["environment"]
    assert "LD_PRELOAD" not in container["environment"]
    listed = await _ok(await client.get("/api/eggs", headers=platform.headers))  # the old egg still reads back
    assert egg_id in {item["id"] for item in listed}


@pytest.mark.parametrize("depth", [65, 256, 940, 100_000])
async def test_a_deep_egg_is_refused_when_parsed_naming_the_limit(
    client: httpx.AsyncClient, platform: SignedIn, depth: int
) -> None:
    # Written by hand: the client's own encoder stops near 1,000 levels.
    body = json.dumps(egg(extra="DEEP")).replace('"DEEP"', "[" * depth + "]" * depth).encode()
    response = await client.post(
        "/api/eggs/import", content=body, headers={**platform.headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert "more than 64 levels deep" in problem["detail"]
    assert problem["errors"][0]["type"] == "json_too_deep"


async def test_the_deepest_accepted_egg_exports_and_reimports(client: httpx.AsyncClient, platform: SignedIn) -> None:
    document = egg(extra=_nested(63))  # 64 levels with the document itself
    imported = await _ok(await client.post("/api/eggs/import", json=document, headers=platform.headers), 201)
    exported = await _ok(await client.get(f"/api/eggs/{imported['id']}/export", headers=platform.headers))
    assert exported == document
    await _ok(await client.post("/api/eggs/import", json=exported, headers=platform.headers), 201)


async def test_a_deep_egg_stored_earlier_still_exports(
    client: httpx.AsyncClient, platform: SignedIn, session: AsyncSession
) -> None:
    """GIVEN an egg 300 levels deep, stored before the limit WHEN it is listed and exported THEN 200, not 500."""
    document = egg(extra=_nested(300))
    egg_id = await _store_unchecked(session, document)
    exported = await client.get(f"/api/eggs/{egg_id}/export", headers=platform.headers)
    assert exported.status_code == 200, exported.text
    assert exported.json() == document
    assert (await client.get(f"/api/eggs/{egg_id}", headers=platform.headers)).status_code == 200


async def test_the_json_depth_limit_holds_on_other_routes(client: httpx.AsyncClient, platform: SignedIn) -> None:
    response = await client.post(
        "/api/egg-categories", json={"name": "deep", "description": _nested(70)}, headers=platform.headers
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["type"] == "json_too_deep"


@pytest.mark.parametrize("name", ["a\r\nb.txt", "x\ny", "tab\tname", "nul\x01"])
async def test_container_file_names_are_refused_by_the_server_on_every_write_path(
    client: httpx.AsyncClient, platform: SignedIn, admin: SignedIn, name: str
) -> None:
    """GIVEN a name with CR/LF or another control character WHEN uploaded, made or renamed to THEN 422 from the
    server itself, before any agent is asked (this container has none)."""
    ids = await _infrastructure(client, platform, ports=["25600"])
    container = (await _ok(await client.post("/api/containers", json=_container(ids), headers=admin.headers), 202))["container"]
    base = f"/api/containers/{container['id']}/files"
    writes = [
        await client.put(f"{base}/content", params={"path": f"config/{name}"}, content=b"x", headers=admin.headers),
        await client.post(f"{base}/mkdir", json={"path": name}, headers=admin.headers),
        await client.post(f"{base}/rename", json={"path": "ok.txt", "target": f"dir/{name}"}, headers=admin.headers),
    ]
    for response, where in zip(writes, (["query", "path"], ["body", "path"], ["body", "target"]), strict=True):
        assert response.status_code == 422, response.text
        assert "control characters" in response.json()["detail"]
        assert response.json()["errors"][0]["loc"] == where
    fine = await client.post(f"{base}/mkdir", json={"path": "config"}, headers=admin.headers)
    assert fine.status_code == 409  # a good name goes on to the container, which is still installing


# --- property: whatever an import accepts exports, and the export imports again (issue 11) --------------

_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=24)
_HOSTILE = st.one_of(st.none(), st.none(), st.none(), st.sampled_from(["a\x00b", "\ud800", "x" * 300]))
_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _TEXT
)
_JSON = st.recursive(
    _LEAVES, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4), max_leaves=24
)
_VARIABLES = st.lists(
    st.fixed_dictionaries(
        {
            "name": _TEXT,
            "env_variable": st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True),
            "default_value": _LEAVES,
            "user_viewable": st.booleans() | st.integers(0, 1),
            "user_editable": st.booleans(),
            "rules": RULE_STRINGS,
        },
        optional={"description": _TEXT | st.none(), "field_type": st.sampled_from(["text", None]), "sort": _JSON},
    ),
    max_size=3,
)
_EGGS = st.builds(
    lambda name, author, images, variables, extra, nested, hostile: {
        **egg(name=name, author=author, docker_images=images, variables=variables),
        **extra,
        "extra": nested,
        **({} if hostile is None else {"name": hostile}),
    },
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=24),
    _TEXT | st.none(),
    st.dictionaries(_TEXT, _TEXT, min_size=1, max_size=2),
    _VARIABLES,
    st.dictionaries(st.sampled_from(["features", "file_denylist", "exported_at", "update_url", "x-new"]), _JSON, max_size=3),
    st.recursive(st.just(0), lambda inner: st.lists(inner, min_size=1, max_size=1), max_leaves=70),
    _HOSTILE,
)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(document=_EGGS)
async def test_any_egg_the_import_accepts_exports_and_imports_again(
    client: httpx.AsyncClient, platform: SignedIn, document: dict[str, Any]
) -> None:
    """GIVEN any document WHEN imported THEN a clear refusal (never a 500), or: it reads back, exports as the same
    JSON, and the export imports again as the same document."""
    # Encoded here with \u escapes: httpx's encoder cannot send a lone surrogate, which the server must refuse.
    imported = await client.post(
        "/api/eggs/import",
        content=json.dumps(document).encode(),
        headers={**platform.headers, "Content-Type": "application/json"},
    )
    event(f"import answered {imported.status_code}")
    if imported.status_code != 201:
        assert imported.status_code in {400, 422}, imported.text
        return
    egg_id = imported.json()["id"]
    assert (await client.get(f"/api/eggs/{egg_id}", headers=platform.headers)).status_code == 200
    exported = await _ok(await client.get(f"/api/eggs/{egg_id}/export", headers=platform.headers))
    assert exported == document
    again = await _ok(await client.post("/api/eggs/import", json=exported, headers=platform.headers), 201)
    assert await _ok(await client.get(f"/api/eggs/{again['id']}/export", headers=platform.headers)) == document
