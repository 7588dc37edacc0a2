"""The documents classifier, on both engines, with real text and real training (scikit-learn), no mocks: trained per
organization on what people confirmed, it suggests with its confidence and the words that drove it; rejecting a
suggestion teaches it; another organization's model never reaches this one; dates come from the text."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nubes.core.db import utcnow
from nubes.documents.classifier import dates, learning, service
from nubes.documents.classifier.models import DocumentClassifier
from nubes.documents.classifier.tasks import ClassifierWorker
from nubes.documents.extraction.tasks import ExtractionWorker
from tests.documents.conftest import Team, upload_document
from tests.factories import SignedIn

INVOICES = [
    "Invoice 1001 from Apex Supplies. Printer paper and toner. Amount due 120 EUR. Please pay by bank transfer "
    "within 14 days. VAT included.",
    "INVOICE no. 2002. Bright Office Ltd bills you for desk chairs. Total amount due 450 EUR, payment within 30 days "
    "to our bank account, VAT 19 percent.",
    "Invoice 3003 for consulting services by Miller Advisory. Amount due 900 EUR. Payment by transfer to the bank "
    "account below. VAT number DE123456.",
    "Invoice 4004: Northwind Catering, lunch for twelve people. Amount due 310 EUR, pay by bank transfer, VAT "
    "included. Thank you for your order.",
]
CONTRACTS = [
    "Rental contract between the landlord and the tenant for the flat on Elm Street. The tenant agrees to the terms "
    "of this agreement. Signed by both parties.",
    "Employment contract: the employee and the employer agree to the following terms and conditions. This agreement "
    "starts on signature by both parties.",
    "Service agreement contract between Globex and the client. Both parties agree to the terms; the contract ends "
    "with three months notice by either party, signed.",
    "Maintenance contract for the lifts of the building. The parties agree to the terms below; this agreement is "
    "binding once signed by both parties.",
]
NEW_INVOICE = "Invoice 5005 from Zeta Gardening for hedge trimming. Amount due 80 EUR. Please pay by bank transfer; VAT included."
NEW_CONTRACT = "Insurance contract: the parties agree to these terms and conditions, signed by the insurer and the insured party."


@pytest.fixture
def classifier(sessions: async_sessionmaker[AsyncSession]) -> ClassifierWorker:
    """The training worker the app runs, bound to the test's transaction."""
    return ClassifierWorker(sessions, lease=timedelta(minutes=5))


async def _json(response: httpx.Response, status: int) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def _upload(client: httpx.AsyncClient, who: SignedIn, name: str, text: str, extraction: ExtractionWorker) -> Any:
    document = await _json(await upload_document(client, who, name, text.encode()), 201)
    while await extraction.run_due():
        pass
    return document


async def _type(client: httpx.AsyncClient, who: SignedIn, name: str) -> Any:
    return await _json(await client.post("/api/documents/types", json={"name": name}, headers=who.headers), 201)


async def _confirm(client: httpx.AsyncClient, who: SignedIn, document_id: str, **change: Any) -> None:
    await _json(await client.patch(f"/api/documents/{document_id}", json=change, headers=who.headers), 200)


async def _suggestions(client: httpx.AsyncClient, who: SignedIn, document_id: str) -> Any:
    return await _json(await client.get(f"/api/documents/{document_id}/suggestions", headers=who.headers), 200)


def _learnt(suggestions: list[dict[str, Any]], field: str = "type") -> list[dict[str, Any]]:
    return [item for item in suggestions if item["source"] == "classifier" and item["field"] == field]


async def _status(client: httpx.AsyncClient, who: SignedIn) -> Any:
    return await _json(await client.get("/api/documents/classifier", headers=who.headers), 200)


async def _retrain(client: httpx.AsyncClient, who: SignedIn, classifier: ClassifierWorker) -> Any:
    queued = await _json(await client.post("/api/documents/classifier/retrain", headers=who.headers), 202)
    assert queued["state"] == "queued"
    assert await classifier.run_due() == 1
    return await _status(client, who)


async def _teach(
    client: httpx.AsyncClient, who: SignedIn, extraction: ExtractionWorker, types: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """Four invoices and four contracts uploaded and confirmed by `who`."""
    documents = []
    for index, (invoice, contract) in enumerate(zip(INVOICES, CONTRACTS, strict=True)):
        for kind, text in (("Invoice", invoice), ("Contract", contract)):
            document = await _upload(client, who, f"{kind.lower()}-{index}.txt", text, extraction)
            await _confirm(client, who, document["id"], type_id=types[kind]["id"])
            documents.append(document)
    return documents


async def test_after_confirming_two_types_a_new_document_of_each_gets_its_type_with_the_words_why(
    client: httpx.AsyncClient, team: Team, extraction: ExtractionWorker, classifier: ClassifierWorker
) -> None:
    """GIVEN four invoices and four contracts whose types a person set
    WHEN the classifier trains and a new invoice and a new contract are read
    THEN each gets its type suggested by the classifier, with a confidence and words from that type's documents."""
    manager, alice = team.manager, team.alice
    types = {name: await _type(client, manager, name) for name in ("Invoice", "Contract")}
    await _teach(client, alice, extraction, types)

    # Confirming queued a training, debounced: not due yet.
    status = await _status(client, manager)
    assert status["state"] == "queued"
    assert status["trained_at"] is None
    queued_for = datetime.fromisoformat(status["queued_for"]).replace(tzinfo=UTC)
    assert queued_for > utcnow() + timedelta(seconds=30)
    assert await classifier.run_due() == 0

    status = await _retrain(client, manager, classifier)
    assert status["state"] == "idle"
    assert status["trained_at"] is not None
    assert status["problem"] is None
    assert status["documents"] == 8
    by_field = {item["field"]: item for item in status["fields"]}
    assert {(item["name"], item["examples"]) for item in by_field["type"]["classes"]} == {("Invoice", 4), ("Contract", 4)}
    assert by_field["type"]["note"] is None
    assert by_field["tag"]["classes"] == []
    assert "3 confirmed documents" in by_field["tag"]["note"]

    invoice_words = set(learning.words(" ".join(INVOICES)))
    contract_words = set(learning.words(" ".join(CONTRACTS)))
    for text, expected, own_words, telling in (
        (NEW_INVOICE, "Invoice", invoice_words, {"invoice", "amount", "due", "bank", "transfer", "vat", "pay"}),
        (NEW_CONTRACT, "Contract", contract_words, {"contract", "parties", "agree", "terms", "signed", "conditions"}),
    ):
        document = await _upload(client, alice, f"new-{expected}.txt", text, extraction)
        learnt = _learnt(await _suggestions(client, alice, document["id"]))
        assert [item["name"] for item in learnt] == [expected]
        suggestion = learnt[0]
        assert learning.THRESHOLD <= suggestion["confidence"] <= 1
        assert suggestion["reason"]["model"] == "words"
        words = suggestion["reason"]["words"]
        assert 1 <= len(words) <= learning.WORDS_SHOWN
        assert set(words) <= own_words & set(learning.words(text))  # words of this type's documents, found in this one
        assert set(words) & telling

    # Accepting applies it, and is a confirmation: the next training is queued.
    await _json(
        await client.post(f"/api/documents/{document['id']}/suggestions/{suggestion['id']}/accept", headers=alice.headers), 200
    )
    assert (await _json(await client.get(f"/api/documents/{document['id']}", headers=alice.headers), 200))["type"]["name"] == (
        "Contract"
    )
    assert (await _status(client, manager))["state"] == "queued"


async def test_rejecting_a_suggestion_changes_the_next_one(
    client: httpx.AsyncClient, team: Team, extraction: ExtractionWorker, classifier: ClassifierWorker
) -> None:
    """GIVEN a trained classifier that calls a gardener's bill an Invoice
    WHEN a person rejects that suggestion and the classifier trains again
    THEN the same kind of bill is no longer called an Invoice as surely (or at all)."""
    manager, alice = team.manager, team.alice
    types = {name: await _type(client, manager, name) for name in ("Invoice", "Contract")}
    await _teach(client, alice, extraction, types)
    await _retrain(client, manager, classifier)

    first = await _upload(client, alice, "garden-1.txt", NEW_INVOICE, extraction)
    [suggestion] = _learnt(await _suggestions(client, alice, first["id"]))
    assert suggestion["name"] == "Invoice"
    rejected = await client.post(f"/api/documents/{first['id']}/suggestions/{suggestion['id']}/reject", headers=alice.headers)
    assert rejected.status_code == 200
    assert (await _status(client, manager))["state"] == "queued"  # a rejection teaches too
    await _retrain(client, manager, classifier)

    second = await _upload(client, alice, "garden-2.txt", NEW_INVOICE.replace("5005", "5006"), extraction)
    again = [item for item in _learnt(await _suggestions(client, alice, second["id"])) if item["name"] == "Invoice"]
    assert not again or again[0]["confidence"] < suggestion["confidence"]

    # The rejected document itself is never proposed Invoice again, however often it is read.
    await _json(await client.post(f"/api/documents/{first['id']}/reanalyse", headers=alice.headers), 202)
    while await extraction.run_due():
        pass
    assert all(item["name"] != "Invoice" for item in await _suggestions(client, alice, first["id"]))


async def test_another_organizations_model_never_suggests_here(
    client: httpx.AsyncClient, team: Team, extraction: ExtractionWorker, classifier: ClassifierWorker
) -> None:
    mallory = team.mallory
    theirs = {name: await _type(client, mallory, name) for name in ("Invoice", "Contract")}
    await _teach(client, mallory, extraction, theirs)
    status = await _retrain(client, mallory, classifier)
    assert len(status["fields"][0]["classes"]) == 2

    # This organization has types of the same names, and no model of its own.
    await _type(client, team.manager, "Invoice")
    document = await _upload(client, team.alice, "bill.txt", NEW_INVOICE, extraction)
    assert _learnt(await _suggestions(client, team.alice, document["id"])) == []
    ours = await _status(client, team.manager)
    assert (ours["trained_at"], ours["documents"]) == (None, 0)
    assert all(item["classes"] == [] for item in ours["fields"])


async def test_too_few_examples_says_so_and_suggests_nothing(
    client: httpx.AsyncClient, team: Team, extraction: ExtractionWorker, classifier: ClassifierWorker
) -> None:
    manager, alice = team.manager, team.alice
    types = {name: await _type(client, manager, name) for name in ("Invoice", "Contract")}
    for index, text in enumerate(INVOICES[:2]):
        document = await _upload(client, alice, f"invoice-{index}.txt", text, extraction)
        await _confirm(client, alice, document["id"], type_id=types["Invoice"]["id"])
    status = await _retrain(client, manager, classifier)
    assert status["state"] == "idle"
    assert status["trained_at"] is not None
    assert "Not enough confirmed documents" in status["problem"]
    assert f"{learning.MIN_EXAMPLES} documents" in status["problem"]
    by_field = {item["field"]: item for item in status["fields"]}
    assert by_field["type"]["classes"] == []
    assert "the most any has is 2" in by_field["type"]["note"]
    document = await _upload(client, alice, "bill.txt", NEW_INVOICE, extraction)
    assert _learnt(await _suggestions(client, alice, document["id"])) == []


async def test_the_classifier_is_the_managers(
    client: httpx.AsyncClient, team: Team, session: AsyncSession, classifier: ClassifierWorker
) -> None:
    """Readers and writers may neither see its state (it counts everyone's documents) nor retrain it; a manager of
    another organization retrains only theirs."""
    for who in (team.alice, team.bob):
        assert (await client.get("/api/documents/classifier", headers=who.headers)).status_code == 403
        refused = await client.post("/api/documents/classifier/retrain", headers=who.headers)
        assert refused.status_code == 403
        assert refused.headers["content-type"].startswith("application/problem+json")
    assert (await client.post("/api/documents/classifier/retrain")).status_code == 401
    assert await session.scalar(select(DocumentClassifier.tenant_id)) is None

    await _json(await client.post("/api/documents/classifier/retrain", headers=team.mallory.headers), 202)
    assert (await _status(client, team.manager))["state"] == "idle"
    assert (await _status(client, team.mallory))["state"] == "queued"
    assert await classifier.run_due() == 1
    theirs = await _status(client, team.mallory)
    assert (theirs["state"], theirs["documents"]) == ("idle", 0)
    assert "Not enough" in theirs["problem"]
    ours = await _status(client, team.manager)
    assert ours["trained_at"] is None


async def test_a_date_in_the_text_is_suggested_with_the_text_that_says_it(
    client: httpx.AsyncClient, team: Team, extraction: ExtractionWorker
) -> None:
    alice = team.alice
    letter = await _upload(
        client, alice, "letter.txt", "Berlin, 7 December 2026\n\nDear customer, your order 31.13.2026 shipped.", extraction
    )
    [suggestion] = _learnt(await _suggestions(client, alice, letter["id"]), "date")
    assert (suggestion["name"], suggestion["value"]) == ("2026-12-07", "2026-12-07")
    assert suggestion["reason"] == {"model": "dates", "words": ["7 December 2026"]}
    url = f"/api/documents/{letter['id']}/suggestions/{suggestion['id']}/accept"
    accepted = await _json(await client.post(url, headers=alice.headers), 200)
    assert accepted["created_on"] == "2026-12-07"

    unclear = await _upload(client, alice, "unclear.txt", "Paid on 03/04/2026, thank you.", extraction)
    assert _learnt(await _suggestions(client, alice, unclear["id"]), "date") == []


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Date: 2026-12-07, due 31.12.2026", [(date(2026, 12, 7), "2026-12-07"), (date(2026, 12, 31), "31.12.2026")]),
        ("Berlin, 7. Dezember 2026", [(date(2026, 12, 7), "7. Dezember 2026")]),
        ("December 7, 2026 or 7th Dec. 2026", [(date(2026, 12, 7), "December 7, 2026"), (date(2026, 12, 7), "7th Dec. 2026")]),
        ("12/31/2026 and 31/12/2026", [(date(2026, 12, 31), "12/31/2026"), (date(2026, 12, 31), "31/12/2026")]),
        ("03/04/2026 is either", []),
        ("30.02.2026, 12.13.2026, 1.1.1850 and 2026-13-01 are not dates", []),
        ("amount 1234.56.7890, ref 2026-12-07-99", []),
    ],
)
def test_dates_read_one_way_only(text: str, found: list[tuple[date, str]]) -> None:
    assert [(item.value, item.text) for item in dates.find(text)] == found


def test_the_stored_model_predicts_as_scikit_learn_does() -> None:
    """The numbers kept in the database, applied with numpy, give scikit-learn's own probabilities."""
    from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: PLC0415
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415

    examples = [learning.Example(text, {"type": {"invoice"}}) for text in INVOICES]
    examples += [learning.Example(text, {"type": {"contract"}}) for text in CONTRACTS]
    training = learning.train(examples)
    model = learning.Model(training.model)
    vectorizer = TfidfVectorizer(analyzer=learning.words, sublinear_tf=True, max_features=learning.MAX_FEATURES)
    matrix = vectorizer.fit_transform([example.text for example in examples])
    reference = LogisticRegression(C=learning.REGULARIZATION, class_weight="balanced", max_iter=1000)
    reference.fit(matrix, [int("invoice" in example.labels["type"]) for example in examples])
    expected = reference.predict_proba(vectorizer.transform([NEW_INVOICE]))[0][1]
    [prediction] = model.predict(NEW_INVOICE)
    assert prediction.value == "invoice"
    assert prediction.confidence == pytest.approx(expected, abs=1e-3)
    with pytest.raises(ValueError, match="version"):
        learning.Model({"version": 99})


async def test_a_training_left_by_a_dead_worker_runs_again_and_a_change_meanwhile_queues_the_next(
    client: httpx.AsyncClient, team: Team, session: AsyncSession, extraction: ExtractionWorker, classifier: ClassifierWorker
) -> None:
    """GIVEN a training claimed by a worker that died (`running`, its lease over)
    WHEN the next round comes
    THEN it trains; and a confirmation made while a training runs queues another one (the running one does not
    end it)."""
    manager, alice = team.manager, team.alice
    await _json(await client.post("/api/documents/classifier/retrain", headers=manager.headers), 202)
    row = await session.get(DocumentClassifier, manager.user.tenant_id)
    assert row is not None
    row.state, row.due_at = "running", utcnow() - timedelta(seconds=1)
    await session.commit()
    assert (await _status(client, manager))["state"] == "training"
    assert await classifier.run_due() == 1
    assert (await _status(client, manager))["state"] == "idle"

    # A confirmation while it runs: the running training ends, the queued one stays queued.
    kind = await _type(client, manager, "Invoice")
    document = await _upload(client, alice, "bill.txt", NEW_INVOICE, extraction)
    await session.refresh(row)
    row.state, row.due_at = "running", utcnow() + timedelta(minutes=5)
    await session.commit()
    await _confirm(client, alice, document["id"], type_id=kind["id"])
    await session.refresh(row)
    assert row.state == "pending"
    await service.store(session, row.tenant_id, learning.train([]))
    await session.refresh(row)
    assert row.state == "pending"
    assert (await _status(client, manager))["state"] == "queued"
