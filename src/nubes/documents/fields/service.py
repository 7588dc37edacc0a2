"""Rules of custom fields: tenant-wide typed fields, and the values documents carry, checked by type.

Everyone in the tenant reads the definitions (to fill their documents' values); defining them takes
`documents.manage`, which the routes check. Names are unique per tenant whatever their case. A select's values hold
its option's id, so renaming an option keeps its documents; removing an option documents hold, or deleting a field,
clears those documents' values (an option only when asked to). A field's type changes only while no document
carries it: converting values between types would lose some silently.

Values are set through the document update (`records`), which checks that a document link reaches a document the
caller can read; this module checks everything else a value must be.
"""

from __future__ import annotations

import dataclasses
import math
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Numeric, Select, case, cast, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.core.db import utcnow
from nubes.core.errors import Conflict, NotFound, UnprocessableEntity
from nubes.core.principal import Principal
from nubes.documents.fields.models import CustomField, CustomFieldValue
from nubes.documents.fields.schemas import (
    CustomFieldSet,
    CustomFieldValueRead,
    FieldCreate,
    FieldRead,
    FieldRemoval,
    FieldUpdate,
    LinkedDocument,
    Money,
    SelectOption,
    SelectOptionIn,
)
from nubes.documents.records.models import Document
from nubes.documents.vocabulary import service as vocabulary
from nubes.files.tree import service as files

MAX_TEXT = 5_000
"""Characters a text value holds at most."""
MAX_URL = 2_048
"""Characters a URL value holds at most."""
MAX_NUMBER = 1e15
"""The largest magnitude of a number value (exact as a double up to here)."""
MAX_FIELDS_PER_DOCUMENT = 100

# Active ISO 4217 codes (and the funds and metals codes), without XXX (no currency) and XTS (testing).
CURRENCIES = frozenset(
    """AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN BZD CAD CDF
    CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF
    GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL
    LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN
    PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD
    TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF XAG XAU XBA XBB XBC XBD XCD XCG XDR XOF XPD XPF XPT
    XSU XUA YER ZAR ZMW ZWG ZWL""".split()  # noqa: SIM905  # a block of codes reads better than 178 quoted strings
)
_AMOUNT = re.compile(r"^-?\d{1,15}(\.\d{1,4})?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONEY_TEXT = re.compile(r"^([A-Za-z]{3})\s+(\S+)$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # newlines and tabs are text


def _bad(field: CustomField | str, reason: str) -> UnprocessableEntity:
    name = field if isinstance(field, str) else field.name
    return UnprocessableEntity(f"Custom field {name!r}: {reason}")


# --- definitions ---------------------------------------------------------------------------------------------------


async def get(session: AsyncSession, principal: Principal, field_id: uuid.UUID) -> CustomField:
    """A field of the principal's tenant (404 otherwise, whatever other tenants hold)."""
    found = await session.scalar(
        select(CustomField).where(CustomField.id == field_id, CustomField.tenant_id == principal.tenant_id)
    )
    if found is None:
        raise NotFound(f"No custom field {field_id}.")
    return found


def read(custom_field: CustomField, document_count: int = 0) -> FieldRead:
    """A field as the API shows it."""
    return FieldRead(
        id=custom_field.id,
        name=custom_field.name,
        data_type=custom_field.data_type,
        options=[SelectOption(**option) for option in custom_field.options or []],
        document_count=document_count,
    )


async def list_fields(session: AsyncSession, principal: Principal) -> list[FieldRead]:
    """The tenant's fields by name, each with how many of the principal's documents (not in the trash) carry it."""
    fields = list(
        await session.scalars(
            select(CustomField).where(CustomField.tenant_id == principal.tenant_id).order_by(CustomField.name_key)
        )
    )
    counts = {
        row[0]: row[1]
        for row in await session.execute(
            select(CustomFieldValue.field_id, func.count())
            .join(Document, Document.id == CustomFieldValue.document_id)
            .where(
                Document.tenant_id == principal.tenant_id,
                Document.owner_id == principal.user_id,
                files.is_live(Document.file_id),
            )
            .group_by(CustomFieldValue.field_id)
        )
    }
    return [read(custom_field, counts.get(custom_field.id, 0)) for custom_field in fields]


def _options(given: Sequence[SelectOptionIn], current: Sequence[dict[str, str]]) -> list[dict[str, str]]:
    """The options a select gets: given ones with an id keep (and may rename) that option, others are new."""
    known = {option["id"] for option in current}
    result: list[dict[str, str]] = []
    labels: set[str] = set()
    for option in given:
        label = vocabulary.clean(option.label)
        if label.casefold() in labels:
            raise UnprocessableEntity(f"The option {label!r} is listed twice; options are unique whatever their case.")
        labels.add(label.casefold())
        if option.id is not None and option.id not in known:
            raise UnprocessableEntity(f"No option {option.id!r} in this field; leave out `id` for a new option.")
        if option.id is not None and option.id in {kept["id"] for kept in result}:
            raise UnprocessableEntity(f"The option {option.id!r} is listed twice.")
        result.append({"id": option.id or uuid.uuid4().hex[:12], "label": label})
    return result


async def _flush_unique(session: AsyncSession, name: str) -> None:
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise Conflict(f"A custom field named {name!r} already exists; pick another name or use that one.") from None


async def create(session: AsyncSession, principal: Principal, field_in: FieldCreate) -> CustomField:
    """A new field; a select needs its options, other types take none."""
    if field_in.data_type != "select" and field_in.options:
        raise UnprocessableEntity(f"Only a select field has options; a {field_in.data_type} field takes none.")
    custom_field = CustomField(
        tenant_id=principal.tenant_id, name=vocabulary.clean(field_in.name), name_key=vocabulary.name_key(field_in.name),
        data_type=field_in.data_type, options=_options(field_in.options, []),
    )  # fmt: skip
    session.add(custom_field)
    await _flush_unique(session, field_in.name)
    return custom_field


def _holding(custom_field: CustomField) -> Select[Any]:
    """A SELECT of the ids of the documents that carry `custom_field`."""
    return select(CustomFieldValue.document_id).where(CustomFieldValue.field_id == custom_field.id)


async def _touch(session: AsyncSession, document_ids: Select[Any]) -> None:
    """These documents count as modified: their search entries hold the field's words."""
    await session.execute(update(Document).where(Document.id.in_(document_ids)).values(modified_at=utcnow()))


async def update_field(session: AsyncSession, principal: Principal, custom_field: CustomField, change: FieldUpdate) -> None:
    """Rename, change the type (409 while documents carry the field) or the options (409 for removing options
    documents hold, unless `clear_removed_options`: then those documents' values are cleared)."""
    data_type = change.data_type or custom_field.data_type
    if data_type != custom_field.data_type:
        held = await session.scalar(select(func.count()).select_from(_holding(custom_field).subquery()))
        if held:
            raise Conflict(
                f"{held} document(s) carry {custom_field.name!r}; its type changes only while no document does "
                "(converting values would lose some). Create a new field instead, or remove the values first."
            )
        custom_field.data_type = data_type
        if data_type != "select":
            custom_field.options = []
    if change.options is not None:
        if data_type != "select" and change.options:
            raise UnprocessableEntity(f"Only a select field has options; a {data_type} field takes none.")
        await _replace_options(session, custom_field, _options(change.options, custom_field.options or []), change)
    if change.name is not None and vocabulary.clean(change.name) != custom_field.name:
        custom_field.name, custom_field.name_key = vocabulary.clean(change.name), vocabulary.name_key(change.name)
        await _flush_unique(session, change.name)
        await _touch(session, _holding(custom_field))
    await session.flush()


async def _replace_options(
    session: AsyncSession, custom_field: CustomField, options: list[dict[str, str]], change: FieldUpdate
) -> None:
    before = {option["id"]: option["label"] for option in custom_field.options or []}
    removed = set(before) - {option["id"] for option in options}
    renamed = {option["id"] for option in options if option["id"] in before and before[option["id"]] != option["label"]}
    if removed:
        holding = select(CustomFieldValue.document_id).where(
            CustomFieldValue.field_id == custom_field.id, CustomFieldValue.text.in_(removed)
        )
        held = await session.scalar(select(func.count()).select_from(holding.subquery()))
        if held and not change.clear_removed_options:
            labels = ", ".join(repr(before[option]) for option in sorted(removed))
            raise Conflict(
                f"{held} document(s) hold the option(s) {labels} of {custom_field.name!r}; send "
                "clear_removed_options=true to remove them and clear those documents' values."
            )
        if held:
            await _touch(session, holding)
            await session.execute(
                update(CustomFieldValue)
                .where(CustomFieldValue.field_id == custom_field.id, CustomFieldValue.text.in_(removed))
                .values(text=None)
            )
    if renamed:
        await _touch(
            session,
            select(CustomFieldValue.document_id).where(
                CustomFieldValue.field_id == custom_field.id, CustomFieldValue.text.in_(renamed)
            ),
        )
    custom_field.options = options


async def removal(session: AsyncSession, custom_field: CustomField) -> FieldRemoval:
    """What deleting the field would do: how many documents of the tenant lose their value."""
    held = await session.scalar(select(func.count()).select_from(_holding(custom_field).subquery()))
    return FieldRemoval(documents=int(held or 0))


async def delete_field(session: AsyncSession, custom_field: CustomField) -> FieldRemoval:
    """Delete the field and every document's value of it (the documents stay)."""
    done = await removal(session, custom_field)
    await _touch(session, _holding(custom_field))
    await session.execute(delete(CustomFieldValue).where(CustomFieldValue.field_id == custom_field.id))
    await session.delete(custom_field)
    await session.flush()
    return done


# --- values --------------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class ParsedValue:
    """A value checked against its field: the columns it stores (none set: carried without a value)."""

    field: CustomField
    columns: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def linked_id(self) -> uuid.UUID | None:
        linked: uuid.UUID | None = self.columns.get("linked_id")
        return linked


def _amount(custom_field: CustomField, amount: object) -> str:
    """The stored form of a monetary amount: a decimal string with at least two decimals ("12.5" -> "12.50")."""
    if not isinstance(amount, str) or not _AMOUNT.match(amount.strip()):
        raise _bad(
            custom_field,
            "the amount must be a decimal string with at most 15 digits before and 4 after the point, e.g. '12.50' "
            "(never a JSON number: money is not a float).",
        )
    value = Decimal(amount.strip())
    if value == 0:
        value = Decimal("0")  # no "-0.00"
    text = f"{value:f}"
    whole, _, fraction = text.partition(".")
    return f"{whole}.{fraction.rstrip('0').ljust(2, '0')}"


def _currency(custom_field: CustomField, currency: object) -> str:
    code = currency.strip().upper() if isinstance(currency, str) else ""
    if code not in CURRENCIES:
        raise _bad(custom_field, f"{currency!r} is not an ISO 4217 currency code (e.g. EUR, USD, CHF).")
    return code


def _money(custom_field: CustomField, value: object) -> dict[str, Any]:
    if isinstance(value, dict):
        if set(value) != {"amount", "currency"}:
            raise _bad(custom_field, "a monetary value is {amount: '12.50', currency: 'EUR'} (exactly those two members).")
        amount, currency = value["amount"], value["currency"]
    elif isinstance(value, str) and (match := _MONEY_TEXT.match(value.strip())):
        currency, amount = match.group(1), match.group(2)
    else:
        raise _bad(custom_field, "a monetary value is 'EUR 12.50' or {amount: '12.50', currency: 'EUR'}.")
    return {"currency": _currency(custom_field, currency), "text": _amount(custom_field, amount)}


def _number(custom_field: CustomField, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _bad(custom_field, "a number value is a JSON number.")
    if isinstance(value, float) and not math.isfinite(value):
        raise _bad(custom_field, "a number must be finite (not NaN or infinity).")
    if abs(value) > MAX_NUMBER:
        raise _bad(custom_field, f"a number must lie between -{MAX_NUMBER:.0e} and {MAX_NUMBER:.0e}.")
    return float(value)


def _date(custom_field: CustomField, value: object) -> date:
    if isinstance(value, str) and _DATE.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise _bad(custom_field, "a date value is an ISO date, 'YYYY-MM-DD', that exists.")


def _url(custom_field: CustomField, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _bad(custom_field, "a URL value is a string.")
    url = value.strip()
    if len(url) > MAX_URL:
        raise _bad(custom_field, f"a URL holds at most {MAX_URL} characters.")
    if any(character.isspace() for character in url) or _CONTROL.search(url):
        raise _bad(custom_field, "a URL cannot contain spaces or control characters.")
    try:
        parts = urlsplit(url)
        _ = parts.port
    except ValueError:
        raise _bad(custom_field, "that is not a valid URL.") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise _bad(custom_field, "only http:// and https:// URLs with a host are accepted.")
    return url


def _text(custom_field: CustomField, value: object) -> str:
    if not isinstance(value, str):
        raise _bad(custom_field, "a text value is a string.")
    if len(value) > MAX_TEXT:
        raise _bad(custom_field, f"a text holds at most {MAX_TEXT} characters (got {len(value)}).")
    if _CONTROL.search(value):
        raise _bad(custom_field, "a text cannot contain control characters (other than newlines and tabs).")
    return value


def _select(custom_field: CustomField, value: object) -> str:
    options = {option["id"]: option["label"] for option in custom_field.options or []}
    if isinstance(value, str) and value in options:
        return value
    allowed = ", ".join(f"{option_id} ({label})" for option_id, label in options.items()) or "none yet"
    raise _bad(custom_field, f"{str(value)[:40]!r} is not one of its options; give an option's id: {allowed}.")


def _link(custom_field: CustomField, value: object) -> uuid.UUID:
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    raise _bad(custom_field, "a document link is a document's id.")


def _flag(custom_field: CustomField, value: object) -> bool:
    if not isinstance(value, bool):
        raise _bad(custom_field, "a boolean value is true or false.")
    return value


# Each type: the column its value goes to, and the check that makes the stored value (monetary: two columns).
_PARSERS: dict[str, tuple[str, Callable[[CustomField, object], Any]]] = {
    "text": ("text", _text),
    "number": ("number", _number),
    "date": ("day", _date),
    "boolean": ("flag", _flag),
    "url": ("text", _url),
    "select": ("text", _select),
    "document_link": ("linked_id", _link),
}


def parse_value(custom_field: CustomField, value: object) -> ParsedValue:
    """`value` checked against the field's type, as the columns it stores; 422 naming the field and the reason."""
    if value is None:
        return ParsedValue(custom_field)
    if custom_field.data_type == "monetary":
        return ParsedValue(custom_field, _money(custom_field, value))
    column, check = _PARSERS[custom_field.data_type]
    return ParsedValue(custom_field, {column: check(custom_field, value)})


async def parse(session: AsyncSession, principal: Principal, entries: Sequence[CustomFieldSet]) -> list[ParsedValue]:
    """Every entry checked: a field of the principal's tenant, given once, with a value of its type (422 otherwise).
    Document links are checked for their form only: whether the caller may read the target is the caller's check."""
    ids = [entry.field_id for entry in entries]
    if len(set(ids)) != len(ids):
        raise UnprocessableEntity("A custom field is listed twice; give each field once.")
    if len(ids) > MAX_FIELDS_PER_DOCUMENT:
        raise UnprocessableEntity(f"A document carries at most {MAX_FIELDS_PER_DOCUMENT} custom fields.")
    fields = {
        found.id: found
        for found in await session.scalars(
            select(CustomField).where(CustomField.tenant_id == principal.tenant_id, CustomField.id.in_(ids))
        )
    }
    parsed = []
    for entry in entries:
        if entry.field_id not in fields:
            raise UnprocessableEntity(f"No custom field {entry.field_id} in your organization.")
        parsed.append(parse_value(fields[entry.field_id], entry.value))
    return parsed


_COLUMNS = ("text", "number", "day", "flag", "currency", "linked_id")


def _columns(row: CustomFieldValue) -> dict[str, Any]:
    return {column: getattr(row, column) for column in _COLUMNS if getattr(row, column) is not None}


async def links_of(session: AsyncSession, document_id: uuid.UUID) -> dict[uuid.UUID, uuid.UUID]:
    """The document's document-link values: field id -> linked document id."""
    rows = await session.execute(
        select(CustomFieldValue.field_id, CustomFieldValue.linked_id).where(
            CustomFieldValue.document_id == document_id, CustomFieldValue.linked_id.is_not(None)
        )
    )
    return {row[0]: row[1] for row in rows if row[1] is not None}


async def replace(session: AsyncSession, document_id: uuid.UUID, values: Sequence[ParsedValue]) -> dict[str, list[object]]:
    """The document carries exactly these fields with these values; returns each change as the history records it
    (`custom_fields.<name>`: [before, after], None for a field not carried, "" for one carried without a value)."""
    rows = {
        row.field_id: row
        for row in await session.scalars(select(CustomFieldValue).where(CustomFieldValue.document_id == document_id))
    }
    fields = {found.id: found for found in await session.scalars(select(CustomField).where(CustomField.id.in_(list(rows))))} | {
        value.field.id: value.field for value in values
    }
    changes: dict[str, list[object]] = {}
    wanted = {value.field.id: value for value in values}
    for field_id, row in rows.items():
        if field_id not in wanted:
            changes[f"custom_fields.{fields[field_id].name}"] = [_history(fields[field_id], _columns(row)), None]
            await session.delete(row)
    for field_id, value in wanted.items():
        existing = rows.get(field_id)
        before = _columns(existing) if existing is not None else None
        if before == value.columns:
            continue
        changes[f"custom_fields.{value.field.name}"] = [
            _history(value.field, before) if before is not None else None,
            _history(value.field, value.columns),
        ]
        row = existing or CustomFieldValue(document_id=document_id, field_id=field_id)
        if existing is None:
            session.add(row)
        for column in _COLUMNS:
            setattr(row, column, value.columns.get(column))
    await session.flush()
    return changes


def _history(custom_field: CustomField, columns: dict[str, Any]) -> object:
    value = _api_value(custom_field, columns)
    if value is None:
        return ""
    if isinstance(value, Money):
        return f"{value.currency} {value.amount}"
    if custom_field.data_type == "select":
        return _option_label(custom_field, str(value))
    return value


def _option_label(custom_field: CustomField, option_id: str) -> str:
    return next((option["label"] for option in custom_field.options or [] if option["id"] == option_id), option_id)


def _api_value(custom_field: CustomField, columns: dict[str, Any]) -> bool | float | str | Money | None:
    """The stored columns in the API's form (None: carried without a value)."""
    if custom_field.data_type == "monetary":
        if "text" not in columns or "currency" not in columns:
            return None
        return Money(amount=columns["text"], currency=columns["currency"])
    stored = columns.get(_PARSERS[custom_field.data_type][0])
    if stored is None or isinstance(stored, bool | str):
        return stored
    if isinstance(stored, int | float):
        return float(stored)
    return str(stored.isoformat() if isinstance(stored, date) else stored)  # a date, a linked document's id


@dataclass(frozen=True, slots=True)
class StoredValue:
    """A value a document carries, with its field (as read for a page of documents)."""

    field: CustomField
    columns: dict[str, Any]

    @property
    def linked_id(self) -> uuid.UUID | None:
        linked: uuid.UUID | None = self.columns.get("linked_id")
        return linked


async def values_of(
    session: AsyncSession, tenant_id: uuid.UUID, document_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[StoredValue]]:
    """The values these documents carry, each document's by field name; one query for the whole page."""
    if not document_ids:
        return {}
    result: dict[uuid.UUID, list[StoredValue]] = {}
    rows = await session.execute(
        select(CustomFieldValue, CustomField)
        .join(CustomField, CustomField.id == CustomFieldValue.field_id)
        .where(CustomFieldValue.document_id.in_(list(document_ids)), CustomField.tenant_id == tenant_id)
        .order_by(CustomField.name_key)
    )
    for row, custom_field in rows:
        result.setdefault(row.document_id, []).append(StoredValue(custom_field, _columns(row)))
    return result


def _number_text(number: float) -> str:
    return str(int(number)) if number.is_integer() else repr(number)


def value_read(stored: StoredValue, linked: dict[uuid.UUID, str]) -> CustomFieldValueRead:
    """A stored value as the API shows it; `linked` holds the titles of the linked documents the reader can see (a
    link to any other reads back as gone)."""
    custom_field = stored.field
    value = _api_value(custom_field, stored.columns)
    link = None
    if value is None:
        display = ""
    elif isinstance(value, Money):
        display = f"{value.currency} {value.amount}"
    elif isinstance(value, bool):
        display = "yes" if value else "no"
    elif isinstance(value, float):
        display = _number_text(value)
    elif custom_field.data_type == "select":
        display = _option_label(custom_field, value)
    elif custom_field.data_type == "document_link" and stored.linked_id is not None:
        title = linked.get(stored.linked_id)
        link = LinkedDocument(id=stored.linked_id, title=title, gone=title is None)
        display = title if title is not None else "(gone)"
    else:
        display = str(value)
    return CustomFieldValueRead(
        field_id=custom_field.id,
        name=custom_field.name,
        data_type=custom_field.data_type,
        value=value,
        display=display,
        link=link,
    )


def indexed_words(values: Sequence[CustomFieldValueRead]) -> str:
    """The words of these values the search index holds: text, select and URL values."""
    return " ".join(value.display for value in values if value.data_type in ("text", "select", "url") and value.display)


# --- the documents list's filter -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CustomFieldFilter:
    """Documents carrying `field_id`, with a value equal to `equals` and/or within `at_least`..`at_most` (numbers,
    dates and monetary amounts), each given as text the way a query string gives it."""

    field_id: uuid.UUID
    equals: str | None = None
    at_least: str | None = None
    at_most: str | None = None


def _filter_value(custom_field: CustomField, text: str) -> ParsedValue:
    """A query string's value read for the field's type ('true'/'false', numbers, an option's id or label)."""
    kind = custom_field.data_type
    value: object = text
    if kind == "number":
        try:
            value = float(text)
        except ValueError:
            raise _bad(custom_field, f"{text[:40]!r} is not a number.") from None
    elif kind == "boolean":
        if text.lower() not in ("true", "false"):
            raise _bad(custom_field, "filter a boolean field with true or false.")
        value = text.lower() == "true"
    elif kind == "select":
        by_label = {option["label"].casefold(): option["id"] for option in custom_field.options or []}
        value = by_label.get(text.casefold(), text)
    elif kind == "monetary" and _AMOUNT.match(text.strip()):
        return ParsedValue(custom_field, {"text": _amount(custom_field, text)})
    return parse_value(custom_field, value)


async def check_filter(session: AsyncSession, principal: Principal, wanted: CustomFieldFilter) -> None:
    """422 unless the filter names a field of the principal's tenant and values its type can hold (as the list checks
    them): what a saved view's query must be when it is saved."""
    await get_or_unprocessable(session, principal, wanted.field_id)
    await matching(session, principal, wanted)


async def get_or_unprocessable(session: AsyncSession, principal: Principal, field_id: uuid.UUID) -> CustomField:
    """A field of the principal's tenant named in a request's body (422 otherwise: the request is wrong, not its URL)."""
    found = await session.scalar(
        select(CustomField).where(CustomField.id == field_id, CustomField.tenant_id == principal.tenant_id)
    )
    if found is None:
        raise UnprocessableEntity(f"No custom field {field_id} in your organization.")
    return found


async def existing_ids(session: AsyncSession, principal: Principal, field_ids: set[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these fields the principal's tenant still has."""
    if not field_ids:
        return set()
    found = select(CustomField.id).where(CustomField.tenant_id == principal.tenant_id, CustomField.id.in_(field_ids))
    return set(await session.scalars(found))


async def matching(session: AsyncSession, principal: Principal, wanted: CustomFieldFilter) -> Select[Any]:
    """A SELECT of the ids of the tenant's documents that match; a field not in the tenant matches nothing, a value
    its type cannot hold is a 422 naming the reason."""
    custom_field = await session.scalar(
        select(CustomField).where(CustomField.id == wanted.field_id, CustomField.tenant_id == principal.tenant_id)
    )
    query = select(CustomFieldValue.document_id).where(CustomFieldValue.field_id == wanted.field_id)
    if custom_field is None:
        return query.where(CustomFieldValue.document_id.is_(None))
    if wanted.equals is not None:
        for column, value in _filter_value(custom_field, wanted.equals).columns.items():
            query = query.where(getattr(CustomFieldValue, column) == value)
    for bound, above in ((wanted.at_least, True), (wanted.at_most, False)):
        if bound is None:
            continue
        if custom_field.data_type not in ("number", "date", "monetary"):
            raise _bad(custom_field, "only number, date and monetary fields filter by a range.")
        parsed = _filter_value(custom_field, bound)
        if custom_field.data_type == "monetary":
            if "currency" in parsed.columns:
                query = query.where(CustomFieldValue.currency == parsed.columns["currency"])
            # Only a monetary row has a currency: the cast never meets another field's text, whatever order the
            # database evaluates the conditions in.
            amount = case((CustomFieldValue.currency.is_not(None), cast(CustomFieldValue.text, Numeric(24, 4, asdecimal=False))))
            limit: Any = float(parsed.columns["text"])
            query = query.where(amount >= limit if above else amount <= limit)
            continue
        key = "number" if custom_field.data_type == "number" else "day"
        limit = parsed.columns[key]
        query = query.where(getattr(CustomFieldValue, key) >= limit if above else getattr(CustomFieldValue, key) <= limit)
    return query
