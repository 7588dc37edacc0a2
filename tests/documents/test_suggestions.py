"""Suggestions from matching rules, on both engines: proposed once a document's text is read, each with the rule and
the words that drove it; accepted (applied, in the history) or rejected (never proposed again for it); rules that
could never run refused; every algorithm against real extracted text."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from nubes.documents.extraction.tasks import ExtractionWorker
from nubes.documents.suggestions import matching
from tests.documents import samples
from tests.documents.conftest import Team, upload_document


async def _json(response: httpx.Response, status: int) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def test_rules_propose_with_reasons_and_people_decide(
    client: httpx.AsyncClient, team: Team, extraction: ExtractionWorker
) -> None:
    manager, alice = team.manager, team.alice
    invoice = await _json(
        await client.post(
            "/api/documents/types", json={"name": "Invoice", "matching": "any", "match": "invoice bill"}, headers=manager.headers
        ),
        201,
    )
    assert (invoice["matching"], invoice["match"]) == ("any", "invoice bill")
    await _json(
        await client.post(
            "/api/documents/correspondents",
            json={"name": "Acme", "matching": "fuzzy", "match": "Acme Corporation"},
            headers=manager.headers,
        ),
        201,
    )
    urgent = await _json(
        await client.post(
            "/api/documents/tags", json={"name": "urgent", "matching": "regex", "match": r"due\s+\d+"}, headers=manager.headers
        ),
        201,
    )
    await client.post(
        "/api/documents/tags", json={"name": "never", "matching": "all", "match": "zebra invoice"}, headers=manager.headers
    )

    made = await upload_document(client, alice, "scan.png", samples.png(["INVOICE 4711", "Acme Corporatlon", "Total due 99 EUR"]))
    document = await _json(made, 201)
    assert await extraction.run_due() == 1
    url = f"/api/documents/{document['id']}/suggestions"
    proposed = {item["name"]: item for item in await _json(await client.get(url, headers=alice.headers), 200)}
    assert set(proposed) == {"Invoice", "Acme", "urgent"}
    assert proposed["Invoice"]["reason"] == {"rule": "any: invoice bill", "words": ["invoice"]}
    assert proposed["Acme"]["reason"]["words"] == ["acme corporatlon"]  # the OCR's mistake, matched fuzzily
    assert proposed["urgent"]["reason"]["words"] == ["due 99"]
    assert all(0 < item["confidence"] <= 1 for item in proposed.values())

    # Accepting applies the value (in the history); rejecting keeps it from coming back.
    accepted = await _json(await client.post(f"{url}/{proposed['Invoice']['id']}/accept", headers=alice.headers), 200)
    assert accepted["type"]["id"] == invoice["id"]
    await _json(await client.post(f"{url}/{proposed['urgent']['id']}/accept", headers=alice.headers), 200)
    rejected = await _json(await client.post(f"{url}/{proposed['Acme']['id']}/reject", headers=alice.headers), 200)
    assert rejected["correspondent"] is None
    assert [tag["id"] for tag in rejected["tags"]] == [urgent["id"]]
    assert await _json(await client.get(url, headers=alice.headers), 200) == []
    twice = await client.post(f"{url}/{proposed['Acme']['id']}/accept", headers=alice.headers)
    assert twice.status_code == 409
    history = await _json(await client.get(f"/api/documents/{document['id']}/history", headers=alice.headers), 200)
    assert {field for change in history for field in change["changes"]} == {"type_id", "tag_ids"}

    # Reading the text again proposes nothing decided before.
    await client.post(f"/api/documents/{document['id']}/reanalyse", headers=alice.headers)
    assert await extraction.run_due() == 1
    assert await _json(await client.get(url, headers=alice.headers), 200) == []

    # Only whoever may change the document decides; nobody outside the tenant sees anything.
    assert (await client.get(url, headers=team.bob.headers)).status_code == 404
    assert (await client.get(url, headers=team.mallory.headers)).status_code == 404


async def test_a_rule_that_could_never_run_is_refused(client: httpx.AsyncClient, team: Team) -> None:
    headers = team.manager.headers
    bad_regex = await client.post(
        "/api/documents/tags", json={"name": "x", "matching": "regex", "match": "(unclosed"}, headers=headers
    )
    assert bad_regex.status_code == 422
    assert "regular expression" in bad_regex.json()["detail"]
    empty = await client.post("/api/documents/types", json={"name": "y", "matching": "all", "match": "  "}, headers=headers)
    assert empty.status_code == 422
    unknown = await client.post("/api/documents/types", json={"name": "z", "matching": "magic", "match": "a"}, headers=headers)
    assert unknown.status_code == 422
    made = await _json(await client.post("/api/documents/types", json={"name": "Receipt"}, headers=headers), 201)
    changed = await client.patch(
        f"/api/documents/types/{made['id']}", json={"matching": "exact", "match": "thank you"}, headers=headers
    )
    assert changed.status_code == 200
    assert (changed.json()["name"], changed.json()["matching"]) == ("Receipt", "exact")


@pytest.mark.parametrize(
    ("algorithm", "rule", "case_sensitive", "words"),
    [
        ("any", "bill receipt", False, ["receipt"]),
        ("all", "receipt coffee", False, ["receipt", "coffee"]),
        ("all", "receipt tea", False, None),
        ("exact", "thank you", False, ["thank you"]),
        ("exact", "you thank", False, None),
        ("regex", r"\b[A-Z]{3}-\d+\b", True, ["ABC-123"]),
        ("regex", r"\b[A-Z]{3}-\d+\b", False, ["ABC-123", "abc-999"]),
        ("any", "RECEIPT", True, None),
        ("fuzzy", "cofee shop", False, ["coffee shop"]),
        ("fuzzy", "tea house", False, None),
        ("none", "receipt", False, None),
    ],
)
def test_each_algorithm(algorithm: str, rule: str, case_sensitive: bool, words: list[str] | None) -> None:
    text = matching.Text("Receipt from the Coffee Shop, order ABC-123 and abc-999. Thank you!")
    found = matching.match(text, algorithm, rule, case_sensitive)
    assert (found.words if found else None) == words
