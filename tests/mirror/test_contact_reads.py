"""Contact pages and the contact search read the mirror: once the sync has filled it they make
no MiniCRM request at all (MiniCRM is pointed at a port nobody listens on to prove it), a
contact the mirror has not read yet is read from MiniCRM once and stored, queued writes are
still laid over the values, and the pages say how fresh their data is."""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.template.loader import render_to_string
from django.test import Client
from django.utils import timezone
from django.utils.translation import override
from pytest_django.fixtures import Settings

from apps.core.selectors import modules_all
from apps.mirror.models import Card, Completeness, Contact, Schema, SyncState
from apps.mirror.selectors import Freshness
from apps.writes.models import Write
from tests.conftest import Sandbox, SandboxStarter
from tests.viewsupport import (
    dom,
    form_data,
    messages_of,
    minicrm_away,
    mirror_console,
    mirror_fill,
    send,
)
from tests.xlsxread import xlsx_rows

pytestmark = pytest.mark.django_db

COMPANY, PERSON, OTHER_PERSON = 7505, 7506, 7507  # MiniCRM Zrt. and its persons (doc seed)


@pytest.fixture(scope="module")
def mirrored_sandbox(module_sandbox_factory: SandboxStarter) -> Sandbox:
    """A doc sandbox of this module's own, with a person whose name has accents."""
    sandbox = module_sandbox_factory("doc")
    answer = sandbox.put(
        "/Api/R3/Contact/",
        json={
            "Type": "Person",
            "FirstName": "Réka",
            "LastName": "Kovács",
            "Email": "Reka.Kovacs@Example.hu",
            "Phone": "+36 (30) 555 1234",
            "BusinessId": COMPANY,
        },
    )
    assert answer.status_code == 200, answer.text
    return sandbox


@pytest.fixture
def console(settings: Settings, mirrored_sandbox: Sandbox, redis_url: str) -> Iterator[Sandbox]:
    yield from mirror_console(settings, mirrored_sandbox, redis_url)


def fill() -> None:
    mirror_fill()
    modules_all()  # the navigation's modules, as any page before has read them


# "synced 0 minutes ago", "synced 12 s ago", "synced 10 min ago · refreshing…" (the shared
# partial templates/mirror/_freshness.html says the age in whole units).
SYNCED = re.compile(
    r"synced (?P<n>\d+) (?P<unit>s|min|minutes?|h|hours?) ago(?P<refreshing> · refreshing…)?"
)


def freshness_said(text: str) -> tuple[int, bool]:
    """What a freshness note says: the age in whole minutes, and whether a read is on its way."""
    said = SYNCED.fullmatch(text)
    assert said, f"no freshness note in {text!r}"
    number, unit = int(said["n"]), said["unit"]
    minutes = number // 60 if unit == "s" else number * 60 if unit.startswith("h") else number
    return minutes, bool(said["refreshing"])


def reka() -> int:
    return Contact.objects.get(name="Kovács Réka").pk


def result_ids(response) -> list[int]:
    table = dom(response).by_id("result_list")
    return [
        int(a.attrs["href"].split("/")[2])
        for a in table.find_all("a")
        if a.parent and a.parent.tag == "th"
    ]


def cards_by_module(response) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = {}
    current = ""
    for node in dom(response).by_id("contact-cards").iter():
        if node.tag == "h3":
            current = node.text.rsplit(" (", 1)[0]
            groups[current] = []
        elif node.tag == "a" and current:
            groups[current].append(int(node.attrs["href"].split("/")[2]))
    return groups


# -- served from the mirror ---------------------------------------------------------------------


def test_a_company_page_from_the_mirror_asks_minicrm_nothing(
    user_client: Client, console: Sandbox, settings: Settings
) -> None:
    fill()
    minicrm_away(settings)

    response = user_client.get(f"/contacts/{COMPANY}/")

    assert response.status_code == 200
    page = dom(response)
    assert page.find("h1").text.startswith("MiniCRM Zrt.")
    assert page.by_id("company-people").links() == {
        f"/contacts/{reka()}/": "Kovács Réka",
        f"/contacts/{OTHER_PERSON}/": "Egerszegi Krisztián",
        f"/contacts/{PERSON}/": "Leskó Norbert",
    }
    assert cards_by_module(response) == {
        "Értékesítés": [2056],
        "Ügyfélszolgálat": [2055],
        "Partnerek": [2054],
    }
    assert "help@minicrm.hu" in page.find("table", class_="fields").text
    assert not page.has(id="page-late")
    assert freshness_said(page.by_id("contact-freshness").text) == (0, False)


def test_a_person_page_from_the_mirror_asks_minicrm_nothing(
    user_client: Client, console: Sandbox, settings: Settings
) -> None:
    fill()
    minicrm_away(settings)

    response = user_client.get(f"/contacts/{PERSON}/")

    assert response.status_code == 200
    page = dom(response)
    company = page.by_id("company-link")
    assert (company.attrs["href"], company.text) == (f"/contacts/{COMPANY}/", "MiniCRM Zrt.")
    fields = page.find("table", class_="fields").text
    assert "Alma" in fields and "2001" not in fields  # a dropdown's label, from the mirror
    assert sorted(i for ids in cards_by_module(response).values() for i in ids) == [
        2054,
        2055,
        2056,
    ]
    # The edit form is built from the mirror too.
    form = dom(user_client.get(f"/contacts/{PERSON}/change/")).find("form", class_="schema-form")
    assert form.find("input", name="Email").attrs["value"] == "norbert@minicrm.hu"


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("kovacs", ["Kovács Réka"]),  # no accents typed
        ("KOVÁCS", ["Kovács Réka"]),
        ("kov rek", ["Kovács Réka"]),  # each word by its beginning, in any order
        ("réka kovács", ["Kovács Réka"]),
        ("ovacs", []),  # the middle of a word is no match
        ("kovacs norbert", []),  # every word must match
        ("lesko", ["Leskó Norbert"]),
        ("555 1234", ["Kovács Réka"]),  # a phone number by its last digits
        ("06 (20) 236 7532", ["Leskó Norbert"]),
        ("2367532", ["Leskó Norbert"]),
        ("reka.kovacs@example.hu", ["Kovács Réka"]),  # an email exactly, case aside
        ("NORBERT@minicrm.hu", ["Leskó Norbert"]),
        ("norbert@minicrm", []),
    ],
)
def test_search_from_the_mirror_asks_minicrm_nothing(
    user_client: Client, console: Sandbox, settings: Settings, query: str, found: list[str]
) -> None:
    fill()
    minicrm_away(settings)

    response = user_client.get("/contacts/", {"q": query})

    assert response.status_code == 200
    page = dom(response)
    names = [a.text for a in page.find_all("a") if a.parent and a.parent.tag == "th"]
    assert names == found
    count = page.find("p", class_="paginator-count").text
    assert count == f"{len(found)} contact{'' if len(found) == 1 else 's'} found"
    assert freshness_said(page.by_id("search-freshness").text) == (0, False)


def test_search_from_the_mirror_orders_by_name_and_pages_by_100(
    user_client: Client, console: Sandbox, settings: Settings
) -> None:
    fill()
    tag = uuid.uuid4().hex[:6]
    Contact.objects.bulk_create(
        Contact(
            id=900_000 + n,
            type="Business",
            name=f"Lapozó {n:03d} Kft.",
            data={"Id": 900_000 + n, "Type": "Business", "Name": f"Lapozó {n:03d} Kft."},
            synced_at=timezone.now(),
            search_text=f" lapozo {n:03d} kft {tag}",
        )
        for n in range(150, 0, -1)
    )
    minicrm_away(settings)

    first = user_client.get("/contacts/", {"q": f"lapozó {tag}"})
    second = user_client.get("/contacts/", {"q": f"lapozó {tag}", "p": "2"})

    assert result_ids(first) == [900_000 + n for n in range(1, 101)]
    assert result_ids(second) == [900_000 + n for n in range(101, 151)]
    assert "150 contacts found" in dom(first).by_id("contact-results").text
    assert "page 2 of 2" in dom(second).find("nav", class_="paginator").text
    past = user_client.get("/contacts/", {"q": f"lapozó {tag}", "p": "5"})
    assert result_ids(past) == result_ids(second)
    assert "page 2 of 2" in dom(past).find("nav", class_="paginator").text


def test_a_deleted_contact_is_not_found_by_the_search(
    user_client: Client, console: Sandbox, settings: Settings
) -> None:
    fill()
    Contact.objects.filter(pk=reka()).update(deleted=True)
    minicrm_away(settings)

    response = user_client.get("/contacts/", {"q": "kovacs"})

    assert dom(response).find("p", class_="paginator-count").text == "0 contacts found"


# -- before the mirror has it ----------------------------------------------------------------------


def test_a_contact_first_opened_is_read_from_minicrm_once_and_stored(
    user_client: Client, console: Sandbox
) -> None:
    console.delete("/_sandbox/requests")

    first = user_client.get(f"/contacts/{PERSON}/")

    assert first.status_code == 200
    stored = Contact.objects.get(pk=PERSON)
    assert (stored.completeness, stored.name, stored.business_id) == (
        Completeness.DETAIL,
        "Leskó Norbert",
        COMPANY,
    )
    assert Schema.objects.filter(entity="Person").exists()
    assert Contact.objects.get(pk=COMPANY).name == "MiniCRM Zrt."  # the company it showed
    # The cards it found in each module are stored as search rows.
    assert set(Card.objects.filter(contact_id=PERSON).values_list("pk", flat=True)) == {
        2054,
        2055,
        2056,
    }
    assert freshness_said(dom(first).by_id("contact-freshness").text) == (0, False)
    asked = [r["path"] for r in console.get("/_sandbox/requests").json()]
    assert f"/Api/R3/Contact/{PERSON}" in asked
    console.delete("/_sandbox/requests")

    again = user_client.get(f"/contacts/{PERSON}/")

    assert again.status_code == 200
    asked = [r["path"] for r in console.get("/_sandbox/requests").json()]
    # Only the cards of modules whose first list pass has not finished are asked again.
    assert asked and set(asked) == {"/Api/R3/Project"}
    assert cards_by_module(again) == cards_by_module(first)


def test_a_search_before_the_contacts_are_listed_asks_minicrm_and_stores_the_rows(
    user_client: Client, console: Sandbox
) -> None:
    response = user_client.get("/contacts/", {"q": "Leskó"})

    assert result_ids(response) == [PERSON]
    row = Contact.objects.get(pk=PERSON)
    assert (row.completeness, row.name, row.phone_digits) == (
        Completeness.ROW,
        "Leskó Norbert",
        "06202367532",
    )
    assert freshness_said(dom(response).by_id("search-freshness").text) == (0, False)


def test_a_module_not_listed_yet_is_searched_in_minicrm_the_others_read_from_the_mirror(
    user_client: Client, console: Sandbox, settings: Settings
) -> None:
    fill()
    SyncState.objects.filter(key="module:10").update(filled_at=None)
    console.delete("/_sandbox/requests")

    response = user_client.get(f"/contacts/{COMPANY}/")

    assert cards_by_module(response)["Értékesítés"] == [2056]
    asked = [r["path"] for r in console.get("/_sandbox/requests").json()]
    assert asked == ["/Api/R3/Project"]  # one search, of that module


# -- queued and landed writes ---------------------------------------------------------------------


def test_queued_values_are_laid_over_the_mirror_s_and_a_landed_write_shows_at_once(
    user_client: Client, console: Sandbox, settings: Settings
) -> None:
    fill()
    contact_id = reka()
    form = dom(user_client.get(f"/contacts/{contact_id}/change/")).find(
        "form", class_="schema-form"
    )
    user_client.post(f"/contacts/{contact_id}/change/", form_data(form, Phone="06 1 999 8888"))
    write = Write.objects.get()
    address = settings.MINICRM_BASE_URL
    minicrm_away(settings)

    page = dom(user_client.get(f"/contacts/{contact_id}/"))

    pending = page.find("tr", class_="pending")
    assert "06 1 999 8888" in pending.text and "pending" in pending.text

    settings.MINICRM_BASE_URL = address
    assert send(write).state == Write.State.DONE
    minicrm_away(settings)

    page = dom(user_client.get(f"/contacts/{contact_id}/"))
    assert not page.has("tr", class_="pending")
    assert "06 1 999 8888" in page.find("table", class_="fields").text
    found = dom(user_client.get("/contacts/", {"q": "999 8888"}))
    assert [a.text for a in found.by_id("result_list").find_all("a")][:1] == ["Kovács Réka"]


# -- freshness -----------------------------------------------------------------------------------


def freshness_note(language: str, freshness: Freshness) -> str:
    with override(language):
        return dom(render_to_string("mirror/_freshness.html", {"freshness": freshness})).text


def test_an_old_copy_is_shown_and_read_again_in_the_background(
    user_client: Client, console: Sandbox, settings: Settings
) -> None:
    fill()
    settings.MIRROR_STALE_SECONDS = 300
    Contact.objects.filter(pk=COMPANY).update(synced_at=timezone.now() - timedelta(minutes=10))
    minicrm_away(settings)

    response = user_client.get(f"/contacts/{COMPANY}/")

    assert response.status_code == 200
    freshness = dom(response).by_id("contact-freshness")
    assert freshness_said(freshness.text) == (10, True)
    assert Contact.objects.get(pk=COMPANY).stale_since is not None  # the sync reads it next


def test_a_recent_copy_is_not_read_again(
    user_client: Client, console: Sandbox, settings: Settings
) -> None:
    fill()
    settings.MIRROR_STALE_SECONDS = 300
    Contact.objects.filter(pk=COMPANY).update(synced_at=timezone.now() - timedelta(minutes=4))

    response = user_client.get(f"/contacts/{COMPANY}/")

    assert freshness_said(dom(response).by_id("contact-freshness").text) == (4, False)
    assert Contact.objects.get(pk=COMPANY).stale_since is None


def test_freshness_in_hungarian(user_client: Client, console: Sandbox, settings: Settings) -> None:
    fill()
    Contact.objects.filter(pk=COMPANY).update(synced_at=timezone.now() - timedelta(minutes=10))
    user_client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "hu"

    page = dom(user_client.get(f"/contacts/{COMPANY}/"))
    search = dom(user_client.get("/contacts/", {"q": "kovacs"}))

    # The shared partial's Hungarian (its exact wording is the partial's own test's business).
    said = page.by_id("contact-freshness").text
    assert said == freshness_note("hu", Freshness(timezone.now() - timedelta(minutes=10), True))
    assert "10" in said and "synced" not in said and "refreshing" not in said
    found = search.by_id("search-freshness").text
    assert found and "synced" not in found
    assert page.by_id("contact-refresh").find("button").text == "Frissítés a MiniCRM-ből"


# -- without the mirror ---------------------------------------------------------------------------


def test_without_the_mirror_pages_read_minicrm_and_store_nothing(
    user_client: Client, console: Sandbox, settings: Settings
) -> None:
    settings.MIRROR_ENABLED = False

    page = dom(user_client.get(f"/contacts/{COMPANY}/"))
    search = dom(user_client.get("/contacts/", {"q": "Leskó"}))

    assert page.find("h1").text.startswith("MiniCRM Zrt.")
    assert page.by_id("contact-freshness").text == ""
    assert not page.has(id="contact-refresh")
    assert search.by_id("search-freshness").text == ""
    assert not Contact.objects.exists() and not Card.objects.exists()


# -- export --------------------------------------------------------------------------------------


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.getvalue().decode().removeprefix("\ufeff"))))


def page_rows(user_client: Client, q: str) -> list[list[str]]:
    """What every page of a search lists: id, then the name, type, email, phone and company
    columns as shown."""
    rows: list[list[str]] = []
    for number in range(1, 100):
        response = user_client.get("/contacts/", {"q": q, "p": str(number)})
        table = dom(response).by_id("result_list")
        for tr in table.find("tbody").find_all("tr"):
            link = tr.find("th").find("a")
            cells = [td.text for td in tr.find_all("td")]
            rows.append([link.attrs["href"].split("/")[2], link.text, *cells])
        if "paginator" not in {c for n in dom(response).find_all("nav") for c in n.classes} or (
            f"page {number} of {number}" in dom(response).find("nav", class_="paginator").text
        ):
            return rows
    return rows


def test_a_search_exports_every_page_of_what_it_finds_with_company_names(
    user_client: Client, console: Sandbox, settings: Settings
) -> None:
    fill()
    tag = uuid.uuid4().hex[:6]
    Contact.objects.bulk_create(
        Contact(
            id=910_000 + n,
            type="Person",
            name=f"Export {n:03d} Ember",
            business_id=COMPANY,
            data={"Id": 910_000 + n, "Email": f"e{n}@example.hu", "Phone": f"06 1 {n:03d}"},
            synced_at=timezone.now(),
            search_text=f" export {n:03d} ember {tag}",
        )
        for n in range(1, 131)
    )
    minicrm_away(settings)
    q = f"export {tag}"
    shown = page_rows(user_client, q)
    assert len(shown) == 130  # two pages
    page = dom(user_client.get("/contacts/", {"q": q}))

    as_csv = user_client.get(page.by_id("export-csv").attrs["href"])
    as_xlsx = user_client.get(page.by_id("export-xlsx").attrs["href"])

    today = timezone.localdate().isoformat()
    assert as_csv["Content-Disposition"] == (
        f'attachment; filename="contacts-export-{tag}-{today}.csv"'
    )
    rows = csv_rows(as_csv)
    assert rows[0] == ["Id", "Name", "Type", "Email", "Phone", "Company"]
    assert rows[1:] == shown
    assert rows[1][-1] == "MiniCRM Zrt."  # the company by its name, as the page shows it
    sheet = xlsx_rows(as_xlsx.getvalue())
    assert sheet == rows


def test_an_export_without_a_search_holds_every_contact(
    user_client: Client, console: Sandbox, settings: Settings
) -> None:
    fill()
    minicrm_away(settings)
    page = dom(user_client.get("/contacts/"))

    rows = csv_rows(user_client.get(page.by_id("export-csv").attrs["href"]))

    ids = [int(row[0]) for row in rows[1:]]
    expected = Contact.objects.filter(deleted=False).exclude(type="").order_by("name", "id")
    assert ids == list(expected.values_list("id", flat=True))
    assert {COMPANY, PERSON, OTHER_PERSON} <= set(ids)


def test_a_contact_export_in_hungarian_names_its_columns_in_hungarian(
    hungarian: Client, console: Sandbox
) -> None:
    fill()

    response = hungarian.get("/contacts/export/", {"q": "Leskó", "format": "csv"})

    header = csv_rows(response)[0]
    assert header == ["Azonosító", "Név", "Típus", "E-mail", "Telefon", "Cég"]
    assert "ugyfelek-lesko-" in response["Content-Disposition"]


def test_a_contact_export_in_an_unknown_format_or_before_the_mirror_holds_them_says_so(
    user_client: Client, console: Sandbox
) -> None:
    before = user_client.get("/contacts/export/", {"q": "Leskó", "format": "csv"}, follow=True)
    fill()
    wrong = user_client.get("/contacts/export/", {"q": "Leskó", "format": "pdf"}, follow=True)

    assert before.redirect_chain[-1][0] == "/contacts/?q=Lesk%C3%B3"
    assert "can be exported once the mirror holds it" in " ".join(messages_of(before))
    assert wrong.status_code == 200
    assert wrong.redirect_chain[-1][0] == "/contacts/?q=Lesk%C3%B3"
    assert "Choose CSV or XLSX." in messages_of(wrong)
