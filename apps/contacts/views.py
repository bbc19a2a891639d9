"""Contact pages: search (as you type), a company or person, create, edit, delete a person."""

from __future__ import annotations

import redis
from django.contrib import messages
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.contacts.forms import ContactSearchForm
from apps.contacts.selectors import (
    company_names,
    contact_detail,
    contact_export,
    contact_or_none,
    contact_search,
    contact_search_freshness,
    contacts_exportable,
    search_terms,
)
from apps.contacts.services import (
    contact_create,
    contact_purge,
    contact_refresh,
    contact_seen,
    contact_update,
)
from apps.core.errors import failure_of
from apps.core.export import export_download
from apps.core.http import HtmxHttpRequest, parse_id
from apps.core.minicrm import minicrm_client
from apps.core.once import once_key
from apps.core.schema_forms import editable_names, schema_form, seen_from, seen_json
from apps.writes.feedback import announce, outcome_of, save_through_queue
from minicrm import BadRequest, MiniCRMError
from minicrm.types import ContactSummary, Page

CONTACT_TYPES = ("Business", "Person")
# MiniCRM's answer when a person is still a card's main contact.
MAIN_CONTACT = "main contact"


def search(request: HtmxHttpRequest) -> HttpResponse:
    form = ContactSearchForm(request.GET)
    q = form.query()
    notice = ""
    asked = form.page()
    results: Page[ContactSummary] = Page(items=[], count=0, page=0)
    if q and not search_terms(q):
        notice = _("Type letters or digits: punctuation alone finds nothing.")
    else:
        try:
            results = contact_search(q=q, page=asked)
        except BadRequest as refusal:
            notice = _("MiniCRM could not search for “%(q)s”: %(reason)s") % {
                "q": q,
                "reason": refusal.message,
            }
    template = "contacts/search.html"
    if request.htmx and request.htmx.target == "contact-results":
        template += "#results"
    context = {
        "form": form,
        "results": results,
        "asked": asked,  # past the end, the page shown is the last: the paginator says so
        "q": q,
        "notice": notice,
        "freshness": contact_search_freshness(results=results),
        "companies": company_names(results.items),
        "exportable": contacts_exportable(),
    }
    return render(request, template, context)


def search_export(request: HtmxHttpRequest) -> HttpResponseBase:
    """The contacts the search box finds (every page; every contact without a search) as CSV
    or XLSX, from the mirror."""
    form = ContactSearchForm(request.GET)
    q = form.query()
    back = reverse("contacts:search") + (f"?{urlencode({'q': q})}" if q else "")
    return export_download(request, back=back, export=lambda: contact_export(q=q))


def contact_page(request: HtmxHttpRequest, contact_id: int) -> HttpResponse:
    detail = contact_detail(contact_id=contact_id)
    return render(
        request,
        "contacts/contact.html",
        {"detail": detail, "freshness": contact_seen(row=detail.row)},
    )


@require_POST
def contact_refresh_view(request: HtmxHttpRequest, contact_id: int) -> HttpResponse:
    """The "Refresh from MiniCRM" button: the contact, its persons and its cards read again."""
    try:
        late = contact_refresh(contact_id=contact_id)
    except (MiniCRMError, redis.RedisError) as error:
        reason = render_to_string("core/_failure.html", {"kind": failure_of(error)[1]})
        messages.error(
            request,
            _("The contact could not be refreshed from MiniCRM: %(reason)s")
            % {"reason": reason.strip()},
        )
        return redirect("contacts:contact", contact_id)
    if late is None:
        messages.error(request, _("MiniCRM has no such contact (any more)."))
        return redirect("contacts:search")
    if late:
        messages.warning(
            request,
            _("Refreshed from MiniCRM, except what it did not answer in time: %(late)s.")
            % {"late": ", ".join(late)},
        )
    else:
        messages.success(request, _("Refreshed from MiniCRM."))
    return redirect("contacts:contact", contact_id)


def contact_add(request: HtmxHttpRequest) -> HttpResponse:
    contact_type = request.GET.get("type", "Business")
    if contact_type not in CONTACT_TYPES:
        contact_type = "Business"
    company = None
    if contact_type == "Person" and "business" in request.GET:
        company = contact_or_none(contact_id=parse_id(request.GET["business"]))
        if company is None:
            messages.warning(request, _("No such company: the person is added without one."))
    schema = minicrm_client().schemas.contact(contact_type)
    names = [n for n in editable_names(schema, creating=True) if n != "BusinessId"]
    form = schema_form(schema, names, data=request.POST or None, creating=True)
    if request.method == "POST" and form.is_valid():
        values = {k: v for k, v in form.changes().items() if v not in ("", [])}
        if company is not None:
            values["BusinessId"] = company.id
        outcome = save_through_queue(
            request,
            form,
            lambda: contact_create(
                contact_type=contact_type,
                values=values,
                user=request.user,
                idempotency_key=once_key(request.POST, request.user),
            ),
            _("The contact was created."),
        )
        if outcome is not None:
            if outcome.done and outcome.write.target_id:
                return redirect("contacts:contact", outcome.write.target_id)
            if company is not None:
                return redirect("contacts:contact", company.id)
            return redirect("contacts:search")
    return render(
        request,
        "contacts/contact_form.html",
        {"form": form, "contact_type": contact_type, "company": company, "contact": None},
    )


def contact_edit(request: HtmxHttpRequest, contact_id: int) -> HttpResponse:
    detail = contact_detail(contact_id=contact_id)
    seen = seen_from(request.POST) if request.method == "POST" else None
    names = [n for n in editable_names(detail.schema) if n != "BusinessId"]
    form = schema_form(
        detail.schema,
        names,
        raw_values=seen or dict(detail.contact.fields),
        data=request.POST or None,
    )
    if request.method == "POST" and form.is_valid():
        changes = form.changes()
        if not changes:
            messages.info(request, _("Nothing was changed."))
            return redirect("contacts:contact", contact_id)
        outcome = save_through_queue(
            request,
            form,
            lambda: contact_update(
                contact_id=contact_id,
                contact_type=detail.contact.type,
                changes=changes,
                seen=form.seen(),
                user=request.user,
            ),
            _("The contact was saved."),
        )
        if outcome is not None:
            return redirect("contacts:contact", contact_id)
    return render(
        request,
        "contacts/contact_form.html",
        {
            "form": form,
            "contact_type": detail.contact.type,
            "contact": detail.contact,
            "company": detail.business,
            "seen": seen_json(form.raw_values),
        },
    )


def contact_delete(request: HtmxHttpRequest, contact_id: int) -> HttpResponse:
    """Delete a person (PurgePerson), explaining MiniCRM's main-contact rule when it refuses."""
    detail = contact_detail(contact_id=contact_id)
    refusal = ""
    if not detail.is_person:
        messages.error(request, _("Only persons can be deleted here."))
        return redirect("contacts:contact", contact_id)
    if request.method == "POST":
        outcome = outcome_of(contact_purge(contact_id=contact_id, user=request.user))
        if outcome.done:
            messages.success(request, _("%(name)s was deleted.") % {"name": detail.contact.name})
            if detail.business:
                return redirect("contacts:contact", detail.business.id)
            return redirect("contacts:search")
        if outcome.queued:
            announce(request, outcome, "")
            return redirect("contacts:contact", contact_id)
        refusal = outcome.message
    main_of = [
        card for group in detail.cards for card in group.cards if card.contact_id == contact_id
    ]
    return render(
        request,
        "contacts/contact_delete.html",
        {
            "detail": detail,
            "refusal": refusal,
            "main_of": main_of,
            "main_contact_rule": MAIN_CONTACT in refusal.casefold() or bool(main_of),
        },
    )
