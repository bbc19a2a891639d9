"""What a form tells the user after queuing a change: saved, refused (and why), or queued.

Forms wait a moment for the write queue: when MiniCRM answers quickly the user sees its answer
in place (its message next to the field it names); otherwise the change is queued and the page
says when it is expected to reach MiniCRM. Nothing the user typed is lost either way.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.core.schema_forms import SchemaForm
from apps.writes.models import Write
from apps.writes.selectors import write_eta, write_wait
from apps.writes.services import QUEUE_UNREACHABLE as QUEUE_UNREACHABLE_ERROR
from apps.writes.services import write_discard
from minicrm.resources.schema import SchemaValidationError

QUEUE_UNREACHABLE = gettext_lazy(
    "Saved and queued, but the queue cannot be reached right now: the change will be sent to "
    "MiniCRM when the queue is back."
)


@dataclass(frozen=True)
class Outcome:
    write: Write
    eta: float = 0.0

    @property
    def done(self) -> bool:
        return self.write.state == Write.State.DONE

    @property
    def refused(self) -> bool:
        return self.write.state in (Write.State.FAILED, Write.State.CONFLICT)

    @property
    def queued(self) -> bool:
        return self.write.state in Write.PENDING_STATES

    @property
    def waiting_for_queue(self) -> bool:
        """Stored, but no task could be started (the queue, Redis, is unreachable): beat's
        sweep sends it once the queue is back."""
        return self.queued and self.write.last_error == QUEUE_UNREACHABLE_ERROR

    @property
    def field(self) -> str:
        if self.write.state == Write.State.CONFLICT:
            names = list(((self.write.result or {}).get("conflict") or {}).keys())
            return names[0] if names else ""
        return self.write.error_field

    @property
    def message(self) -> str:
        if self.write.state == Write.State.CONFLICT:
            clashes = (self.write.result or {}).get("conflict") or {}
            parts = [
                _("%(field)s was changed in MiniCRM to “%(now)s” since you opened it.")
                % {"field": name, "now": _shown(clash.get("now"))}
                for name, clash in clashes.items()
            ]
            return " ".join(parts) + " " + _("Save again to keep yours, or take theirs.")
        return self.write.last_error


def outcome_of(write: Write, *, wait: float | None = None) -> Outcome:
    """Wait a little for the write; a refused write is discarded, as the form shows it."""
    seconds = settings.WRITE_WAIT_SECONDS if wait is None else wait
    settled = write_wait(write_id=write.pk, seconds=seconds)
    if settled.state in (Write.State.FAILED, Write.State.CONFLICT):
        write_discard(write_id=settled.pk)
    eta = write_eta(write=settled) if settled.state in Write.PENDING_STATES else 0.0
    return Outcome(settled, eta)


# -- undo ---------------------------------------------------------------------------------------

UNDO_SESSION_KEY = "undo_offer"


def one_click(
    request: HttpRequest, queue: Callable[[float], Write | None], done: str
) -> Outcome | None:
    """Queue a one-click change held for UNDO_SECONDS and offer Undo on the pages until then
    (with no hold, wait for it and announce how it went, as a form does). `queue` calls the
    service with the hold; None when nothing changed."""
    hold = float(settings.UNDO_SECONDS)
    write = queue(hold)
    if write is None:
        return None
    if hold <= 0:
        outcome = outcome_of(write)
        announce(request, outcome, done)
        return outcome
    request.session[UNDO_SESSION_KEY] = {
        "write": write.pk,
        "text": str(done),
        "until": write.next_attempt_at.timestamp(),
    }
    return Outcome(write)


@dataclass(frozen=True)
class UndoOffer:
    """The person's last one-click change, still waiting out its hold: Undo discards it."""

    write_id: int
    text: str
    until: datetime

    @property
    def seconds_left(self) -> int:
        return max(1, math.ceil((self.until - timezone.now()).total_seconds()))


def undo_offer(request: HttpRequest) -> UndoOffer | None:
    """The Undo the pages offer, while its write waits unsent; None (and forgotten) after."""
    offer = request.session.get(UNDO_SESSION_KEY)
    if not isinstance(offer, dict):
        return None
    until = datetime.fromtimestamp(float(offer.get("until") or 0), tz=UTC)
    write_id = int(offer.get("write") or 0)
    waiting = Write.objects.filter(pk=write_id, state=Write.State.QUEUED, attempts=0).exists()
    if until <= timezone.now() or not waiting:
        request.session.pop(UNDO_SESSION_KEY, None)
        return None
    return UndoOffer(write_id, str(offer.get("text") or ""), until)


def undo_forget(request: HttpRequest) -> None:
    request.session.pop(UNDO_SESSION_KEY, None)


def announce(request: HttpRequest, outcome: Outcome, done: str) -> None:
    """Tell the user how their change went, as a message on the next page."""
    if outcome.done:
        messages.success(request, done)
    elif outcome.waiting_for_queue:
        messages.warning(request, QUEUE_UNREACHABLE)
    elif outcome.queued:
        messages.info(
            request,
            _("Saved and queued: expected in MiniCRM in about %(seconds)d s.")
            % {"seconds": max(1, round(outcome.eta))},
        )
    else:
        messages.error(
            request, _("MiniCRM refused the change: %(reason)s") % {"reason": outcome.message}
        )


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return "" if value is None else str(value)


def _offer_resolution(form: SchemaForm, outcome: Outcome) -> None:
    """After a conflict the form offers "keep mine" and "take theirs": what the user now saw
    of the clashing fields is MiniCRM's current value, so saving again overwrites it (and is
    no conflict), and the page read afresh shows MiniCRM's value (its cache was forgotten)."""
    clashes = (outcome.write.result or {}).get("conflict") or {}
    form.conflict = []
    for name, clash in clashes.items():
        form.raw_values[name] = clash.get("now")
        field = form.fields.get(name)
        form.conflict.append(
            {
                "field": name,
                "label": str(field.label) if field is not None and field.label else name,
                "now": _shown(clash.get("now")),
                "mine": _shown(clash.get("mine")),
            }
        )


def save_through_queue(
    request: HttpRequest, form: SchemaForm, queue: Callable[[], Write | None], done: str
) -> Outcome | None:
    """Queue a form's change and report it; None when the form is to be shown again.

    `queue` calls the service. The schema's objections and MiniCRM's refusal are put next to
    the fields they name (the form keeps what the user typed); otherwise the user is told the
    change was saved or queued, and the outcome is returned for the view to move on.
    """
    try:
        write = queue()
    except SchemaValidationError as error:
        form.add_api_errors(error.errors)
        return None
    if write is None:  # nothing to change
        return Outcome(Write(state=Write.State.DONE))
    outcome = outcome_of(write)
    if outcome.write.state == Write.State.CONFLICT:
        _offer_resolution(form, outcome)
    if outcome.refused:
        form.add_api_errors({outcome.field: outcome.message})
        return None
    announce(request, outcome, done)
    return outcome
