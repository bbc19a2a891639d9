"""Reads of to-dos: a card's to-dos by status, one to-do, and "my to-dos" across cards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.utils import timezone

from apps.core.fieldviews import minicrm_aware
from apps.core.minicrm import minicrm_client
from apps.core.readcache import cached_json
from apps.core.selectors import minicrm_user_id
from apps.todos.models import CardVisit
from minicrm.types import ToDo, ToDoSummary, to_datetime

STATUSES = ("open", "closed", "all")
MY_CARDS_LIMIT = 30  # cards looked at for "my to-dos": each costs one request when not cached


def _rows(card_id: int) -> list[dict[str, Any]]:
    return cached_json(
        "project-todos",
        card_id,
        lambda: [
            todo.__dict__ | {"deadline": todo.deadline.isoformat() if todo.deadline else ""}
            for todo in minicrm_client().todos.list(card_id, status="All").items
        ],
    )


def todos_for_card(*, card_id: int, status: str = "open") -> list[ToDoSummary]:
    """A card's to-dos: open, closed or all; soonest deadline first."""
    todos = [
        ToDoSummary(**{**row, "deadline": to_datetime(row["deadline"])}) for row in _rows(card_id)
    ]
    if status == "open":
        todos = [t for t in todos if t.is_open]
    elif status == "closed":
        todos = [t for t in todos if not t.is_open]
    return sorted(todos, key=lambda t: (t.deadline is None, t.deadline or datetime.min, t.id))


def todo_get(*, todo_id: int) -> ToDo:
    data = cached_json("todo", todo_id, lambda: minicrm_client().todos.get(todo_id).fields)
    return ToDo.parse(data)


def todo_types() -> dict[int, str]:
    """MiniCRM's to-do types as configured (MINICRM_TODO_TYPES): the API does not list them."""
    return dict(settings.MINICRM_TODO_TYPES)


@dataclass(frozen=True)
class MyToDo:
    todo: ToDoSummary
    card_id: int
    card_name: str

    @property
    def overdue(self) -> bool:
        deadline = minicrm_aware(self.todo.deadline)
        return deadline is not None and deadline < timezone.now()


def my_todos(*, user: AbstractBaseUser | AnonymousUser) -> list[MyToDo]:
    """The user's open to-dos on the cards they opened or own, soonest deadline first."""
    me = minicrm_user_id(user=user)
    if me is None or not user.is_authenticated:
        return []
    cards = {
        visit.card_id: visit.card_name
        for visit in CardVisit.objects.filter(user_id=int(user.pk))[:MY_CARDS_LIMIT]
    }
    if len(cards) < MY_CARDS_LIMIT:
        for card in minicrm_client().projects.search(user_id=me).items:
            cards.setdefault(card.id, card.name)
            if len(cards) >= MY_CARDS_LIMIT:
                break
    mine = [
        MyToDo(todo, card_id, name)
        for card_id, name in cards.items()
        for todo in todos_for_card(card_id=card_id, status="open")
        if todo.user_id == me
    ]
    return sorted(mine, key=lambda m: (m.todo.deadline is None, m.todo.deadline or datetime.min))
