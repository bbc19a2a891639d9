"""The console shell: the dashboard, the header's live gauges, global search, preferences
and the administrators' settings page."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.core.dashboard import dashboard
from apps.core.forms import FieldLabelsForm, PreferencesForm
from apps.core.http import HtmxHttpRequest
from apps.core.middleware import TIMEZONE_SESSION_KEY
from apps.core.permissions import admin_only
from apps.core.selectors import (
    COMMON_ZONES,
    console_status,
    entity_fields,
    field_label_entities,
    minicrm_backend_get,
    minicrm_user_id,
    minicrm_users,
    time_zones,
)
from apps.core.services import field_labels_save, minicrm_schema_refresh, minicrm_user_set


def home(request: HtmxHttpRequest) -> HttpResponse:
    """The dashboard: cards by status, the person's due to-dos, recent activity, the budget and
    the queue, from the console's own data."""
    return render(request, "core/home.html", {"dashboard": dashboard(user=request.user)})


def status(request: HtmxHttpRequest) -> HttpResponse:
    """The header's budget gauge and pending writes, polled by HTMX."""
    return render(
        request, "core/_status.html", {"console_status": console_status(user=request.user)}
    )


def preferences(request: HtmxHttpRequest) -> HttpResponse:
    """One form, one Save: what the submission carries changes, the rest is kept."""
    zone_now = request.session.get(TIMEZONE_SESSION_KEY) or settings.TIME_ZONE
    zones = time_zones(keep=zone_now)
    users = minicrm_users()
    form = PreferencesForm(
        request.POST if request.method == "POST" else None, zones=zones, users=users
    )
    if form.is_valid():
        chosen = form.submitted()
        response = redirect("core:preferences")
        if "minicrm_user" in chosen:
            minicrm_user_set(user=request.user, minicrm_user_id=chosen["minicrm_user"])
        if "language" in chosen:
            _language_set(response, chosen["language"])
        zone = chosen.get("timezone", zone_now)
        request.session[TIMEZONE_SESSION_KEY] = zone
        if zone != zone_now:
            messages.success(request, _("Times are now shown in %(zone)s.") % {"zone": zone})
        else:
            messages.success(request, _("Saved."))
        return response
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, str(error))
    return render(
        request,
        "core/preferences.html",
        {
            "zones": zones,
            "common": COMMON_ZONES,
            "current": zone_now,
            "users": users,
            "me": minicrm_user_id(user=request.user),
            "language_choices": [code for code, _name in settings.LANGUAGES],
            "language_now": translation.get_language(),
        },
    )


def _language_set(response: HttpResponse, language: str) -> None:
    """The language the console speaks from the next page on (the cookie the header's switch
    sets); the message of this save is already in it."""
    translation.activate(language)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


@admin_only
def console_settings(request: HtmxHttpRequest) -> HttpResponse:
    """The MiniCRM backend, the schema's refresh, users, and the labels of one entity's
    fields (`?labels=<module id|Business|Person>`, the first module by default; a Save
    stores that entity's labels and nothing else)."""
    entities = field_label_entities()
    posting = request.method == "POST"
    asked = (request.POST if posting else request.GET).get("entity" if posting else "labels")
    chosen = next((e for e in entities if e.key == asked), None)
    status = 200
    if chosen is None:
        if posting or asked:
            messages.error(request, _("There are no such fields: choose from the list."))
            status = 400 if posting else 200
        chosen = entities[0]
    fields = entity_fields(entity=chosen.key)
    form = FieldLabelsForm(
        request.POST if posting and status == 200 else None,
        entity=chosen.key,
        fields=fields.fields,
        labels=fields.labels,
    )
    if form.is_valid():
        field_labels_save(entity=chosen.key, labels=form.labels())
        messages.success(request, _("Field labels of %(entity)s saved.") % {"entity": chosen.title})
        return redirect(f"{reverse('core:settings')}?{urlencode({'labels': chosen.key})}")
    if form.is_bound:
        status = 400
    context = {
        "backend": minicrm_backend_get(),
        "entities": entities,
        "chosen": chosen,
        "labels_form": form,
        "labels_problem": fields.problem,
    }
    return render(request, "core/settings.html", context, status=status)


@admin_only
@require_POST
def schema_refresh(request: HtmxHttpRequest) -> HttpResponse:
    minicrm_schema_refresh()
    messages.success(request, _("MiniCRM's fields and dropdown values will be read again."))
    return redirect("core:settings")
