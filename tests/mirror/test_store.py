"""The mirror's upserts: accent-free search words, and rows never moved backwards by data that
arrives late (a webhook, a search row read before a newer write)."""

from __future__ import annotations

import random
import string
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.fieldviews import minicrm_naive
from apps.mirror import store
from apps.mirror.models import Card, Contact, Module
from minicrm.types import ContactSummary, ProjectSummary, Ref

pytestmark = pytest.mark.django_db


def test_search_words_are_lower_case_accent_free_and_found_by_their_start() -> None:
    text = store.search_text(["Kovács-Nagy Éva", ["Árvíztűrő", "tükörfúrógép"], 42, ""])

    assert text == " kovacs nagy eva arvizturo tukorfurogep"
    assert " tukor" in text  # a word's beginning, as the console searches


def detail(name: str, updated: str) -> dict[str, object]:
    return {"Id": 7, "CategoryId": 3, "Name": name, "StatusId": 11, "UpdatedAt": updated}


def test_a_detail_older_than_the_row_is_ignored() -> None:
    now = timezone.now()
    store.card_store_detail(detail("Newer", "2026-12-02 10:00:05"), fetched_at=now)
    store.card_store_detail(detail("Older", "2026-12-02 10:00:00"), fetched_at=now)

    assert Card.objects.get(pk=7).name == "Newer"


def row(name: str) -> ProjectSummary:
    return ProjectSummary(7, name, None, None, Ref(11), Ref(2), False)


def test_a_search_row_read_before_the_last_write_only_marks_the_card_listed() -> None:
    Module.objects.create(id=3, name="Sales")
    written = timezone.now()
    store.card_store_detail(detail("Saved", "2026-12-02 10:00:05"), fetched_at=written)
    listed = written - timedelta(seconds=1)

    store.card_store_row(row("Stale"), category_id=3, fetched_at=listed, listed_at=listed)

    card = Card.objects.get(pk=7)
    assert card.name == "Saved"
    assert card.listed_at == listed


def test_a_search_row_that_disagrees_with_the_detail_asks_for_a_new_read() -> None:
    Module.objects.create(id=3, name="Sales")
    store.card_store_detail(detail("Old name", "2026-12-02 10:00:05"), fetched_at=timezone.now())

    store.card_store_row(row("New name"), category_id=3, fetched_at=timezone.now())

    card = Card.objects.get(pk=7)
    assert (card.name, card.data["Name"]) == ("New name", "New name")
    assert card.stale_since is not None


def test_a_landed_write_is_not_undone_by_a_late_webhook_from_before_it() -> None:
    store.card_store_detail(detail("Before", "2026-12-02 10:00:00"), fetched_at=timezone.now())
    sent = timezone.now()
    store.card_store_write(card_id=7, changes={"Name": "Mine"}, landed_at=sent, sent_at=sent)
    before_write = minicrm_naive(sent - timedelta(seconds=30)).strftime("%Y-%m-%d %H:%M:%S")

    store.card_store_webhook(
        {"CategoryId": "3", "Name": "A change before mine", "UpdatedAt": before_write},
        card_id=7,
        received_at=timezone.now(),
    )

    assert Card.objects.get(pk=7).name == "Mine"


def uncompressible_words(count: int) -> list[str]:
    chooser = random.Random(7)
    return ["".join(chooser.choices(string.ascii_lowercase, k=9)) for _ in range(count)]


# PostgreSQL's btree indexes refuse an entry over 2,704 bytes, and the words of a card or a
# contact are in a covering index on SQLite: a long text must still be stored and found.


def test_a_contact_with_a_long_text_is_stored_and_found_by_its_words() -> None:
    words = uncompressible_words(900)
    detail = {"Id": 9, "Type": "Person", "Name": "Long Text", "Description": " ".join(words)}

    store.contact_store_detail(detail, fetched_at=timezone.now())

    found = Contact.objects.filter(search_text__contains=f" {words[20]}")
    assert list(found.values_list("name", flat=True)) == ["Long Text"]


def test_a_card_with_a_long_text_field_is_stored_and_found_by_its_words() -> None:
    Module.objects.create(id=3, name="Sales", schema={"Leiras": "Text(8192)"})
    words = uncompressible_words(900)

    store.card_store_detail(
        {**detail("Long text", "2026-12-02 10:00:00"), "Leiras": " ".join(words)},
        fetched_at=timezone.now(),
    )

    found = Card.objects.filter(search_text__contains=f" {words[20]}")
    assert list(found.values_list("name", flat=True)) == ["Long text"]


def test_a_contact_s_values_longer_than_their_columns_are_stored_cut() -> None:
    # PostgreSQL refuses a text longer than its column (SQLite would keep it whole).
    detail = {
        "Id": 9,
        "Type": "Person",
        "Name": "N" * 1100,
        "Email": "e" * 300 + "@example.com",
        "Phone": "+36 30 123 4567; " * 10,
    }

    store.contact_store_detail(detail, fetched_at=timezone.now())

    contact = Contact.objects.get(pk=9)
    assert (len(contact.name), len(contact.email), len(contact.phone_digits)) == (1024, 255, 64)
    assert contact.data["Name"] == "N" * 1100  # MiniCRM's value itself is kept whole


def test_a_card_s_name_longer_than_its_column_is_stored_cut() -> None:
    store.card_store_detail(detail("N" * 1100, "2026-12-02 10:00:00"), fetched_at=timezone.now())

    assert Card.objects.get(pk=7).name == "N" * 1024


def chinese(count: int) -> str:
    chooser = random.Random(3)  # three bytes a character, none repeated in a run to compress
    return "".join(chr(chooser.randint(0x4E00, 0x9FFF)) for _ in range(count))


def test_a_name_of_many_bytes_is_stored_cut_to_what_its_index_holds() -> None:
    # PostgreSQL refuses an index entry over 2,704 bytes: 1,024 characters of Chinese are 3,072.
    store.card_store_detail(detail(chinese(1100), "2026-12-02 10:00:00"), fetched_at=timezone.now())
    store.contact_store_detail(
        {"Id": 9, "Type": "Person", "Name": chinese(1100)}, fetched_at=timezone.now()
    )

    card, contact = Card.objects.get(pk=7), Contact.objects.get(pk=9)
    assert card.name == contact.name == chinese(1100)[: 1700 // 3]
    assert Card.objects.filter(search_text__contains=chinese(3)).exists()  # its words whole
    assert contact.data["Name"] == chinese(1100)


def test_a_search_row_with_a_nul_in_its_name_is_stored_mended() -> None:
    # PostgreSQL's text holds no NUL character (SQLite would keep it).
    Module.objects.create(id=3, name="Sales")

    store.card_store_row(row("Half\x00way"), category_id=3, fetched_at=timezone.now())

    assert Card.objects.get(pk=7).name == "Half\ufffdway"


@pytest.mark.parametrize(
    "name", ["N" * 1100, chinese(1100), "Half\x00way"], ids=["long", "many-bytes", "nul"]
)
def test_a_card_s_cut_or_mended_name_is_no_change_on_the_next_list_pass(name: str) -> None:
    # Each list pass compares its rows with the mirror: a name the mirror had to cut or mend
    # must not mark the card for another read (and spend the budget) on every pass.
    Module.objects.create(id=3, name="Sales")
    listed = {**detail(name, "2026-12-02 10:00:00"), "UserId": 2}  # as row() shows it
    store.card_store_detail(listed, fetched_at=timezone.now())

    store.card_store_row(row(name), category_id=3, fetched_at=timezone.now())

    assert Card.objects.get(pk=7).stale_since is None


def test_a_contact_s_cut_name_and_email_are_no_change_on_the_next_list_pass() -> None:
    name, email = "N" * 1100, "e" * 300 + "@example.com"
    store.contact_store_detail(
        {"Id": 9, "Type": "Person", "Name": name, "Email": email}, fetched_at=timezone.now()
    )

    store.contact_store_row(
        ContactSummary(9, name, "Person", email, "", None), fetched_at=timezone.now()
    )

    assert Contact.objects.get(pk=9).stale_since is None
