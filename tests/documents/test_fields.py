"""Custom fields through the API, on both engines: definitions managed by documents.manage, values checked by type
(hostile ones refused with the field and the reason), their history, the list's filter, select options renamed and
removed, type changes, deletes, document links across access and tenants, permissions and the search index's words."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.config import Settings
from nubes.documents.records import service as records
from nubes.identity.tenants.models import Tenant
from tests.documents.conftest import Team, upload_document
from tests.factories import SignedIn, login, make_user


async def _json(response: httpx.Response, status: int) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def _document(client: httpx.AsyncClient, who: SignedIn, name: str, data: bytes = b"words") -> dict[str, Any]:
    document: dict[str, Any] = await _json(await upload_document(client, who, name, data), 201)
    return document


async def _field(client: httpx.AsyncClient, team: Team, name: str, data_type: str, **extra: Any) -> dict[str, Any]:
    body = {"name": name, "data_type": data_type, **extra}
    made: dict[str, Any] = await _json(await client.post("/api/documents/fields", json=body, headers=team.manager.headers), 201)
    return made


def _pairs(*pairs: tuple[dict[str, Any], Any]) -> list[dict[str, Any]]:
    """(field, value) pairs as a document update's `custom_fields`."""
    return [{"field_id": custom_field["id"], "value": value} for custom_field, value in pairs]


async def _set(
    client: httpx.AsyncClient, who: SignedIn, document: dict[str, Any], values: list[dict[str, Any]]
) -> httpx.Response:
    return await client.patch(f"/api/documents/{document['id']}", json={"custom_fields": values}, headers=who.headers)


async def test_managers_define_fields_everyone_reads_them_and_other_tenants_see_none(
    client: httpx.AsyncClient, team: Team, session: AsyncSession, settings: Settings
) -> None:
    alice, manager, mallory = team.alice, team.manager, team.mallory
    tenant = await session.get(Tenant, alice.user.tenant_id)
    assert tenant is not None
    viewer = await login(client, await make_user(session, settings, tenant, roles=("viewer",)))
    for who in (alice, viewer):
        refused = await client.post("/api/documents/fields", json={"name": "Amount", "data_type": "number"}, headers=who.headers)
        assert refused.status_code == 403
    amount = await _field(client, team, "Amount", "number")
    assert amount | {"id": None} == {"id": None, "name": "Amount", "data_type": "number", "options": [], "document_count": 0}
    again = await client.post("/api/documents/fields", json={"name": "AMOUNT", "data_type": "text"}, headers=manager.headers)
    assert again.status_code == 409
    options_on_text = await client.post(
        "/api/documents/fields", json={"name": "Note", "data_type": "text", "options": [{"label": "a"}]}, headers=manager.headers
    )
    assert options_on_text.status_code == 422
    unknown_type = await client.post("/api/documents/fields", json={"name": "X", "data_type": "color"}, headers=manager.headers)
    assert unknown_type.status_code == 422
    twice = await client.post(
        "/api/documents/fields",
        json={"name": "State", "data_type": "select", "options": [{"label": "Open"}, {"label": "open"}]},
        headers=manager.headers,
    )
    assert twice.status_code == 422
    assert [entry["name"] for entry in await _json(await client.get("/api/documents/fields", headers=viewer.headers), 200)] == [
        "Amount"
    ]
    assert await _json(await client.get("/api/documents/fields", headers=mallory.headers), 200) == []
    url = f"/api/documents/fields/{amount['id']}"
    assert (await client.patch(url, json={"name": "Mine"}, headers=mallory.headers)).status_code == 404
    assert (await client.delete(url, headers=mallory.headers)).status_code == 404
    assert (await client.patch(url, json={"name": "Total"}, headers=alice.headers)).status_code == 403
    renamed = await _json(await client.patch(url, json={"name": "Total"}, headers=manager.headers), 200)
    assert renamed["name"] == "Total"
    # Another tenant's field cannot be set on a document of this one.
    theirs = await _json(
        await client.post("/api/documents/fields", json={"name": "Secret", "data_type": "text"}, headers=mallory.headers), 201
    )
    document = await _document(client, alice, "a.txt")
    foreign = await _set(client, alice, document, [{"field_id": theirs["id"], "value": "x"}])
    assert foreign.status_code == 422
    assert "No custom field" in foreign.json()["detail"]


async def test_each_type_takes_its_values_and_refuses_others_with_the_field_and_the_reason(
    client: httpx.AsyncClient, team: Team
) -> None:
    alice = team.alice
    document = await _document(client, alice, "typed.txt")
    target = await _document(client, alice, "target.txt", b"other words")
    state = await _field(client, team, "State", "select", options=[{"label": "Open"}, {"label": "Paid"}])
    paid = next(option["id"] for option in state["options"] if option["label"] == "Paid")
    fields = {
        name: await _field(client, team, name, kind)
        for name, kind in [
            ("Note", "text"),
            ("Count", "number"),
            ("Due", "date"),
            ("Total", "monetary"),
            ("Done", "boolean"),
            ("Link", "url"),
            ("Related", "document_link"),
        ]
    } | {"State": state}
    valid: dict[str, list[tuple[Any, Any, str]]] = {  # given, read back as value, display
        "Note": [("line one\nline two", "line one\nline two", "line one\nline two")],
        "Count": [(42, 42.0, "42"), (-0.5, -0.5, "-0.5"), (1e15, 1e15, "1000000000000000")],
        "Due": [("2026-12-31", "2026-12-31", "2026-12-31")],
        "Total": [
            ("EUR 12.5", {"amount": "12.50", "currency": "EUR"}, "EUR 12.50"),
            ({"amount": "1234.5678", "currency": "chf"}, {"amount": "1234.5678", "currency": "CHF"}, "CHF 1234.5678"),
            ("JPY 500", {"amount": "500.00", "currency": "JPY"}, "JPY 500.00"),
        ],
        "Done": [(True, True, "yes"), (False, False, "no")],
        "Link": [("https://example.com/a?b=c#d", "https://example.com/a?b=c#d", "https://example.com/a?b=c#d")],
        "State": [(paid, paid, "Paid")],
        "Related": [(target["id"], target["id"], "target")],
    }
    for name, cases in valid.items():
        for given, value, display in cases:
            response = await _set(client, alice, document, [{"field_id": fields[name]["id"], "value": given}])
            read = await _json(response, 200)
            assert [(entry["name"], entry["value"], entry["display"]) for entry in read["custom_fields"]] == [
                (name, value, display)
            ], given
    invalid: dict[str, list[tuple[Any, str]]] = {  # given, a word of the reason
        "Note": [(12, "string"), ("x" * 5001, "at most 5000"), ("bell\x07", "control")],
        "Count": [("12", "JSON number"), (True, "JSON number"), (1e16, "between"), (-1e16, "between")],
        "Due": [("31.12.2026", "ISO"), ("2026-02-30", "exists"), ("20261231", "ISO"), (20261231, "ISO")],
        "Total": [
            ({"amount": 12.5, "currency": "EUR"}, "never a JSON number"),
            (12.5, "'EUR 12.50'"),
            ("EUR 1e3", "decimal string"),
            ("EUR 12.12345", "decimal string"),
            ("ABC 12.00", "ISO 4217"),
            ({"amount": "1", "currency": "EUR", "extra": 1}, "exactly"),
            ("EUR 1234567890123456", "decimal string"),
        ],
        "Done": [("true", "true or false"), (1, "true or false")],
        "Link": [
            ("javascript:alert(1)", "http"),
            ("JAVASCRIPT://x/%0aalert(1)", "http"),
            ("ftp://example.com/", "http"),
            ("https://", "http"),
            ("https://exa mple.com", "spaces"),
            ("https://x.com/" + "a" * 2100, "2048"),
            ("https://x.com:99999/", "valid URL"),
        ],
        "State": [("Paid", "not one of its options"), ("nope", "not one of its options"), (1, "not one of its options")],
        "Related": [("not-an-id", "document's id"), (document["id"], "itself"), (7, "document's id")],
    }
    for name, refusals in invalid.items():
        for given, reason in refusals:
            response = await _set(client, alice, document, [{"field_id": fields[name]["id"], "value": given}])
            assert response.status_code == 422, (name, given, response.text)
            detail = response.json()["detail"]
            assert name in detail, detail
            assert reason in detail, (given, detail)
    # NaN and infinity: JSON has no such numbers, but lenient encoders send them.
    for raw in ("NaN", "Infinity", "-Infinity", "1e400"):
        body = '{"custom_fields": [{"field_id": "' + fields["Count"]["id"] + '", "value": ' + raw + "}]}"
        response = await client.patch(
            f"/api/documents/{document['id']}",
            content=body,
            headers={**alice.headers, "content-type": "application/json"},
        )
        assert response.status_code == 422, (raw, response.text)
    # A body of 10 MB is refused before any parsing; the document is unchanged by every refusal.
    huge = await client.patch(
        f"/api/documents/{document['id']}",
        content=json.dumps({"custom_fields": [{"field_id": fields["Note"]["id"], "value": "x" * 10_000_000}]}),
        headers={**alice.headers, "content-type": "application/json"},
    )
    assert huge.status_code == 413
    twice = await _set(client, alice, document, [{"field_id": fields["Note"]["id"]}, {"field_id": fields["Note"]["id"]}])
    assert twice.status_code == 422
    unchanged = await _json(await client.get(f"/api/documents/{document['id']}", headers=alice.headers), 200)
    assert [(entry["name"], entry["value"]) for entry in unchanged["custom_fields"]] == [("Related", target["id"])]
    # Several at once, and null: carried without a value.
    both = await _json(
        await _set(
            client,
            alice,
            document,
            [{"field_id": fields["Due"]["id"], "value": None}, {"field_id": fields["Done"]["id"], "value": True}],
        ),
        200,
    )
    assert [(entry["name"], entry["value"], entry["display"]) for entry in both["custom_fields"]] == [
        ("Done", True, "yes"), ("Due", None, ""),
    ]  # fmt: skip


async def test_changes_are_in_the_history_and_the_list_filters_by_value(client: httpx.AsyncClient, team: Team) -> None:
    alice = team.alice
    count = await _field(client, team, "Count", "number")
    due = await _field(client, team, "Due", "date")
    total = await _field(client, team, "Total", "monetary")
    state = await _field(client, team, "State", "select", options=[{"label": "Open"}, {"label": "Paid"}])
    note = await _field(client, team, "Note", "text")
    done = await _field(client, team, "Done", "boolean")
    open_id, paid_id = (option["id"] for option in state["options"])
    first, second, third = [await _document(client, alice, f"{name}.txt", name.encode()) for name in ("one", "two", "three")]
    await _json(
        await _set(client, alice, first, [{"field_id": count["id"], "value": 5}, {"field_id": state["id"], "value": open_id}]),
        200,
    )
    await _json(await _set(client, alice, first, _pairs((count, 7), (due, "2026-01-15"), (state, paid_id))), 200)
    second_values = _pairs((count, 20), (due, "2026-06-01"), (total, "EUR 99.90"), (note, "Bank transfer"), (done, True))
    await _json(await _set(client, alice, second, second_values), 200)
    await _json(await _set(client, alice, third, [{"field_id": total["id"], "value": "USD 5"}]), 200)

    history = await _json(await client.get(f"/api/documents/{first['id']}/history", headers=alice.headers), 200)
    assert history[0]["actor"]["name"] == alice.user.username
    assert history[0]["changes"] == {
        "custom_fields.Count": [5, 7], "custom_fields.Due": [None, "2026-01-15"], "custom_fields.State": ["Open", "Paid"],
    }  # fmt: skip
    assert history[1]["changes"] == {"custom_fields.Count": [None, 5], "custom_fields.State": [None, "Open"]}
    # Sending the same values again records nothing; removing a field records it.
    same = [{"field_id": count["id"], "value": 7.0}, {"field_id": due["id"], "value": "2026-01-15"},
            {"field_id": state["id"], "value": paid_id}]  # fmt: skip
    await _json(await _set(client, alice, first, same), 200)
    assert len(await _json(await client.get(f"/api/documents/{first['id']}/history", headers=alice.headers), 200)) == 2
    await _json(await _set(client, alice, first, same[:2]), 200)
    history = await _json(await client.get(f"/api/documents/{first['id']}/history", headers=alice.headers), 200)
    assert history[0]["changes"] == {"custom_fields.State": ["Paid", None]}
    await _json(await _set(client, alice, first, same), 200)

    ids = {first["id"]: "one", second["id"]: "two", third["id"]: "three"}
    for query, expected in [
        ({"custom_field_id": count["id"]}, {"one", "two"}),
        ({"custom_field_id": count["id"], "custom_field_value": "7"}, {"one"}),
        ({"custom_field_id": count["id"], "custom_field_min": "6", "custom_field_max": "20"}, {"one", "two"}),
        ({"custom_field_id": count["id"], "custom_field_min": "8"}, {"two"}),
        ({"custom_field_id": due["id"], "custom_field_max": "2026-03-01"}, {"one"}),
        ({"custom_field_id": state["id"], "custom_field_value": "paid"}, {"one"}),
        ({"custom_field_id": state["id"], "custom_field_value": open_id}, set()),
        ({"custom_field_id": total["id"], "custom_field_value": "EUR 99.9"}, {"two"}),
        ({"custom_field_id": total["id"], "custom_field_min": "10"}, {"two"}),
        ({"custom_field_id": total["id"], "custom_field_max": "USD 10"}, {"three"}),
        ({"custom_field_id": note["id"], "custom_field_value": "Bank transfer"}, {"two"}),
        ({"custom_field_id": done["id"], "custom_field_value": "true"}, {"two"}),
        ({"custom_field_id": done["id"], "custom_field_value": "false"}, set()),
        ({"custom_field_id": "00000000-0000-4000-8000-000000000000"}, set()),
    ]:
        page = await _json(await client.get("/api/documents", params=query, headers=alice.headers), 200)
        assert {ids[item["id"]] for item in page["items"]} == expected, query
        assert page["total"] == len(expected)
    for query, reason in [
        ({"custom_field_id": count["id"], "custom_field_value": "many"}, "not a number"),
        ({"custom_field_id": count["id"], "custom_field_min": "nan"}, "finite"),
        ({"custom_field_id": due["id"], "custom_field_min": "yesterday"}, "ISO date"),
        ({"custom_field_id": done["id"], "custom_field_value": "maybe"}, "true or false"),
        ({"custom_field_id": note["id"], "custom_field_min": "a"}, "range"),
    ]:
        refused = await client.get("/api/documents", params=query, headers=alice.headers)
        assert refused.status_code == 422, query
        assert reason in refused.json()["detail"]
    # Another tenant's field filters nothing of theirs in: it matches nothing here.
    mallory_page = await _json(
        await client.get("/api/documents", params={"custom_field_id": count["id"], "scope": "all"}, headers=team.mallory.headers),
        200,
    )
    assert mallory_page["total"] == 0


async def test_select_options_rename_and_removing_a_used_one_needs_confirmation(client: httpx.AsyncClient, team: Team) -> None:
    alice, manager = team.alice, team.manager
    state = await _field(client, team, "State", "select", options=[{"label": "Open"}, {"label": "Paid"}])
    open_id, paid_id = (option["id"] for option in state["options"])
    first, second = await _document(client, alice, "one.txt", b"one"), await _document(client, alice, "two.txt", b"two")
    for document in (first, second):
        await _json(await _set(client, alice, document, [{"field_id": state["id"], "value": paid_id}]), 200)
    url = f"/api/documents/fields/{state['id']}"
    before = await _json(await client.get(f"/api/documents/{first['id']}", headers=alice.headers), 200)
    renamed = await _json(
        await client.patch(url, json={"options": [{"id": open_id, "label": "Unpaid"}, {"id": paid_id, "label": "Settled"},
                                                  {"label": "Disputed"}]}, headers=manager.headers),
        200,
    )  # fmt: skip
    assert [option["label"] for option in renamed["options"]] == ["Unpaid", "Settled", "Disputed"]
    read = await _json(await client.get(f"/api/documents/{first['id']}", headers=alice.headers), 200)
    assert read["custom_fields"][0]["display"] == "Settled"
    assert read["modified_at"] > before["modified_at"]  # its search entry holds the option's label: read again
    unknown = await client.patch(url, json={"options": [{"id": "nope", "label": "x"}]}, headers=manager.headers)
    assert unknown.status_code == 422
    # Removing an unused option just happens; a used one says how many documents hold it, and changes nothing.
    both = [{"id": open_id, "label": "Unpaid"}, {"id": paid_id, "label": "Settled"}]
    await _json(await client.patch(url, json={"options": both}, headers=manager.headers), 200)
    refused = await client.patch(url, json={"options": [{"id": open_id, "label": "Unpaid"}]}, headers=manager.headers)
    assert refused.status_code == 409
    assert "2 document(s)" in refused.json()["detail"]
    assert "'Settled'" in refused.json()["detail"]
    fields = await _json(await client.get("/api/documents/fields", headers=alice.headers), 200)
    assert len(fields[0]["options"]) == 2
    assert fields[0]["document_count"] == 2
    cleared = await _json(
        await client.patch(url, json={"options": [{"id": open_id, "label": "Unpaid"}], "clear_removed_options": True},
                           headers=manager.headers),
        200,
    )  # fmt: skip
    assert [option["label"] for option in cleared["options"]] == ["Unpaid"]
    read = await _json(await client.get(f"/api/documents/{second['id']}", headers=alice.headers), 200)
    assert [(entry["name"], entry["value"]) for entry in read["custom_fields"]] == [("State", None)]


async def test_type_changes_only_while_no_document_carries_the_field_and_deleting_clears_values(
    client: httpx.AsyncClient, team: Team
) -> None:
    alice, manager = team.alice, team.manager
    code = await _field(client, team, "Code", "text")
    url = f"/api/documents/fields/{code['id']}"
    as_number = await _json(await client.patch(url, json={"data_type": "number"}, headers=manager.headers), 200)
    assert as_number["data_type"] == "number"
    as_select = await _json(
        await client.patch(url, json={"data_type": "select", "options": [{"label": "A"}]}, headers=manager.headers), 200
    )
    assert [option["label"] for option in as_select["options"]] == ["A"]
    back = await _json(await client.patch(url, json={"data_type": "text"}, headers=manager.headers), 200)
    assert back["options"] == []
    document = await _document(client, alice, "code.txt")
    await _json(await _set(client, alice, document, [{"field_id": code["id"], "value": "X-17"}]), 200)
    refused = await client.patch(url, json={"data_type": "number"}, headers=manager.headers)
    assert refused.status_code == 409
    assert "1 document(s) carry 'Code'" in refused.json()["detail"]
    dry = await _json(await client.delete(url, params={"dry_run": "true"}, headers=manager.headers), 200)
    assert dry == {"documents": 1}
    assert (await client.delete(url, headers=alice.headers)).status_code == 403
    assert await _json(await client.delete(url, headers=manager.headers), 200) == {"documents": 1}
    read = await _json(await client.get(f"/api/documents/{document['id']}", headers=alice.headers), 200)
    assert read["custom_fields"] == []
    assert await _json(await client.get("/api/documents/fields", headers=alice.headers), 200) == []
    # The history keeps what was set, under the name it had.
    history = await _json(await client.get(f"/api/documents/{document['id']}/history", headers=alice.headers), 200)
    assert history[0]["changes"] == {"custom_fields.Code": [None, "X-17"]}


async def test_values_follow_the_document_access_and_links_reach_only_readable_documents(
    client: httpx.AsyncClient, team: Team, session: AsyncSession, settings: Settings
) -> None:
    alice, bob, mallory = team.alice, team.bob, team.mallory
    tenant = await session.get(Tenant, alice.user.tenant_id)
    assert tenant is not None
    viewer = await login(client, await make_user(session, settings, tenant, roles=("viewer",)))
    related = await _field(client, team, "Related", "document_link")
    note = await _field(client, team, "Note", "text")
    mine, other = await _document(client, alice, "mine.txt", b"mine"), await _document(client, alice, "other.txt", b"other")
    bobs = await _document(client, bob, "bobs.txt", b"bob's")
    theirs = await _document(client, mallory, "theirs.txt", b"theirs")
    value = [{"field_id": note["id"], "value": "x"}]
    # Members set values on their own documents only; a reader sets none.
    assert (await _set(client, bob, mine, value)).status_code == 404
    assert (await _set(client, viewer, mine, value)).status_code == 403
    assert (await _set(client, mallory, mine, value)).status_code == 404
    shared = await client.post(
        f"/api/files/{mine['file_id']}/shares", json={"user_id": str(bob.user.id), "permission": "view"}, headers=alice.headers
    )
    assert shared.status_code == 201, shared.text
    assert (await _set(client, bob, mine, value)).status_code == 403
    # A link reaches another document the caller can read in the organization, nothing else.
    for target in (bobs, theirs):
        refused = await _set(client, alice, mine, [{"field_id": related["id"], "value": target["id"]}])
        assert refused.status_code == 422, target
        assert "Related" in refused.json()["detail"]
    linked = await _json(await _set(client, alice, mine, [{"field_id": related["id"], "value": other["id"]}]), 200)
    assert linked["custom_fields"][0]["link"] == {"id": other["id"], "title": "other", "gone": False}
    # Bob sees the document through the share, but not the one it links to: the link reads as gone for him.
    seen_by_bob = await _json(await client.get(f"/api/documents/{mine['id']}", headers=bob.headers), 200)
    assert seen_by_bob["custom_fields"][0]["link"] == {"id": other["id"], "title": None, "gone": True}
    # The target deleted: the link reads back as gone, and saving the document with it unchanged still works.
    assert (await client.delete(f"/api/documents/{other['id']}", headers=alice.headers)).status_code == 204
    gone = await _json(await client.get(f"/api/documents/{mine['id']}", headers=alice.headers), 200)
    assert gone["custom_fields"][0]["link"] == {"id": other["id"], "title": None, "gone": True}
    assert gone["custom_fields"][0]["display"] == "(gone)"
    kept = await _set(client, alice, mine, [{"field_id": related["id"], "value": other["id"]}, *value])
    assert kept.status_code == 200, kept.text
    page = await _json(await client.get("/api/documents", headers=alice.headers), 200)
    assert any(item["custom_fields"] for item in page["items"])


async def test_text_select_and_url_values_are_in_what_search_indexes(
    client: httpx.AsyncClient, team: Team, session: AsyncSession
) -> None:
    alice = team.alice
    note = await _field(client, team, "Note", "text")
    state = await _field(client, team, "State", "select", options=[{"label": "Overdue"}])
    link = await _field(client, team, "Link", "url")
    count = await _field(client, team, "Count", "number")
    document = await _document(client, alice, "indexed.txt", b"body words")
    values = [
        {"field_id": note["id"], "value": "zebracrossing"},
        {"field_id": state["id"], "value": state["options"][0]["id"]},
        {"field_id": link["id"], "value": "https://example.org/tracking"},
        {"field_id": count["id"], "value": 31337},
    ]
    before = await _json(await client.get(f"/api/documents/{document['id']}", headers=alice.headers), 200)
    after = await _json(await _set(client, alice, document, values), 200)
    assert after["modified_at"] > before["modified_at"]
    (source,) = await records.index_sources(session, [uuid.UUID(document["id"])])
    for word in ("zebracrossing", "Overdue", "https://example.org/tracking"):
        assert word in source.body
    assert "31337" not in source.body


@pytest.mark.parametrize("data_type", ["text", "number", "date", "monetary", "boolean", "url", "select", "document_link"])
async def test_null_clears_a_value_of_every_type(client: httpx.AsyncClient, team: Team, data_type: str) -> None:
    custom_field = await _field(client, team, "Field", data_type)
    document = await _document(client, team.alice, "n.txt")
    read = await _json(await _set(client, team.alice, document, [{"field_id": custom_field["id"], "value": None}]), 200)
    assert read["custom_fields"] == [
        {"field_id": custom_field["id"], "name": "Field", "data_type": data_type, "value": None, "display": "", "link": None}
    ]
    assert (await _json(await _set(client, team.alice, document, []), 200))["custom_fields"] == []
