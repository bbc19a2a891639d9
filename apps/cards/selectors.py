"""Reads of cards: a module's changelist, one card with everything its page shows.

Values come back labelled from the module's schema (dropdown ids as labels, multi-selects as
lists, dates as datetimes), with the values of queued writes laid over them and marked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from apps.contacts.selectors import contact_or_none
from apps.core.fieldviews import FieldView, choice_id, field_views, label_of, system_views
from apps.core.minicrm import minicrm_client
from apps.core.parallel import PageDeadline, gather, too_slow
from apps.core.readcache import cached_json
from apps.core.schema_forms import editable_names
from apps.core.selectors import Module, module_get, modules_all
from apps.writes.models import Write
from apps.writes.selectors import pending_values, writes_for_object
from minicrm.resources.schema import FieldSpec, Schema
from minicrm.types import Contact, Project, StatusChange, ToDoSummary, to_datetime

STATUS_GROUPS = ("Lead", "Open", "Success", "Failed")
# Fields the card page shows in its header rather than in the field list.
HEADER_FIELDS = {"Id", "CategoryId", "ContactId", "BusinessId", "Name", "StatusId", "UserId"}
SEARCHABLE_KINDS = {"text", "int", "float", "select", "multiselect", "date", "bool"}


@dataclass(frozen=True)
class CardRow:
    id: int
    name: str
    status_id: int | None
    status: str
    owner: str
    contact_id: int | None
    business_id: int | None


@dataclass(frozen=True)
class CardFilters:
    status_id: int | None = None
    status_group: str | None = None
    owner_id: int | None = None
    field: str | None = None
    value: str | None = None

    def as_search(self, schema: Schema | None = None) -> dict[str, Any]:
        search: dict[str, Any] = {
            "status_id": self.status_id,
            "status_group": self.status_group,
            "user_id": self.owner_id,
        }
        if self.field and self.value not in (None, ""):
            spec = schema.fields.get(self.field) if schema is not None else None
            key = spec.choice_key(self.value) if spec and spec.choices else None
            # A dropdown is searched by the id of the label typed (a digit label is no id).
            search[self.field] = key if key is not None else self.value
        return search


@dataclass(frozen=True)
class CardPage:
    module: Module
    schema: Schema
    rows: list[CardRow]
    count: int
    page: int
    pages: int

    @property
    def statuses(self) -> dict[int, str]:
        return self.schema.fields["StatusId"].choices if "StatusId" in self.schema.fields else {}

    @property
    def owners(self) -> dict[int, str]:
        return self.schema.fields["UserId"].choices if "UserId" in self.schema.fields else {}


def card_schema(*, category_id: int) -> Schema:
    return minicrm_client().schemas.project(category_id)


def searchable_fields(schema: Schema) -> list[FieldSpec]:
    """Fields a changelist can search by (MiniCRM filters on any schema field)."""
    return [
        spec
        for spec in schema.fields.values()
        if spec.kind in SEARCHABLE_KINDS and spec.name not in HEADER_FIELDS and not spec.read_only
    ]


def card_form_names(schema: Schema) -> list[str]:
    """The fields the change form offers, the only ones edited inline or in bulk."""
    return [name for name in editable_names(schema) if name != "CategoryId"]


def card_list(*, category_id: int, filters: CardFilters, page: int = 0) -> CardPage:
    """One page (100 cards) of a module, as MiniCRM pages it."""
    module = module_get(category_id=category_id)
    schema = card_schema(category_id=category_id)
    result = minicrm_client().projects.search(
        category_id=category_id, page=page, **filters.as_search(schema)
    )
    statuses = schema.fields["StatusId"].choices if "StatusId" in schema.fields else {}
    owners = schema.fields["UserId"].choices if "UserId" in schema.fields else {}
    rows = [
        CardRow(
            id=item.id,
            name=item.name,
            status_id=item.status.id,
            status=statuses.get(item.status.id or 0, item.status.name or ""),
            owner=owners.get(item.user.id or 0, item.user.name or ""),
            contact_id=item.contact_id,
            business_id=item.business_id,
        )
        for item in result.items
    ]
    return CardPage(module, schema, rows, result.count, page, result.pages)


# -- one card ---------------------------------------------------------------------------------


@dataclass
class CardDetail:
    project: Project
    module: Module
    schema: Schema
    status: str
    owner: str
    fields: list[FieldView]
    record: list[FieldView]
    contact: Contact | None
    business: Contact | None
    history: list[StatusChange]
    todos: list[ToDoSummary]
    writes: list[Write] = field(default_factory=list)
    pending: dict[str, Any] = field(default_factory=dict)
    late: list[str] = field(default_factory=list)  # what MiniCRM did not answer in time

    @property
    def status_id(self) -> int | None:
        return choice_id(self.schema.fields.get("StatusId"), self.project.fields.get("StatusId"))

    @property
    def open_todos(self) -> list[ToDoSummary]:
        """Open to-dos, soonest deadline first (as the to-do tabs list them)."""
        return sorted(
            (todo for todo in self.todos if todo.is_open),
            key=lambda t: (t.deadline is None, t.deadline or datetime.min, t.id),
        )

    @property
    def failed_writes(self) -> list[Write]:
        return [w for w in self.writes if w.state in (Write.State.FAILED, Write.State.CONFLICT)]

    @property
    def pending_writes(self) -> list[Write]:
        return [w for w in self.writes if w.state in Write.PENDING_STATES]


def card_get(*, card_id: int) -> Project:
    """The card as MiniCRM has it now (cached for a short while)."""
    data = cached_json("project", card_id, lambda: minicrm_client().projects.get(card_id).fields)
    return Project.parse(data)


def _history(card_id: int) -> list[dict[str, Any]]:
    return cast(
        "list[dict[str, Any]]",
        cached_json(
            "project-history",
            card_id,
            lambda: [
                change.__dict__ | {"at": _iso(change.at)}
                for change in minicrm_client().projects.status_history(card_id)
            ],
        ),
    )


def _todos(card_id: int) -> list[dict[str, Any]]:
    return cast(
        "list[dict[str, Any]]",
        cached_json(
            "project-todos",
            card_id,
            lambda: [
                todo.__dict__ | {"deadline": _iso(todo.deadline)}
                for todo in minicrm_client().todos.list(card_id, status="All").items
            ],
        ),
    )


def card_detail(*, card_id: int, deadline: PageDeadline | None = None) -> CardDetail:
    """A card with its page's reads (module, schema, history, to-dos, contact, company) sent
    side by side; what MiniCRM did not answer within the page's bound is left out and named
    in `late` (the card, its module and its fields are waited for up to the bound)."""
    deadline = deadline or PageDeadline()
    first = gather(
        {"card": lambda: card_get(card_id=card_id), "modules": modules_all}, deadline=deadline
    )
    if first.late:
        raise too_slow(deadline, "the card")
    project: Project = first.results["card"]
    module = module_get(category_id=project.category_id)  # the modules are read by now
    rest = gather(
        {
            "schema": lambda: card_schema(category_id=project.category_id),
            "history": lambda: _history(card_id),
            "todos": lambda: _todos(card_id),
            "contact": lambda: contact_or_none(contact_id=project.contact_id),
            "business": lambda: contact_or_none(contact_id=project.business_id),
        },
        deadline=deadline,
    )
    if "schema" in rest.late:
        raise too_slow(deadline, "the card's fields")
    schema: Schema = rest.results["schema"]
    names = {
        "history": _("the status history"),
        "todos": _("the to-dos"),
        "contact": _("the contact"),
        "business": _("the company"),
    }
    late = [str(names[key]) for key in rest.late]
    history = rest.results.get("history", [])
    todos = rest.results.get("todos", [])
    pending = pending_values(target_type="project", target_id=card_id)
    status_spec, owner_spec = schema.fields.get("StatusId"), schema.fields.get("UserId")
    status = label_of(status_spec, pending.get("StatusId", project.fields.get("StatusId")))
    owner = label_of(owner_spec, pending.get("UserId", project.fields.get("UserId")))
    return CardDetail(
        project=project,
        module=module,
        schema=schema,
        status=status,
        owner=owner,
        fields=field_views(schema, project.fields, pending, skip=HEADER_FIELDS),
        record=system_views(schema, project.fields),
        contact=rest.results.get("contact"),
        business=rest.results.get("business"),
        history=[StatusChange(**{**row, "at": to_datetime(row["at"])}) for row in history],
        todos=[ToDoSummary(**{**row, "deadline": to_datetime(row["deadline"])}) for row in todos],
        writes=list(writes_for_object(target_type="project", target_id=card_id)),
        pending=pending,
        late=late,
    )


def card_writes(*, card_id: int) -> QuerySet[Write]:
    return writes_for_object(target_type="project", target_id=card_id)


def _iso(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else ""
