"""Webhook handlers (what admins set up), their actions, and every event MiniCRM sent.

Every delivery is stored before it is answered: the raw body and the headers (never the
Authorization header), valid or not. Processing happens later, in a Celery task, and can be
replayed from the event log.
"""

from __future__ import annotations

import secrets

from django.contrib.auth.hashers import check_password, make_password
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def new_username() -> str:
    return f"minicrm-{secrets.token_hex(4)}"


def new_password() -> str:
    return secrets.token_urlsafe(24)


class Handler(models.Model):
    class Type(models.TextChoices):
        PROJECT = "Project", _("Card (Project)")
        CONTACT = "Contact", _("Contact")

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("address"), unique=True, help_text=_("The end of /hooks/<address>/"))
    enabled = models.BooleanField(_("enabled"), default=True)
    type = models.CharField(_("type"), max_length=10, choices=Type.choices, default=Type.PROJECT)
    category_id = models.BigIntegerField(_("module"), null=True, blank=True)
    fields = models.JSONField(
        _("fields"),
        default=list,
        blank=True,
        help_text=_("React to changes of these fields; any field if empty."),
    )
    username = models.CharField(max_length=40, default=new_username, editable=False)
    # Only a hash (Django's password hashers): the password is shown once, at creation and
    # after a rotation, inside the ApiUrl.
    password_hash = models.CharField(max_length=128, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def set_password(self, raw: str) -> None:
        self.password_hash = make_password(raw)

    def check_password(self, raw: str) -> bool:
        """In constant time (the hasher's own comparison)."""
        return bool(self.password_hash) and check_password(raw, self.password_hash)


class Action(models.Model):
    class Kind(models.TextChoices):
        CREATE_TODO = "create_todo", _("Create a to-do on the card")
        SET_FIELDS = "set_fields", _("Set fields on the card or contact")
        FORWARD = "forward", _("Forward the message to a URL")
        PYTHON = "python", _("Run a Python function")

    handler = models.ForeignKey(Handler, on_delete=models.CASCADE, related_name="actions")
    position = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # create_todo: comment, owner (user id), days; set_fields: values {field: value};
    # forward: url; python: path (dotted).
    config = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.handler}: {self.get_kind_display()}"


class Event(models.Model):
    class Status(models.TextChoices):
        RECEIVED = "received", _("received")
        PROCESSED = "processed", _("processed")
        FAILED = "failed", _("failed")
        DUPLICATE = "duplicate", _("ignored: duplicate")
        ECHO = "echo", _("ignored: echo of our own change")
        FILTERED = "filtered", _("ignored: filter")
        MALFORMED = "malformed", _("malformed")

    handler = models.ForeignKey(Handler, on_delete=models.CASCADE, related_name="events")
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    headers = models.JSONField(default=dict)
    body = models.TextField()
    message = models.JSONField(null=True, blank=True)
    # Unique per handler for the first delivery of a message; NULL on its duplicates.
    dedupe_key = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    object_type = models.CharField(max_length=10, blank=True)
    object_id = models.BigIntegerField(null=True, blank=True)
    changed = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RECEIVED)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    traceback = models.TextField(blank=True)
    results = models.JSONField(default=list, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["handler", "dedupe_key"],
                name="one_event_per_message",
                condition=models.Q(dedupe_key__isnull=False),
            )
        ]
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            models.Index(fields=["status", "next_attempt_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.handler} #{self.pk} ({self.status})"
