"""Reads of to-dos: a card's to-dos by status, one to-do, and "my to-dos" across cards.

With the mirror on (MIRROR_ENABLED) they read the console's own copy: a card's to-do list once
the mirror has read it, a to-do once its detail was read, and "my to-dos" across every card
once the mirror holds to-do lists. What the mirror does not hold yet is asked of MiniCRM and
stored. Without the mirror every read goes to MiniCRM, as before (briefly cached in Redis).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import F
from django.utils import timezone

from apps.core.fieldviews import minicrm_aware
from apps.core.minicrm import minicrm_client
from apps.core.readcache import cached_json
from apps.core.selectors import minicrm_user_id, modules_all
from apps.mirror import store
from apps.mirror.models import Card as MirrorCard
from apps.mirror.models import Completeness, SyncState
from apps.mirror.models import Module as MirrorModule
from apps.mirror.models import ToDo as MirrorToDo
from apps.mirror.selectors import card_todos, mirror_here, todo_summary
from apps.mirror.services import module_key
from apps.todos.models import CardVisit
from minicrm.types import ToDo, ToDoSummary, to_datetime

STATUSES = ("open", "closed", "all")
MY_CARDS_LIMIT = 30  # cards looked at for "my to-dos": each costs one request when not cached
MY_TODOS_LIMIT = 500  # "my to-dos" from the mirror shows at most this many


def _rows(card_id: int) -> list[dict[str, Any]]:
    return cached_json(
        "project-todos",
        card_id,
        lambda: [
            todo.__dict__ | {"deadline": todo.deadline.isoformat() if todo.deadline else ""}
            for todo in minicrm_client().todos.list(card_id, status="All").items
        ],
    )


def _card_todos_cached(card_id: int) -> list[ToDoSummary]:
    return [
        ToDoSummary(**{**row, "deadline": to_datetime(row["deadline"])}) for row in _rows(card_id)
    ]


def todos_for_card(*, card_id: int, status: str = "open") -> list[ToDoSummary]:
    """A card's to-dos: open, closed or all; soonest deadline first."""
    todos = _card_todos_mirrored(card_id) if mirror_here() else _card_todos_cached(card_id)
    return _by_status(todos, status)


def _by_status(todos: list[ToDoSummary], status: str) -> list[ToDoSummary]:
    if status == "open":
        todos = [t for t in todos if t.is_open]
    elif status == "closed":
        todos = [t for t in todos if not t.is_open]
    return sorted(todos, key=lambda t: (t.deadline is None, t.deadline or datetime.min, t.id))


def _card_todos_mirrored(card_id: int) -> list[ToDoSummary]:
    """The mirror's to-do list of a card once it has read it, else MiniCRM's (stored)."""
    if MirrorCard.objects.filter(pk=card_id, todos_synced_at__isnull=False).exists():
        return card_todos(card_id=card_id)
    fetched_at = timezone.now()
    todos = minicrm_client().todos.list(card_id, status="All").items
    store.todos_store(card_id=card_id, todos=todos, fetched_at=fetched_at)
    return list(todos)


def todo_get(*, todo_id: int) -> ToDo:
    """A to-do: the mirror's copy of its detail, else MiniCRM's (stored in the mirror)."""
    if not mirror_here():
        data = cached_json("todo", todo_id, lambda: minicrm_client().todos.get(todo_id).fields)
        return ToDo.parse(data)
    held = MirrorToDo.objects.filter(pk=todo_id, completeness=Completeness.DETAIL).first()
    if held is not None:
        return ToDo.parse(held.data)
    fetched_at = timezone.now()
    todo = minicrm_client().todos.get(todo_id)
    store.todo_store_detail(todo.fields, fetched_at=fetched_at)
    return todo


def todo_types() -> dict[int, str]:
    """MiniCRM's to-do types as configured (MINICRM_TODO_TYPES): the API does not list them."""
    return dict(settings.MINICRM_TODO_TYPES)


@dataclass(frozen=True)
class MyToDo:
    todo: ToDoSummary
    card_id: int
    card_name: str
    module_id: int | None = None  # the card's module, when the mirror knows it

    @property
    def overdue(self) -> bool:
        deadline = minicrm_aware(self.todo.deadline)
        return deadline is not None and deadline < timezone.now()

    def due(self, when: str) -> bool:
        """Whether the to-do belongs under a tab of WHEN: "overdue", due "today", due "week"
        (from today to this Sunday, local time), or "all"."""
        if when == "all":
            return True
        deadline = minicrm_aware(self.todo.deadline)
        if deadline is None:
            return False
        if when == "overdue":
            return deadline < timezone.now()
        day = timezone.localtime(deadline).date()
        today = timezone.localdate()
        if when == "today":
            return day == today
        return today <= day <= today + timedelta(days=6 - today.weekday())


WHEN = ("all", "overdue", "today", "week")


@dataclass(frozen=True)
class MyToDos:
    """The "My to-dos" page: the to-dos under the chosen tab and module, how many each tab
    holds (in that module), and the modules the to-dos are in."""

    items: list[MyToDo]
    counts: dict[str, int]
    modules: list[tuple[int, str]]


def my_todos_page(
    *, user: AbstractBaseUser | AnonymousUser, when: str = "all", module_id: int | None = None
) -> MyToDos:
    mine = my_todos(user=user)
    names = dict((m.id, m.name) for m in modules_all()) if mine else {}
    present = sorted({m.module_id for m in mine if m.module_id}, key=lambda i: names.get(i, ""))
    in_module = [m for m in mine if module_id is None or m.module_id == module_id]
    return MyToDos(
        items=[m for m in in_module if m.due(when)],
        counts={tab: sum(1 for m in in_module if m.due(tab)) for tab in WHEN},
        modules=[(i, names.get(i, f"#{i}")) for i in present],
    )


def my_todos(*, user: AbstractBaseUser | AnonymousUser) -> list[MyToDo]:
    """The user's open to-dos, soonest deadline first: on every card whose to-dos the mirror
    holds, and on the cards they opened or own (read now when the mirror has not yet); without
    the mirror's to-dos, on the cards they opened or own."""
    me = minicrm_user_id(user=user)
    if me is None or not user.is_authenticated:
        return []
    if my_todos_held():
        return _my_todos_mirrored(int(user.pk), me)
    mine = [
        MyToDo(todo, card_id, name)
        for card_id, name in _my_cards(int(user.pk), me).items()
        for todo in _by_status(_card_todos_cached(card_id), "open")
        if todo.user_id == me
    ]
    return sorted(mine, key=lambda m: (m.todo.deadline is None, m.todo.deadline or datetime.min))


def my_todos_held() -> bool:
    """The mirror holds cards' to-dos: a person's to-dos are read from it alone."""
    return mirror_here() and MirrorCard.objects.filter(todos_synced_at__isnull=False).exists()


def _my_cards(user_pk: int, me: int) -> dict[int, str]:
    """The cards the user opened here last, then those they own: id -> name (up to 30)."""
    cards = {
        visit.card_id: visit.card_name
        for visit in CardVisit.objects.filter(user_id=user_pk)[:MY_CARDS_LIMIT]
    }
    if len(cards) < MY_CARDS_LIMIT:
        for card in minicrm_client().projects.search(user_id=me).items:
            cards.setdefault(card.id, card.name)
            if len(cards) >= MY_CARDS_LIMIT:
                break
    return cards


def _my_todos_mirrored(user_pk: int, me: int) -> list[MyToDo]:
    """The mirror's open to-dos of a MiniCRM user on cards not deleted, with the cards' names.

    While the mirror has not read every card's to-dos, the cards the user opened or owns whose
    to-dos it lacks are read now (and stored), so that they are never missing."""
    names: dict[int, str] = {}
    if _modules_listed():
        unread = MirrorCard.objects.filter(user_id=me, deleted=False, todos_synced_at=None)
        names = dict(unread.exclude(category_id=0).values_list("pk", "name")[:MY_CARDS_LIMIT])
        names |= {
            visit.card_id: visit.card_name
            for visit in CardVisit.objects.filter(user_id=user_pk)[:MY_CARDS_LIMIT]
        }
    else:
        names = _my_cards(user_pk, me)
    synced = set(
        MirrorCard.objects.filter(pk__in=names, todos_synced_at__isnull=False).values_list(
            "pk", flat=True
        )
    )
    for card_id in [card_id for card_id in names if card_id not in synced][:MY_CARDS_LIMIT]:
        _card_todos_mirrored(card_id)
    deleted = MirrorCard.objects.filter(deleted=True).values("pk")
    rows = list(
        MirrorToDo.objects.filter(user_id=me, status="Open")
        .exclude(card_id__in=deleted)
        .order_by(F("deadline").asc(nulls_last=True), "id")[:MY_TODOS_LIMIT]
    )
    cards = {row.card_id for row in rows}
    held = MirrorCard.objects.filter(pk__in=cards).exclude(category_id=0)
    modules: dict[int, int] = {}
    for card_id, name, category_id in held.values_list("pk", "name", "category_id"):
        names[card_id] = name
        modules[card_id] = category_id
    return [
        MyToDo(todo_summary(row), row.card_id, names.get(row.card_id, ""), modules.get(row.card_id))
        for row in rows
    ]


def _modules_listed() -> bool:
    """The mirror holds every card of every module (each module's first list pass is done)."""
    modules = MirrorModule.objects.filter(listed=True).values_list("pk", flat=True)
    keys = [module_key(pk) for pk in modules]
    filled = SyncState.objects.filter(key__in=keys, filled_at__isnull=False).count()
    return bool(keys) and filled == len(keys)
