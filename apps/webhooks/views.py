"""Webhook pages: the receiver MiniCRM posts to, and the admins' handlers and event log."""

from __future__ import annotations

import base64
import binascii
import hmac
import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from apps.core.http import HtmxHttpRequest
from apps.core.permissions import admin_only
from apps.webhooks.forms import ActionForm, ActionFormSet, HandlerForm, check_loops
from apps.webhooks.models import Action, Event, Handler
from apps.webhooks.selectors import event_list, handler_list
from apps.webhooks.services import api_url, event_receive, event_replay, sandbox_register


def _test_message(handler: Handler) -> dict[str, object]:
    """A message this handler's filter lets through, about no real object (Id 0): its actions
    that write to MiniCRM are skipped, the others run."""
    data: dict[str, str] = {"Name": "Test event"}
    if handler.type == Handler.Type.PROJECT:
        data["CategoryId"] = str(handler.category_id or 0)
    else:
        data["Type"] = "Person"
    return {
        "Id": "0",
        "Type": handler.type,
        "Data": data,
        "Changed": [*(handler.fields or ["Name"]), "UpdatedAt"],
        "Test": timezone.now().isoformat(),  # each test event is a message of its own
    }


def _credentials_ok(request: HttpRequest, handler: Handler) -> bool:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return False
    try:
        user, _sep, password = base64.b64decode(header[6:]).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    # Both compared whatever the first says, in constant time.
    return hmac.compare_digest(user.encode(), handler.username.encode()) & hmac.compare_digest(
        password.encode(), handler.password.encode()
    )


@csrf_exempt
@login_not_required
def receive(request: HttpRequest, slug: str) -> HttpResponse:
    """MiniCRM's webhook: stored before it is answered; processed later."""
    handler = Handler.objects.filter(slug=slug).first()
    if handler is None or not _credentials_ok(request, handler):
        response = HttpResponse("Unauthorized\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Basic realm="crmconsole webhooks"'
        return response
    if request.method != "POST":
        response = HttpResponse("POST only\n", status=405, content_type="text/plain")
        response["Allow"] = "POST"
        return response
    length = int(request.headers.get("Content-Length") or 0)
    if length > settings.WEBHOOK_MAX_BODY:
        return HttpResponse("Too large\n", status=413, content_type="text/plain")
    body = request.read(settings.WEBHOOK_MAX_BODY + 1)
    if len(body) > settings.WEBHOOK_MAX_BODY:
        return HttpResponse("Too large\n", status=413, content_type="text/plain")
    received = event_receive(handler=handler, body=body, headers=dict(request.headers))
    text = "OK\n" if received.status_code == 200 else "Malformed message: stored, not processed\n"
    return HttpResponse(text, status=received.status_code, content_type="text/plain")


@admin_only
def handlers(request: HtmxHttpRequest) -> HttpResponse:
    return render(request, "webhooks/handlers.html", {"handlers": handler_list()})


@admin_only
def handler_edit(request: HtmxHttpRequest, handler_id: int | None = None) -> HttpResponse:
    handler = get_object_or_404(Handler, pk=handler_id) if handler_id else Handler()
    initial = [ActionForm.initial_for(a) for a in handler.actions.all()] if handler.pk else []
    form = HandlerForm(request.POST or None, instance=handler)
    actions = ActionFormSet(request.POST or None, initial=initial, prefix="actions")
    if request.method == "POST" and form.is_valid() and actions.is_valid():
        planned = [a for a in (f.as_action() for f in actions.forms) if a]
        if check_loops(form, planned):
            with transaction.atomic():
                saved = form.save()
                saved.actions.all().delete()
                for position, action in enumerate(planned):
                    Action.objects.create(handler=saved, position=position, **action)
            if sandbox_register(handler=saved):
                messages.info(request, _("The sandbox now sends this handler its webhooks."))
            messages.success(request, _("The handler was saved."))
            return redirect("webhooks:handler", saved.pk)
    return render(
        request,
        "webhooks/handler_form.html",
        {"form": form, "actions": actions, "handler": handler},
    )


@admin_only
def handler_page(request: HtmxHttpRequest, handler_id: int) -> HttpResponse:
    handler = get_object_or_404(Handler, pk=handler_id)
    return render(
        request,
        "webhooks/handler.html",
        {
            "handler": handler,
            "api_url": api_url(handler),
            "fields_json": json.dumps(handler.fields, ensure_ascii=False),
            "events": event_list(handler_id=handler.pk)[:20],
        },
    )


@admin_only
@require_POST
def handler_test(request: HtmxHttpRequest, handler_id: int) -> HttpResponse:
    """Store a test event as if MiniCRM had sent it."""
    handler = get_object_or_404(Handler, pk=handler_id)
    received = event_receive(
        handler=handler,
        body=json.dumps(_test_message(handler)).encode(),
        headers={"X-Console": "test event"},
    )
    messages.success(request, _("A test event was stored: #%(id)s.") % {"id": received.event.pk})
    return redirect("webhooks:event", received.event.pk)


@admin_only
def events(request: HtmxHttpRequest) -> HttpResponse:
    params = request.GET
    object_id = params.get("object_id", "")
    listed = event_list(
        handler_id=int(params["handler"]) if params.get("handler", "").isdigit() else None,
        object_type=params.get("type", "") if params.get("type") in ("Project", "Contact") else "",
        object_id=int(object_id) if object_id.isdigit() and len(object_id) < 18 else None,
        status=params.get("status", "") if params.get("status") in Event.Status.values else "",
    )
    return render(
        request,
        "webhooks/events.html",
        {
            "events": listed[:200],
            "handlers": handler_list(),
            "statuses": Event.Status.choices,
            "params": params,
        },
    )


@admin_only
def event_page(request: HtmxHttpRequest, event_id: int) -> HttpResponse:
    event = get_object_or_404(Event.objects.select_related("handler"), pk=event_id)
    pretty = json.dumps(event.message, indent=2, ensure_ascii=False) if event.message else ""
    return render(request, "webhooks/event.html", {"event": event, "pretty": pretty})


@admin_only
@require_POST
def event_replay_view(request: HtmxHttpRequest, event_id: int) -> HttpResponse:
    if not Event.objects.filter(pk=event_id).exists():
        raise Http404
    event_replay(event_id=event_id)
    messages.success(request, _("The event will be processed again."))
    return redirect("webhooks:event", event_id)
