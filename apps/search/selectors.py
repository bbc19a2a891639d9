"""The header's search box: cards of every module and all contacts, grouped, from the mirror.

Cards are found by the words of their name and text fields (each word by its beginning,
accents and case aside), contacts as the contact search finds them (an email exactly, a phone
number by its digits, words). Cards are searched once the mirror holds a module's every card;
until then only the contacts are, and the page says which modules were left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count

from apps.cards.selectors import module_listed
from apps.contacts.selectors import contact_search, contacts_listed, search_terms
from apps.core.selectors import Module, modules_all
from apps.mirror import store
from apps.mirror.models import Card as MirrorCard
from apps.mirror.models import Contact as MirrorContact
from apps.mirror.selectors import mirror_here

SHOWN = 5  # hits shown of each group (the group links to all of them)


@dataclass(frozen=True)
class Hit:
    id: int
    name: str
    detail: str = ""  # a card's status, a contact's email


@dataclass(frozen=True)
class ModuleHits:
    module: Module
    hits: list[Hit]
    count: int


@dataclass(frozen=True)
class Everywhere:
    q: str
    modules: list[ModuleHits] = field(default_factory=list)
    companies: list[Hit] = field(default_factory=list)
    persons: list[Hit] = field(default_factory=list)
    contact_count: int = 0
    not_searched: list[Module] = field(default_factory=list)  # modules the mirror lacks yet

    @property
    def empty(self) -> bool:
        return not (self.modules or self.companies or self.persons)


def search_everywhere(*, q: str, shown: int = SHOWN) -> Everywhere:
    """What the header's box finds for `q`; nothing for a query without letters or digits.
    MiniCRM's BadRequest is raised when the contacts are still searched there and it refuses."""
    terms = search_terms(q)
    if not terms:
        return Everywhere(q)
    contacts = contact_search(q=q)
    companies = [c for c in contacts.items if c.type == "Business"]
    persons = [c for c in contacts.items if c.type != "Business"]
    modules, not_searched = _card_hits(terms.get("query", ""), shown)
    return Everywhere(
        q=q,
        modules=modules,
        companies=[Hit(c.id, c.name, c.email) for c in companies[:shown]],
        persons=[Hit(c.id, c.name, c.email) for c in persons[:shown]],
        contact_count=contacts.count,
        not_searched=not_searched,
    )


def _card_hits(query: str, shown: int) -> tuple[list[ModuleHits], list[Module]]:
    """Each module's cards whose words begin with every word of the query, the most recently
    changed first; and the modules the mirror cannot search yet."""
    words = store.fold(query).split() if query else []
    if not words or not mirror_here():
        return [], []
    modules = modules_all()
    searched = [m for m in modules if module_listed(category_id=m.id)]
    cards = MirrorCard.objects.filter(deleted=False, category_id__in=[m.id for m in searched])
    for word in words:
        cards = cards.filter(search_text__contains=" " + word)
    counts = dict(
        cards.values("category_id").annotate(n=Count("id")).values_list("category_id", "n")
    )
    groups = []
    for module in searched:
        if not counts.get(module.id):
            continue
        first = cards.filter(category_id=module.id).order_by("-updated_at", "-id")[:shown]
        hits = [Hit(card.id, card.name or f"#{card.id}") for card in first]
        groups.append(ModuleHits(module, hits, counts[module.id]))
    return groups, [m for m in modules if m not in searched]


PICKED = 10  # choices a contact picker offers


def contact_choices(*, q: str, kind: str = "") -> list[Hit]:
    """What a contact picker (a form's customer, contact or company field) offers for what was
    typed: the mirror's matches (a company, a person or either), by name; nothing until the
    mirror holds every contact, so typing never spends MiniCRM's budget (the id is typed then).
    """
    if not q.strip() or not (mirror_here() and contacts_listed()):
        return []
    rows = MirrorContact.objects.filter(deleted=False).exclude(type="")
    if kind in ("Business", "Person"):
        rows = rows.filter(type=kind)
    text = q.strip()
    if text.isdigit():
        rows = rows.filter(pk=int(text)) if len(text) <= 18 else rows.none()
    else:
        words = store.fold(text).split()
        if not words:  # nothing a name could begin with
            return []
        for word in words:
            rows = rows.filter(search_text__contains=" " + word)
    found = rows.order_by("name", "id").values_list("id", "name", "email")[:PICKED]
    return [Hit(contact_id, name, email or "") for contact_id, name, email in found]
