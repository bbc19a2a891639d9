"""The console shell: the dashboard, the header's live gauges, global search, preferences
and the administrators' settings page."""

from __future__ import annotations

import zoneinfo

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.core.http import HtmxHttpRequest, parse_id
from apps.core.middleware import TIMEZONE_SESSION_KEY
from apps.core.permissions import admin_only
from apps.core.selectors import (
    console_status,
    minicrm_backend_get,
    minicrm_user_id,
    minicrm_users,
)
from apps.core.services import minicrm_schema_refresh, minicrm_user_set
from apps.writes.selectors import queue_status

COMMON_ZONES = ("Europe/Budapest", "Europe/Vienna", "Europe/Berlin", "Europe/London", "UTC")


def home(request: HtmxHttpRequest) -> HttpResponse:
    return render(request, "core/home.html", {"queue": queue_status()})


def status(request: HtmxHttpRequest) -> HttpResponse:
    """The header's budget gauge and pending writes, polled by HTMX."""
    return render(
        request, "core/_status.html", {"console_status": console_status(user=request.user)}
    )


def preferences(request: HtmxHttpRequest) -> HttpResponse:
    zones = sorted(zoneinfo.available_timezones())
    users = minicrm_users()
    if request.method == "POST" and "minicrm_user" in request.POST:
        raw = request.POST.get("minicrm_user", "")
        chosen = parse_id(raw)
        if raw and chosen not in users:
            messages.error(request, _("Choose one of MiniCRM's users from the list."))
            return redirect("core:preferences")
        minicrm_user_set(user=request.user, minicrm_user_id=chosen)
        messages.success(request, _("Saved."))
        return redirect("core:preferences")
    if request.method == "POST":
        zone = request.POST.get("timezone", "")
        if zone in zones:
            request.session[TIMEZONE_SESSION_KEY] = zone
            messages.success(request, _("Times are now shown in %(zone)s.") % {"zone": zone})
            return redirect("core:preferences")
        messages.error(request, _("Choose a time zone from the list."))
    current = request.session.get(TIMEZONE_SESSION_KEY, "")
    return render(
        request,
        "core/preferences.html",
        {
            "zones": zones,
            "common": COMMON_ZONES,
            "current": current,
            "users": users,
            "me": minicrm_user_id(user=request.user),
        },
    )


@admin_only
def console_settings(request: HtmxHttpRequest) -> HttpResponse:
    return render(request, "core/settings.html", {"backend": minicrm_backend_get()})


@admin_only
@require_POST
def schema_refresh(request: HtmxHttpRequest) -> HttpResponse:
    minicrm_schema_refresh()
    messages.success(request, _("MiniCRM's fields and dropdown values will be read again."))
    return redirect("core:settings")
