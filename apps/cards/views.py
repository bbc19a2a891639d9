"""Card pages: a module's changelist, the card page, its change form, inline edits, status
changes and bulk actions. Each view parses input, calls a selector or a service, renders;
one view serves a page and its HTMX partial."""

from __future__ import annotations

from typing import Any

import redis
from django.contrib import messages
from django.http import HttpResponse, QueryDict
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from apps.cards.columns import chooser_columns, column_label, columns_shown
from apps.cards.forms import (
    BoardMoveForm,
    BulkActionForm,
    CardFilterForm,
    ColumnsForm,
    SavedFilterForm,
    StatusForm,
)
from apps.cards.selectors import (
    board_tile,
    bulk_preview,
    card_board,
    card_detail,
    card_export,
    card_facets,
    card_form_names,
    card_get,
    card_ids_matching,
    card_list,
    card_list_freshness,
    card_schema,
    saved_filters,
)
from apps.cards.services import (
    card_create,
    card_refresh,
    card_seen,
    card_update,
    cards_bulk_update,
    columns_choose,
    saved_filter_delete,
    saved_filter_save,
)
from apps.core.errors import failure_of
from apps.core.export import export_download
from apps.core.fieldviews import display_value
from apps.core.http import HtmxHttpRequest
from apps.core.once import once_key
from apps.core.schema_forms import SchemaForm, editable_names, schema_form, seen_from, seen_json
from apps.core.selectors import module_get
from apps.mirror.selectors import card_row
from apps.todos.services import card_visit_record
from apps.webhooks.selectors import automations_for
from apps.writes.feedback import one_click, save_through_queue
from minicrm import MiniCRMError, NotFound
from minicrm.resources.schema import SchemaValidationError


def changelist(request: HtmxHttpRequest, category_id: int) -> HttpResponse:
    schema = card_schema(category_id=category_id)
    filters = CardFilterForm(request.GET, schema=schema)
    applied = filters.filters()
    if "facets" in request.GET:
        facets = card_facets(
            category_id=category_id,
            filters=applied,
            choice_params=[(bound.name, str(bound.label)) for bound in filters.choice_filters()],
            drill_title=column_label(schema, "updated", _("Updated")),
        )
        if request.htmx:
            return render(
                request, "cards/_facets.html", {"facets": facets, "module_id": category_id}
            )
    else:
        facets = None
    asked = filters.page()
    columns = columns_shown(schema=schema, user=request.user, category_id=category_id)
    page = card_list(category_id=category_id, filters=applied, page=asked, columns=columns)
    if applied.mirror_only and not page.sortable:
        messages.warning(
            request,
            _(
                "Search, field filters and date ranges work once the mirror holds this module "
                "(see the Sync page): the list shows it unfiltered by them."
            ),
        )
    _say_left_out(request, filters)
    context = {
        "page": page,
        "asked": asked,  # past the end, the page shown is the last: the paginator says so
        "filters": filters,
        "filtered": applied.narrowing,  # an empty list says which it is: filtered or empty
        "bulk": BulkActionForm({}, schema=schema),
        "query": request.GET.urlencode(),
        "name_label": column_label(schema, "name", _("Name")),
        "column_options": chooser_columns(schema=schema, shown=page.columns),
        "shown_columns": {column.key for column in page.columns},
        "saved_filters": saved_filters(user=request.user, category_id=category_id),
        "facets": facets,
        "nav_module_id": category_id,
        "freshness": card_list_freshness(page=page),
    }
    template = "cards/changelist.html"
    if request.htmx and request.htmx.target == "changelist-results":
        # The filters changed in place: the sidebar's counts follow.
        return trigger_client_event(
            render(request, template + "#results", context), "changelist-changed"
        )
    return render(request, template, context)


def changelist_export(request: HtmxHttpRequest, category_id: int) -> HttpResponseBase:
    """The changelist as it is filtered and sorted (every page, every field) as CSV or XLSX."""
    schema = card_schema(category_id=category_id)
    filters = CardFilterForm(request.GET, schema=schema)
    back = reverse("cards:changelist", args=[category_id]) + "?" + filters.valid_query()
    return export_download(
        request,
        back=back,
        export=lambda: card_export(category_id=category_id, filters=filters.filters()),
    )


def _say_left_out(request: HtmxHttpRequest, filters: CardFilterForm) -> None:
    """Tell the person which of the address's filters were left out, and why (the changelist's
    and the board's, which take the same filters)."""
    if ignored := filters.ignored():
        messages.warning(
            request,
            _("Not understood in the address, so left out: %(names)s.")
            % {"names": ", ".join(ignored)},
        )
    if reversed_ranges := filters.reversed_ranges():
        messages.warning(
            request,
            _("%(names)s: the end of a range cannot come before its start, so it was left out.")
            % {"names": ", ".join(reversed_ranges)},
        )


def board(request: HtmxHttpRequest, category_id: int) -> HttpResponse:
    """A module as a board of columns by status; a card dragged to another column (or moved
    with its form) changes status through the write queue."""
    schema = card_schema(category_id=category_id)
    filters = CardFilterForm(request.GET, schema=schema)
    shown = card_board(category_id=category_id, filters=filters.filters())
    _say_left_out(request, filters)
    if shown is None:
        messages.warning(
            request,
            _("The board shows a module once the mirror holds it (see the Sync page)."),
        )
        return redirect(
            reverse("cards:changelist", args=[category_id]) + "?" + filters.valid_query()
        )
    template = "cards/board.html"
    if request.htmx and request.htmx.target == "board-columns":
        template += "#columns"
    return render(
        request,
        template,
        {
            "board": shown,
            "filters": filters,
            "query": filters.valid_query(),
            "nav_module_id": category_id,
        },
    )


@require_POST
def board_move(request: HtmxHttpRequest, category_id: int) -> HttpResponse:
    """Move a card to another status from the board: queued like a status change on the card
    page; the card's tile comes back (marked pending), or the board for a form without HTMX."""
    schema = card_schema(category_id=category_id)
    back = reverse("cards:board", args=[category_id]) + "?" + request.POST.get("query", "")
    form = BoardMoveForm(request.POST, schema=schema)
    if not form.is_valid():
        message = " ".join(str(e) for errors in form.errors.values() for e in errors)
        if request.htmx:
            return render(request, "core/_notice.html", {"message": message}, status=400)
        messages.error(request, message)
        return redirect(back)
    card_id, status_id = form.cleaned_data["card"], form.cleaned_data["status"]
    project = card_get(card_id=card_id)
    if project.category_id != category_id:
        raise NotFound(f"Project {card_id} is not in module {category_id}.")
    statuses = schema.fields["StatusId"].choices if "StatusId" in schema.fields else {}
    shown = board_tile(card_id=card_id)  # the status the board showed, by its label
    seen = statuses.get(shown.status_id or 0) if shown else project.fields.get("StatusId")
    label = schema.fields["StatusId"].choices.get(status_id, "")
    outcome = one_click(
        request,
        lambda hold: card_update(
            card_id=card_id,
            category_id=category_id,
            changes={"StatusId": status_id},
            seen={"StatusId": seen},
            user=request.user,
            hold=hold,
        ),
        _("%(card)s moved to “%(status)s”.")
        % {"card": shown.name if shown else f"#{card_id}", "status": label},
    )
    if not request.htmx:
        return redirect(back)
    return render(
        request,
        "cards/_board_card.html",
        {
            "tile": board_tile(card_id=card_id),
            "outcome": outcome,
            "board_module": category_id,
            "statuses": list(schema.fields["StatusId"].choices.items()),
            "query": request.POST.get("query", ""),
        },
    )


@require_POST
def columns_choose_view(request: HtmxHttpRequest, category_id: int) -> HttpResponse:
    """Save the columns a person shows on a module's changelist; back to the changelist."""
    schema = card_schema(category_id=category_id)
    back = reverse("cards:changelist", args=[category_id]) + "?" + request.POST.get("query", "")
    form = ColumnsForm(request.POST, schema=schema)
    if form.is_valid():
        columns_choose(
            user=request.user, category_id=category_id, keys=form.cleaned_data["columns"]
        )
        messages.success(request, _("The columns were saved."))
    else:
        messages.error(request, " ".join(str(e) for e in form.errors.get("columns", [])))
    return _redirect(request, back)


@require_POST
def saved_filter_add_view(request: HtmxHttpRequest, category_id: int) -> HttpResponse:
    """Name the changelist's filters (its query) to find them in the sidebar again."""
    module_get(category_id=category_id)  # NotFound for a module MiniCRM does not have
    form = SavedFilterForm(request.POST)
    back = reverse("cards:changelist", args=[category_id]) + "?" + request.POST.get("query", "")
    if form.is_valid():
        saved_filter_save(
            user=request.user,
            category_id=category_id,
            name=form.cleaned_data["name"],
            query=form.cleaned_data["query"],
        )
        messages.success(request, _("The filter “%(name)s” was saved.") % form.cleaned_data)
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return _redirect(request, back)


@require_POST
def saved_filter_delete_view(
    request: HtmxHttpRequest, category_id: int, filter_id: int
) -> HttpResponse:
    saved_filter_delete(user=request.user, category_id=category_id, filter_id=filter_id)
    messages.info(request, _("The saved filter was removed."))
    back = reverse("cards:changelist", args=[category_id]) + "?" + request.POST.get("query", "")
    return _redirect(request, back)


@require_POST
def bulk_action(request: HtmxHttpRequest, category_id: int) -> HttpResponse:
    schema = card_schema(category_id=category_id)
    form = BulkActionForm(request.POST, schema=schema)
    back = reverse("cards:changelist", args=[category_id]) + "?" + request.POST.get("query", "")
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.warning(request, str(error))
        return _redirect(request, back)
    selected = form.cleaned_data["selected"]
    if form.cleaned_data.get("all_matching"):
        matching = CardFilterForm(QueryDict(request.POST.get("query", "")), schema=schema)
        selected = card_ids_matching(category_id=category_id, filters=matching.filters())
        if selected is None:
            messages.warning(
                request, _("All matching cards can be chosen once the mirror holds the module.")
            )
            return _redirect(request, back)
        if not selected:
            messages.warning(request, _("No cards match these filters: nothing was changed."))
            return _redirect(request, back)
    if not form.cleaned_data.get("confirm"):
        # First what it will do (how many cards, from which values to which), asked once.
        try:
            preview = bulk_preview(
                category_id=category_id, card_ids=selected, changes=form.changes()
            )
        except SchemaValidationError as error:
            messages.error(request, "; ".join(error.errors.values()))
            return _redirect(request, back)
        return render(
            request,
            "cards/bulk_preview.html",
            {
                "preview": preview,
                "module": module_get(category_id=category_id),
                "form": form,
                "selected": [] if form.cleaned_data.get("all_matching") else selected,
                "back": back,
                "query": request.POST.get("query", ""),
                "nav_module_id": category_id,
            },
        )
    try:
        job = cards_bulk_update(
            card_ids=selected,
            category_id=category_id,
            changes=form.changes(),
            summary=form.summary(count=len(selected)),
            user=request.user,
        )
    except SchemaValidationError as error:
        messages.error(request, "; ".join(error.errors.values()))
        return _redirect(request, back)
    return _redirect(request, reverse("writes:job", args=[job.pk]))


def card_page(request: HtmxHttpRequest, card_id: int) -> HttpResponse:
    """The card page; `?watch=<version>` (the page asks every few seconds) answers 204 while
    the mirror's copy is the one the page shows, else the page's body to swap in."""
    watched = request.GET.get("watch")
    if watched is not None and request.htmx:
        row = card_row(card_id=card_id)
        if row is None or row.synced_at.isoformat() == watched:
            return HttpResponse(status=204)
    card = card_detail(card_id=card_id)
    if watched is None:
        card_visit_record(user=request.user, card_id=card_id, card_name=card.project.name)
    template = "cards/card.html"
    if watched is not None and request.htmx:
        template += "#card-body"
    return render(
        request,
        template,
        {
            "card": card,
            "seen": seen_json(_seen(card)),
            "nav_module_id": card.module.id,
            "automations": automations_for(object_type="Project", object_id=card_id),
            "freshness": card_seen(row=card.row),
        },
    )


@require_POST
def card_refresh_view(request: HtmxHttpRequest, card_id: int) -> HttpResponse:
    """The "Refresh from MiniCRM" button: the card, its to-dos and its history read again."""
    try:
        found = card_refresh(card_id=card_id)
    except (MiniCRMError, redis.RedisError) as error:
        reason = render_to_string("core/_failure.html", {"kind": failure_of(error)[1]})
        messages.error(
            request,
            _("The card could not be refreshed from MiniCRM: %(reason)s")
            % {"reason": reason.strip()},
        )
        return _redirect(request, reverse("cards:card", args=[card_id]))
    if not found:
        messages.error(request, _("MiniCRM has no such card (any more)."))
        gone = card_row(card_id=card_id)  # the mirror's copy, now marked deleted
        back = (
            reverse("cards:changelist", args=[gone.category_id]) if gone else reverse("core:home")
        )
        return _redirect(request, back)
    messages.success(request, _("Refreshed from MiniCRM."))
    return _redirect(request, reverse("cards:card", args=[card_id]))


def card_add(request: HtmxHttpRequest, category_id: int) -> HttpResponse:
    module = module_get(category_id=category_id)
    schema = card_schema(category_id=category_id)
    names = [n for n in editable_names(schema, creating=True) if n != "CategoryId"]
    form = schema_form(schema, names, data=request.POST or None, creating=True)
    if request.method == "POST" and form.is_valid():
        values = {name: value for name, value in form.changes().items() if value not in ("", [])}
        outcome = save_through_queue(
            request,
            form,
            lambda: card_create(
                category_id=category_id,
                values=values,
                user=request.user,
                idempotency_key=once_key(request.POST, request.user),
            ),
            _("The card was created."),
        )
        if outcome is not None:
            if outcome.done and outcome.write.target_id:
                return redirect("cards:card", outcome.write.target_id)
            return redirect("cards:changelist", category_id)
    return render(request, "cards/card_form.html", {"form": form, "module": module, "card": None})


def card_edit(request: HtmxHttpRequest, card_id: int) -> HttpResponse:
    card = card_detail(card_id=card_id)
    names = card_form_names(card.schema)
    seen = seen_from(request.POST) if request.method == "POST" else None
    form = schema_form(
        card.schema, names, raw_values=seen or _seen(card), data=request.POST or None
    )
    if (
        request.method == "POST"
        and form.is_valid()
        and _save(request, card.project.id, card.project.category_id, form)
    ):
        return redirect("cards:card", card_id)
    return render(
        request,
        "cards/card_form.html",
        {"form": form, "module": card.module, "card": card, "seen": seen_json(form.raw_values)},
    )


def card_field(request: HtmxHttpRequest, card_id: int, name: str) -> HttpResponse:
    """Inline edit of one field: the cell's form (GET), or save it and show the cell (POST)."""
    card = card_detail(card_id=card_id)
    view = next((f for f in card.fields if f.spec.name == name), None)
    # A field the card page lists with an edit link: what the change form offers, no more.
    if view is None or name not in card_form_names(card.schema):
        return render(
            request,
            "core/_notice.html",
            {"message": _("This field cannot be edited here.")},
            status=400,
        )
    seen = seen_from(request.POST) if request.method == "POST" else None
    form = schema_form(
        card.schema,
        [name],
        raw_values=seen or _seen(card),
        data=request.POST or None,
        prefix=f"f-{name}",
    )
    context: dict[str, Any] = {
        "card": card,
        "form": form,
        "name": name,
        "field_view": view,
        "seen": seen_json(form.raw_values),
    }
    if (
        request.method == "POST"
        and form.is_valid()
        and _save(request, card_id, card.project.category_id, form, inline=True)
    ):
        if not request.htmx:
            return redirect("cards:card", card_id)
        card = card_detail(card_id=card_id)
        context.update(
            card=card, field_view=next((f for f in card.fields if f.spec.name == name), None)
        )
        return render(request, "cards/_field.html", context)
    context["seen"] = seen_json(form.raw_values)  # MiniCRM's values after a conflict
    if not request.htmx:
        return render(request, "cards/field_form.html", context)
    return render(request, "cards/_field_form.html", context)


@require_POST
def card_status(request: HtmxHttpRequest, card_id: int) -> HttpResponse:
    """Status change in one click."""
    project = card_get(card_id=card_id)
    schema = card_schema(category_id=project.category_id)
    form = StatusForm(request.POST, schema=schema)
    if not form.is_valid():
        messages.error(request, _("Choose one of the module's statuses."))
        return _redirect(request, reverse("cards:card", args=[card_id]))
    seen = seen_from(request.POST) or {"StatusId": project.fields.get("StatusId")}
    status_id = form.cleaned_data["status"]
    one_click(
        request,
        lambda hold: card_update(
            card_id=card_id,
            category_id=project.category_id,
            changes={"StatusId": status_id},
            seen={"StatusId": seen.get("StatusId")},
            user=request.user,
            hold=hold,
        ),
        _("Status changed to “%(status)s”.")
        % {"status": schema.fields["StatusId"].choices.get(status_id, "")},
    )
    return _redirect(request, reverse("cards:card", args=[card_id]))


def _save(
    request: HtmxHttpRequest,
    card_id: int,
    category_id: int,
    form: SchemaForm,
    *,
    inline: bool = False,
) -> bool:
    """Queue the form's changes; True when the page may move on, False to show the form."""
    changes = form.changes()
    if not changes:
        if not inline:
            messages.info(request, _("Nothing was changed."))
        return True
    outcome = save_through_queue(
        request,
        form,
        lambda: card_update(
            card_id=card_id,
            category_id=category_id,
            changes=changes,
            seen=form.seen(),
            user=request.user,
        ),
        _("The card was saved."),
    )
    return outcome is not None


def _seen(card: Any) -> dict[str, Any]:
    """The card's values as its page shows them, queued changes included."""
    values = dict(card.project.fields)
    for name, value in card.pending.items():
        spec = card.schema.fields.get(name)
        shown = display_value(spec, value) if spec is not None else value
        values[name] = shown if spec is None or spec.kind in ("select", "multiselect") else value
    return values


def _redirect(request: HtmxHttpRequest, url: str) -> HttpResponse:
    """Post/redirect/get, also for HTMX requests (which follow it in the browser)."""
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
