"""The mirror's webhooks: two handlers whose events update the mirror at once (cards of any
module, and contacts), and, when the backend is the sandbox, their subscriptions there.

A real MiniCRM subscribes webhooks through its helpdesk: the handlers are made, and an
administrator sends the helpdesk their ApiUrls (shown once after "Change the password" on each
handler's page). Every Project or Contact event updates the mirror whatever its handler
(apps/webhooks/services.py), so these handlers need no actions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings

from apps.webhooks.models import Handler
from apps.webhooks.services import (
    api_url,
    handler_authenticate,
    handler_credentials_new,
    handler_rotate,
    sandbox_register,
)

# (address, name, type) of the mirror's handlers.
MIRROR_HANDLERS = (
    ("mirror-cards", "Mirror: cards", Handler.Type.PROJECT),
    ("mirror-contacts", "Mirror: contacts", Handler.Type.CONTACT),
)


class BackendUnreachable(Exception):
    """MINICRM_BASE_URL does not answer: whether it is the sandbox cannot be told."""


@dataclass(frozen=True)
class Subscription:
    handler: Handler
    created: bool  # the handler was made just now
    # In the sandbox: "kept" (already subscribed as it should be), "subscribed" (new, or
    # replaced with a new password), "failed", or "" when the backend is not the sandbox.
    sandbox: str
    webhook_id: int | None = None  # the sandbox's subscription


def _base() -> str:
    return str(settings.MINICRM_BASE_URL).rstrip("/")


def _auth() -> tuple[str, str]:
    return (settings.MINICRM_SYSTEM_ID, settings.MINICRM_API_KEY)


def sandbox_backend() -> bool:
    """Whether MINICRM_BASE_URL is the sandbox (it answers /_sandbox/health)."""
    try:
        answer = requests.get(f"{_base()}/_sandbox/health", timeout=3)
    except requests.RequestException as error:
        raise BackendUnreachable(type(error).__name__) from None
    return answer.status_code == 200


def _handler_ensure(slug: str, name: str, kind: str) -> tuple[Handler, str | None, bool]:
    """The handler at /hooks/<slug>/ with the mirror's filter (any module, any field): made
    with a new password when missing (returned), its filter put right when changed."""
    handler = Handler.objects.filter(slug=slug).first()
    if handler is None:
        handler = Handler(name=name, slug=slug, type=kind, category_id=None, fields=[])
        password = handler_credentials_new(handler=handler)
        handler.save()
        return handler, password, True
    changed = []
    if handler.type != kind:
        handler.type = kind
        changed.append("type")
    if handler.category_id is not None:
        handler.category_id = None
        changed.append("category_id")
    if handler.fields:
        handler.fields = []
        changed.append("fields")
    if changed:
        handler.save(update_fields=changed)
    return handler, None, False


def _address(url: str) -> str:
    """An ApiUrl without its credentials."""
    scheme, _sep, rest = url.partition("://")
    return f"{scheme}://{rest.rpartition('@')[2]}"


def _credentials(url: str) -> tuple[str, str]:
    rest = url.partition("://")[2]
    userinfo = rest.rpartition("@")[0]
    user, _sep, password = userinfo.partition(":")
    return user, password


def _hooks() -> list[dict[str, Any]]:
    listed = requests.get(f"{_base()}/_sandbox/webhooks", auth=_auth(), timeout=5)
    listed.raise_for_status()
    return [hook for hook in listed.json() if isinstance(hook, dict)]


def _as_it_should_be(handler: Handler, hook: dict[str, Any]) -> bool:
    """The subscription sends this handler's events, with its current password."""
    url = str(hook.get("ApiUrl", ""))
    user, password = _credentials(url)
    return (
        hook.get("Type") == handler.type
        and hook.get("CategoryId") is None
        and not hook.get("Fields")
        and _address(url) == _address(api_url(handler))
        and handler_authenticate(handler=handler, username=user, password=password)
    )


def _sandbox_ensure(handler: Handler, password: str | None) -> tuple[str, int | None]:
    """One subscription in the sandbox for the handler, at the console's current address."""
    try:
        hooks = _hooks()
        address = _address(api_url(handler))
        here = [h for h in hooks if _address(str(h.get("ApiUrl", ""))) == address]
        ours = [h for h in hooks if f"//{handler.username}:" in str(h.get("ApiUrl", ""))]
        if (
            password is None
            and len(here) == 1
            and len(ours) == 1
            and _as_it_should_be(handler, here[0])
        ):
            return "kept", int(here[0]["Id"])
        # Subscriptions at this address with other credentials (a handler of that address
        # made before, in a database since replaced) would only be refused: dropped.
        for hook in here:
            if hook not in ours:
                requests.delete(
                    f"{_base()}/_sandbox/webhooks/{int(hook['Id'])}", auth=_auth(), timeout=5
                )
        if password is not None:
            done = sandbox_register(handler=handler, password=password)
        else:  # the password of the old subscription is not known: a new one, subscribed
            handler_rotate(handler=handler)
            done = True
        now = [h for h in _hooks() if f"//{handler.username}:" in str(h.get("ApiUrl", ""))]
    except (requests.RequestException, ValueError, KeyError, TypeError):
        return "failed", None
    if not done or len(now) != 1:
        return "failed", None
    return "subscribed", int(now[0]["Id"])


def mirror_subscribe() -> list[Subscription]:
    """The mirror's two handlers, subscribed in the sandbox when it is the backend. Running
    it again changes nothing that is as it should be (one subscription each).

    Raises BackendUnreachable when MINICRM_BASE_URL does not answer."""
    sandbox = sandbox_backend()
    done = []
    for slug, name, kind in MIRROR_HANDLERS:
        handler, password, created = _handler_ensure(slug, name, kind)
        outcome, webhook_id = _sandbox_ensure(handler, password) if sandbox else ("", None)
        done.append(Subscription(handler, created, outcome, webhook_id))
    return done
