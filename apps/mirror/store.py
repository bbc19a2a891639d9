"""Writing what MiniCRM answered into the mirror: details, search rows, webhook data, to-do
lists and status histories.

Every upsert is keyed by MiniCRM's id and never moves a row backwards: data whose UpdatedAt is
older than the row's is ignored (webhooks arrive late and out of order), and a search row read
before the row was last written leaves the row alone. Dropdowns are kept as detail views answer
them (labels), whatever shape the source had (ids in search rows and webhooks).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.core.fieldviews import minicrm_aware
from apps.core.storable import json_mended
from apps.mirror.models import Card, Completeness, Contact, Module, Schema, StatusChange, ToDo
from minicrm.resources.schema import Schema as FieldSchema
from minicrm.types import (
    Category,
    ContactSummary,
    ProjectSummary,
    ToDoSummary,
    contact_type,
    to_datetime,
    to_int,
    to_text,
)
from minicrm.types import StatusChange as RemoteStatusChange

SEARCH_TEXT_LIMIT = 4000
# Fields a card's or contact's search text leaves out (ids, hashes, addresses of files).
UNSEARCHED = {"ProjectHash", "ProjectEmail", "Url", "InternalUrl", "ReferenceId"}
NON_WORD = re.compile(r"[\W_]+")


def fold(text: str) -> str:
    """Lower-case, accent-free words separated by single spaces ("Kovács-Nagy" -> "kovacs nagy")."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return NON_WORD.sub(" ", plain.casefold()).strip()


def search_text(values: Iterable[Any]) -> str:
    """The words of the values, each once, with a leading space: " word" matches a word's start."""
    words: dict[str, None] = {}
    for value in values:
        parts = value if isinstance(value, list) else [value]
        for part in parts:
            if isinstance(part, str) and part.strip():
                words.update(dict.fromkeys(fold(part).split()))
    return (" " + " ".join(words))[:SEARCH_TEXT_LIMIT] if words else ""


def phone_digits(text: str) -> str:
    return re.sub(r"\D", "", text or "")


def minicrm_moment(value: Any) -> datetime | None:
    """MiniCRM's local 'YYYY-MM-DD HH:MM:SS' as an aware datetime."""
    return minicrm_aware(to_datetime(value)) if isinstance(value, str) else None


def _not_older(row_updated: datetime | None, incoming: datetime | None) -> bool:
    return row_updated is None or incoming is None or incoming >= row_updated


def _stale_after(row: Card | Contact | None, fetched_at: datetime) -> datetime | None:
    """A refresh asked for after this read began is still to do; one asked before is done."""
    if row is not None and row.stale_since is not None and row.stale_since > fetched_at:
        return row.stale_since
    return None


# -- modules and schemas ----------------------------------------------------------------------


def modules_store(categories: list[Category], *, fetched_at: datetime) -> list[Module]:
    """MiniCRM's list of modules; modules it no longer lists are kept, marked unlisted."""
    seen = []
    with transaction.atomic():
        for position, category in enumerate(categories):
            module, _ = Module.objects.update_or_create(
                pk=category.id,
                defaults={
                    "name": category.name,
                    "type": category.type or "",
                    "position": position,
                    "listed": True,
                    "synced_at": fetched_at,
                },
            )
            seen.append(module)
        Module.objects.exclude(pk__in=[m.pk for m in seen]).update(listed=False)
    return seen


def module_schema_store(*, category_id: int, data: dict[str, Any], fetched_at: datetime) -> None:
    Module.objects.filter(pk=category_id).update(
        schema=json_mended(data), schema_synced_at=fetched_at
    )


def contact_schema_store(*, entity: str, data: dict[str, Any], fetched_at: datetime) -> None:
    Schema.objects.update_or_create(
        entity=entity, defaults={"data": json_mended(data), "synced_at": fetched_at}
    )


def module_field_schema(category_id: int) -> FieldSchema | None:
    module = Module.objects.filter(pk=category_id).only("schema").first()
    if module is None or not module.schema:
        return None
    return FieldSchema.parse("Project", module.schema, category_id)


def _status_group(category_id: int, status_id: int | None) -> str:
    if status_id is None:
        return ""
    module = Module.objects.filter(pk=category_id).only("status_groups").first()
    return str((module.status_groups if module else {}).get(str(status_id), ""))


def status_groups_learn(*, category_id: int, group: str, status_ids: set[int]) -> None:
    """Remember which group each status seen in a group's search belongs to."""
    if not status_ids:
        return
    with transaction.atomic():
        module = Module.objects.select_for_update().filter(pk=category_id).first()
        if module is None:
            return
        known = dict(module.status_groups or {})
        known.update({str(status_id): group for status_id in status_ids})
        if known != module.status_groups:
            module.status_groups = known
            module.save(update_fields=["status_groups"])


# -- cards ------------------------------------------------------------------------------------


def _label(schema: FieldSchema | None, name: str, value: Any) -> Any:
    """A dropdown's value as a detail view shows it (its label), from an id or a label."""
    spec = schema.fields.get(name) if schema else None
    if spec is None or spec.kind not in ("select", "multiselect"):
        return value
    number = to_int(value) if isinstance(value, str | int) and not isinstance(value, bool) else None
    if spec.kind == "select" and number is not None and number in spec.choices:
        return spec.choices[number]
    return spec.display(value)


def _choice_id(schema: FieldSchema | None, name: str, value: Any) -> int | None:
    """The id of a dropdown value that may be an id (rows, webhooks) or a label (details)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    spec = schema.fields.get(name) if schema else None
    if spec is not None and spec.choices:
        key = spec.choice_key(value)
        if key is not None:
            return key
    return to_int(value)


def _card_text(name: str, data: dict[str, Any], schema: FieldSchema | None) -> str:
    values: list[Any] = [name]
    for key, value in data.items():
        if key in UNSEARCHED or key == "Name":
            continue
        spec = schema.fields.get(key) if schema else None
        if spec is not None and spec.kind in ("text", "select", "multiselect"):
            values.append(value)
    return search_text(values)


def card_store_detail(
    data: dict[str, Any], *, fetched_at: datetime, schema: FieldSchema | None = None
) -> Card | None:
    """A card's full detail (GET Project/{id}); None when an newer copy is already held."""
    card_id = to_int(data.get("Id"))
    if not card_id:
        return None
    data = json_mended(dict(data))
    category_id = to_int(data.get("CategoryId")) or 0
    schema = schema or module_field_schema(category_id)
    with transaction.atomic():
        existing = Card.objects.select_for_update().filter(pk=card_id).first()
        updated = minicrm_moment(data.get("UpdatedAt"))
        if existing is not None and not _not_older(existing.updated_at, updated):
            return None
        status_id = _choice_id(schema, "StatusId", data.get("StatusId"))
        name = to_text(data.get("Name"))
        card = Card(
            id=card_id,
            category_id=category_id,
            name=name,
            status_id=status_id,
            status_group=_status_group(category_id, status_id)
            or (existing.status_group if existing and existing.status_id == status_id else ""),
            user_id=_choice_id(schema, "UserId", data.get("UserId")),
            contact_id=to_int(data.get("ContactId")) or None,
            business_id=to_int(data.get("BusinessId")) or None,
            deleted=bool(to_int(data.get("Deleted"))),
            created_at=minicrm_moment(data.get("CreatedAt")),
            updated_at=updated,
            status_updated_at=minicrm_moment(data.get("StatusUpdatedAt")),
            data=data,
            completeness=Completeness.DETAIL,
            synced_at=fetched_at,
            detail_synced_at=fetched_at,
            listed_at=existing.listed_at if existing else None,
            stale_since=_stale_after(existing, fetched_at),
            todos_synced_at=existing.todos_synced_at if existing else None,
            history_synced_at=existing.history_synced_at if existing else None,
            search_text=_card_text(name, data, schema),
        )
        card.save()
    return card


def card_store_row(
    row: ProjectSummary,
    *,
    category_id: int,
    fetched_at: datetime,
    status_group: str = "",
    listed_at: datetime | None = None,
    schema: FieldSchema | None = None,
) -> Card:
    """A card as a search row shows it (no custom fields, no times). A row that disagrees with a
    held detail updates its columns and marks the card for a fresh read."""
    with transaction.atomic():
        card = Card.objects.select_for_update().filter(pk=row.id).first()
        if card is not None and card.synced_at > fetched_at:
            # Written since this page was read: only note that the list pass saw it.
            if listed_at is not None:
                Card.objects.filter(pk=row.id).update(listed_at=listed_at)
            return card
        group = status_group or _status_group(category_id, row.status.id)
        is_new = card is None
        if card is None:
            card = Card(id=row.id, synced_at=fetched_at, data={})
        changed = not is_new and (
            card.name != Card.fitted("name", row.name)
            or card.status_id != row.status.id
            or card.user_id != row.user.id
            or card.contact_id != row.contact_id
            or card.business_id != row.business_id
            or card.deleted != row.deleted
            or card.category_id != category_id
        )
        schema = schema or module_field_schema(category_id)
        data = dict(card.data or {})
        data.update(
            {
                "Id": row.id,
                "CategoryId": category_id,
                "Name": row.name,
                "ContactId": row.contact_id or 0,
                "BusinessId": row.business_id or 0,
                "StatusId": _label(schema, "StatusId", row.status.id),
                "UserId": _label(schema, "UserId", row.user.id),
                "Deleted": 1 if row.deleted else 0,
            }
        )
        card.category_id = category_id
        card.name = row.name
        card.status_id = row.status.id
        card.status_group = group or (card.status_group if not changed else "")
        card.user_id = row.user.id
        card.contact_id = row.contact_id
        card.business_id = row.business_id
        card.deleted = row.deleted
        card.data = json_mended(data)
        card.synced_at = fetched_at
        card.listed_at = listed_at or card.listed_at
        card.search_text = _card_text(row.name, data, schema)
        if changed and card.has_detail and card.stale_since is None:
            card.stale_since = timezone.now()
        card.save()
    return card


# Webhook data names the company MainContactId; the detail calls it BusinessId.
WEBHOOK_RENAMES = {"MainContactId": "BusinessId"}
WEBHOOK_ONLY = {"CreatedBy", "UpdatedBy", "InternalUrl"}


def card_store_webhook(data: dict[str, Any], *, card_id: int, received_at: datetime) -> Card | None:
    """A webhook's Data laid over the card at once (the sync reads the card again after)."""
    category_id = to_int(data.get("CategoryId"))
    with transaction.atomic():
        card = Card.objects.select_for_update().filter(pk=card_id).first()
        updated = minicrm_moment(data.get("UpdatedAt"))
        if card is not None and not _not_older(card.updated_at, updated):
            return None
        if card is None:
            if not category_id:
                return None
            card = Card(id=card_id, category_id=category_id, synced_at=received_at, data={})
        category_id = category_id or card.category_id
        schema = module_field_schema(category_id)
        status_before = card.status_id
        merged = dict(card.data or {})
        for key, value in data.items():
            if key in WEBHOOK_ONLY:
                continue
            merged[WEBHOOK_RENAMES.get(key, key)] = _label(schema, key, value)
        merged["Id"] = card_id
        merged["CategoryId"] = category_id
        card.category_id = category_id
        card.name = to_text(merged.get("Name"))
        if "StatusId" in data:
            card.status_id = to_int(data["StatusId"])
            card.status_group = _status_group(category_id, card.status_id)
        if "UserId" in data:
            card.user_id = to_int(data["UserId"])
        if "ContactId" in data:
            card.contact_id = to_int(data["ContactId"]) or None
        if "MainContactId" in data or "BusinessId" in data:
            card.business_id = to_int(merged.get("BusinessId")) or None
        if "Deleted" in data:
            card.deleted = bool(to_int(data["Deleted"]))
        card.created_at = minicrm_moment(merged.get("CreatedAt")) or card.created_at
        card.updated_at = updated or card.updated_at
        card.status_updated_at = minicrm_moment(merged.get("StatusUpdatedAt")) or (
            received_at if status_before != card.status_id else card.status_updated_at
        )
        card.data = json_mended(merged)
        card.synced_at = received_at
        card.search_text = _card_text(card.name, merged, schema)
        card.stale_since = card.stale_since or received_at
        card.save()
    return card


def card_store_write(
    *,
    card_id: int,
    changes: dict[str, Any],
    landed_at: datetime,
    sent_at: datetime | None = None,
    category_id: int | None = None,
) -> Card | None:
    """What a write the console sent changed on a card (the sync reads the card again after).

    The row's UpdatedAt moves to when the write was sent (MiniCRM applied it after that), so a
    webhook or poll result from before it, arriving late, cannot bring the old values back."""
    with transaction.atomic():
        card = Card.objects.select_for_update().filter(pk=card_id).first()
        if card is None:
            if not category_id:
                return None
            card = Card(id=card_id, category_id=category_id, synced_at=landed_at, data={})
        schema = module_field_schema(card.category_id)
        merged = dict(card.data or {})
        for key, value in changes.items():
            merged[key] = _label(schema, key, value)
        merged["Id"] = card_id
        merged.setdefault("CategoryId", card.category_id)
        card.name = to_text(merged.get("Name"))
        if "StatusId" in changes:
            old_status_id = card.status_id
            card.status_id = _choice_id(schema, "StatusId", changes["StatusId"])
            card.status_group = _status_group(card.category_id, card.status_id)
            card.status_updated_at = landed_at
            if card.history_synced_at is not None and old_status_id != card.status_id:
                _history_line_add(card_id, old_status_id, card.status_id, landed_at, schema)
        if "UserId" in changes:
            card.user_id = _choice_id(schema, "UserId", changes["UserId"])
        if "ContactId" in changes:
            card.contact_id = to_int(changes["ContactId"]) or None
        if "BusinessId" in changes:
            card.business_id = to_int(changes["BusinessId"]) or None
        if sent_at is not None:
            moment = sent_at.replace(microsecond=0)
            card.updated_at = max(card.updated_at, moment) if card.updated_at else moment
        card.data = json_mended(merged)
        card.synced_at = max(card.synced_at, landed_at) if card.synced_at else landed_at
        card.search_text = _card_text(card.name, merged, schema)
        card.stale_since = card.stale_since or landed_at
        card.save()
    return card


def _history_line_add(
    card_id: int,
    old_status_id: int | None,
    new_status_id: int | None,
    at: datetime,
    schema: FieldSchema | None,
) -> None:
    """The line MiniCRM adds to a card's status history when a status change lands, until
    the card's history is read again (which replaces it with MiniCRM's own). Its id is
    negative (MiniCRM's are positive): the moment it landed, in microseconds."""
    statuses = schema.fields["StatusId"].choices if schema and "StatusId" in schema.fields else {}
    StatusChange.objects.create(
        id=-int(at.timestamp() * 1_000_000),
        card_id=card_id,
        at=at,
        old_status_id=old_status_id,
        new_status_id=new_status_id,
        old_status_name=statuses.get(old_status_id or 0, ""),
        new_status_name=statuses.get(new_status_id or 0, ""),
    )


def card_store_deleted(*, card_id: int, at: datetime) -> None:
    """MiniCRM no longer has the card (404), or lists it as deleted."""
    Card.objects.filter(pk=card_id).update(deleted=True, synced_at=at, stale_since=None)


def todos_store(*, card_id: int, todos: list[ToDoSummary], fetched_at: datetime) -> None:
    """A card's whole to-do list (ToDoList/{id}?Status=All): to-dos no longer listed go."""
    with transaction.atomic():
        ToDo.objects.filter(card_id=card_id, synced_at__lte=fetched_at).exclude(
            pk__in=[todo.id for todo in todos]
        ).delete()
        for todo in todos:
            _todo_upsert(card_id, todo, fetched_at)
        Card.objects.filter(pk=card_id).update(todos_synced_at=fetched_at)


def _todo_upsert(card_id: int, todo: ToDoSummary, fetched_at: datetime) -> None:
    existing = ToDo.objects.filter(pk=todo.id).first()
    if existing is not None and existing.synced_at > fetched_at:
        return
    deadline = minicrm_aware(todo.deadline)
    # A held detail the list now contradicts (changed in MiniCRM since) is read again when
    # next needed: until then the to-do is as the list shows it.
    detail = (
        existing is not None
        and existing.completeness == Completeness.DETAIL
        and (existing.status, existing.comment, existing.deadline, existing.user_id)
        == (todo.status, todo.comment, deadline, todo.user_id)
    )
    data = dict(existing.data) if existing is not None and detail else {}
    data["Url"] = todo.url
    ToDo.objects.update_or_create(
        pk=todo.id,
        defaults={
            "card_id": card_id,
            "status": todo.status,
            "comment": todo.comment,
            "deadline": deadline,
            "user_id": todo.user_id,
            "type_id": todo.type_id,
            "data": json_mended(data),
            "completeness": Completeness.DETAIL if detail else Completeness.ROW,
            "synced_at": fetched_at,
        },
    )


def _todo_owner(data: dict[str, Any], existing: ToDo | None, card_id: int) -> int | None:
    """The owner's id of a to-do's detail, which names the owner (the module's schema knows
    the name's id; the to-do list gave the id before)."""
    value = data.get("UserId")
    number = to_int(value)
    if number is not None:
        return number
    card = Card.objects.filter(pk=card_id).only("category_id").first()
    # MiniCRM's users are the same in every module: any module's schema names them.
    module = Module.objects.filter(pk=card.category_id) if card is not None else Module.objects
    held = module.exclude(schema=None).only("pk").first() or (
        Module.objects.exclude(schema=None).only("pk").first()
    )
    schema = module_field_schema(held.pk) if held is not None else None
    spec = schema.fields.get("UserId") if schema is not None else None
    if spec is not None and spec.choices and (key := spec.choice_key(value)) is not None:
        return key
    return existing.user_id if existing is not None else None


def todo_store_detail(data: dict[str, Any], *, fetched_at: datetime) -> ToDo | None:
    """One to-do's detail (GET ToDo/{id})."""
    todo_id = to_int(data.get("Id"))
    if not todo_id:
        return None
    existing = ToDo.objects.filter(pk=todo_id).first()
    if existing is not None and existing.synced_at > fetched_at:
        return existing
    card_id = to_int(data.get("ProjectId")) or 0
    todo, _ = ToDo.objects.update_or_create(
        pk=todo_id,
        defaults={
            "card_id": card_id,
            "status": to_text(data.get("Status")),
            "comment": to_text(data.get("Comment")),
            "deadline": minicrm_moment(data.get("Deadline")),
            "user_id": _todo_owner(data, existing, card_id),
            # The detail names the type; the list gave its id.
            "type_id": to_int(data.get("Type")) or (existing.type_id if existing else None),
            "data": json_mended(dict(data)),
            "completeness": Completeness.DETAIL,
            "synced_at": fetched_at,
        },
    )
    return todo


def todo_store_created(
    *, todo_id: int, card_id: int, values: dict[str, Any], landed_at: datetime
) -> None:
    """A to-do the console made, as it was sent (the sync reads the card's to-dos after)."""
    if not card_id or ToDo.objects.filter(pk=todo_id).exists():
        return
    ToDo.objects.create(
        id=todo_id,
        card_id=card_id,
        status="Open",
        comment=to_text(values.get("Comment")),
        deadline=minicrm_moment(values.get("Deadline")),
        user_id=to_int(values.get("UserId")),
        type_id=to_int(values.get("Type")) or None,
        data={},
        completeness=Completeness.ROW,
        synced_at=landed_at,
    )


def todo_store_write(*, todo_id: int, changes: dict[str, Any], landed_at: datetime) -> None:
    todo = ToDo.objects.filter(pk=todo_id).first()
    if todo is None:
        return
    data = dict(todo.data or {})
    data.update(changes)
    if "Status" in changes:
        todo.status = to_text(changes["Status"])
    if "Comment" in changes:
        todo.comment = to_text(changes["Comment"])
    if "Deadline" in changes:
        todo.deadline = minicrm_moment(changes["Deadline"])
    if "UserId" in changes:
        todo.user_id = to_int(changes["UserId"])
    todo.data = json_mended(data)
    todo.synced_at = max(todo.synced_at, landed_at)
    todo.save()


def history_store(*, card_id: int, changes: list[RemoteStatusChange], fetched_at: datetime) -> None:
    """A card's whole status history (ProjectHistory/{id})."""
    with transaction.atomic():
        StatusChange.objects.filter(card_id=card_id).exclude(
            pk__in=[change.id for change in changes]
        ).delete()
        for change in changes:
            StatusChange.objects.update_or_create(
                pk=change.id,
                defaults={
                    "card_id": card_id,
                    "user_id": change.user_id,
                    "at": minicrm_aware(change.at),
                    "old_status_id": change.old_status_id,
                    "new_status_id": change.new_status_id,
                    "old_status_name": change.old_status_name,
                    "new_status_name": change.new_status_name,
                },
            )
        Card.objects.filter(pk=card_id).update(history_synced_at=fetched_at)


# -- contacts ---------------------------------------------------------------------------------


def _contact_text(name: str, data: dict[str, Any]) -> str:
    values: list[Any] = [name]
    for key, value in data.items():
        searched = key not in UNSEARCHED and key not in ("Name", "Type")
        if searched and isinstance(value, str) and not to_datetime(value):
            values.append(value)
    return search_text(values)


def _contact_name(data: dict[str, Any]) -> str:
    first, last = to_text(data.get("FirstName")), to_text(data.get("LastName"))
    return to_text(data.get("Name")) or " ".join(part for part in (last, first) if part)


def contact_store_detail(data: dict[str, Any], *, fetched_at: datetime) -> Contact | None:
    """A contact's full detail (GET Contact/{id}); None when a newer copy is already held."""
    contact_id = to_int(data.get("Id"))
    if not contact_id:
        return None
    data = json_mended(dict(data))
    with transaction.atomic():
        existing = Contact.objects.select_for_update().filter(pk=contact_id).first()
        updated = minicrm_moment(data.get("UpdatedAt"))
        if existing is not None and not _not_older(existing.updated_at, updated):
            return None
        name = _contact_name(data)
        contact = Contact(
            id=contact_id,
            type=contact_type(data.get("Type")),
            name=name,
            email=to_text(data.get("Email")).strip().casefold(),
            phone_digits=phone_digits(to_text(data.get("Phone"))),
            business_id=to_int(data.get("BusinessId")) or None,
            deleted=bool(to_int(data.get("Deleted"))),
            created_at=minicrm_moment(data.get("CreatedAt")),
            updated_at=updated,
            data=data,
            completeness=Completeness.DETAIL,
            synced_at=fetched_at,
            detail_synced_at=fetched_at,
            listed_at=existing.listed_at if existing else None,
            stale_since=_stale_after(existing, fetched_at),
            search_text=_contact_text(name, data),
        )
        contact.save()
    return contact


def contact_store_row(
    row: ContactSummary, *, fetched_at: datetime, listed_at: datetime | None = None
) -> Contact:
    """A contact as a search row shows it (name, type, email, phone, company)."""
    with transaction.atomic():
        contact = Contact.objects.select_for_update().filter(pk=row.id).first()
        if contact is not None and contact.synced_at > fetched_at:
            if listed_at is not None:
                Contact.objects.filter(pk=row.id).update(listed_at=listed_at)
            return contact
        is_new = contact is None
        if contact is None:
            contact = Contact(id=row.id, synced_at=fetched_at, data={})
        changed = not is_new and (
            contact.name != Contact.fitted("name", row.name)
            or contact.email != Contact.fitted("email", row.email.strip().casefold())
            or contact.business_id != row.business_id
            or contact.deleted
        )
        data = dict(contact.data or {})
        data.update({"Id": row.id, "Type": row.type, "Email": row.email, "Phone": row.phone})
        if not contact.has_detail:
            data["Name"] = row.name
            data["BusinessId"] = row.business_id or 0
        contact.type = row.type
        contact.name = row.name if not contact.has_detail or changed else contact.name
        contact.email = row.email.strip().casefold()
        contact.phone_digits = phone_digits(row.phone)
        contact.business_id = row.business_id if row.type == "Person" else None
        contact.deleted = False
        contact.data = json_mended(data)
        contact.synced_at = fetched_at
        contact.listed_at = listed_at or contact.listed_at
        contact.search_text = _contact_text(contact.name, data)
        if changed and contact.has_detail and contact.stale_since is None:
            contact.stale_since = timezone.now()
        contact.save()
    return contact


def contact_store_webhook(
    data: dict[str, Any], *, contact_id: int, received_at: datetime
) -> Contact | None:
    with transaction.atomic():
        contact = Contact.objects.select_for_update().filter(pk=contact_id).first()
        updated = minicrm_moment(data.get("UpdatedAt"))
        if contact is not None and not _not_older(contact.updated_at, updated):
            return None
        if contact is None:
            contact = Contact(id=contact_id, synced_at=received_at, data={})
        merged = dict(contact.data or {})
        merged.update({k: v for k, v in data.items() if k not in WEBHOOK_ONLY})
        merged["Id"] = contact_id
        contact.type = contact_type(merged.get("Type"))
        contact.name = _contact_name(merged)
        contact.email = to_text(merged.get("Email")).strip().casefold()
        contact.phone_digits = phone_digits(to_text(merged.get("Phone")))
        contact.business_id = to_int(merged.get("BusinessId")) or None
        if "Deleted" in data:
            contact.deleted = bool(to_int(data["Deleted"]))
        contact.created_at = minicrm_moment(merged.get("CreatedAt")) or contact.created_at
        contact.updated_at = updated or contact.updated_at
        contact.data = json_mended(merged)
        contact.synced_at = received_at
        contact.search_text = _contact_text(contact.name, merged)
        contact.stale_since = contact.stale_since or received_at
        contact.save()
    return contact


def contact_store_write(
    *,
    contact_id: int,
    changes: dict[str, Any],
    landed_at: datetime,
    sent_at: datetime | None = None,
) -> None:
    """What a write the console sent changed on a contact (as `card_store_write`)."""
    with transaction.atomic():
        contact = Contact.objects.select_for_update().filter(pk=contact_id).first()
        if contact is None:
            return
        merged = dict(contact.data or {})
        merged.update(changes)
        contact.name = _contact_name(merged)
        contact.email = to_text(merged.get("Email")).strip().casefold()
        contact.phone_digits = phone_digits(to_text(merged.get("Phone")))
        if "BusinessId" in changes:
            contact.business_id = to_int(changes["BusinessId"]) or None
        if sent_at is not None:
            moment = sent_at.replace(microsecond=0)
            contact.updated_at = max(contact.updated_at, moment) if contact.updated_at else moment
        contact.data = json_mended(merged)
        contact.synced_at = max(contact.synced_at, landed_at)
        contact.search_text = _contact_text(contact.name, merged)
        contact.stale_since = contact.stale_since or landed_at
        contact.save()


def contact_store_deleted(*, contact_id: int, at: datetime) -> None:
    Contact.objects.filter(pk=contact_id).update(deleted=True, synced_at=at, stale_since=None)
