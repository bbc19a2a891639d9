"""The outbox: every change the console makes to MiniCRM, kept until MiniCRM has it.

A `Write` is stored in the same transaction as whatever else the change records, and sent by
a Celery task after commit. Writes to one object are sent one at a time, in the order they
were made (their ids). `reference` identifies a write to MiniCRM (a card's ReferenceId) so
a create that may have reached MiniCRM before a crash can be found instead of sent twice.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# What a bulk job does, by its summary's action, read in the viewer's language.
BULK_TITLES = {
    "status": _("Status to “%(label)s” on %(count)d cards"),
    "owner": _("Owner to “%(label)s” on %(count)d cards"),
    "field": _("%(field)s to “%(value)s” on %(count)d cards"),
}

# A write's object, by its target type: with its id, and before a create has one.
TARGET_LABELS = {
    "project": _("card #%(id)s"),
    "contact": _("contact #%(id)s"),
    "order": _("order #%(id)s"),
    "todo": _("to-do #%(id)s"),
}
NEW_TARGET_LABELS = {
    "project": _("new card"),
    "contact": _("new contact"),
    "order": _("new order"),
    "todo": _("new to-do"),
}


class BulkJob(models.Model):
    """One change applied to many objects: its writes share the job, for progress and ETA."""

    # The title as it read when the job was made, in its maker's language: shown for jobs made
    # before `summary` existed.
    description = models.CharField(max_length=300)
    # What the job does, as parts ({"action": "status", "label": ..., "count": ...}): the
    # title is made from them when shown, in the viewer's language.
    summary = models.JSONField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now)
    total = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.title

    @property
    def title(self) -> str:
        """What the job does, in the active language."""
        return bulk_job_title(self.summary) or self.description


def bulk_job_title(summary: dict[str, object] | None) -> str:
    """A bulk job's title from its summary's parts, in the active language ("" if unknown)."""
    if not summary or summary.get("action") not in BULK_TITLES:
        return ""
    template = BULK_TITLES[str(summary["action"])]
    parts = {name: summary.get(name, "") for name in ("label", "field", "value")}
    try:
        return str(template) % {**parts, "count": int(str(summary.get("count", 0)))}
    except (TypeError, ValueError):
        return ""


class Write(models.Model):
    class State(models.TextChoices):
        QUEUED = "queued", _("queued")
        SENDING = "sending", _("sending")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")
        CONFLICT = "conflict", _("conflict")
        DISCARDED = "discarded", _("discarded")

    class Kind(models.TextChoices):
        PROJECT_CREATE = "project.create", _("create card")
        PROJECT_UPDATE = "project.update", _("change card")
        CONTACT_CREATE = "contact.create", _("create contact")
        CONTACT_UPDATE = "contact.update", _("change contact")
        CONTACT_PURGE = "contact.purge", _("delete person")
        TODO_CREATE = "todo.create", _("create to-do")
        TODO_UPDATE = "todo.update", _("change to-do")
        ORDER_CREATE = "order.create", _("create order")
        ORDER_MODIFY = "order.modify", _("change order")
        ORDER_DELETE_ITEM = "order.delete_item", _("remove order item")
        ORDER_CUSTOM_FIELDS = "order.custom_fields", _("change order fields")
        ORDER_FINALIZE = "order.finalize", _("finalize order")
        ORDER_EDIT = "order.edit", _("order back to draft")
        ORDER_COMPLETE = "order.complete", _("complete order")
        ORDER_PAID = "order.paid", _("mark order paid")
        ORDER_STORNO = "order.storno", _("cancel order (storno)")

    # States in which a write still holds back the later writes to the same object.
    OPEN_STATES = (State.QUEUED, State.SENDING, State.FAILED, State.CONFLICT)
    PENDING_STATES = (State.QUEUED, State.SENDING)

    reference = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # The one-time key of the create form that made this write ("<user id>:<key>"): the same
    # form sent twice (Back and Save, a double click) finds this write instead of a second one.
    idempotency_key = models.CharField(
        max_length=80, unique=True, null=True, blank=True, editable=False
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    target_type = models.CharField(max_length=16)  # project, contact, todo, order
    target_id = models.BigIntegerField(null=True, blank=True)  # set for creates once done
    payload = models.JSONField(default=dict, blank=True)  # only the fields that change
    seen = models.JSONField(null=True, blank=True)  # what the user saw of those fields
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    uncertain = models.BooleanField(default=False)  # an attempt may have reached MiniCRM
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="minicrm_writes",
    )
    job = models.ForeignKey(
        BulkJob, null=True, blank=True, on_delete=models.SET_NULL, related_name="writes"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    sending_since = models.DateTimeField(null=True, blank=True)
    # When the first attempt started: anything it may have created is no older than this.
    first_attempt_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    error_field = models.CharField(max_length=100, blank=True)
    result = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["target_type", "target_id", "state"]),
            models.Index(fields=["state", "next_attempt_at"]),
            models.Index(fields=["requested_by", "state"]),
        ]

    def __str__(self) -> str:
        target = self.target_id if self.target_id is not None else "new"
        return f"{self.get_kind_display()} {self.target_type} {target} ({self.state})"

    @property
    def target_label(self) -> str:
        """The object the write changes, as people read it: "card #2056", "new order"."""
        if self.target_id is None:
            label = NEW_TARGET_LABELS.get(self.target_type)
            return str(label) if label is not None else self.target_type
        template = TARGET_LABELS.get(self.target_type)
        if template is None:
            return f"{self.target_type} #{self.target_id}"
        return str(template) % {"id": self.target_id}

    @property
    def lock_key(self) -> str:
        """Writes to one object are sent one at a time; a create is its own object until done."""
        if self.target_id is None:
            return f"{self.target_type}:new:{self.reference}"
        return f"{self.target_type}:{self.target_id}"
