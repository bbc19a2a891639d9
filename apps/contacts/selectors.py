"""Reads of contacts: search by keyword, email or phone; a company or person with its people
and its cards across modules."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.utils.translation import gettext as _

from apps.core.fieldviews import FieldView, field_views, system_views
from apps.core.minicrm import minicrm_client
from apps.core.parallel import PageDeadline, gather, too_slow
from apps.core.readcache import cached_json
from apps.core.selectors import Module, modules_all
from apps.writes.models import Write
from apps.writes.selectors import pending_values, writes_for_object
from minicrm import NotFound
from minicrm.resources.schema import Schema
from minicrm.types import Contact, ContactSummary, Page, ProjectSummary, Ref

PHONE = re.compile(r"^[\d\s()+\-/.]+$")
# MiniCRM searches whole words and refuses a Query without any ("Invalid value ''"): what is
# not a letter or digit only separates words.
WORD = re.compile(r"\w+")
# Fields a contact page shows in its header rather than in the field list.
HEADER_FIELDS = {"Id", "Type", "Name", "FirstName", "LastName", "BusinessId", "ParentId"}


def search_terms(q: str) -> dict[str, str]:
    """What one search box means to MiniCRM: an email, a phone number or keywords (its words,
    punctuation left out); empty when there is nothing MiniCRM could search for."""
    text = q.strip()
    if "@" in text and " " not in text:
        return {"email": text}
    digits = re.sub(r"\D", "", text)
    if PHONE.match(text) and len(digits) >= 4:
        return {"query": digits}
    words = WORD.findall(text)
    return {"query": " ".join(words)} if words else {}


def contact_search(*, q: str, page: int = 0) -> Page[ContactSummary]:
    """MiniCRM's matches (BadRequest when MiniCRM refuses the search); nothing for a query
    without words."""
    terms = search_terms(q)
    if not terms:
        return Page(items=[], count=0, page=0)
    return minicrm_client().contacts.search(
        email=terms.get("email"), query=terms.get("query"), page=page
    )


def contact_get(*, contact_id: int) -> Contact:
    """A contact as MiniCRM has it now (cached for a short while)."""
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
    writes: list[Write] = field(default_factory=list)
    pending: dict[str, Any] = field(default_factory=dict)
    late: list[str] = field(default_factory=list)  # what MiniCRM did not answer in time

    @property
    def is_person(self) -> bool:
        return self.contact.is_person


def contact_detail(*, contact_id: int, deadline: PageDeadline | None = None) -> ContactDetail:
    """A contact with its page's reads (schema, company, persons, cards in every module) sent
    side by side; what MiniCRM did not answer within the page's bound is left out and named
    in `late`. The contact itself is waited for up to the bound (then RequestTimeout)."""
    deadline = deadline or PageDeadline()
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
    names = {f"cards:{module.id}": module.name for module in modules}
    for key in rest.late:
        if key == "business":
            late.append(_("the company"))
        elif key == "people":
            late.append(_("the company's persons"))
        else:
            late.append(_("cards in %(module)s") % {"module": names.get(key, key)})
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
        writes=list(writes_for_object(target_type="contact", target_id=contact_id)),
        pending=pending,
        late=late,
    )


def company_people(*, company_id: int) -> list[ContactSummary]:
    rows = cached_json(
        "contact-people",
        company_id,
        lambda: [
            person.__dict__
            for person in minicrm_client().contacts.search_all(main_contact_id=company_id)
            if person.type == "Person"
        ],
    )
    return [ContactSummary(**row) for row in rows]


def module_cards(*, contact: Contact, module: Module) -> ModuleCards | None:
    """A company's cards (MainContactId), or a person's (ContactId), in one module; None when
    it has none there."""

    def fetch() -> dict[str, Any]:
        client = minicrm_client()
        if contact.is_person:
            page = client.projects.search(category_id=module.id, ContactId=contact.id)
        else:
            page = client.projects.search(category_id=module.id, main_contact_id=contact.id)
        return {
            "count": page.count,
            "cards": [
                card.__dict__ | {"status": card.status.__dict__, "user": card.user.__dict__}
                for card in page.items
            ],
        }

    group = cached_json("contact-cards", f"{contact.id}:{module.id}", fetch)
    if not group["count"]:
        return None
    return ModuleCards(module, [_summary(row) for row in group["cards"]], group["count"])


def _summary(row: dict[str, Any]) -> ProjectSummary:
    return ProjectSummary(**{**row, "status": Ref(**row["status"]), "user": Ref(**row["user"])})
