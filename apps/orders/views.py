"""Order pages: the index (MiniCRM cannot list orders), a new order with item rows added and
removed in place, the order page with totals and custom fields, Draft editing, and the
workflow steps (finalize, back to draft, complete, paid, storno) behind a confirmation."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from apps.contacts.selectors import contact_or_none
from apps.core.export import export_download
from apps.core.http import HtmxHttpRequest, parse_id
from apps.core.once import once_key
from apps.core.readcache import forget
from apps.core.schema_forms import editable_names, schema_form
from apps.orders.forms import OrderForm, SubjectForm, blank_row, item_rows, row_errors
from apps.orders.models import OrderRecord, status_label
from apps.orders.selectors import (
    WORKFLOW,
    legal_actions,
    order_custom_schema,
    order_export,
    order_get,
    order_list,
    order_writes,
)
from apps.orders.services import (
    VAT_RATES,
    order_create,
    order_delete_item,
    order_index_refresh,
    order_modify,
    order_set_custom_fields,
    order_transition,
)
from apps.writes.feedback import announce, outcome_of
from minicrm.resources.schema import SchemaValidationError

# Lazy: the labels are shown in the language of each request, not the one at import.
ACTION_LABELS = {
    "finalize": gettext_lazy("Finalize"),
    "edit": gettext_lazy("Back to Draft"),
    "complete": gettext_lazy("Complete"),
    "paid": gettext_lazy("Mark paid"),
    "storno": gettext_lazy("Storno"),
}


def refusal_in_words(action: str, status: str) -> str:
    """Why MiniCRM answers 405 to a workflow step, in words."""
    sources, target = WORKFLOW[action]
    return _("An order in %(status)s cannot go to %(target)s: only orders in %(sources)s can.") % {
        "status": status_label(status),
        "target": status_label(target),
        "sources": " / ".join(status_label(s) for s in sources),
    }


def _status_filter(request: HtmxHttpRequest) -> str | None:
    status = request.GET.get("status") or None
    return status if status in OrderRecord.Status.values else None


def order_index(request: HtmxHttpRequest) -> HttpResponse:
    status = _status_filter(request)
    return render(
        request,
        "orders/list.html",
        {
            "orders": order_list(status=status)[:500],
            "status": status,
            "statuses": OrderRecord.Status.choices,
        },
    )


def order_list_export(request: HtmxHttpRequest) -> HttpResponseBase:
    """The order index as the list filters it (every order, not the first 500) as CSV or
    XLSX."""
    status = _status_filter(request)
    back = reverse("orders:list") + (f"?{urlencode({'status': status})}" if status else "")
    return export_download(request, back=back, export=lambda: order_export(status=status))


def order_add(request: HtmxHttpRequest) -> HttpResponse:
    initial: dict[str, Any] = {"currency": "HUF"}
    if "customer" in request.GET:
        customer_id = parse_id(request.GET["customer"])
        customer = contact_or_none(contact_id=customer_id)
        if customer_id is None:
            messages.warning(request, _("The customer in the address is not a contact id."))
        else:
            initial["customer"] = customer_id
        if customer is not None:
            initial["buyer_Name"] = customer.name
    form = OrderForm(request.POST or None, initial=initial)
    rows = item_rows(request.POST) if request.method == "POST" else [blank_row()]
    errors: dict[int, dict[str, str]] = {}
    if request.method == "POST" and "add_row" in request.POST:
        rows.append(blank_row())
    elif request.method == "POST" and form.is_valid():
        if not rows:
            form.add_error(None, _("Add at least one item."))
        else:
            try:
                write = order_create(
                    customer_id=form.cleaned_data["customer"],
                    currency=form.cleaned_data["currency"],
                    items=rows,
                    subject=form.cleaned_data["subject"],
                    customer=form.buyer() or None,
                    user=request.user,
                    idempotency_key=once_key(request.POST, request.user),
                )
            except SchemaValidationError as error:
                errors = row_errors(error.errors)
                for key, message in error.errors.items():
                    if not key.startswith("Items."):
                        form.add_error(None, message)
            else:
                outcome = outcome_of(write)
                if outcome.refused:
                    form.add_error(None, outcome.message)
                else:
                    announce(request, outcome, _("The order was created."))
                    if outcome.done and outcome.write.target_id:
                        return redirect("orders:order", outcome.write.target_id)
                    return redirect("orders:list")
    return render(
        request,
        "orders/order_form.html",
        {"form": form, "rows": list(enumerate(rows)), "errors": errors, "vat_rates": VAT_RATES},
    )


def item_row(request: HtmxHttpRequest) -> HttpResponse:
    """One blank item row, added in place by HTMX."""
    return render(
        request,
        "orders/_item_row.html",
        {
            "index": request.GET.get("index", "new"),
            "row": blank_row(),
            "vat_rates": VAT_RATES,
            "row_errors": {},
        },
    )


def order_page(request: HtmxHttpRequest, order_id: int) -> HttpResponse:
    order = order_get(order_id=order_id)
    order_index_refresh(order)  # an order opened here joins the console's index
    schema = order_custom_schema(order)
    custom_form = None
    if schema is not None:
        names = [n for n in editable_names(schema) if n in order.custom_fields]
        custom_form = schema_form(schema, names, raw_values=order.custom_fields, prefix="custom")
    return render(
        request,
        "orders/order.html",
        {
            "order": order,
            "status_label": status_label(order.status),
            "actions": [(a, ACTION_LABELS[a]) for a in legal_actions(order.status)],
            "custom_form": custom_form,
            "writes": order_writes(order_id=order_id),
            "subject_form": SubjectForm(initial={"subject": order.subject}),
            "rows": [(0, blank_row())],
            "errors": {},
            "vat_rates": VAT_RATES,
        },
    )


@require_POST
def order_items(request: HtmxHttpRequest, order_id: int) -> HttpResponse:
    """Draft only: change the subject and add the posted item rows."""
    order = order_get(order_id=order_id)
    if order.status != "Draft":
        messages.error(request, _("Only a Draft order's subject and items can change."))
        return redirect("orders:order", order_id)
    form = SubjectForm(request.POST)
    rows = item_rows(request.POST)
    subject = form.cleaned_data["subject"] if form.is_valid() else order.subject
    if subject == order.subject and not rows:
        messages.info(request, _("Nothing was changed."))
        return redirect("orders:order", order_id)
    try:
        write = order_modify(
            order_id=order_id,
            customer_id=order.customer_id,
            subject=subject if subject != order.subject else None,
            items=rows,
            user=request.user,
        )
    except SchemaValidationError as error:
        for message in error.errors.values():
            messages.error(request, message)
        return redirect("orders:order", order_id)
    announce(request, outcome_of(write), _("The order was saved."))
    return redirect("orders:order", order_id)


@require_POST
def item_delete(request: HtmxHttpRequest, order_id: int, item_id: int) -> HttpResponse:
    order = order_get(order_id=order_id)
    if order.status != "Draft":
        messages.error(request, _("Only a Draft order's items can change."))
        return redirect("orders:order", order_id)
    outcome = outcome_of(order_delete_item(order_id=order_id, item_id=item_id, user=request.user))
    announce(request, outcome, _("The item was removed."))
    return redirect("orders:order", order_id)


@require_POST
def custom_fields(request: HtmxHttpRequest, order_id: int) -> HttpResponse:
    """Custom fields of the order's card: any status."""
    order = order_get(order_id=order_id)
    schema = order_custom_schema(order)
    if schema is None:
        raise Http404
    names = [n for n in editable_names(schema) if n in order.custom_fields]
    form = schema_form(
        schema, names, raw_values=order.custom_fields, data=request.POST, prefix="custom"
    )
    if form.is_valid() and form.changes():
        outcome = outcome_of(
            order_set_custom_fields(order_id=order_id, values=form.changes(), user=request.user)
        )
        announce(request, outcome, _("The order's fields were saved."))
    elif not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(str(error) for error in errors))
    return redirect("orders:order", order_id)


def workflow(request: HtmxHttpRequest, order_id: int, action: str) -> HttpResponse:
    """A workflow step: its confirmation (GET), then the step itself (POST)."""
    if action not in WORKFLOW:
        raise Http404
    order = order_get(order_id=order_id)
    if request.method != "POST":
        return render(
            request,
            "orders/confirm.html",
            {
                "order": order,
                "action": action,
                "label": ACTION_LABELS[action],
                "status": status_label(order.status),
                "target": status_label(WORKFLOW[action][1]),
                "legal": action in legal_actions(order.status),
                "refusal": refusal_in_words(action, order.status),
            },
        )
    if action not in legal_actions(order.status):
        messages.error(request, refusal_in_words(action, order.status))
        return redirect("orders:order", order_id)
    outcome = outcome_of(order_transition(order_id=order_id, action=action, user=request.user))
    # MiniCRM's 405 text is terse (and sometimes Hungarian): say it in words.
    if outcome.refused and (outcome.write.result or {}).get("http_status") == 405:
        # The order moved in MiniCRM since the console read it: explain with its real status
        # (read again, which also drops the stale copy the page would show).
        forget("order", order_id)
        messages.error(request, refusal_in_words(action, order_get(order_id=order_id).status))
    else:
        announce(
            request,
            outcome,
            _("The order is now %(status)s.") % {"status": status_label(WORKFLOW[action][1])},
        )
    return redirect("orders:order", order_id)
