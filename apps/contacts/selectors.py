"""Reads of contacts: search by keyword, email or phone; a company or person with its people
and its cards across modules.

With the mirror on (MIRROR_ENABLED) they read the console's own copy of MiniCRM and ask
MiniCRM only for what the copy does not hold yet: a contact never read in full, a contact
schema never stored, the persons of a company or a contact's cards in a module before the
first list pass of the contacts or of that module has finished. What MiniCRM answers is stored
in the mirror (in the request's thread), so the next page has it. Without the mirror every
read goes to MiniCRM, as before (briefly cached in Redis).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.export import Export, chunked_rows
from apps.core.fieldviews import FieldView, field_views, system_views
from apps.core.minicrm import minicrm_client
from apps.core.paging import last_page, page_within
from apps.core.parallel import Gathered, PageDeadline, gather, too_slow
from apps.core.readcache import cached_json
from apps.core.selectors import Module, modules_all
from apps.mirror import store
from apps.mirror.models import Card as MirrorCard
from apps.mirror.models import Contact as MirrorContact
from apps.mirror.models import Schema as MirrorSchema
from apps.mirror.models import SyncState
from apps.mirror.selectors import Freshness, contact_row, mirror_here, mirror_on
from apps.mirror.services import CONTACTS, contact_fetch, module_key
from apps.writes.selectors import (
    HistoryEntry,
    WriteRow,
    object_history,
    object_writes,
    pending_values,
)
from minicrm import NotFound
from minicrm.resources.schema import Schema
from minicrm.types import (
    PAGE_SIZE,
    Contact,
    ContactSummary,
    Page,
    ProjectSummary,
    Ref,
    to_text,
)

PHONE = re.compile(r"^[\d\s()+\-/.]+$")
# MiniCRM searches whole words and refuses a Query without any ("Invalid value ''"): what is
# not a letter or digit only separates words.
WORD = re.compile(r"\w+")
# Fields a contact page shows in its header rather than in the field list.
HEADER_FIELDS = {"Id", "Type", "Name", "FirstName", "LastName", "BusinessId", "ParentId"}
# A contact page lists up to this many cards of a module (MiniCRM's page of a search).
CARDS_SHOWN = PAGE_SIZE


def _phone_digits(text: str) -> str | None:
    """The digits of what looks like a phone number (4 or more of them), else None."""
    digits = re.sub(r"\D", "", text)
    return digits if PHONE.match(text) and len(digits) >= 4 else None


def search_terms(q: str) -> dict[str, str]:
    """What one search box means to MiniCRM: an email, a phone number or keywords (its words,
    punctuation left out); empty when there is nothing MiniCRM could search for."""
    text = q.strip()
    if "@" in text and " " not in text:
        return {"email": text}
    digits = _phone_digits(text)
    if digits:
        return {"query": digits}
    words = WORD.findall(text)
    return {"query": " ".join(words)} if words else {}


def _filled(key: str) -> bool:
    return SyncState.objects.filter(key=key, filled_at__isnull=False).exists()


def contacts_listed() -> bool:
    """The mirror holds every contact (the first list pass of the contacts has finished)."""
    return _filled(CONTACTS)


def modules_listed(modules: list[Module]) -> set[int]:
    """The modules whose every card the mirror holds (their first list pass has finished)."""
    keys = {module_key(module.id): module.id for module in modules}
    filled = SyncState.objects.filter(key__in=keys, filled_at__isnull=False)
    return {keys[key] for key in filled.values_list("key", flat=True)}


# -- search -----------------------------------------------------------------------------------


def contact_search(*, q: str, page: int = 0) -> Page[ContactSummary]:
    """Contacts matching a search box: from the mirror once it holds every contact, else
    MiniCRM's matches (BadRequest when MiniCRM refuses the search), stored in the mirror;
    nothing for a query without words. A page past the end is the last page."""
    terms = search_terms(q)
    if not terms:
        return Page(items=[], count=0, page=0)
    if mirror_here() and contacts_listed():
        return _mirror_search(q, terms, page)
    fetched_at = timezone.now()
    search = partial(
        minicrm_client().contacts.search, email=terms.get("email"), query=terms.get("query")
    )
    results = search(page=page)
    if page > last_page(results.count):  # past the end: MiniCRM answers an empty page
        results = search(page=last_page(results.count))
    if mirror_here():
        contact_rows_store(results.items, fetched_at=fetched_at)
    return results


def _mirror_matches(q: str, terms: dict[str, str]) -> QuerySet[MirrorContact]:
    """The mirror's contacts a search box finds: an email exactly, a phone number by its
    digits, words each by a word's beginning (accents and case aside); by name."""
    rows = _contacts()
    if "email" in terms:
        rows = rows.filter(email=terms["email"].strip().casefold())
    elif (digits := _phone_digits(q.strip())) is not None:
        rows = rows.filter(phone_digits__contains=digits)
    elif terms:
        words = store.fold(terms["query"]).split()
        if not words:  # letters that fold to nothing: no word to look for
            return rows.none()
        for word in words:
            rows = rows.filter(search_text__contains=" " + word)
    return rows.order_by("name", "id")


def _mirror_search(q: str, terms: dict[str, str], page: int) -> Page[ContactSummary]:
    """The search box's matches from the mirror, 100 a page."""
    rows = _mirror_matches(q, terms)
    count = rows.count()
    page = page_within(page, count)
    start = page * PAGE_SIZE
    return Page(
        items=[_contact_summary(row) for row in rows[start : start + PAGE_SIZE]],
        count=count,
        page=page,
    )


def company_names(contacts: list[ContactSummary]) -> dict[int, str]:
    """The names of the contacts' companies the mirror holds (one query)."""
    ids = {contact.business_id for contact in contacts if contact.business_id}
    if not ids:
        return {}
    return dict(MirrorContact.objects.filter(pk__in=ids).values_list("pk", "name"))


def contact_type_label(contact_type: str) -> str:
    return str(_("Person")) if contact_type == "Person" else str(_("Company"))


def contacts_exportable() -> bool:
    """The mirror holds every contact, so a search exports from it without asking MiniCRM."""
    return mirror_here() and contacts_listed()


def contact_export(*, q: str) -> Export | None:
    """Every contact the search box finds (all its pages; every contact for an empty box)
    with the page's columns, the company by its name; None while the mirror does not hold
    every contact (MiniCRM would be asked for every page of the search)."""
    if not contacts_exportable():
        return None
    terms = search_terms(q)
    matches = _mirror_matches(q, terms) if q.strip() else _contacts().order_by("name", "id")
    if q.strip() and not terms:
        matches = matches.none()
    header = [_("Id"), _("Name"), _("Type"), _("Email"), _("Phone"), _("Company")]

    def chunk_rows(chunk: list[ContactSummary]) -> Iterator[list[Any]]:
        names = company_names(chunk)
        for contact in chunk:
            company = names.get(contact.business_id or 0, "") if contact.business_id else ""
            yield [
                contact.id,
                contact.name,
                contact_type_label(contact.type),
                contact.email,
                contact.phone,
                company or (f"#{contact.business_id}" if contact.business_id else ""),
            ]

    rows = chunked_rows(matches, lambda chunk: chunk_rows([_contact_summary(r) for r in chunk]))
    return Export([str(_("contacts")), q.strip()], header, rows)


def _contacts() -> QuerySet[MirrorContact]:
    """The mirror's contacts that exist (not deleted, not a placeholder the sync fills in)."""
    return MirrorContact.objects.filter(deleted=False).exclude(type="")


def _contact_summary(row: MirrorContact) -> ContactSummary:
    data = row.data or {}
    return ContactSummary(
        id=row.id,
        name=row.name,
        type=row.type,
        email=to_text(data.get("Email")),
        phone=to_text(data.get("Phone")),
        business_id=row.business_id,
        url=to_text(data.get("Url")),
    )


def contact_rows_store(rows: list[ContactSummary], *, fetched_at: datetime) -> None:
    with transaction.atomic():
        for row in rows:
            store.contact_store_row(row, fetched_at=fetched_at)


def contact_search_freshness(*, results: Page[ContactSummary]) -> Freshness:
    """How fresh a search's results are: as of the contacts' last poll or list pass when the
    mirror answered (refreshing while one of them is being read again), just now when MiniCRM
    did, unknown without the mirror."""
    if not mirror_on():
        return Freshness(None)
    if not contacts_listed():
        return Freshness(timezone.now())
    states = SyncState.objects.filter(key__in=(CONTACTS, "poll:Contact"))
    moments = [
        moment
        for state in states
        for moment in (state.rescanned_at, state.filled_at, state.polled_at)
        if moment is not None
    ]
    shown = [row.id for row in results.items]
    refreshing = _contacts().filter(pk__in=shown, stale_since__isnull=False).exists()
    return Freshness(max(moments) if moments else None, refreshing=refreshing)


# -- one contact ------------------------------------------------------------------------------


def contact_get(*, contact_id: int) -> Contact:
    """A contact: the mirror's full copy, else MiniCRM's (stored in the mirror); NotFound when
    MiniCRM has no such contact."""
    if mirror_here():
        held = _held_detail(contact_id)
        if held is not None:
            return Contact.parse(held.data)
        return _contact_read(contact_id)
    return _contact_live(contact_id)


def _held_detail(contact_id: int) -> MirrorContact | None:
    row = contact_row(contact_id=contact_id)
    return row if row is not None and row.has_detail and not row.deleted else None


def _contact_read(contact_id: int) -> Contact:
    """MiniCRM's contact, stored in the mirror."""
    row = contact_fetch(contact_id=contact_id, client=minicrm_client())
    if row is None:
        raise NotFound(f"Contact {contact_id} not found.")
    return Contact.parse(row.data)


def _contact_live(contact_id: int) -> Contact:
    """A contact as MiniCRM has it now (cached for a short while); no database work."""
    data = cached_json(
        "contact", contact_id, lambda: minicrm_client().contacts.get(contact_id).fields
    )
    return Contact.parse(data)


def contact_or_none(*, contact_id: int | None) -> Contact | None:
    if not contact_id:
        return None
    try:
        return contact_get(contact_id=contact_id)
    except NotFound:
        return None


@dataclass(frozen=True)
class ModuleCards:
    module: Module
    cards: list[ProjectSummary]
    count: int


@dataclass
class ContactDetail:
    contact: Contact
    schema: Schema
    fields: list[FieldView]
    record: list[FieldView]
    business: Contact | None  # a person's company
    people: list[ContactSummary]  # a company's persons
    cards: list[ModuleCards]  # the company's (or person's) cards, module by module
    writes: list[WriteRow] = field(default_factory=list)
    pending: dict[str, Any] = field(default_factory=dict)
    late: list[str] = field(default_factory=list)  # what MiniCRM did not answer in time
    row: MirrorContact | None = None  # the mirror's copy the page shows (None without one)
    timeline: list[HistoryEntry] = field(default_factory=list)  # the History, newest first

    @property
    def is_person(self) -> bool:
        return self.contact.is_person


def contact_detail(*, contact_id: int, deadline: PageDeadline | None = None) -> ContactDetail:
    """A contact with its page's reads (schema, company, persons, cards in every module).

    What the mirror holds is read from it; the rest is asked of MiniCRM side by side, and what
    MiniCRM did not answer within the page's bound is left out and named in `late`. The
    contact itself is waited for up to the bound (then RequestTimeout)."""
    deadline = deadline or PageDeadline()
    if not mirror_on():
        return _contact_detail_live(contact_id, deadline)
    modules = modules_all()
    contact = _page_contact(contact_id, deadline)
    entity = _entity(contact)
    schema_row = MirrorSchema.objects.filter(entity=entity).first()
    business: Contact | None = None
    people: list[ContactSummary] | None = None
    cards: dict[int, ModuleCards | None] = {}
    calls: dict[str, Callable[[], Any]] = {}
    if schema_row is None:
        calls["schema"] = partial(_schema_data, entity)
    if contact.is_person:
        business_row = contact_row(contact_id=contact.business_id) if contact.business_id else None
        if business_row is not None and not business_row.deleted:
            business = Contact.parse(business_row.data)
        elif contact.business_id:
            calls["business"] = partial(_contact_data, contact.business_id)
    elif contacts_listed():
        people = _people_held(contact.id)
    else:
        calls["people"] = partial(company_people_live, contact.id)
    listed = modules_listed(modules)
    for module in modules:
        if module.id in listed:
            cards[module.id] = _module_cards_held(contact, module)
        else:
            calls[f"cards:{module.id}"] = partial(module_cards_live, contact, module)
    fetched_at = timezone.now()
    rest = gather(calls, deadline=deadline) if calls else Gathered()
    if "schema" in rest.late:
        raise too_slow(deadline, "the contact's fields")
    if "schema" in rest.results:
        store.contact_schema_store(
            entity=entity, data=rest.results["schema"], fetched_at=fetched_at
        )
        schema = Schema.parse(entity, rest.results["schema"])
    else:
        assert schema_row is not None
        schema = Schema.parse(entity, schema_row.data)
    _arrived_store(rest, contact=contact, modules=modules, fetched_at=fetched_at)
    if "business" in rest.results:
        business = Contact.parse(rest.results["business"]) if rest.results["business"] else None
    if "people" in rest.results:
        people = rest.results["people"]
    for module in modules:
        if (arrived := rest.results.get(f"cards:{module.id}")) is not None:
            cards[module.id] = _module_group(module, *arrived)
    pending = pending_values(target_type="contact", target_id=contact_id)
    return ContactDetail(
        contact=contact,
        schema=schema,
        fields=field_views(schema, contact.fields, pending, skip=HEADER_FIELDS),
        record=system_views(schema, contact.fields),
        business=business,
        people=people or [],
        cards=[group for module in modules if (group := cards.get(module.id)) is not None],
        writes=object_writes(target_type="contact", target_id=contact_id),
        timeline=object_history(
            target_type="contact", target_id=contact_id, schema=schema, extra=[]
        ),
        pending=pending,
        late=late_names(rest.late, modules),
        row=contact_row(contact_id=contact_id),
    )


def _page_contact(contact_id: int, deadline: PageDeadline) -> Contact:
    """The mirror's full copy of the contact, else MiniCRM's, waited for up to the page's
    bound and stored."""
    held = _held_detail(contact_id)
    if held is not None:
        return Contact.parse(held.data)
    fetched_at = timezone.now()
    first = gather({"contact": partial(_contact_data, contact_id)}, deadline=deadline)
    if first.late:
        raise too_slow(deadline, "the contact")
    data = first.results["contact"]
    if data is None:
        store.contact_store_deleted(contact_id=contact_id, at=fetched_at)
        raise NotFound(f"Contact {contact_id} not found.")
    store.contact_store_detail(data, fetched_at=fetched_at)
    return Contact.parse(data)


def _entity(contact: Contact) -> str:
    return "Business" if contact.type == "Business" else "Person"


def late_names(keys: list[str], modules: list[Module]) -> list[str]:
    names = {f"cards:{module.id}": module.name for module in modules}
    late = []
    for key in keys:
        if key == "business":
            late.append(_("the company"))
        elif key == "people":
            late.append(_("the company's persons"))
        else:
            late.append(_("cards in %(module)s") % {"module": names.get(key, key)})
    return late


def _arrived_store(
    rest: Gathered, *, contact: Contact, modules: list[Module], fetched_at: datetime
) -> None:
    """Store in the mirror what MiniCRM answered for a contact page (this request's thread)."""
    with transaction.atomic():
        business = rest.results.get("business")
        if business:
            store.contact_store_detail(business, fetched_at=fetched_at)
        elif "business" in rest.results and contact.business_id:
            store.contact_store_deleted(contact_id=contact.business_id, at=fetched_at)
        contact_rows_store(rest.results.get("people") or [], fetched_at=fetched_at)
        for module in modules:
            arrived = rest.results.get(f"cards:{module.id}")
            if arrived is not None:
                card_rows_store(module, arrived[1], fetched_at=fetched_at)


def card_rows_store(module: Module, rows: list[ProjectSummary], *, fetched_at: datetime) -> None:
    schema = store.module_field_schema(module.id)
    with transaction.atomic():
        for row in rows:
            store.card_store_row(row, category_id=module.id, fetched_at=fetched_at, schema=schema)


# What runs inside `gather` (MiniCRM only, no database).


def _contact_data(contact_id: int) -> dict[str, Any] | None:
    """MiniCRM's fields of a contact; None when it has no such contact."""
    try:
        return dict(minicrm_client().contacts.get(contact_id).fields)
    except NotFound:
        return None


def _schema_data(entity: str) -> dict[str, Any]:
    data = minicrm_client().request("GET", f"/Api/R3/Schema/{entity}")
    return data if isinstance(data, dict) else {}


def company_people_live(company_id: int) -> list[ContactSummary]:
    return [
        person
        for person in minicrm_client().contacts.search_all(main_contact_id=company_id)
        if person.type == "Person"
    ]


def module_cards_live(contact: Contact, module: Module) -> tuple[int, list[ProjectSummary]]:
    """A company's cards (MainContactId), or a person's (ContactId), in one module: MiniCRM's
    count and its first page."""
    client = minicrm_client()
    if contact.is_person:
        page = client.projects.search(category_id=module.id, ContactId=contact.id)
    else:
        page = client.projects.search(category_id=module.id, main_contact_id=contact.id)
    return page.count, list(page.items)


# What the mirror holds.


def _people_held(company_id: int) -> list[ContactSummary]:
    rows = _contacts().filter(business_id=company_id, type="Person").order_by("name", "id")
    return [_contact_summary(row) for row in rows]


def _cards_of(contact: Contact) -> QuerySet[MirrorCard]:
    """A company's cards (as its main contact or its contact), or a person's, in the mirror."""
    cards = MirrorCard.objects.filter(deleted=False)
    if contact.is_person:
        return cards.filter(contact_id=contact.id)
    return cards.filter(Q(business_id=contact.id) | Q(contact_id=contact.id))


def _module_cards_held(contact: Contact, module: Module) -> ModuleCards | None:
    cards = _cards_of(contact).filter(category_id=module.id).order_by("id")
    count = cards.count()
    if not count:
        return None
    return ModuleCards(module, [_card_summary(card) for card in cards[:CARDS_SHOWN]], count)


def _card_summary(card: MirrorCard) -> ProjectSummary:
    return ProjectSummary(
        id=card.id,
        name=card.name,
        contact_id=card.contact_id,
        business_id=card.business_id,
        status=Ref(id=card.status_id),
        user=Ref(id=card.user_id),
        deleted=card.deleted,
        url=to_text((card.data or {}).get("Url")),
    )


def _module_group(module: Module, count: int, rows: list[ProjectSummary]) -> ModuleCards | None:
    return ModuleCards(module, rows, count) if count else None


def company_people(*, company_id: int) -> list[ContactSummary]:
    """A company's persons: from the mirror once it holds every contact, else MiniCRM's
    (stored in the mirror)."""
    if not mirror_here():
        rows = cached_json(
            "contact-people",
            company_id,
            lambda: [person.__dict__ for person in company_people_live(company_id)],
        )
        return [ContactSummary(**row) for row in rows]
    if contacts_listed():
        return _people_held(company_id)
    fetched_at = timezone.now()
    people = company_people_live(company_id)
    contact_rows_store(people, fetched_at=fetched_at)
    return people


def module_cards(*, contact: Contact, module: Module) -> ModuleCards | None:
    """A company's cards (MainContactId), or a person's (ContactId), in one module; None when
    it has none there. From the mirror once it holds the module's every card, else MiniCRM's
    (stored in the mirror)."""
    if not mirror_here():

        def fetch() -> dict[str, Any]:
            count, rows = module_cards_live(contact, module)
            return {
                "count": count,
                "cards": [
                    card.__dict__ | {"status": card.status.__dict__, "user": card.user.__dict__}
                    for card in rows
                ],
            }

        group = cached_json("contact-cards", f"{contact.id}:{module.id}", fetch)
        return _module_group(module, group["count"], [_summary(row) for row in group["cards"]])
    if module.id in modules_listed([module]):
        return _module_cards_held(contact, module)
    fetched_at = timezone.now()
    count, rows = module_cards_live(contact, module)
    card_rows_store(module, rows, fetched_at=fetched_at)
    return _module_group(module, count, rows)


def _summary(row: dict[str, Any]) -> ProjectSummary:
    return ProjectSummary(**{**row, "status": Ref(**row["status"]), "user": Ref(**row["user"])})


# -- without the mirror -----------------------------------------------------------------------


def _contact_detail_live(contact_id: int, deadline: PageDeadline) -> ContactDetail:
    """Every read of a contact page asked of MiniCRM (briefly cached), side by side."""
    first = gather(
        {"contact": lambda: contact_get(contact_id=contact_id), "modules": modules_all},
        deadline=deadline,
    )
    if "contact" in first.late:
        raise too_slow(deadline, "the contact")
    contact: Contact = first.results["contact"]
    modules: list[Module] = first.results.get("modules", [])
    calls: dict[str, Callable[[], Any]] = {
        "schema": lambda: minicrm_client().schemas.contact(contact.type)
    }
    if contact.is_person:
        calls["business"] = lambda: contact_or_none(contact_id=contact.business_id)
    else:
        calls["people"] = lambda: company_people(company_id=contact_id)
    for module in modules:
        calls[f"cards:{module.id}"] = partial(module_cards, contact=contact, module=module)
    rest = gather(calls, deadline=deadline)
    if "schema" in rest.late:
        raise too_slow(deadline, "the contact's fields")
    schema = rest.results["schema"]
    pending = pending_values(target_type="contact", target_id=contact_id)
    late = [_("the list of modules")] if "modules" in first.late else []
    late += late_names(rest.late, modules)
    return ContactDetail(
        contact=contact,
        schema=schema,
        fields=field_views(schema, contact.fields, pending, skip=HEADER_FIELDS),
        record=system_views(schema, contact.fields),
        business=rest.results.get("business"),
        people=rest.results.get("people", []),
        cards=[
            group
            for module in modules
            if (group := rest.results.get(f"cards:{module.id}")) is not None
        ],
        writes=object_writes(target_type="contact", target_id=contact_id),
        timeline=object_history(
            target_type="contact", target_id=contact_id, schema=schema, extra=[]
        ),
        pending=pending,
        late=late,
    )
