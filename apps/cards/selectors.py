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

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
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
from django.db.models.fields.json import KT, KeyTransform
from django.db.models.functions import Coalesce, Lower, Substr, TruncDay, TruncMonth, TruncYear
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from apps.cards.columns import (
    BUILTIN,
    MOMENT_COLUMNS,
    Cell,
    Column,
    card_cells,
    column_label,
    company_cell,
    default_columns,
)
from apps.cards.columns import NOT_COLUMNS as NOT_SORTED
from apps.cards.models import SavedFilter
from apps.contacts.selectors import card_rows_store, contact_or_none
from apps.core.export import Export, chunked_rows
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
    cells: list[Cell] = field(default_factory=list)  # what it shows in the page's columns


# The changelist's columns that sort (`o=name`, `o=-updated`), as Django's admin sorts: by
# what the column shows; any schema field's column sorts too (`o=-Budget`). Only the mirror
# sorts; MiniCRM's search lists by id.
SORTS = ("name", *BUILTIN)


@dataclass(frozen=True)
class CardFilters:
    status_id: int | None = None
    status_group: str | None = None
    owner_id: int | None = None
    field: str | None = None
    value: str | None = None
    order: str | None = None  # one of SORTS or a schema field, "-" first for descending
    # Only the mirror answers these (MiniCRM's search has nothing like them):
    q: str | None = None  # words of the name and every text field, by their beginnings
    choices: tuple[tuple[str, Any], ...] = ()  # (dropdown or yes/no field, id or True/False)
    # (a date column: "created", "updated", "status_updated" or a date field; from; to)
    dates: tuple[tuple[str, date | None, date | None], ...] = ()

    @property
    def mirror_only(self) -> bool:
        return bool(self.q or self.choices or self.dates)

    @property
    def narrowing(self) -> bool:
        """Some filter leaves cards out (the order leaves none out)."""
        searched = bool(self.field and self.value not in (None, ""))
        return (
            searched
            or self.mirror_only
            or any(
                value is not None for value in (self.status_id, self.status_group, self.owner_id)
            )
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
    columns: list[Column] = field(default_factory=list)  # shown after the name

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


def card_list(
    *,
    category_id: int,
    filters: CardFilters,
    page: int = 0,
    columns: list[Column] | None = None,
) -> CardPage:
    """One page (100 cards) of a module, by id: the mirror's once it holds the module's every
    card (and, to search a field, every card's fields), else MiniCRM's (stored in the mirror).
    A page past the end is the last page (its `page` says which it is). The mirror's page
    shows `columns` (any the module has); MiniCRM's search shows the default ones."""
    module = module_get(category_id=category_id)
    schema = card_schema(category_id=category_id)
    held = _held_cards(category_id, filters, schema) if mirror_here() else None
    if held is not None:
        shown_columns = columns if columns is not None else default_columns(schema)
        count = held.count()
        page = page_within(page, count)
        start = page * PAGE_SIZE
        # A row shows columns, not fields: the fields' JSON stays in the database (the sort
        # then moves narrow rows, which on 20,000 cards is most of the page's time).
        narrow = held.only(*ROW_COLUMNS, "created_at", "status_updated_at")
        shown = list(_sorted(narrow, filters.order, schema)[start : start + PAGE_SIZE])
        if any(column.key not in BUILTIN for column in shown_columns):
            # The fields' JSON of this page's cards only, for the columns that show fields.
            fields = dict(
                MirrorCard.objects.filter(pk__in=[c.id for c in shown]).values_list("id", "data")
            )
            for card in shown:
                card.data = fields.get(card.id) or {}
        names = _company_names(shown)
        rows = [
            replace(
                _card_row(card, schema, names),
                cells=card_cells(card, shown_columns, schema, names),
            )
            for card in shown
        ]
        pages = max(1, -(-count // PAGE_SIZE))
        return CardPage(
            module, schema, rows, count, page, pages, True, filters.order, shown_columns
        )
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
    rows = []
    for item in result.items:
        status = statuses.get(item.status.id or 0, item.status.name or "")
        owner = owners.get(item.user.id or 0, item.user.name or "")
        rows.append(
            CardRow(
                id=item.id,
                name=item.name,
                status_id=item.status.id,
                status=status,
                owner=owner,
                contact_id=item.contact_id,
                business_id=item.business_id,
                company=names.get(item.business_id or item.contact_id or 0, ""),
                cells=[
                    Cell("status", "text", status),
                    Cell("owner", "text", owner),
                    company_cell(item.business_id, item.contact_id, names),
                    Cell("updated", "datetime", None),  # MiniCRM's search rows do not say
                ],
            )
        )
    columns_shown = default_columns(schema)
    return CardPage(module, schema, rows, result.count, page, result.pages, columns=columns_shown)


def _sorted(cards: QuerySet[MirrorCard], order: str | None, schema: Schema) -> QuerySet[MirrorCard]:
    """Cards in the order of a column, as it shows (a status or owner by its label, the
    company by its name); then by id, so pages never overlap."""
    key = (order or "").removeprefix("-")
    spec = schema.fields.get(key)
    if key not in SORTS and (spec is None or key in NOT_SORTED):
        return cards.order_by("id")
    descending = (order or "").startswith("-")
    if key not in SORTS and spec is not None:
        # A schema field, as the detail holds it (dropdowns by label, dates as ISO text).
        value = KeyTransform(key, "data")
        cards = cards.annotate(
            sort_key=value if spec.kind in ("int", "float", "bool") else Lower(KT(f"data__{key}"))
        )
    elif key in ("status", "owner"):
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
        cards = cards.annotate(sort_key=F(MOMENT_COLUMNS.get(key, "updated_at")))
    if key == "name":  # never empty of a value (NULL): its index serves the order as it is
        name = Lower("name")
        return cards.order_by(
            name.desc() if descending else name.asc(), "-id" if descending else "id"
        )
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


def card_export(*, category_id: int, filters: CardFilters) -> Export | None:
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

    rows = chunked_rows(
        _sorted(held, filters.order, schema), lambda chunk: _export_rows(chunk, schema, specs)
    )
    statuses = schema.fields["StatusId"].choices if "StatusId" in schema.fields else {}
    title = [module.name, statuses.get(filters.status_id or 0, ""), filters.status_group or ""]
    return Export(title, header, rows)


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
    if filters.q:
        cards = cards_matching(cards, filters.q)
    for name, chosen in filters.choices:
        spec = schema.fields.get(name)
        if spec is None:
            continue
        label = spec.choices.get(chosen)
        if spec.kind == "bool":
            cards = cards.filter(_bool_is(name, bool(chosen)))
        elif not label:
            cards = cards.none()
        elif spec.kind == "multiselect":
            cards = _holding(cards, name, label)
        else:
            cards = cards.filter(**{f"data__{name}": label})
    for index, (key, start, end) in enumerate(filters.dates):
        cards = _dated_within(cards, index, key, start, end)
    return cards


def cards_matching(cards: QuerySet[MirrorCard], query: str) -> QuerySet[MirrorCard]:
    """Cards with words beginning with every word of `query` (accents and case aside) in their
    name or any text, dropdown or multi-select field (the mirror's search text)."""
    for word in store.fold(query).split():
        cards = cards.filter(search_text__contains=" " + word)
    return cards


def _dated_within(
    cards: QuerySet[MirrorCard], index: int, key: str, start: date | None, end: date | None
) -> QuerySet[MirrorCard]:
    """Cards whose date column (in the console's time zone, whole days) or date field lies
    between two days, both included."""
    if key in MOMENT_COLUMNS:
        column = MOMENT_COLUMNS[key]
        zone = timezone.get_current_timezone()
        if start is not None:
            cards = cards.filter(**{f"{column}__gte": datetime.combine(start, time.min, zone)})
        if end is not None:
            after = datetime.combine(end + timedelta(days=1), time.min, zone)
            cards = cards.filter(**{f"{column}__lt": after})
        return cards
    # A date field as MiniCRM's detail holds it: "2026-12-03", or with a time after it.
    day = f"day_{index}"
    cards = cards.alias(**{day: Substr(KT(f"data__{key}"), 1, 10)})
    if start is not None:
        cards = cards.filter(**{f"{day}__gte": start.isoformat()})
    if end is not None:
        cards = cards.filter(**{f"{day}__lte": end.isoformat()})
    return cards


def _holding(cards: QuerySet[MirrorCard], name: str, label: str) -> QuerySet[MirrorCard]:
    """Cards whose multi-select has `label` among its values. The list is matched as JSON text
    (SQLite's json_extract keeps the stored escapes, PostgreSQL's ->> writes the characters),
    an element whole, quotes and all, so "Glutén" never matches "Gluténmentes"."""
    alias = _holding_alias(name)
    return cards.alias(**{alias: KT(f"data__{name}")}).filter(_holds(alias, label))


def _holding_counts(
    cards: QuerySet[MirrorCard], name: str, labels: dict[Any, str]
) -> dict[Any, int]:
    """How many of the cards hold each of a multi-select's labels, in one query."""
    if not labels:
        return {}
    alias = _holding_alias(name)
    keys = list(labels)
    counts = cards.alias(**{alias: KT(f"data__{name}")}).aggregate(
        **{
            f"holding_{index}": Count("id", filter=_holds(alias, labels[key]))
            for index, key in enumerate(keys)
        }
    )
    return {key: counts[f"holding_{index}"] or 0 for index, key in enumerate(keys)}


def _holding_alias(name: str) -> str:
    return "has_" + "".join(ch if ch.isalnum() else "_" for ch in name)


def _holds(alias: str, label: str) -> Q:
    return Q(**{f"{alias}__contains": json.dumps(label)}) | Q(
        **{f"{alias}__contains": json.dumps(label, ensure_ascii=False)}
    )


def _bool_is(name: str, wanted: bool) -> Q:
    """A yes/no field as MiniCRM's detail holds it (1/0, "1"/"0", true/false)."""
    yes: list[Any] = [True, 1, "1", "true", "True"]
    no: list[Any] = [False, 0, "0", "false", "False"]
    condition = Q()
    for value in yes if wanted else no:
        condition |= Q(**{f"data__{name}": value})
    return condition


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


# -- the changelist's filters with counts (as Django admin's sidebar) ---------------------------


@dataclass(frozen=True)
class FacetChoice:
    param: str  # the query parameter it sets
    value: str  # "" for "All"
    label: str
    count: int | None  # None for "All"
    chosen: bool


@dataclass(frozen=True)
class Facet:
    param: str
    title: str
    choices: list[FacetChoice]


@dataclass(frozen=True)
class DrillStep:
    label: str
    start: date
    end: date
    count: int


@dataclass(frozen=True)
class DrillDown:
    """Django admin's date hierarchy over a date column: years, a year's months, a month's
    days, with counts; `up` the steps back (All, the year)."""

    key: str
    title: str
    up: list[tuple[str, date | None, date | None]]
    steps: list[DrillStep]


@dataclass(frozen=True)
class Facets:
    facets: list[Facet]
    drill: DrillDown | None


def card_facets(
    *,
    category_id: int,
    filters: CardFilters,
    choice_params: list[tuple[str, str]],
    drill_title: str,
) -> Facets | None:
    """The changelist's filters as lists of choices, each with how many cards it would show
    among those the other filters leave; None while the mirror cannot answer.
    `choice_params`: (query parameter, title) of each dropdown and yes/no field's filter."""
    schema = card_schema(category_id=category_id)
    if _held_cards(category_id, filters, schema) is None:
        return None
    facets = []
    statuses = schema.fields["StatusId"].choices if "StatusId" in schema.fields else {}
    owners = schema.fields["UserId"].choices if "UserId" in schema.fields else {}
    for param, title, column, labels, chosen in (
        (
            "status",
            column_label(schema, "status", _("Status")),
            "status_id",
            statuses,
            filters.status_id,
        ),
        ("owner", column_label(schema, "owner", _("Owner")), "user_id", owners, filters.owner_id),
    ):
        without = (
            replace(filters, status_id=None)
            if param == "status"
            else replace(filters, owner_id=None)
        )
        others = _held_cards(category_id, without, schema)
        counts = dict(
            (others or MirrorCard.objects.none())
            .values(column)
            .annotate(n=Count("id"))
            .values_list(column, "n")
        )
        facets.append(_facet(param, title, labels, counts, chosen))
    for param, title in choice_params:
        name = param.removeprefix("f_")
        spec = schema.fields.get(name)
        if spec is None:
            continue
        rest = tuple((n, v) for n, v in filters.choices if n != name)
        others = _held_cards(category_id, replace(filters, choices=rest), schema)
        chosen = dict(filters.choices).get(name)
        grouped = (
            (others or MirrorCard.objects.none())
            .annotate(value=KeyTransform(name, "data"))
            .values("value")
            .annotate(n=Count("id"))
            .values_list("value", "n")
        )
        if spec.kind == "multiselect":
            base = others or MirrorCard.objects.none()
            counts = _holding_counts(base, name, spec.choices)
            facets.append(_facet(param, title, spec.choices, counts, chosen))
            continue
        if spec.kind == "bool":
            yes = sum(n for v, n in grouped if str(v).casefold() in ("1", "true"))
            no = sum(n for v, n in grouped if str(v).casefold() in ("0", "false"))
            labels_bool = {1: _("Yes"), 0: _("No")}
            wanted = None if chosen is None else int(bool(chosen))
            facets.append(_facet(param, title, labels_bool, {1: yes, 0: no}, wanted))
        else:
            by_label = {str(v): n for v, n in grouped}
            counts = {key: by_label.get(label, 0) for key, label in spec.choices.items()}
            facets.append(_facet(param, title, spec.choices, counts, chosen))
    return Facets(facets, _drill_down(category_id, filters, schema, drill_title))


def _facet(
    param: str, title: str, labels: dict[Any, str], counts: dict[Any, int], chosen: Any
) -> Facet:
    choices = [FacetChoice(param, "", _("All"), None, chosen is None)]
    choices += [
        FacetChoice(param, str(key), label, counts.get(key, 0), chosen == key)
        for key, label in labels.items()
    ]
    return Facet(param, title, choices)


def _drill_down(
    category_id: int, filters: CardFilters, schema: Schema, title: str
) -> DrillDown | None:
    """The date hierarchy of "updated": years, then the chosen year's months, then days."""
    current = next(((s, e) for key, s, e in filters.dates if key == "updated"), (None, None))
    others = tuple(d for d in filters.dates if d[0] != "updated")
    base = _held_cards(category_id, replace(filters, dates=others), schema)
    if base is None:
        return None
    start, end = current
    up: list[tuple[str, date | None, date | None]] = []
    trunc: type[TruncYear] | type[TruncMonth] | type[TruncDay]
    scope: tuple[date | None, date | None]
    if start and end and start.day == 1 and start.month == 1 and end == date(start.year, 12, 31):
        unit, trunc, scope = "month", TruncMonth, (start, end)
        up = [(_("All dates"), None, None)]
    elif start and end and start.day == 1 and end == _month_end(start):
        unit, trunc, scope = "day", TruncDay, (start, end)
        up = [(_("All dates"), None, None), (str(start.year), *_year(start.year))]
    elif start or end:
        return DrillDown("updated", title, [(_("All dates"), None, None)], [])
    else:
        unit, trunc, scope = "year", TruncYear, (None, None)
    cards = _dated_within(base, 99, "updated", *scope)
    zone = timezone.get_current_timezone()
    rows = (
        cards.exclude(updated_at__isnull=True)
        .annotate(step=trunc("updated_at", tzinfo=zone))
        .values("step")
        .annotate(n=Count("id"))
        .order_by("step")
        .values_list("step", "n")
    )
    steps = []
    for moment, count in rows:
        day = moment.date() if isinstance(moment, datetime) else moment
        if unit == "year":
            steps.append(DrillStep(str(day.year), *_year(day.year), count))
        elif unit == "month":
            steps.append(
                DrillStep(
                    formats.date_format(day, "YEAR_MONTH_FORMAT"), day, _month_end(day), count
                )
            )
        else:
            steps.append(DrillStep(formats.date_format(day, "MONTH_DAY_FORMAT"), day, day, count))
    return DrillDown("updated", title, up, steps)


def _year(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


def _month_end(day: date) -> date:
    following = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return following - timedelta(days=1)


# -- a person's saved filters, and every card a filter matches -----------------------------------

ALL_MATCHING_LIMIT = 10_000  # the most cards one bulk change takes


def saved_filters(*, user: Any, category_id: int) -> list[SavedFilter]:
    if not getattr(user, "is_authenticated", False):
        return []
    return list(SavedFilter.objects.filter(user=user, category_id=category_id))


def card_ids_matching(*, category_id: int, filters: CardFilters) -> list[int] | None:
    """The ids of every card the changelist's filters match, in its order (at most
    ALL_MATCHING_LIMIT); None while the mirror cannot list the module."""
    schema = card_schema(category_id=category_id)
    held = _held_cards(category_id, filters, schema) if mirror_here() else None
    if held is None:
        return None
    ordered = _sorted(held, filters.order, schema)
    return list(ordered.values_list("id", flat=True)[:ALL_MATCHING_LIMIT])


# -- a bulk change, before it is queued ---------------------------------------------------------

PREVIEW_NAMES = 20  # cards named on the preview


@dataclass(frozen=True)
class BulkPreview:
    """What a bulk change will do: how many cards, the field and its new value, and the
    values the cards have now (from the mirror; those it does not hold are counted apart)."""

    count: int
    field: str  # the field's label
    new: str  # the new value as people read it
    now: list[tuple[str, int]]  # (a value the cards have now, how many), most first
    unchanged: int  # cards that already have the new value
    unknown: int  # cards the mirror does not hold
    names: list[str]  # the first few cards' names


def bulk_preview(*, category_id: int, card_ids: list[int], changes: dict[str, Any]) -> BulkPreview:
    """A bulk change's preview; its value is checked against the schema first (raising
    SchemaValidationError, as queuing it would)."""
    schema = card_schema(category_id=category_id)
    cleaned = schema.validate(changes) or changes  # SchemaValidationError as the queue would
    name, value = next(iter(cleaned.items()))
    spec = schema.fields.get(name)
    new = label_of(spec, value) if spec is not None and spec.choices else str(value)
    column = {"StatusId": "status_id", "UserId": "user_id"}.get(name)
    held = MirrorCard.objects.filter(pk__in=card_ids, deleted=False)
    found: dict[str, int] = {}
    total = 0
    for card in held.only("id", "name", "status_id", "user_id", "data").iterator(chunk_size=1000):
        total += 1
        current = getattr(card, column) if column else (card.data or {}).get(name)
        shown = label_of(spec, current) if spec is not None and spec.choices else current
        text = "" if shown in (None, "") else str(shown)
        found[text] = found.get(text, 0) + 1
    names = list(held.order_by("name", "id").values_list("name", flat=True)[:PREVIEW_NAMES])
    unchanged = found.pop(new, 0)
    return BulkPreview(
        count=len(card_ids),
        field=field_label(spec) if spec is not None else name,
        new=new,
        now=sorted(found.items(), key=lambda item: (-item[1], item[0])),
        unchanged=unchanged,
        unknown=len(card_ids) - total,
        names=[n or "—" for n in names],
    )
