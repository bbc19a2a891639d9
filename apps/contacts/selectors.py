"""Reads of contacts: search by keyword, email or phone; a company or person with its people
and its cards across modules."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from apps.core.fieldviews import FieldView, field_views, system_views
from apps.core.minicrm import minicrm_client
from apps.core.readcache import cached_json
from apps.core.selectors import Module, module_list
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

    @property
    def is_person(self) -> bool:
        return self.contact.is_person


def contact_detail(*, contact_id: int) -> ContactDetail:
    contact = contact_get(contact_id=contact_id)
    schema = minicrm_client().schemas.contact(contact.type)
    pending = pending_values(target_type="contact", target_id=contact_id)
    business = contact_or_none(contact_id=contact.business_id) if contact.is_person else None
    return ContactDetail(
        contact=contact,
        schema=schema,
        fields=field_views(schema, contact.fields, pending, skip=HEADER_FIELDS),
        record=system_views(schema, contact.fields),
        business=business,
        people=[] if contact.is_person else company_people(company_id=contact_id),
        cards=contact_cards(contact=contact),
        writes=list(writes_for_object(target_type="contact", target_id=contact_id)),
        pending=pending,
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


def contact_cards(*, contact: Contact) -> list[ModuleCards]:
    """A company's cards (MainContactId), or a person's (ContactId), grouped by module."""

    def fetch() -> list[dict[str, Any]]:
        client = minicrm_client()
        groups = []
        for module in module_list():
            if contact.is_person:
                page = client.projects.search(category_id=module.id, ContactId=contact.id)
            else:
                page = client.projects.search(category_id=module.id, main_contact_id=contact.id)
            if page.count:
                groups.append(
                    {
                        "module": module.id,
                        "count": page.count,
                        "cards": [
                            card.__dict__
                            | {"status": card.status.__dict__, "user": card.user.__dict__}
                            for card in page.items
                        ],
                    }
                )
        return groups

    modules = {module.id: module for module in module_list()}
    groups = cached_json("contact-cards", contact.id, fetch)
    return [
        ModuleCards(
            modules[group["module"]], [_summary(row) for row in group["cards"]], group["count"]
        )
        for group in groups
        if group["module"] in modules
    ]


def _summary(row: dict[str, Any]) -> ProjectSummary:
    return ProjectSummary(**{**row, "status": Ref(**row["status"]), "user": Ref(**row["user"])})
