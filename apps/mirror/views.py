"""The administrators' Sync page: how far the mirror is and how fresh, and buttons that have
the sync read a module, the contacts, everything or one record again."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from apps.core.errors import not_found
from apps.core.http import HtmxHttpRequest
from apps.core.permissions import admin_only
from apps.mirror import services
from apps.mirror.forms import RecordResyncForm
from apps.mirror.selectors import listed_module, mirror_has_record, sync_overview

TEMPLATE = "mirror/sync.html"


def _page(request: HtmxHttpRequest, form: RecordResyncForm) -> HttpResponse:
    """The page, or (for HTMX) the part of it that asked: the live numbers or the form."""
    target = request.htmx.target if request.htmx else None
    if target == "record-resync":
        return render(request, f"{TEMPLATE}#record", {"record_form": form})
    template = f"{TEMPLATE}#live" if target == "sync-live" else TEMPLATE
    return render(request, template, {"overview": sync_overview(), "record_form": form})


def _back(request: HtmxHttpRequest) -> HttpResponse:
    """Post/redirect/get to the Sync page, also for HTMX requests."""
    url = reverse("mirror:sync")
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@admin_only
def sync(request: HtmxHttpRequest) -> HttpResponse:
    return _page(request, RecordResyncForm())


@admin_only
@require_POST
def module_resync(request: HtmxHttpRequest, category_id: int) -> HttpResponse:
    module = listed_module(category_id=category_id)
    if module is None:
        return not_found(request)
    services.module_resync(category_id=module.pk)
    messages.success(
        request,
        _("The module %(name)s will be read again: its list, then every card of it.")
        % {"name": module.name},
    )
    return _back(request)


@admin_only
@require_POST
def contacts_resync(request: HtmxHttpRequest) -> HttpResponse:
    services.contacts_resync()
    messages.success(request, _("The contacts will be read again: their list, then each one."))
    return _back(request)


@admin_only
@require_POST
def resync_all(request: HtmxHttpRequest) -> HttpResponse:
    services.mirror_resync_all()
    messages.success(
        request,
        _("Everything will be read again: the modules, every list and every record."),
    )
    return _back(request)


@admin_only
@require_POST
def record_resync(request: HtmxHttpRequest) -> HttpResponse:
    form = RecordResyncForm(request.POST)
    if not form.is_valid():
        return _page(request, form)
    record_id = form.cleaned_data["record_id"]
    known = mirror_has_record(object_type=form.object_type, object_id=record_id)
    services.record_mark_stale(object_type=form.object_type, object_id=record_id)
    if form.object_type == "project":
        text = (
            _("Card #%(id)s will be read again from MiniCRM in a moment.")
            if known
            else _("The mirror has no card #%(id)s yet: the sync will look for it in MiniCRM.")
        )
    else:
        text = (
            _("Contact #%(id)s will be read again from MiniCRM in a moment.")
            if known
            else _("The mirror has no contact #%(id)s yet: the sync will look for it in MiniCRM.")
        )
    messages.success(request, text % {"id": record_id})
    return _back(request)
