"""The console's local copy of MiniCRM: modules and their schemas, cards, contacts, to-dos and
status histories, and where the sync stands.

Rows are keyed by MiniCRM's own ids. Each keeps every field as MiniCRM returned it (`data`), the
columns pages filter and sort by, when it was last written from MiniCRM (`synced_at`) and how
complete it is: seen in a search row only, or read in full. `remote_updated_at` is MiniCRM's
own UpdatedAt, so that a late webhook or poll never moves a row backwards.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models
from django.db.models import F
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from apps.core.storable import column_fitted


class WordsIndex(models.Index):
    """A covering index that holds the search words on SQLite only. PostgreSQL searches the
    words with its trigram indexes (migration 0002), and its btree refuses an entry over 2,704
    bytes, which a card or contact with a long text reaches: there the words are left out."""

    def create_sql(self, model: Any, schema_editor: Any, using: str = "", **kwargs: Any) -> Any:
        if schema_editor.connection.vendor == "postgresql":
            fields = [field for field in self.fields if field != "search_text"]
            narrow = models.Index(fields=fields, name=self.name)
            return narrow.create_sql(model, schema_editor, using=using, **kwargs)
        return super().create_sql(model, schema_editor, using=using, **kwargs)


class StorableTexts(models.Model):
    """A row whose texts come from MiniCRM, made storable when saved: NUL characters and lone
    surrogates mended to U+FFFD and each text cut to its column. PostgreSQL refuses both (SQLite
    would keep them), and a card named at length must still be mirrored. `data` is mended
    where it is stored and keeps MiniCRM's values whole.

    A text in a btree index is also cut to `INDEXED_BYTES` of UTF-8: PostgreSQL refuses an
    index entry over 2,704 bytes, which 1,024 characters of Chinese (3 bytes each) pass. The
    bound leaves room for lower-casing (which can lengthen a character by half) and the
    entry's other columns."""

    INDEXED_BYTES: ClassVar[dict[str, int]] = {}

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        for field in self._meta.concrete_fields:
            setattr(self, field.attname, self._fit(field, getattr(self, field.attname)))
        super().save(*args, **kwargs)

    @classmethod
    def fitted(cls, name: str, value: Any) -> Any:
        """`value` as a row of this model holds it in field `name`: what a value from MiniCRM
        is compared with, so that a long or mended text is not a change each time it is read."""
        return cls._fit(cls._meta.get_field(name), value)

    @classmethod
    def _fit(cls, field: Any, value: Any) -> Any:
        value = column_fitted(field, value)
        limit = cls.INDEXED_BYTES.get(field.attname)
        if limit is None or not isinstance(value, str) or len(value) * 4 <= limit:
            return value
        return value.encode()[:limit].decode("utf-8", "ignore")


class Completeness(models.TextChoices):
    ROW = "row", _("search row")
    DETAIL = "detail", _("full detail")


class Module(StorableTexts):
    """A MiniCRM module (Category), its schema and what the list passes learned of it."""

    id = models.BigIntegerField(primary_key=True)
    name = models.CharField(max_length=255)
    type = models.CharField(max_length=32, blank=True)
    position = models.IntegerField(default=0)
    listed = models.BooleanField(default=True)  # False once MiniCRM no longer lists it
    schema = models.JSONField(null=True, blank=True)  # as /Api/R3/Schema/Project/{id} answers
    schema_synced_at = models.DateTimeField(null=True, blank=True)
    # {status id: "Lead" | "Open" | "Success" | "Failed"}, learned from the status-group passes.
    status_groups = models.JSONField(default=dict, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class Schema(models.Model):
    """A contact schema (Person, Business) as MiniCRM answers it."""

    entity = models.CharField(max_length=16, primary_key=True)
    data = models.JSONField(default=dict)
    synced_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.entity


class MirroredRecord(StorableTexts):
    """What cards and contacts share: the raw fields, completeness and sync times."""

    id = models.BigIntegerField(primary_key=True)
    name = models.CharField(max_length=1024, blank=True)
    deleted = models.BooleanField(default=False)
    created_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)  # MiniCRM's UpdatedAt
    data = models.JSONField(default=dict)  # every field as MiniCRM returned it
    completeness = models.CharField(
        max_length=8, choices=Completeness.choices, default=Completeness.ROW
    )
    synced_at = models.DateTimeField()  # last written from MiniCRM (or from a landed write)
    detail_synced_at = models.DateTimeField(null=True, blank=True)
    listed_at = models.DateTimeField(null=True, blank=True)  # the list pass that last saw it
    # Set when the copy is known or suspected to be out of date (a webhook, the poll, a page
    # opened on an old copy, a write that landed); the sync reads the record again.
    stale_since = models.DateTimeField(null=True, blank=True)
    # Lower-case, accent-free words of the name and text fields, space-separated, with a
    # leading space (so " word" finds a word by its beginning).
    search_text = models.TextField(blank=True)

    INDEXED_BYTES: ClassVar[dict[str, int]] = {"name": 1700}  # mirror_card_name, _contact_words

    class Meta:
        abstract = True

    @property
    def has_detail(self) -> bool:
        return self.completeness == Completeness.DETAIL


class Card(MirroredRecord):
    """A card (Project)."""

    category_id = models.BigIntegerField()
    status_id = models.BigIntegerField(null=True, blank=True)
    status_group = models.CharField(max_length=8, blank=True)
    user_id = models.BigIntegerField(null=True, blank=True)  # the owner
    contact_id = models.BigIntegerField(null=True, blank=True)
    business_id = models.BigIntegerField(null=True, blank=True)
    status_updated_at = models.DateTimeField(null=True, blank=True)
    todos_synced_at = models.DateTimeField(null=True, blank=True)
    history_synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["category_id", "deleted", "id"], name="mirror_card_module"),
            # Covers the count of each module's cards by status (the dashboard's chart, the
            # board's columns) and by status and owner (the changelist's two filters).
            models.Index(
                fields=["category_id", "status_id", "user_id", "deleted", "id"],
                name="mirror_card_status",
            ),
            models.Index(fields=["category_id", "status_group"], name="mirror_card_group"),
            # A module's changelist sorted by name, as the column shows it (case aside).
            models.Index(
                F("category_id"), F("deleted"), Lower("name"), F("id"), name="mirror_card_name"
            ),
            # A person's cards whose to-dos are not read yet (none, once the mirror is full):
            # found in the index, not by reading each of their cards.
            models.Index(fields=["user_id", "todos_synced_at"], name="mirror_card_owner"),
            models.Index(fields=["contact_id"], name="mirror_card_contact"),
            models.Index(fields=["business_id"], name="mirror_card_business"),
            models.Index(fields=["updated_at"], name="mirror_card_updated"),
            models.Index(fields=["created_at"], name="mirror_card_created"),
            models.Index(fields=["status_updated_at"], name="mirror_card_status_at"),
            models.Index(fields=["stale_since"], name="mirror_card_stale"),
            models.Index(
                fields=["completeness", "status_group", "id"], name="mirror_card_backfill"
            ),
            # The header search (`search_text LIKE '% word%'`, a module's matches counted and
            # its most recently changed first) reads this index alone, not the rows and their
            # data: on SQLite a scan of 100,000 cards' words instead of their every field.
            # (`id` is no rowid alias on SQLite, so it is named.)
            WordsIndex(
                fields=["category_id", "updated_at", "id", "search_text", "deleted"],
                name="mirror_card_words",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (#{self.id})"


class Contact(MirroredRecord):
    """A company (Business) or a person (Person)."""

    type = models.CharField(max_length=10)  # Business or Person
    email = models.CharField(max_length=255, blank=True)  # lower-case
    phone_digits = models.CharField(max_length=64, blank=True)
    business_id = models.BigIntegerField(null=True, blank=True)  # a person's company

    class Meta:
        indexes = [
            models.Index(fields=["deleted", "id"], name="mirror_contact_list"),
            models.Index(fields=["business_id"], name="mirror_contact_business"),
            models.Index(fields=["email"], name="mirror_contact_email"),
            models.Index(fields=["phone_digits"], name="mirror_contact_phone"),
            models.Index(fields=["updated_at"], name="mirror_contact_updated"),
            models.Index(fields=["stale_since"], name="mirror_contact_stale"),
            models.Index(fields=["completeness", "id"], name="mirror_contact_backfill"),
            # The contact search (words, by name) reads this index, as the header search does
            # `mirror_card_words`, and the rows of the matches it lists only.
            WordsIndex(
                fields=["name", "id", "search_text", "deleted", "type"],
                name="mirror_contact_words",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (#{self.id})"


class ToDo(StorableTexts):
    """A to-do of a card, from the card's to-do list (and its own detail once read)."""

    id = models.BigIntegerField(primary_key=True)
    card_id = models.BigIntegerField()
    status = models.CharField(max_length=16)  # Open or Closed
    comment = models.TextField(blank=True)
    deadline = models.DateTimeField(null=True, blank=True)
    user_id = models.BigIntegerField(null=True, blank=True)
    type_id = models.BigIntegerField(null=True, blank=True)
    data = models.JSONField(default=dict)  # the list row, or the detail once read
    completeness = models.CharField(
        max_length=8, choices=Completeness.choices, default=Completeness.ROW
    )
    synced_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["card_id"], name="mirror_todo_card"),
            models.Index(fields=["user_id", "status", "deadline"], name="mirror_todo_mine"),
        ]

    def __str__(self) -> str:
        return f"to-do #{self.id}"


class StatusChange(StorableTexts):
    """One line of a card's status history."""

    id = models.BigIntegerField(primary_key=True)
    card_id = models.BigIntegerField()
    user_id = models.BigIntegerField(null=True, blank=True)
    at = models.DateTimeField(null=True, blank=True)
    old_status_id = models.BigIntegerField(null=True, blank=True)
    new_status_id = models.BigIntegerField(null=True, blank=True)
    old_status_name = models.CharField(max_length=255, blank=True)
    new_status_name = models.CharField(max_length=255, blank=True)

    class Meta:
        indexes = [models.Index(fields=["card_id", "at"], name="mirror_history_card")]

    def __str__(self) -> str:
        return f"{self.old_status_name} -> {self.new_status_name}"


class SyncState(models.Model):
    """Where one part of the sync stands: a module's cards ("module:26"), the contacts
    ("contacts"), or an incremental poll ("poll:Project", "poll:Contact")."""

    key = models.CharField(max_length=40, primary_key=True)
    # The list pass (first fill, then periodic rescans) in progress: when it began, which
    # status group (for a module) and which page comes next. None when no pass is running.
    pass_started_at = models.DateTimeField(null=True, blank=True)
    pass_group = models.PositiveSmallIntegerField(default=0)
    pass_page = models.PositiveIntegerField(default=0)
    pass_seen = models.PositiveIntegerField(default=0)
    listed_total = models.PositiveIntegerField(null=True, blank=True)  # MiniCRM's Count
    filled_at = models.DateTimeField(null=True, blank=True)  # the first complete pass
    rescanned_at = models.DateTimeField(null=True, blank=True)  # the last complete pass
    # The incremental poll's cursor: MiniCRM local time ("2026-12-02 10:00:00").
    cursor = models.CharField(max_length=19, blank=True)
    polled_at = models.DateTimeField(null=True, blank=True)
    webhook_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    error_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.key
