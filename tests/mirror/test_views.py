"""The Sync page as an administrator uses it: the mirror's numbers (from rows the test makes),
the live part HTMX refreshes, the resync buttons and the record form; refused to others."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone, translation
from pytest_django.fixtures import Settings

from apps.mirror.models import Card, Completeness, Contact, Module, SyncState
from apps.mirror.services import sync_cap, sync_lock_key
from minicrm import Priority
from tests.conftest import Sandbox, free_port
from tests.viewsupport import Node, dom, errors_of, field_row, form_data, logged_in, messages_of

pytestmark = pytest.mark.django_db

HTMX_LIVE = {"HX-Request": "true", "HX-Target": "sync-live"}
HTMX_FORM = {"HX-Request": "true", "HX-Target": "record-resync"}


@pytest.fixture
def admin(client: Client, admin_account: User, doc: Sandbox, settings: Settings) -> Client:
    # A small budget whose share is easy to reckon with: floor(10 x 0.5) = 5 a minute.
    settings.MINICRM_RATE_LIMIT = 10
    settings.MIRROR_BUDGET_SHARE = 0.5
    settings.MINICRM_RATE_WINDOW = 60
    return logged_in(client, admin_account)


def card(card_id: int, category_id: int, *, complete: bool = False, **fields: object) -> Card:
    now = timezone.now()
    values: dict[str, object] = {
        "name": f"Card {card_id}",
        "synced_at": now,
        "completeness": Completeness.DETAIL if complete else Completeness.ROW,
        "detail_synced_at": now if complete else None,
        "todos_synced_at": now if complete else None,
        "history_synced_at": now if complete else None,
    }
    values.update(fields)
    return Card.objects.create(id=card_id, category_id=category_id, **values)


def contact(contact_id: int, *, detail: bool = False, **fields: object) -> Contact:
    values: dict[str, object] = {
        "name": f"Contact {contact_id}",
        "type": "Person",
        "synced_at": timezone.now(),
        "completeness": Completeness.DETAIL if detail else Completeness.ROW,
    }
    values.update(fields)
    return Contact.objects.create(id=contact_id, **values)


@pytest.fixture
def mirror() -> dict[str, object]:
    """A mirror half filled: two listed modules and one MiniCRM no longer lists, cards and
    contacts in every state, list passes, polls, a webhook and an error."""
    now = timezone.now()
    Module.objects.create(id=10, name="Értékesítés", position=1)
    Module.objects.create(id=20, name="Projektek", position=2)
    Module.objects.create(id=30, name="Régi modul", position=3, listed=False)
    for card_id in (1, 2, 3):
        card(card_id, 10, complete=True)
    card(4, 10)  # a search row only
    card(5, 10, stale_since=now)  # a search row, waiting for a read
    # In detail, but its to-dos were never read: not complete.
    card(6, 10, completeness=Completeness.DETAIL, detail_synced_at=now)
    card(7, 10, complete=True, deleted=True)
    card(8, 20, complete=True)
    card(9, 30, complete=True)  # of the module no longer listed: not shown
    Card.objects.create(id=99, category_id=0, synced_at=now, stale_since=now)  # placeholder
    contact(100, detail=True)
    contact(101, detail=True)
    contact(102)
    contact(103, detail=True, deleted=True)
    SyncState.objects.create(
        key="module:10", listed_total=7, filled_at=now - timedelta(hours=2), rescanned_at=now
    )
    SyncState.objects.create(
        key="module:20",
        pass_started_at=now - timedelta(seconds=20),
        pass_group=1,
        pass_page=2,
        pass_seen=250,
        error="MiniCRM answered 500 to GET /Api/R3/Project",
        error_at=now - timedelta(seconds=40),
    )
    SyncState.objects.create(
        key="contacts", pass_started_at=now - timedelta(seconds=5), pass_page=0, pass_seen=0
    )
    SyncState.objects.create(
        key="poll:Project", polled_at=now - timedelta(seconds=90), cursor="2026-12-02 09:58:00"
    )
    SyncState.objects.create(
        key="poll:Contact", polled_at=now - timedelta(seconds=300), cursor="2026-12-02 09:55:00"
    )
    SyncState.objects.create(key="webhooks", webhook_at=now - timedelta(seconds=30))
    SyncState.objects.create(
        key="modules", error="cannot be reached", error_at=now - timedelta(minutes=10)
    )
    return {"now": now}


def part(page: Node, key: str) -> dict[str, str]:
    row = page.by_id(f"sync-part-{key}")
    return {
        name: row.find("td", class_=f"sync-{name}").text
        for name in ("rows", "detail", "deleted", "listed", "waiting", "pass")
    }


# -- who may see it --------------------------------------------------------------------------


def test_the_sync_page_is_for_administrators_and_linked_for_them_only(
    client: Client, staff_user: User, admin_account: User, doc: Sandbox
) -> None:
    anonymous = client.get("/sync/")
    assert anonymous.status_code == 302
    assert anonymous["Location"] == "/accounts/login/?next=/sync/"

    logged_in(client, staff_user)
    assert 'href="/sync/"' not in client.get("/").content.decode()
    assert client.get("/sync/").status_code == 403
    Module.objects.create(id=10, name="Értékesítés")
    for url in (
        "/sync/resync/",
        "/sync/contacts/resync/",
        "/sync/modules/10/resync/",
        "/sync/record/",
    ):
        assert client.post(url, {"record_type": "card", "record_id": "5"}).status_code == 403
    assert not SyncState.objects.exists()
    assert not Card.objects.exists()

    logged_in(client, admin_account)
    home = dom(client.get("/"))
    assert home.find("a", href="/sync/").text == "Sync"
    page = client.get("/sync/")
    assert page.status_code == 200
    assert dom(page).find("a", href="/sync/").attrs.get("aria-current") == "page"


def test_the_buttons_take_only_posts(admin: Client) -> None:
    for url in ("/sync/resync/", "/sync/contacts/resync/", "/sync/record/"):
        assert admin.get(url).status_code == 405


# -- what it shows ---------------------------------------------------------------------------


def test_the_numbers_are_the_mirror_s_rows(admin: Client, mirror: dict[str, object]) -> None:
    used = sync_cap()
    for _ in range(2):  # the sync spent two requests of its share
        used.try_acquire(Priority.INTERACTIVE)

    page = dom(admin.get("/sync/"))

    sales = part(page, "module10")
    assert (sales["rows"], sales["deleted"], sales["listed"], sales["waiting"]) == (
        "6",
        "1",
        "7",
        "1",
    )
    assert sales["detail"] == "3 (50%)"
    assert "first fill done" in sales["pass"] and "2 h 0 min ago" in sales["pass"]
    assert "last rescan" in sales["pass"]
    projects = part(page, "module20")
    assert (projects["rows"], projects["detail"], projects["listed"]) == ("1", "1 (100%)", "—")
    assert "reading: Open, page 3 (250 seen)" in projects["pass"]
    assert "MiniCRM answered 500" in projects["pass"]
    contacts = part(page, "contacts")
    assert (contacts["rows"], contacts["detail"], contacts["deleted"]) == ("3", "2 (66%)", "1")
    assert "reading: page 1 (0 seen)" in contacts["pass"]
    assert not page.has(id="sync-part-module30")
    bar = page.by_id("sync-bar")
    # Complete: 3 + 1 cards and 2 contacts of 6 + 1 cards and 3 contacts.
    assert (bar.attrs["value"], bar.attrs["max"]) == ("6", "10")
    assert "6 of 10 records complete (60%)" in page.by_id("sync-progress").text
    # Missing: 3 cards x 3 requests + 1 contact = 10 requests at 5 a minute: 2 minutes.
    assert page.by_id("sync-eta").text == "about 2 min to go (10 requests)"
    assert "3 cards" in page.by_id("sync-backfill").text
    assert "5 requests per 60 seconds" in page.by_id("sync-backfill").text
    assert page.by_id("sync-requests").find("td").text == "2 of its 5 in the last 60 seconds"
    assert page.by_id("sync-running").find("td").text.startswith("idle")
    # Ages in whole seconds (a slow machine may take a second or two to render the page).
    assert re.fullmatch(r"3[0-2] s ago", page.by_id("sync-webhook").find("td").text)
    cards_poll = page.by_id("sync-pollproject").find("td").text
    assert re.match(r"9[0-2] s ago", cards_poll) and "2026-12-02 09:58:00" in cards_poll
    assert "5 min ago" in page.by_id("sync-pollcontact").find("td").text
    lag = page.by_id("sync-lag").find("td").text
    assert re.fullmatch(r"3[0-2] s since the last poll or webhook", lag)
    # Card 5, the placeholder 99: waiting for a read.
    assert page.by_id("sync-stale").find("td").text == "2 records"
    errors = page.by_id("sync-errors")
    assert errors.by_id("sync-error-modules").find("th").text == "Modules and schemas"
    assert "cannot be reached" in errors.by_id("sync-error-modules").text
    assert errors.by_id("sync-error-module20").find("th").text == "Projektek"


def test_an_empty_mirror_says_what_comes_first(admin: Client) -> None:
    page = dom(admin.get("/sync/"))

    assert page.has(id="sync-no-modules")
    assert page.by_id("sync-eta").text == "nothing left to read"
    assert "0 of 0 records complete (0%)" in page.by_id("sync-progress").text
    assert page.by_id("sync-lag").find("td").text == "no poll or webhook yet"
    assert "first fill not started" in part(page, "contacts")["pass"]


def test_a_running_sync_is_shown(admin: Client, redis_url: str) -> None:
    import redis

    redis.Redis.from_url(redis_url).set(sync_lock_key(), "someone", px=60_000)

    page = dom(admin.get("/sync/"))

    assert page.by_id("sync-running").find("td").text == "running"


def test_the_live_part_refreshes_itself(admin: Client, mirror: dict[str, object]) -> None:
    page = dom(admin.get("/sync/"))
    live = page.by_id("sync-live")
    assert live.attrs["hx-get"] == "/sync/"
    assert live.attrs["hx-trigger"] == "every 5s"

    card(11, 10, complete=True)
    partial = admin.get("/sync/", headers=HTMX_LIVE)

    assert partial.status_code == 200
    assert "<html" not in partial.content.decode()
    fresh = dom(partial)
    assert fresh.by_id("sync-live")
    assert part(fresh, "module10")["rows"] == "7"
    assert not fresh.has(id="record-resync")


def test_without_redis_the_page_says_so(
    admin: Client, mirror: dict[str, object], settings: Settings
) -> None:
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"

    response = admin.get("/sync/")

    assert response.status_code == 200
    page = dom(response)
    assert "Redis cannot be reached" in page.by_id("sync-requests").text
    assert "Redis cannot be reached" in page.by_id("sync-running").text
    assert part(page, "module10")["rows"] == "6"  # the mirror's numbers still show


def test_with_the_mirror_off_the_page_says_pages_read_minicrm_live(
    admin: Client, settings: Settings
) -> None:
    settings.MIRROR_ENABLED = False

    assert "MIRROR_ENABLED" in dom(admin.get("/sync/")).by_id("sync-off").text


# -- the buttons -----------------------------------------------------------------------------


def test_resync_module_reads_its_list_and_cards_again(
    admin: Client, mirror: dict[str, object]
) -> None:
    page = dom(admin.get("/sync/"))
    form = page.by_id("sync-part-module10").find("form")
    assert form.attrs["action"] == "/sync/modules/10/resync/"

    response = admin.post(form.attrs["action"], form_data(form), follow=True)

    assert response.redirect_chain == [("/sync/", 302)]
    assert messages_of(response) == [
        "The module Értékesítés will be read again: its list, then every card of it."
    ]
    state = SyncState.objects.get(key="module:10")
    assert (state.pass_started_at, state.rescanned_at) == (None, None)
    assert state.filled_at is not None  # pages keep reading the mirror meanwhile
    assert not Card.objects.filter(category_id=10, stale_since__isnull=True).exists()
    assert not Card.objects.filter(category_id=20, stale_since__isnull=False).exists()
    assert not Contact.objects.filter(stale_since__isnull=False).exists()


def test_resync_of_a_module_not_listed_or_unknown_is_a_404(
    admin: Client, mirror: dict[str, object]
) -> None:
    assert admin.post("/sync/modules/30/resync/").status_code == 404
    assert admin.post("/sync/modules/31/resync/").status_code == 404
    assert admin.post(f"/sync/modules/{2**64}/resync/").status_code == 404
    assert not Card.objects.filter(category_id=30, stale_since__isnull=False).exists()


def test_resync_contacts_marks_every_contact(admin: Client, mirror: dict[str, object]) -> None:
    form = dom(admin.get("/sync/")).by_id("resync-contacts")

    response = admin.post(form.attrs["action"], form_data(form), follow=True)

    assert response.redirect_chain == [("/sync/", 302)]
    assert messages_of(response) == ["The contacts will be read again: their list, then each one."]
    assert not Contact.objects.filter(stale_since__isnull=True).exists()
    assert SyncState.objects.get(key="contacts").pass_started_at is None
    assert Card.objects.filter(stale_since__isnull=False).count() == 2  # as they were


def test_resync_everything_marks_modules_lists_and_records(
    admin: Client, mirror: dict[str, object]
) -> None:
    form = dom(admin.get("/sync/")).by_id("resync-all")
    assert "at the sync's share of the budget" in form.text

    response = admin.post(form.attrs["action"], form_data(form), follow=True)

    assert response.redirect_chain == [("/sync/", 302)]
    assert messages_of(response) == [
        "Everything will be read again: the modules, every list and every record."
    ]
    assert not Module.objects.filter(synced_at__isnull=False).exists()
    for key in ("module:10", "module:20", "contacts"):
        assert SyncState.objects.get(key=key).rescanned_at is None
    listed = Card.objects.filter(category_id__in=(10, 20))
    assert not listed.filter(stale_since__isnull=True).exists()
    assert not Contact.objects.filter(stale_since__isnull=True).exists()


def test_buttons_answer_htmx_with_a_redirect_the_browser_follows(
    admin: Client, mirror: dict[str, object]
) -> None:
    response = admin.post("/sync/contacts/resync/", headers={"HX-Request": "true"})

    assert response["HX-Redirect"] == "/sync/"


# -- one record ------------------------------------------------------------------------------


def test_resync_a_card_the_mirror_has(admin: Client, mirror: dict[str, object]) -> None:
    form = dom(admin.get("/sync/")).by_id("record-resync")
    assert form.attrs["hx-post"] == form.attrs["action"] == "/sync/record/"

    response = admin.post(
        "/sync/record/", form_data(form, record_type="card", record_id="4"), follow=True
    )

    assert response.redirect_chain == [("/sync/", 302)]
    assert messages_of(response) == ["Card #4 will be read again from MiniCRM in a moment."]
    assert Card.objects.get(pk=4).stale_since is not None
    assert Card.objects.filter(stale_since__isnull=False).count() == 3


def test_resync_a_contact_the_mirror_does_not_have(
    admin: Client, mirror: dict[str, object]
) -> None:
    form = dom(admin.get("/sync/")).by_id("record-resync")

    response = admin.post(
        "/sync/record/", form_data(form, record_type="contact", record_id="7777"), follow=True
    )

    assert messages_of(response) == [
        "The mirror has no contact #7777 yet: the sync will look for it in MiniCRM."
    ]
    assert Contact.objects.get(pk=7777).stale_since is not None


def test_resync_a_record_over_htmx_redirects(admin: Client, mirror: dict[str, object]) -> None:
    response = admin.post(
        "/sync/record/", {"record_type": "card", "record_id": "1"}, headers=HTMX_FORM
    )

    assert response["HX-Redirect"] == "/sync/"
    assert Card.objects.get(pk=1).stale_since is not None


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("", "This field is required."),
        ("abc", "Enter a whole number."),
        ("\N{SUPERSCRIPT TWO}", "Enter a whole number."),
        ("0", "Ensure this value is greater than or equal to 1."),
        ("-5", "Enter a whole number."),
        (str(2**64), "Ensure this value is less than or equal to 9223372036854775807."),
    ],
)
def test_a_bad_record_id_is_an_error_next_to_the_field(
    admin: Client, mirror: dict[str, object], value: str, error: str
) -> None:
    form = dom(admin.get("/sync/")).by_id("record-resync")
    before = Card.objects.filter(stale_since__isnull=False).count()

    response = admin.post("/sync/record/", form_data(form, record_id=value))

    assert response.status_code == 200
    page = dom(response)
    assert errors_of(field_row(page, "record_id")) == [error]
    assert page.by_id("id_record_id").attrs.get("value", "") == value
    assert page.has(id="sync-live")  # the whole page, with the form where it was
    assert Card.objects.filter(stale_since__isnull=False).count() == before
    assert not messages_of(response)


def test_a_bad_record_type_is_an_error_and_htmx_gets_the_form_back(
    admin: Client, mirror: dict[str, object]
) -> None:
    response = admin.post(
        "/sync/record/", {"record_type": "order", "record_id": "4"}, headers=HTMX_FORM
    )

    assert response.status_code == 200
    assert "<html" not in response.content.decode()
    form = dom(response).by_id("record-resync")
    assert errors_of(field_row(form, "record_type")) == [
        "Select a valid choice. order is not one of the available choices."
    ]
    assert Card.objects.get(pk=4).stale_since is None


# -- in Hungarian ----------------------------------------------------------------------------


def test_the_sync_page_in_hungarian(admin: Client, mirror: dict[str, object]) -> None:
    admin.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "hu"

    response = admin.get("/sync/")

    assert response.status_code == 200
    page = dom(response)
    assert page.find("html").attrs["lang"] == "hu"
    with translation.override("hu"):
        # The page's own words, as the Hungarian catalogue has them.
        assert page.find("h1").text == translation.gettext("Sync")
        assert page.find("a", href="/sync/").text == translation.gettext("Sync")
        assert page.by_id("sync-eta").text == translation.gettext(
            "about %(eta)s to go (%(requests)s requests)"
        ) % {"eta": translation.gettext("%(minutes)s min") % {"minutes": 2}, "requests": 10}
        ago = translation.gettext("%(age)s ago") % {
            "age": translation.gettext("%(seconds)s s") % {"seconds": 30}
        }
        assert page.by_id("sync-webhook").find("td").text in (ago, ago.replace("30", "31"))
    assert page.find("nav", class_="breadcrumbs").find("a").text == "Kezdőlap"
    assert part(page, "contacts")  # its name is the catalogue's word for contacts
    assert page.by_id("sync-part-contacts").find("th").text.startswith("Ügyfelek")
