"""To-do pages: a card's to-dos (open, closed, all), add, edit an open one, close, and
"my to-dos" across the cards the user opened or owns."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from apps.cards.selectors import card_get, card_schema
from apps.core.http import HtmxHttpRequest, parse_id, safe_next
from apps.core.once import once_key
from apps.core.selectors import minicrm_user_id
from apps.todos.forms import ToDoForm
from apps.todos.selectors import (
    STATUSES,
    WHEN,
    my_todos_page,
    todo_get,
    todo_types,
    todos_for_card,
)
from apps.todos.services import todo_close, todo_create, todo_update
from apps.writes.feedback import announce, one_click, outcome_of
from minicrm.resources.schema import SchemaValidationError

WHEN_LABELS = {
    "all": gettext_lazy("All open"),
    "overdue": gettext_lazy("Overdue"),
    "today": gettext_lazy("Today"),
    "week": gettext_lazy("This week"),
}


def _owners(card_id: int) -> dict[int, str]:
    schema = card_schema(category_id=card_get(card_id=card_id).category_id)
    return schema.fields["UserId"].choices if "UserId" in schema.fields else {}


def card_todos(request: HtmxHttpRequest, card_id: int) -> HttpResponse:
    status = request.GET.get("status", "open")
    if status not in STATUSES:
        status = "open"
    card = card_get(card_id=card_id)
    context = {
        "card": card,
        "todos": todos_for_card(card_id=card_id, status=status),
        "status": status,
    }
    template = "todos/card_todos.html"
    if request.htmx:
        template += "#list"
    return render(request, template, context)


def todo_add(request: HtmxHttpRequest, card_id: int) -> HttpResponse:
    card = card_get(card_id=card_id)
    form = ToDoForm(request.POST or None, owners=_owners(card_id), types=todo_types())
    if not request.POST:
        form.initial["UserId"] = minicrm_user_id(user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            write = todo_create(
                project_id=card_id,
                values=form.values(),
                user=request.user,
                idempotency_key=once_key(request.POST, request.user),
            )
        except SchemaValidationError as error:
            for name, message in error.errors.items():
                form.add_error(name if name in form.fields else None, message)
        else:
            outcome = outcome_of(write)
            if outcome.refused:
                form.add_error(None, outcome.message)
            else:
                announce(request, outcome, _("The to-do was added."))
                return redirect("cards:card", card_id)
    return render(request, "todos/todo_form.html", {"form": form, "card": card, "todo": None})


def todo_edit(request: HtmxHttpRequest, todo_id: int) -> HttpResponse:
    todo = todo_get(todo_id=todo_id)
    card = card_get(card_id=todo.project_id)
    if not todo.is_open:
        return render(request, "todos/todo_closed.html", {"todo": todo, "card": card})
    form = ToDoForm(request.POST or None, owners=_owners(card.id), types={}, todo=todo)
    if request.method == "POST" and form.is_valid():
        changes = form.values(changed_only=True)
        if not changes:
            messages.info(request, _("Nothing was changed."))
            return redirect("cards:card", card.id)
        write = todo_update(todo_id=todo_id, changes=changes, user=request.user)
        outcome = outcome_of(write) if write else None
        if outcome and outcome.refused:
            form.add_error(None, outcome.message)
        else:
            if outcome:
                announce(request, outcome, _("The to-do was saved."))
            return redirect("cards:card", card.id)
    return render(request, "todos/todo_form.html", {"form": form, "card": card, "todo": todo})


@require_POST
def todo_close_view(request: HtmxHttpRequest, todo_id: int) -> HttpResponse:
    todo = todo_get(todo_id=todo_id)
    outcome = None
    if todo.is_open:
        outcome = one_click(
            request,
            lambda hold: todo_close(todo_id=todo_id, user=request.user, hold=hold),
            _("The to-do was closed."),
        )
    if request.htmx and request.POST.get("row"):  # closed in place on "My to-dos"
        return render(request, "todos/_my_row.html", {"closed": todo, "outcome": outcome})
    # Another site, or not a path here: back to "my to-dos".
    return redirect(safe_next(request, reverse("todos:mine")))


def mine(request: HtmxHttpRequest) -> HttpResponse:
    """My to-dos: a tab (all, overdue, today, this week) and a module; the tabs and the module
    choice swap the list only."""
    when = request.GET.get("when", "all")
    if when not in WHEN:
        when = "all"
    module_id = parse_id(request.GET.get("module", ""))
    page = my_todos_page(user=request.user, when=when, module_id=module_id)
    template = "todos/mine.html"
    if request.htmx and request.htmx.target == "my-todos-list":
        template += "#list"
    return render(
        request,
        template,
        {
            "page": page,
            "todos": page.items,
            "when": when,
            "module_id": module_id,
            "tabs": [(tab, WHEN_LABELS[tab]) for tab in WHEN],
            "identified": minicrm_user_id(user=request.user) is not None,
        },
    )
