"""Webhook pages: the receiver MiniCRM posts to, and the admins' handlers and event log."""

from __future__ import annotations

import base64
import binascii
import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from apps.core.errors import not_found
from apps.core.http import HtmxHttpRequest, parse_id
from apps.core.permissions import admin_only
from apps.webhooks.forms import (
    ActionForm,
    ActionFormSet,
    HandlerForm,
    check_loops,
    check_set_fields,
)
from apps.webhooks.models import Action, Event, Handler
from apps.webhooks.selectors import event_list, event_view, handler_list
from apps.webhooks.services import (
    api_url,
    event_receive,
    event_replay,
    handler_authenticate,
    handler_credentials_new,
    handler_delete,
    handler_rotate,
    sandbox_register,
)

# The session key of an ApiUrl with its password, shown once on the handler's page.
NEW_API_URL = "webhooks:new-api-url:{}"


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
    return handler_authenticate(handler=handler, username=user, password=password)


def _text(body: str, status: int) -> HttpResponse:
    return HttpResponse(body, status=status, content_type="text/plain")


def _read_body(request: HttpRequest) -> bytes | None:
    """The request's body, at most WEBHOOK_MAX_BODY + 1 bytes of it; None when it is sent
    chunked to a server that cannot tell where it ends.

    Django reads only Content-Length bytes, so a chunked body (no Content-Length) would read
    as empty: it is read from the WSGI input instead, which gunicorn ends at the last chunk
    (`wsgi.input_terminated`).
    """
    limit = settings.WEBHOOK_MAX_BODY + 1
    if "chunked" not in request.headers.get("Transfer-Encoding", "").lower():
        return request.read(limit)
    if not request.META.get("wsgi.input_terminated"):
        return None
    stream = request.META["wsgi.input"]
    parts: list[bytes] = []
    size = 0
    while size < limit:
        part = stream.read(min(65536, limit - size))
        if not part:
            break
        parts.append(part)
        size += len(part)
    return b"".join(parts)


@csrf_exempt
@login_not_required
def receive(request: HttpRequest, slug: str) -> HttpResponse:
    """MiniCRM's webhook: stored before it is answered; processed later.

    A disabled handler answers 410 and stores nothing (MiniCRM tries again on its schedule,
    for an hour, then drops the message).
    """
    handler = Handler.objects.filter(slug=slug).first()
    if handler is None or not _credentials_ok(request, handler):
        response = _text("Unauthorized\n", 401)
        response["WWW-Authenticate"] = 'Basic realm="crmconsole webhooks"'
        return response
    if request.method != "POST":
        response = _text("POST only\n", 405)
        response["Allow"] = "POST"
        return response
    if not handler.enabled:
        return _text("This handler is disabled: nothing was stored\n", 410)
    length = parse_id((request.headers.get("Content-Length") or "0").strip(), allow_zero=True)
    if length is None:
        return _text("Bad Content-Length\n", 400)
    if length > settings.WEBHOOK_MAX_BODY:
        return _text("Too large\n", 413)
    body = _read_body(request)
    if body is None:
        return _text("Send a Content-Length, or chunks to a server that reads them\n", 411)
    if len(body) > settings.WEBHOOK_MAX_BODY:
        return _text("Too large\n", 413)
    received = event_receive(handler=handler, body=body, headers=dict(request.headers))
    text = "OK\n" if received.status_code == 200 else "Malformed message: stored, not processed\n"
    return _text(text, received.status_code)


@admin_only
def handlers(request: HtmxHttpRequest) -> HttpResponse:
    return render(request, "webhooks/handlers.html", {"handlers": handler_list()})


@admin_only
def handler_edit(request: HtmxHttpRequest, handler_id: int | None = None) -> HttpResponse:
    handler = Handler.objects.filter(pk=handler_id).first() if handler_id else Handler()
    if handler is None:
        return not_found(request)
    initial = [ActionForm.initial_for(a) for a in handler.actions.all()] if handler.pk else []
    form = HandlerForm(request.POST or None, instance=handler)
    actions = ActionFormSet(request.POST or None, initial=initial, prefix="actions")
    if (
        request.method == "POST"
        and form.is_valid()
        and actions.is_valid()
        and check_set_fields(form, actions)
    ):
        planned = [a for a in (f.as_action() for f in actions.forms) if a]
        if check_loops(form, planned):
            creating = handler.pk is None
            password = handler_credentials_new(handler=handler) if creating else None
            with transaction.atomic():
                saved = form.save()
                saved.actions.all().delete()
                for position, action in enumerate(planned):
                    Action.objects.create(handler=saved, position=position, **action)
            if password is not None:
                request.session[NEW_API_URL.format(saved.pk)] = api_url(saved, password)
            if sandbox_register(handler=saved, password=password):
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
    handler = Handler.objects.filter(pk=handler_id).first()
    if handler is None:
        return not_found(request)
    new_api_url = request.session.pop(NEW_API_URL.format(handler.pk), None)
    return render(
        request,
        "webhooks/handler.html",
        {
            "handler": handler,
            "api_url": new_api_url or api_url(handler),
            "shown_once": bool(new_api_url),
            "fields_json": json.dumps(handler.fields, ensure_ascii=False),
            "events": event_list(handler_id=handler.pk)[:20],
        },
    )


@admin_only
@require_POST
def handler_test(request: HtmxHttpRequest, handler_id: int) -> HttpResponse:
    """Store a test event as if MiniCRM had sent it."""
    handler = Handler.objects.filter(pk=handler_id).first()
    if handler is None:
        return not_found(request)
    received = event_receive(
        handler=handler,
        body=json.dumps(_test_message(handler)).encode(),
        headers={"X-Console": "test event"},
    )
    messages.success(request, _("A test event was stored: #%(id)s.") % {"id": received.event.pk})
    return redirect("webhooks:event", received.event.pk)


@admin_only
@require_POST
def handler_rotate_view(request: HtmxHttpRequest, handler_id: int) -> HttpResponse:
    """A new password at once; the ApiUrl with it is shown once, on the handler's page."""
    handler = Handler.objects.filter(pk=handler_id).first()
    if handler is None:
        return not_found(request)
    request.session[NEW_API_URL.format(handler.pk)] = handler_rotate(handler=handler)
    messages.success(
        request,
        _(
            "The handler has a new password: the old one is refused from now on. Send "
            "MiniCRM's helpdesk the new ApiUrl."
        ),
    )
    return redirect("webhooks:handler", handler.pk)


@admin_only
def handler_delete_view(request: HtmxHttpRequest, handler_id: int) -> HttpResponse:
    """Ask first; deleting removes the handler's actions and events too."""
    handler = Handler.objects.filter(pk=handler_id).first()
    if handler is None:
        return not_found(request)
    if request.method == "POST":
        name = handler.name
        deleted = handler_delete(handler=handler)
        messages.success(
            request,
            ngettext(
                "The handler %(name)s was deleted with its %(count)s event.",
                "The handler %(name)s was deleted with its %(count)s events.",
                deleted,
            )
            % {"name": name, "count": deleted},
        )
        return redirect("webhooks:handlers")
    return render(
        request,
        "webhooks/handler_delete.html",
        {"handler": handler, "events": handler.events.count()},
    )


@admin_only
def events(request: HtmxHttpRequest) -> HttpResponse:
    params = request.GET
    handler_id = parse_id(params.get("handler", ""))
    object_type = params.get("type", "") if params.get("type") in ("Project", "Contact") else ""
    object_id = parse_id(params.get("object_id", ""), allow_zero=True)
    status = params.get("status", "") if params.get("status") in Event.Status.values else ""
    listed = event_list(
        handler_id=handler_id, object_type=object_type, object_id=object_id, status=status
    )
    return render(
        request,
        "webhooks/events.html",
        {
            "events": listed[:200],
            "filtered": bool(handler_id or object_type or object_id is not None or status),
            "handlers": handler_list(),
            "statuses": Event.Status.choices,
            "params": params,
        },
    )


@admin_only
def event_page(request: HtmxHttpRequest, event_id: int) -> HttpResponse:
    event = Event.objects.select_related("handler").filter(pk=event_id).first()
    if event is None:
        return not_found(request)
    pretty = json.dumps(event.message, indent=2, ensure_ascii=False) if event.message else ""
    return render(
        request,
        "webhooks/event.html",
        {"view": event_view(event=event), "event": event, "pretty": pretty},
    )


@admin_only
@require_POST
def event_replay_view(request: HtmxHttpRequest, event_id: int) -> HttpResponse:
    if not Event.objects.filter(pk=event_id).exists():
        return not_found(request)
    event_replay(event_id=event_id)
    messages.success(request, _("The event will be processed again."))
    return redirect("webhooks:event", event_id)
