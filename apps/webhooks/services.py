"""Webhooks: store each delivery first, process it later, and keep handlers loop-safe.

`event_receive` is what the receiver view calls: it stores the delivery (raw body, headers
without Authorization) and, after commit, starts a task. `event_process` runs a handler's
actions for one event: refresh the console's cached view of the object (always), then the
admin's actions in order. Duplicate deliveries and echoes of the console's own writes are
recorded and not acted on. Failures keep their traceback and are retried with backoff, then
parked as failed; what retrying cannot fix (a message of the wrong shape, a function that is
not allowed) fails at once. Every event ends processed, ignored or failed within
MAX_ATTEMPTS; any event can be replayed.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib
import json
import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import requests
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from apps.cards.services import card_update
from apps.contacts.services import contact_update
from apps.core.http import parse_id
from apps.core.readcache import forget_object
from apps.core.storable import json_mended, text_mended
from apps.todos.services import todo_create
from apps.webhooks.models import Action, Event, Handler, new_password
from apps.webhooks.outbound import ForwardRefused, forward_problem, guarded_session
from apps.writes.models import Write

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
IGNORED_CHANGES = {"UpdatedAt", "UpdatedBy"}  # MiniCRM adds these to every change
TARGET_TYPES = {"Project": "project", "Contact": "contact"}
MAX_NESTING = 32  # MiniCRM's messages are three levels deep


class Unprocessable(Exception):
    """What retrying cannot fix: the event fails at once, with this as its reason."""


def _nesting(value: Any) -> int:
    """How deep lists and objects nest in a parsed JSON value (without recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if depth <= MAX_NESTING:
                children = item.values() if isinstance(item, dict) else item
                stack.extend((child, depth + 1) for child in children)
    return deepest


def message_problem(message: Any) -> str | None:
    """Why a message can never be processed, or None when it has the shape MiniCRM sends."""
    if not isinstance(message, dict):
        return "The message is not a JSON object."
    if "Id" not in message or "Type" not in message:
        return "The message has no Id or no Type."
    if _nesting(message) > MAX_NESTING:
        return "The message is nested too deeply."
    if parse_id(message["Id"], allow_zero=True) is None:
        return f"Id is not a MiniCRM id: {str(message['Id'])[:40]!r}."
    if not isinstance(message["Type"], str):
        return "Type is not text."
    data = message.get("Data")
    if data is not None and not isinstance(data, dict):
        return "Data is not a JSON object."
    changed = message.get("Changed")
    if changed is not None and (
        not isinstance(changed, list) or not all(isinstance(name, str) for name in changed)
    ):
        return "Changed is not a list of field names."
    category = (data or {}).get("CategoryId")
    if category not in (None, "") and parse_id(category, allow_zero=True) is None:
        return f"Data.CategoryId is not a MiniCRM id: {str(category)[:40]!r}."
    if not isinstance((data or {}).get("Type", ""), str):
        return "Data.Type is not text."
    return None


# -- receiving --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    event: Event
    status_code: int  # what the receiver answers MiniCRM


def dedupe_key(message: Any) -> str:
    """The same message retried has the same key (MiniCRM resends it unchanged)."""
    canonical = json.dumps(message, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def event_receive(*, handler: Handler, body: bytes, headers: dict[str, str]) -> Received:
    """Store one delivery durably; answer 200 for a stored message, 400 for a malformed one."""
    safe_headers = {
        k: v for k, v in headers.items() if k.lower() not in ("authorization", "cookie")
    }
    # PostgreSQL stores no NUL (nor, in JSON, a lone surrogate) where SQLite did: they become
    # U+FFFD, like the bytes that are not UTF-8.
    text = text_mended(body.decode("utf-8", errors="replace"))
    try:
        message = json_mended(json.loads(text))
        problem = message_problem(message)
    except ValueError:
        problem = "The body is not JSON."
    except RecursionError:
        problem = "The message is nested too deeply."
    if problem:
        event = Event.objects.create(
            handler=handler,
            headers=safe_headers,
            body=text,
            status=Event.Status.MALFORMED,
            last_error=problem,
        )
        return Received(event, 400)
    fields = {
        "handler": handler,
        "headers": safe_headers,
        "body": text,
        "message": message,
        "object_type": message["Type"][:10],
        "object_id": parse_id(message["Id"], allow_zero=True),
        "changed": list(message.get("Changed") or []),
    }
    key = dedupe_key(message)
    try:
        with transaction.atomic():
            event = Event.objects.create(dedupe_key=key, **fields)
            # Stored is what MiniCRM needs to hear: if the broker is down, the sweep starts
            # the processing later (robust: the failure is logged, the answer stays 200).
            transaction.on_commit(lambda: _start(event.pk), robust=True)
    except IntegrityError:
        event = Event.objects.create(status=Event.Status.DUPLICATE, **fields)
    return Received(event, 200)


def _start(event_id: int, countdown: float = 0) -> None:
    from apps.webhooks.tasks import process_event

    process_event.apply_async((event_id,), countdown=countdown)


# -- processing -------------------------------------------------------------------------------


def event_process(event_id: int) -> str:
    """Run the handler's actions for one event (if it is due); return the event's status.

    The event is claimed for WEBHOOK_PROCESSING_SECONDS first (its next attempt is due only
    then), so a second task for it (a redelivered message, the sweep) leaves it alone while
    this one runs its actions; if this worker dies, the sweep starts it again after that.
    """
    with transaction.atomic():
        # Only the event's row: locking its handler's too (what FOR UPDATE over the join does
        # on PostgreSQL) would hold up the handler's other events and new deliveries.
        event = (
            Event.objects.select_for_update(of=("self",)).select_related("handler").get(pk=event_id)
        )
        now = timezone.now()
        if event.status != Event.Status.RECEIVED:
            return event.status
        if event.next_attempt_at and event.next_attempt_at > now:
            return event.status
        if event.attempts >= MAX_ATTEMPTS:  # the last tries never finished (worker lost)
            event.status = Event.Status.FAILED
            event.next_attempt_at = None
            event.last_error = (
                f"Given up: the processing did not finish in {event.attempts} attempts."
            )
            event.save(update_fields=["status", "next_attempt_at", "last_error"])
            return event.status
        event.attempts += 1
        event.next_attempt_at = now + timedelta(seconds=settings.WEBHOOK_PROCESSING_SECONDS)
        event.save(update_fields=["attempts", "next_attempt_at"])
    results: list[Any] = []
    forwards: list[str] = []
    try:
        problem = message_problem(event.message)
        if problem:  # stored before the receiver checked shapes, or changed since
            raise Unprocessable(problem)
        target_type = TARGET_TYPES.get(event.object_type)
        if target_type and event.object_id:
            forget_object(target_type, event.object_id)  # always: the console shows fresh data
            _mirror(event)
        verdict = _verdict(event)
        if verdict is not None:
            return _settle(event, verdict)
        for action in event.handler.actions.all():
            results.append({"action": action.kind, "result": _run(action, event, forwards)})
    except Unprocessable as error:
        return _failed(event, error, results, permanent=True)
    except Exception as error:  # any action may fail: keep it, retry, then park it
        return _failed(event, error, results)
    event.results = results
    status = _settle(event, Event.Status.PROCESSED)
    # Forwarded once the results are saved: each try appends its own entry to them.
    from apps.webhooks.tasks import forward_event

    for url in forwards:
        forward_event.delay(event.pk, url)
    return status


def _mirror(event: Event) -> None:
    """Every Project or Contact event updates the mirror from its Data, whatever the handler."""
    data = (event.message or {}).get("Data")
    if settings.MIRROR_ENABLED and isinstance(data, dict) and event.object_id:
        from apps.mirror.services import webhook_apply

        webhook_apply(object_type=event.object_type, object_id=event.object_id, data=data)


def _verdict(event: Event) -> str | None:
    """Why an event is not acted on (filter or echo), or None to act on it."""
    handler = event.handler
    data = (event.message or {}).get("Data") or {}
    if not handler.enabled or event.object_type != handler.type:
        return Event.Status.FILTERED
    if (
        handler.type == "Project"
        and handler.category_id
        and parse_id(data.get("CategoryId")) != handler.category_id
    ):
        return Event.Status.FILTERED
    changed = set(event.changed) - IGNORED_CHANGES
    if not changed:  # nothing but UpdatedAt: no field changed
        return Event.Status.FILTERED
    if handler.fields and not changed & set(handler.fields):
        return Event.Status.FILTERED
    if changed <= _recently_written(event):
        return Event.Status.ECHO
    return None


def _recently_written(event: Event) -> set[str]:
    """The fields the console's automations wrote to this object moments ago.

    Only writes no person asked for (handler actions, Python automations): a change someone
    made in the console is news that handlers react to, like one made in MiniCRM. A write
    still "sending" counts too: MiniCRM may post the change before the worker that sent it
    has recorded MiniCRM's answer.
    """
    target_type = TARGET_TYPES.get(event.object_type)
    if not target_type or event.object_id is None:
        return set()
    since = timezone.now() - timedelta(seconds=settings.WEBHOOK_ECHO_SECONDS)
    fields: set[str] = set()
    for write in Write.objects.filter(
        Q(state=Write.State.DONE, done_at__gte=since) | Q(state=Write.State.SENDING),
        target_type=target_type,
        target_id=event.object_id,
        requested_by__isnull=True,
    ):
        fields |= set(write.payload)
    return fields


def _run(action: Action, event: Event, forwards: list[str]) -> Any:
    config = action.config or {}
    object_id = event.object_id
    if action.kind in (Action.Kind.CREATE_TODO, Action.Kind.SET_FIELDS) and not object_id:
        return "skipped: a test event, nothing is written to MiniCRM"
    if action.kind == Action.Kind.CREATE_TODO:
        deadline = timezone.localtime() + timedelta(days=int(config.get("days") or 0))
        values = {
            "Comment": config.get("comment") or event.handler.name,
            "Deadline": deadline.strftime("%Y-%m-%d %H:%M:%S"),
        }
        if config.get("owner"):
            values["UserId"] = int(config["owner"])
        created = todo_create(project_id=int(object_id or 0), values=values)
        return {"write": created.pk}
    if action.kind == Action.Kind.SET_FIELDS:
        values = config.get("values") or {}
        if event.object_type == "Project":
            category = parse_id(((event.message or {}).get("Data") or {}).get("CategoryId"))
            write = card_update(
                card_id=int(object_id or 0), category_id=category or 0, changes=values
            )
        else:
            contact_type = str(((event.message or {}).get("Data") or {}).get("Type") or "Person")
            write = contact_update(
                contact_id=int(object_id or 0), contact_type=contact_type, changes=values
            )
        return {"write": write.pk if write else None}
    if action.kind == Action.Kind.FORWARD:
        forwards.append(str(config.get("url", "")))
        return {"forward": "queued"}
    if action.kind == Action.Kind.PYTHON:
        function = python_function(str(config.get("path", "")))
        return repr(function(event=event, message=event.message))[:2000]
    raise Unprocessable(f"unknown action {action.kind}")


def python_function(path: str) -> Callable[..., Any]:
    """The function at a dotted path, if WEBHOOK_PYTHON_FUNCTIONS allows it.

    Unprocessable when it is not allowed or not a function; ImportError (retried: a deploy
    may be under way) when its module cannot be imported.
    """
    if path not in settings.WEBHOOK_PYTHON_FUNCTIONS:
        raise Unprocessable(
            gettext(
                "%(path)s is not in WEBHOOK_PYTHON_FUNCTIONS: only the functions listed there run."
            )
            % {"path": path}
        )
    module_name, _, function_name = path.rpartition(".")
    function = getattr(importlib.import_module(module_name), function_name, None)
    if not callable(function):
        raise Unprocessable(gettext("%(path)s is not a function.") % {"path": path})
    return function


def _settle(event: Event, status: str) -> str:
    event.status = status
    event.processed_at = timezone.now()
    event.next_attempt_at = None
    event.last_error = ""
    event.save(update_fields=["status", "processed_at", "next_attempt_at", "results", "last_error"])
    return status


def _failed(event: Event, error: Exception, results: list[Any], permanent: bool = False) -> str:
    event.results = results
    # An action's error may quote anything (an external answer): PostgreSQL stores no NUL.
    event.last_error = text_mended(
        f"Cannot be processed: {error}" if permanent else f"{type(error).__name__}: {error}"
    )[:2000]
    event.traceback = text_mended(traceback.format_exc()[-20000:])
    if permanent or event.attempts >= MAX_ATTEMPTS:
        event.status = Event.Status.FAILED
        event.next_attempt_at = None
        event.save()
        log.error("webhook event %s failed for good: %s", event.pk, event.last_error)
        return event.status
    delay = min(300, 5 * 2 ** (event.attempts - 1))
    event.next_attempt_at = timezone.now() + timedelta(seconds=delay)
    event.save()
    log.warning("webhook event %s failed (%s); retrying in %s s", event.pk, error, delay)
    _start(event.pk, countdown=delay)
    return event.status


def event_replay(*, event_id: int) -> Event:
    """Process an event again from the start (its actions run again)."""
    event = Event.objects.get(pk=event_id)
    event.status = Event.Status.RECEIVED
    event.attempts = 0
    event.next_attempt_at = None
    event.results = []
    event.last_error = event.traceback = ""
    event.save()
    transaction.on_commit(lambda: _start(event.pk), robust=True)  # else the sweep starts it
    return event


def events_sweep() -> int:
    """Start processing of received events whose task was lost or whose retry is due."""
    stale = timezone.now() - timedelta(seconds=settings.WEBHOOK_STALE_SECONDS)
    due = Event.objects.filter(status=Event.Status.RECEIVED, received_at__lt=stale).exclude(
        next_attempt_at__gt=timezone.now()
    )
    ids = list(due.values_list("pk", flat=True)[:200])
    for event_id in ids:
        _start(event_id)
    return len(ids)


def events_purge() -> int:
    cutoff = timezone.now() - timedelta(days=settings.WEBHOOK_RETENTION_DAYS)
    deleted, _ = Event.objects.filter(received_at__lt=cutoff).delete()
    return deleted


def event_forward(*, event_id: int, url: str) -> int:
    """POST the message on to an external URL; raise on anything but 2xx (the task retries).

    The address is checked again here, and the connection's own peer too (a name may resolve
    to another address by now): a refused address is logged and not retried.
    """
    event = Event.objects.get(pk=event_id)
    entry: dict[str, Any] = {"url": url, "at": timezone.now().isoformat()}
    allow_private = settings.WEBHOOK_FORWARD_ALLOW_PRIVATE
    problem = forward_problem(url, allow_private=allow_private, unresolvable_ok=True)
    if problem:
        _log_forward(event_id, {**entry, "status": None, "error": problem})
        return 0
    try:
        with guarded_session(allow_private=allow_private) as session:
            answer = session.post(
                url,
                data=event.body.encode("utf-8"),
                timeout=10,
                headers={"Content-Type": "application/json"},
            )
    except ForwardRefused as error:
        _log_forward(event_id, {**entry, "status": None, "error": str(error)})
        return 0
    except requests.RequestException as error:
        _log_forward(event_id, {**entry, "status": None, "error": type(error).__name__})
        raise
    _log_forward(event_id, {**entry, "status": answer.status_code})
    answer.raise_for_status()
    return answer.status_code


def _log_forward(event_id: int, entry: dict[str, Any]) -> None:
    """Append one try to the event's results (locked: tries may overlap with a replay)."""
    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=event_id)
        event.results = [*event.results, {"forward": entry}]
        event.save(update_fields=["results"])


# -- handlers ---------------------------------------------------------------------------------


def loop_risk(*, handler_fields: list[str], actions: list[dict[str, Any]]) -> list[str]:
    """Fields a handler's own actions would write that its filter watches: a loop."""
    watched = set(handler_fields)
    written: set[str] = set()
    for action in actions:
        if action.get("kind") == Action.Kind.SET_FIELDS:
            written |= set((action.get("config") or {}).get("values") or {})
    if not watched:
        return sorted(written)  # watching every field: any write comes back
    return sorted(watched & written)


def api_url(handler: Handler, password: str | None = None) -> str:
    """The ApiUrl to give MiniCRM's helpdesk; without the password (only its hash is kept) a
    placeholder stands in its place."""
    scheme, _, rest = settings.CONSOLE_BASE_URL.partition("://")
    secret = password if password is not None else PASSWORD_PLACEHOLDER
    return f"{scheme}://{handler.username}:{secret}@{rest}/hooks/{handler.slug}/"


PASSWORD_PLACEHOLDER = "<password>"  # noqa: S105 - shown in place of the one not kept

# Password hash -> HMAC of the password that matched it, so that a handler's deliveries pay
# for the (deliberately slow) password hasher once per process, not once per message.
_verified: dict[str, bytes] = {}


def handler_authenticate(*, handler: Handler, username: str, password: str) -> bool:
    """Are these the handler's credentials? Compared in constant time."""
    if not hmac.compare_digest(username.encode(), handler.username.encode()):
        return False
    digest = hmac.new(settings.SECRET_KEY.encode(), password.encode(), hashlib.sha256).digest()
    known = _verified.get(handler.password_hash)
    if known is not None:
        return hmac.compare_digest(known, digest)
    if not handler.check_password(password):
        return False
    if len(_verified) >= 1000:
        _verified.clear()
    _verified[handler.password_hash] = digest
    return True


def handler_credentials_new(*, handler: Handler) -> str:
    """Give a handler a new password (kept as a hash); return it, to be shown once."""
    password = new_password()
    handler.set_password(password)
    return password


def handler_rotate(*, handler: Handler) -> str:
    """A new password at once (the old one is refused from now on); return the new ApiUrl.

    With the sandbox as backend, its subscription moves to the new ApiUrl.
    """
    password = handler_credentials_new(handler=handler)
    handler.save(update_fields=["password_hash"])
    sandbox_register(handler=handler, password=password)
    return api_url(handler, password)


def handler_delete(*, handler: Handler) -> int:
    """Delete a handler with its actions and events; return how many events went with it."""
    events = handler.events.count()
    sandbox_unregister(handler=handler)
    handler.delete()
    return events


def _sandbox_hooks(handler: Handler) -> list[dict[str, Any]] | None:
    """The sandbox's subscriptions of this handler (found by its user name), or None when the
    backend is not a sandbox."""
    base = settings.MINICRM_BASE_URL
    auth = (settings.MINICRM_SYSTEM_ID, settings.MINICRM_API_KEY)
    if requests.get(f"{base}/_sandbox/health", timeout=3).status_code != 200:
        return None
    listed = requests.get(f"{base}/_sandbox/webhooks", auth=auth, timeout=5)
    listed.raise_for_status()
    return [
        hook for hook in listed.json() if f"//{handler.username}:" in str(hook.get("ApiUrl", ""))
    ]


def sandbox_register(*, handler: Handler, password: str | None = None) -> bool:
    """With the sandbox as backend, subscribe the handler there (MiniCRM needs its helpdesk).

    With a new password (creation, rotation) the ApiUrl carries it; without one, an existing
    subscription is replaced with the new filter and keeps its ApiUrl (the console does not
    know the password any more).
    """
    base = settings.MINICRM_BASE_URL
    auth = (settings.MINICRM_SYSTEM_ID, settings.MINICRM_API_KEY)
    try:
        hooks = _sandbox_hooks(handler)
        if hooks is None:
            return False
        if password is not None:
            url = api_url(handler, password)
        elif hooks:
            # The old ApiUrl's credentials, at the handler's current address.
            credentials = str(hooks[0]["ApiUrl"]).split("://", 1)[1].split("@", 1)[0]
            url = api_url(handler, credentials.partition(":")[2])
        else:
            return False
        for hook in hooks:  # a handler saved again replaces its subscription
            requests.delete(f"{base}/_sandbox/webhooks/{hook['Id']}", auth=auth, timeout=5)
        answer = requests.post(
            f"{base}/_sandbox/webhooks",
            auth=auth,
            timeout=5,
            json={
                "Type": handler.type,
                "CategoryId": handler.category_id,
                "Fields": handler.fields,
                "ApiUrl": url,
            },
        )
    except (requests.RequestException, ValueError, KeyError, IndexError):
        return False
    return answer.status_code == 200


def sandbox_unregister(*, handler: Handler) -> None:
    """With the sandbox as backend, end the handler's subscriptions there."""
    base = settings.MINICRM_BASE_URL
    auth = (settings.MINICRM_SYSTEM_ID, settings.MINICRM_API_KEY)
    try:
        for hook in _sandbox_hooks(handler) or []:
            requests.delete(f"{base}/_sandbox/webhooks/{hook['Id']}", auth=auth, timeout=5)
    except (requests.RequestException, ValueError, KeyError):
        pass
