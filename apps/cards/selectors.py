"""Reads of cards: a module's changelist, one card with everything its page shows.

Values come back labelled from the module's schema (dropdown ids as labels, multi-selects as
lists, dates as datetimes), with the values of queued writes laid over them and marked.

With the mirror on (MIRROR_ENABLED) they read the console's own copy of MiniCRM: a module's
schema once stored, its changelist once its first list pass has finished, a card once read in
full (detail, to-dos, status history). What the copy does not hold yet is asked of MiniCRM once
and stored, so the next page has it. Without the mirror every read goes to MiniCRM (briefly
cached in Redis).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from typing import Any, cast

from django.db import transaction
from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.contacts.selectors import card_rows_store, contact_or_none
from apps.core.fieldviews import (
    FieldView,
    choice_id,
    display_value,
    field_label,
    field_views,
    label_of,
    minicrm_aware,
    system_views,
)
from apps.core.minicrm import minicrm_client
from apps.core.paging import last_page, page_within
from apps.core.parallel import PageDeadline, gather, too_slow
from apps.core.readcache import cached_json
from apps.core.schema_forms import editable_names
from apps.core.selectors import Module, module_get, modules_all
from apps.mirror import store
from apps.mirror.models import Card as MirrorCard
from apps.mirror.models import Completeness, SyncState
from apps.mirror.models import Contact as MirrorContact
from apps.mirror.selectors import (
    Freshness,
    card_complete,
    card_history,
    card_row,
    card_todos,
    contact_row,
    mirror_here,
    mirror_on,
)
from apps.mirror.services import module_key, schema_ensure
from apps.writes.models import Write
from apps.writes.selectors import (
    FieldChange,
    HistoryEntry,
    WriteRow,
    object_history,
    object_writes,
    pending_statuses,
    pending_values,
    writes_for_object,
)
from minicrm import NotFound
from minicrm.resources.schema import FieldSpec, Schema
from minicrm.types import (
    PAGE_SIZE,
    Contact,
    Project,
    StatusChange,
    ToDoSummary,
    to_datetime,
)

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
    company: str = ""  # the company's name (else the contact's), "" when the mirror lacks it
    updated_at: datetime | None = None


# The changelist's columns that sort (`o=name`, `o=-updated`), as Django's admin sorts: by
# what the column shows. Only the mirror sorts; MiniCRM's search lists by id.
SORTS = ("name", "status", "owner", "company", "updated")


@dataclass(frozen=True)
class CardFilters:
    status_id: int | None = None
    status_group: str | None = None
    owner_id: int | None = None
    field: str | None = None
    value: str | None = None
    order: str | None = None  # one of SORTS, "-" first for descending

    @property
    def narrowing(self) -> bool:
        """Some filter leaves cards out (the order leaves none out)."""
        searched = bool(self.field and self.value not in (None, ""))
        return searched or any(
            value is not None for value in (self.status_id, self.status_group, self.owner_id)
        )

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
    sortable: bool = False  # the mirror answered: the columns sort
    order: str | None = None  # the sort applied

    @property
    def statuses(self) -> dict[int, str]:
        return self.schema.fields["StatusId"].choices if "StatusId" in self.schema.fields else {}

    @property
    def owners(self) -> dict[int, str]:
        return self.schema.fields["UserId"].choices if "UserId" in self.schema.fields else {}


def card_schema(*, category_id: int) -> Schema:
    """A module's schema: the mirror's copy, else MiniCRM's (briefly cached); NotFound for a
    module MiniCRM does not have."""
    if mirror_here():
        held = store.module_field_schema(category_id)
        if held is not None:
            return held
    # Not mirrored yet (the sync stores every module's schema first): MiniCRM's, cached.
    return minicrm_client().schemas.project(category_id)


# The field each of the changelist's columns shows.
COLUMN_FIELDS = {
    "name": "Name",
    "status": "StatusId",
    "owner": "UserId",
    "company": "BusinessId",
    "updated": "UpdatedAt",
}


def column_label(schema: Schema, key: str, default: Any) -> str:
    """A changelist column's header: the label an administrator gave its field, else the
    column's own short name."""
    spec = schema.fields.get(COLUMN_FIELDS.get(key, ""))
    return field_label(spec, default=str(default)) if spec is not None else str(default)


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
    """One page (100 cards) of a module, by id: the mirror's once it holds the module's every
    card (and, to search a field, every card's fields), else MiniCRM's (stored in the mirror).
    A page past the end is the last page (its `page` says which it is)."""
    module = module_get(category_id=category_id)
    schema = card_schema(category_id=category_id)
    held = _held_cards(category_id, filters, schema) if mirror_here() else None
    if held is not None:
        count = held.count()
        page = page_within(page, count)
        start = page * PAGE_SIZE
        # A row shows columns, not fields: the fields' JSON stays in the database (the sort
        # then moves narrow rows, which on 20,000 cards is most of the page's time).
        narrow = held.only(*ROW_COLUMNS)
        shown = list(_sorted(narrow, filters.order, schema)[start : start + PAGE_SIZE])
        names = _company_names(shown)
        rows = [_card_row(card, schema, names) for card in shown]
        pages = max(1, -(-count // PAGE_SIZE))
        return CardPage(module, schema, rows, count, page, pages, True, filters.order)
    fetched_at = timezone.now()
    search = partial(
        minicrm_client().projects.search, category_id=category_id, **filters.as_search(schema)
    )
    result = search(page=page)
    if page > last_page(result.count):  # past the end: MiniCRM answers an empty page
        page = last_page(result.count)
        result = search(page=page)
    if mirror_here():
        card_rows_store(module, list(result.items), fetched_at=fetched_at)
    statuses = schema.fields["StatusId"].choices if "StatusId" in schema.fields else {}
    owners = schema.fields["UserId"].choices if "UserId" in schema.fields else {}
    names = _contact_names(
        [i for item in result.items for i in (item.business_id, item.contact_id)]
    )
    rows = [
        CardRow(
            id=item.id,
            name=item.name,
            status_id=item.status.id,
            status=statuses.get(item.status.id or 0, item.status.name or ""),
            owner=owners.get(item.user.id or 0, item.user.name or ""),
            contact_id=item.contact_id,
            business_id=item.business_id,
            company=names.get(item.business_id or item.contact_id or 0, ""),
        )
        for item in result.items
    ]
    return CardPage(module, schema, rows, result.count, page, result.pages)


def _sorted(cards: QuerySet[MirrorCard], order: str | None, schema: Schema) -> QuerySet[MirrorCard]:
    """Cards in the order of a column, as it shows (a status or owner by its label, the
    company by its name); then by id, so pages never overlap."""
    key = (order or "").removeprefix("-")
    if key not in SORTS:
        return cards.order_by("id")
    descending = (order or "").startswith("-")
    if key in ("status", "owner"):
        spec = schema.fields.get("StatusId" if key == "status" else "UserId")
        column = "status_id" if key == "status" else "user_id"
        labels = sorted((spec.choices if spec else {}).items(), key=lambda c: c[1].casefold())
        cards = cards.annotate(
            sort_key=Case(
                *(
                    When(**{column: choice}, then=Value(rank))
                    for rank, (choice, _l) in enumerate(labels)
                ),
                default=Value(len(labels)),
                output_field=IntegerField(),
            )
        )
    elif key == "company":  # the company's name, else the contact's (as the column shows)
        contacts = MirrorContact.objects.filter(deleted=False)
        company = contacts.filter(pk=OuterRef("business_id")).values("name")[:1]
        contact = contacts.filter(pk=OuterRef("contact_id")).values("name")[:1]
        cards = cards.annotate(
            sort_key=Lower(Coalesce(Subquery(company), Subquery(contact), Value("")))
        )
    elif key == "name":
        cards = cards.annotate(sort_key=Lower("name"))
    else:
        cards = cards.annotate(sort_key=F("updated_at"))
    first = (
        F("sort_key").desc(nulls_last=True) if descending else F("sort_key").asc(nulls_last=True)
    )
    return cards.order_by(first, "-id" if descending else "id")


def _contact_names(ids: list[int | None]) -> dict[int, str]:
    """The names the mirror holds of some contacts (placeholders and deleted ones aside)."""
    wanted = {i for i in ids if i}
    if not wanted or not mirror_here():
        return {}
    held = MirrorContact.objects.filter(pk__in=wanted, deleted=False).exclude(type="")
    return dict(held.values_list("id", "name"))


def _company_names(cards: list[MirrorCard]) -> dict[int, str]:
    return _contact_names([i for card in cards for i in (card.business_id, card.contact_id)])


@dataclass(frozen=True)
class CardExport:
    """A changelist as a file: its columns, then every field of the module; the rows come
    from the mirror a thousand at a time."""

    module: Module
    title: list[str]  # what the file is named after: the module, and the status filtered by
    header: list[str]
    rows: Iterator[list[Any]]


EXPORT_CHUNK = 1000


def card_export(*, category_id: int, filters: CardFilters) -> CardExport | None:
    """Every card of a module's changelist (all its pages, its filters and its order) with
    every field; None while the mirror cannot list the module as MiniCRM would (exporting
    from MiniCRM's search would spend the budget on a page per 100 cards)."""
    module = module_get(category_id=category_id)
    schema = card_schema(category_id=category_id)
    held = _held_cards(category_id, filters, schema) if mirror_here() else None
    if held is None:
        return None
    specs = [
        spec
        for spec in schema.fields.values()
        if spec.name not in HEADER_FIELDS and spec.name not in ("Deleted",)
    ]
    header = [
        "Id",
        column_label(schema, "name", _("Name")),
        column_label(schema, "status", _("Status")),
        column_label(schema, "owner", _("Owner")),
        column_label(schema, "company", _("Company")),
        column_label(schema, "updated", _("Updated")),
        *(field_label(spec) for spec in specs),
    ]

    def rows() -> Iterator[list[Any]]:
        chunk: list[MirrorCard] = []
        for card in _sorted(held, filters.order, schema).iterator(chunk_size=EXPORT_CHUNK):
            chunk.append(card)
            if len(chunk) == EXPORT_CHUNK:
                yield from _export_rows(chunk, schema, specs)
                chunk = []
        yield from _export_rows(chunk, schema, specs)

    statuses = schema.fields["StatusId"].choices if "StatusId" in schema.fields else {}
    title = [module.name, statuses.get(filters.status_id or 0, ""), filters.status_group or ""]
    return CardExport(module, [part for part in title if part], header, rows())


def _export_rows(
    cards: list[MirrorCard], schema: Schema, specs: list[FieldSpec]
) -> Iterator[list[Any]]:
    names = _company_names(cards)
    for card in cards:
        row = _card_row(card, schema, names)
        data = card.data or {}
        yield [
            row.id,
            row.name,
            row.status,
            row.owner,
            row.company,
            row.updated_at,
            *(display_value(spec, data.get(spec.name)) for spec in specs),
        ]


# -- the board --------------------------------------------------------------------------------

BOARD_SHOWN = 50  # cards shown in a column (the column links to its changelist)


@dataclass(frozen=True)
class BoardCard:
    id: int
    name: str
    company: str
    status_id: int | None  # as it will be once a queued status change lands
    pending: bool  # a status change is queued


@dataclass(frozen=True)
class BoardColumn:
    status_id: int
    label: str
    cards: list[BoardCard]
    count: int


@dataclass(frozen=True)
class Board:
    module: Module
    schema: Schema
    columns: list[BoardColumn]


def card_board(*, category_id: int, filters: CardFilters) -> Board | None:
    """A module as columns by status, from the mirror: each status's cards (the most recently
    changed first, up to BOARD_SHOWN) and count; a card whose status change is queued shows in
    its new column, marked. None while the mirror cannot list the module as MiniCRM would."""
    module = module_get(category_id=category_id)
    schema = card_schema(category_id=category_id)
    held = _held_cards(category_id, replace(filters, status_id=None), schema)
    if held is None or not mirror_here():
        return None
    statuses = schema.fields["StatusId"].choices if "StatusId" in schema.fields else {}
    moving = {
        card_id: choice_id(schema.fields.get("StatusId"), value)
        for card_id, value in pending_statuses().items()
    }
    moved = dict(held.filter(pk__in=moving).values_list("pk", "status_id"))
    counts = dict(held.values("status_id").annotate(n=Count("id")).values_list("status_id", "n"))
    for card_id, old in moved.items():
        counts[old] = counts.get(old, 0) - 1
        counts[moving[card_id]] = counts.get(moving[card_id], 0) + 1
    columns = []
    for status_id, label in statuses.items():
        arriving = [pk for pk, old in moved.items() if moving[pk] == status_id and old != status_id]
        cards = held.filter(Q(status_id=status_id) | Q(pk__in=arriving)).exclude(
            pk__in=[pk for pk in moved if moving[pk] != status_id]
        )
        newest = cards.only(*ROW_COLUMNS).order_by(F("updated_at").desc(nulls_last=True), "-id")
        shown = list(newest[:BOARD_SHOWN])
        names = _company_names(shown)
        tiles = [
            BoardCard(
                id=card.id,
                name=card.name or f"#{card.id}",
                company=names.get(card.business_id or card.contact_id or 0, ""),
                status_id=status_id,
                pending=card.id in moved,
            )
            for card in shown
        ]
        columns.append(BoardColumn(status_id, label, tiles, max(0, counts.get(status_id, 0))))
    return Board(module, schema, columns)


def board_tile(*, card_id: int) -> BoardCard | None:
    """One card's tile on the board, as it will be once its queued status change lands."""
    card = card_row(card_id=card_id)
    if card is None:
        return None
    schema = store.module_field_schema(card.category_id)
    spec = schema.fields.get("StatusId") if schema else None
    queued = pending_statuses(target_ids=[card_id])
    status_id = choice_id(spec, queued[card_id]) if card_id in queued else card.status_id
    names = _company_names([card])
    return BoardCard(
        id=card.id,
        name=card.name or f"#{card.id}",
        company=names.get(card.business_id or card.contact_id or 0, ""),
        status_id=status_id,
        pending=card_id in queued,
    )


def module_listed(*, category_id: int) -> bool:
    """The mirror holds every card of the module (its first list pass has finished)."""
    key = module_key(category_id)
    return SyncState.objects.filter(key=key, filled_at__isnull=False).exists()


# Field kinds the mirror searches as MiniCRM does (the value equals, case aside).
MIRROR_SEARCHED = {"text", "int", "float", "select", "date"}


def _held_cards(
    category_id: int, filters: CardFilters, schema: Schema
) -> QuerySet[MirrorCard] | None:
    """The mirror's cards of a module that match the filters; None when the mirror cannot
    answer as MiniCRM would (the module not listed yet, a status whose group is not known, a
    field search before every card's fields are held)."""
    if not module_listed(category_id=category_id):
        return None
    cards = MirrorCard.objects.filter(category_id=category_id, deleted=False)
    if filters.status_id is not None:
        cards = cards.filter(status_id=filters.status_id)
    if filters.owner_id is not None:
        cards = cards.filter(user_id=filters.owner_id)
    if filters.status_group:
        if cards.filter(status_group="").exists():
            return None
        cards = cards.filter(status_group=filters.status_group)
    if filters.field and filters.value not in (None, ""):
        spec = schema.fields.get(filters.field)
        if spec is None or spec.kind not in MIRROR_SEARCHED:
            return None
        if cards.exclude(completeness=Completeness.DETAIL).exists():
            return None
        cards = cards.filter(_field_equals(spec, str(filters.value)))
    return cards


def _field_equals(spec: FieldSpec, value: str) -> Q:
    """A field of a card's detail equal to a searched value: a dropdown by its label (as the
    detail holds it, the label or id typed), a number as a number or its text, the rest as
    text, case aside."""
    path = f"data__{spec.name}"
    text = value.strip()
    if spec.kind == "select":
        key = spec.choice_key(text)
        label = spec.choices.get(key) if key is not None else None
        return Q(**{path: label}) if label is not None else Q(pk__in=[])
    if spec.kind in ("int", "float"):
        try:
            number = float(text.replace(",", "."))
        except ValueError:
            return Q(**{f"{path}__iexact": text})
        numbers: list[Any] = [number, text]
        if number.is_integer():
            numbers.append(int(number))
        condition = Q()
        for candidate in numbers:
            condition |= Q(**{path: candidate})
        return condition
    return Q(**{f"{path}__iexact": text})


# What `_card_row` reads of a card (a changelist row, a board tile).
ROW_COLUMNS = (
    "id",
    "name",
    "status_id",
    "user_id",
    "contact_id",
    "business_id",
    "updated_at",
)


def _card_row(card: MirrorCard, schema: Schema, names: dict[int, str]) -> CardRow:
    statuses = schema.fields["StatusId"].choices if "StatusId" in schema.fields else {}
    owners = schema.fields["UserId"].choices if "UserId" in schema.fields else {}
    return CardRow(
        id=card.id,
        name=card.name,
        status_id=card.status_id,
        status=statuses.get(card.status_id or 0, ""),
        owner=owners.get(card.user_id or 0, ""),
        contact_id=card.contact_id,
        business_id=card.business_id,
        company=names.get(card.business_id or card.contact_id or 0, ""),
        updated_at=card.updated_at,
    )


def card_list_freshness(*, page: CardPage) -> Freshness:
    """How fresh a changelist is: as of the module's last list pass or the last poll of cards
    when the mirror answered (refreshing while a card shown is being read again), just now
    when MiniCRM did, unknown without the mirror."""
    if not mirror_on():
        return Freshness(None)
    if not module_listed(category_id=page.module.id):
        return Freshness(timezone.now())
    keys = (module_key(page.module.id), "poll:Project")
    moments = [
        moment
        for state in SyncState.objects.filter(key__in=keys)
        for moment in (state.rescanned_at, state.filled_at, state.polled_at)
        if moment is not None
    ]
    shown = [row.id for row in page.rows]
    refreshing = MirrorCard.objects.filter(pk__in=shown, stale_since__isnull=False).exists()
    return Freshness(max(moments) if moments else None, refreshing=refreshing)


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
    writes: list[WriteRow] = field(default_factory=list)
    pending: dict[str, Any] = field(default_factory=dict)
    late: list[str] = field(default_factory=list)  # what MiniCRM did not answer in time
    row: MirrorCard | None = None  # the mirror's copy the page shows (None without one)
    timeline: list[HistoryEntry] = field(default_factory=list)  # the History, newest first

    @property
    def status_id(self) -> int | None:
        return choice_id(self.schema.fields.get("StatusId"), self.project.fields.get("StatusId"))

    @property
    def shown_status_id(self) -> int | None:
        """The status the page shows as the card's: a queued change's, else MiniCRM's."""
        if "StatusId" in self.pending:
            return choice_id(self.schema.fields.get("StatusId"), self.pending["StatusId"])
        return self.status_id

    @property
    def open_todos(self) -> list[ToDoSummary]:
        """Open to-dos, soonest deadline first (as the to-do tabs list them)."""
        return sorted(
            (todo for todo in self.todos if todo.is_open),
            key=lambda t: (t.deadline is None, t.deadline or datetime.min, t.id),
        )

    @property
    def failed_writes(self) -> list[Write]:
        states = (Write.State.FAILED, Write.State.CONFLICT)
        return [row.write for row in self.writes if row.write.state in states]

    @property
    def pending_writes(self) -> list[Write]:
        return [row.write for row in self.writes if row.write.state in Write.PENDING_STATES]


def card_get(*, card_id: int) -> Project:
    """The card: the mirror's full copy, else MiniCRM's (stored in the mirror; briefly cached
    without the mirror); NotFound when MiniCRM has no such card."""
    if not mirror_here():
        data = cached_json(
            "project", card_id, lambda: minicrm_client().projects.get(card_id).fields
        )
        return Project.parse(data)
    held = card_row(card_id=card_id)
    if held is not None and held.has_detail and not held.deleted:
        return Project.parse(held.data)
    fetched_at = timezone.now()
    try:
        project = minicrm_client().projects.get(card_id)
    except NotFound:
        store.card_store_deleted(card_id=card_id, at=fetched_at)
        raise
    _detail_store(project.fields, fetched_at=fetched_at)
    return project


def _detail_store(data: dict[str, Any], *, fetched_at: datetime) -> None:
    """A card's detail in the mirror, its module's schema first (the detail names dropdown
    values by their labels, the schema gives their ids)."""
    category_id = Project.parse(data).category_id
    if category_id:
        schema_ensure(category_id=category_id, client=minicrm_client())
    store.card_store_detail(data, fetched_at=fetched_at)


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
    """A card with everything its page shows: module, schema, history, to-dos, contact and
    company. With the mirror, from its copy; a card it does not hold in full is read from
    MiniCRM (side by side, up to the page's bound) and stored. Without it, every read is sent
    to MiniCRM side by side. What MiniCRM did not answer within the page's bound is left out
    and named in `late` (the card itself and its fields are waited for up to the bound)."""
    deadline = deadline or PageDeadline()
    if not mirror_on():
        return _card_detail_live(card_id, deadline)
    row, late = _page_card(card_id, deadline)
    project = Project.parse(row.data)
    module = _module_of(project.category_id)
    schema = card_schema(category_id=project.category_id)
    people, late_people = _card_people(project, deadline)
    pending = pending_values(target_type="project", target_id=card_id)
    return _card_view(
        project,
        module=module,
        schema=schema,
        history=card_history(card_id=card_id),
        todos=card_todos(card_id=card_id),
        contact=people.get("contact"),
        business=people.get("business"),
        pending=pending,
        late=late + late_people,
        row=card_row(card_id=card_id),
    )


LATE_NAMES = {
    "history": _("the status history"),
    "todos": _("the to-dos"),
    "contact": _("the contact"),
    "business": _("the company"),
}


def _page_card(card_id: int, deadline: PageDeadline) -> tuple[MirrorCard, list[str]]:
    """The mirror's copy of a card, with what it lacks of the page read from MiniCRM side by
    side and stored: the detail (waited for up to the page's bound), the to-dos and the status
    history; and what did not arrive in time. NotFound for a card MiniCRM does not have."""
    row = card_row(card_id=card_id)
    if row is not None and row.deleted:
        raise NotFound(f"Project {card_id} not found.")
    if row is not None and card_complete(row):
        return row, []
    fetched_at = timezone.now()
    calls: dict[str, Callable[[], Any]] = {}
    if row is None or not row.has_detail:
        calls["card"] = partial(_card_data, card_id)
    if row is None or row.todos_synced_at is None:
        calls["todos"] = partial(_todo_list, card_id)
    if row is None or row.history_synced_at is None:
        calls["history"] = partial(_status_history, card_id)
    arrived = gather(calls, deadline=deadline)
    if "card" in arrived.late:
        raise too_slow(deadline, "the card")
    if "card" in calls:
        data = arrived.results["card"]
        if data is None:
            store.card_store_deleted(card_id=card_id, at=fetched_at)
            raise NotFound(f"Project {card_id} not found.")
        _detail_store(data, fetched_at=fetched_at)
    with transaction.atomic():
        if "todos" in arrived.results:
            todos = arrived.results["todos"]
            store.todos_store(card_id=card_id, todos=todos, fetched_at=fetched_at)
        if "history" in arrived.results:
            history = arrived.results["history"]
            store.history_store(card_id=card_id, changes=history, fetched_at=fetched_at)
    stored = card_row(card_id=card_id)
    if stored is None:  # a card of no module (a placeholder): not a card a page can show
        raise NotFound(f"Project {card_id} not found.")
    return stored, [str(LATE_NAMES[key]) for key in arrived.late]


def _module_of(category_id: int) -> Module:
    """The card's module; one MiniCRM no longer lists keeps its id as its name."""
    try:
        return module_get(category_id=category_id)
    except NotFound:
        return Module(category_id, f"#{category_id}")


def _card_people(project: Project, deadline: PageDeadline) -> tuple[dict[str, Contact], list[str]]:
    """The card's contact and company as the mirror holds them (a search row is enough for a
    name and a link), else MiniCRM's, side by side up to the page's bound, stored."""
    wanted = {"contact": project.contact_id, "business": project.business_id}
    people: dict[str, Contact] = {}
    calls: dict[str, Callable[[], Any]] = {}
    for key, contact_id in wanted.items():
        if not contact_id:
            continue
        held = contact_row(contact_id=contact_id)
        if held is not None:
            if not held.deleted:
                people[key] = Contact.parse(held.data)
        else:
            calls[key] = partial(_contact_data, contact_id)
    if not calls:
        return people, []
    fetched_at = timezone.now()
    arrived = gather(calls, deadline=deadline)
    for key, data in arrived.results.items():
        contact_id = wanted[key]
        if data is None and contact_id:
            store.contact_store_deleted(contact_id=contact_id, at=fetched_at)
        elif data is not None:
            store.contact_store_detail(data, fetched_at=fetched_at)
            people[key] = Contact.parse(data)
    return people, [str(LATE_NAMES[key]) for key in arrived.late]


# What runs inside `gather` (MiniCRM only, no database).


def _card_data(card_id: int) -> dict[str, Any] | None:
    """MiniCRM's fields of a card; None when it has no such card."""
    try:
        return dict(minicrm_client().projects.get(card_id).fields)
    except NotFound:
        return None


def _todo_list(card_id: int) -> list[ToDoSummary]:
    return list(minicrm_client().todos.list(card_id, status="All").items)


def _status_history(card_id: int) -> list[StatusChange]:
    return minicrm_client().projects.status_history(card_id)


def _contact_data(contact_id: int) -> dict[str, Any] | None:
    try:
        return dict(minicrm_client().contacts.get(contact_id).fields)
    except NotFound:
        return None


def _card_view(
    project: Project,
    *,
    module: Module,
    schema: Schema,
    history: list[StatusChange],
    todos: list[ToDoSummary],
    contact: Contact | None,
    business: Contact | None,
    pending: dict[str, Any],
    late: list[str],
    row: MirrorCard | None = None,
) -> CardDetail:
    status_spec, owner_spec = schema.fields.get("StatusId"), schema.fields.get("UserId")
    status = label_of(status_spec, pending.get("StatusId", project.fields.get("StatusId")))
    owner = label_of(owner_spec, pending.get("UserId", project.fields.get("UserId")))
    owners = owner_spec.choices if owner_spec is not None else {}
    recorded = [
        HistoryEntry(
            at=minicrm_aware(change.at),
            who=owners.get(change.user_id or 0, "") or str(_("MiniCRM")),
            what=str(_("Status")),
            changes=[FieldChange(str(_("Status")), change.old_status_name, change.new_status_name)],
            state="minicrm",
            state_label=str(_("recorded in MiniCRM")),
        )
        for change in history
    ]
    timeline = object_history(
        target_type="project", target_id=project.id, schema=schema, extra=recorded
    )
    return CardDetail(
        project=project,
        module=module,
        schema=schema,
        status=status,
        owner=owner,
        fields=field_views(schema, project.fields, pending, skip=HEADER_FIELDS),
        record=system_views(schema, project.fields),
        contact=contact,
        business=business,
        history=history,
        todos=todos,
        writes=object_writes(target_type="project", target_id=project.id),
        pending=pending,
        late=late,
        row=row,
        timeline=timeline,
    )


# -- without the mirror -----------------------------------------------------------------------


def _card_detail_live(card_id: int, deadline: PageDeadline) -> CardDetail:
    """Every read of a card page asked of MiniCRM (briefly cached), side by side."""
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
    history = rest.results.get("history", [])
    todos = rest.results.get("todos", [])
    return _card_view(
        project,
        module=module,
        schema=rest.results["schema"],
        history=[StatusChange(**{**row, "at": to_datetime(row["at"])}) for row in history],
        todos=[ToDoSummary(**{**row, "deadline": to_datetime(row["deadline"])}) for row in todos],
        contact=rest.results.get("contact"),
        business=rest.results.get("business"),
        pending=pending_values(target_type="project", target_id=card_id),
        late=[str(LATE_NAMES[key]) for key in rest.late],
    )


def card_writes(*, card_id: int) -> QuerySet[Write]:
    return writes_for_object(target_type="project", target_id=card_id)


def _iso(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else ""
