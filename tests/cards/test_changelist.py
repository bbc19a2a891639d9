"""A module's changelist on the mirror, as Django's admin and more: the columns a person chose
(any field, numbers formatted for the language), sorting by any of them, a search of names and
text fields, filters for dropdowns and yes/no fields with counts, date ranges and a date
hierarchy, saved filters, and a bulk change of every matching card. MiniCRM is away: all of it
reads the mirror."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings

from apps.cards.models import ColumnChoice, SavedFilter
from apps.mirror.models import Card
from apps.writes.models import BulkJob, Write
from tests.conftest import Sandbox, SandboxStarter
from tests.viewsupport import (
    Node,
    dom,
    logged_in,
    messages_of,
    minicrm_away,
    mirror_console,
    mirror_fill,
)

pytestmark = pytest.mark.django_db

SALES = 10  # the doc seed's sales module
REVENUE = "VarhatoArbevetel"  # Int
SOURCE = "HolTalaltRank"  # Select: 3161 Weboldal, 3162 Ajánlás, 3163 Kiállítás
CLOSING = "VarhatoLezarasDatuma"  # DateTime
HTMX = {"HX-Request": "true"}


@pytest.fixture
def console(
    settings: Settings, sandbox_factory: SandboxStarter, redis_url: str
) -> Iterator[Sandbox]:
    yield from mirror_console(settings, sandbox_factory("doc"), redis_url)


def new_card(sandbox: Sandbox, name: str = "", **values: Any) -> int:
    body = {"CategoryId": SALES, "Name": name or f"Teszt {uuid.uuid4().hex[:8]}", **values}
    answer = sandbox.put("/Api/R3/Project/", json=body)
    assert answer.status_code == 200, answer.text
    return int(answer.json()["Id"])


@pytest.fixture
def filled(console: Sandbox, settings: Settings) -> dict[str, int]:
    """Three cards of the test's own (revenue, source, closing date), the mirror filled, then
    MiniCRM away."""
    cards = {
        "big": new_card(
            console,
            "Nagy üzlet",
            **{REVENUE: 1890000, SOURCE: 3161, CLOSING: "2026-03-15 10:00:00"},
        ),
        "small": new_card(
            console, "Kis üzlet", **{REVENUE: 900, SOURCE: 3162, CLOSING: "2026-05-02 09:00:00"}
        ),
        "web": new_card(
            console,
            "Őszi kampány",
            **{REVENUE: 45000, SOURCE: 3161, CLOSING: "2026-11-20 12:00:00"},
        ),
    }
    mirror_fill()
    minicrm_away(settings)
    return cards


def rows(response: Any) -> list[int]:
    table = dom(response).by_id("result_list")
    return [int(box.attrs["value"]) for box in table.find_all("input", name="selected")]


def headers(page: Node) -> list[str]:
    return [th.text for th in page.by_id("result_list").find("thead").find_all("th")[1:]]


def row_cells(page: Node, card_id: int) -> list[str]:
    """The texts of a card's row, after its name."""
    for row in page.by_id("result_list").find("tbody").find_all("tr"):
        boxes = row.find_all("input", name="selected")
        if boxes and boxes[0].attrs["value"] == str(card_id):
            return [td.text for td in row.find_all("td")[1:]]
    raise AssertionError(f"card {card_id} is not listed")


# -- columns ---------------------------------------------------------------------------------


def test_a_person_chooses_the_columns_and_numbers_read_in_their_language(
    user_client: Client, filled: dict[str, int], django_user_model: type[User]
) -> None:
    # In the order the chooser submits them (its arrows move a column up or down).
    answer = user_client.post(
        f"/modules/{SALES}/columns/", {"columns": [SOURCE, "status", REVENUE], "query": "o=name"}
    )

    assert answer.status_code == 302 and answer["Location"] == f"/modules/{SALES}/?o=name"
    page = dom(user_client.get(f"/modules/{SALES}/", {"q": "uzlet"}))
    assert headers(page) == ["Name", "Hol talalt rank", "Status", "Varhato arbevetel"]
    assert row_cells(page, filled["big"]) == ["Weboldal", "Érdeklődő", "1,890,000"]
    # The chooser lists the shown columns first, in their order, ticked; then the others.
    boxes = page.by_id("column-chooser").find_all("input", name="columns")
    listed = [(box.attrs["value"], "checked" in box.attrs) for box in boxes]
    assert listed[:4] == [(SOURCE, True), ("status", True), (REVENUE, True), ("owner", False)]
    assert not any(ticked for _key, ticked in listed[3:])

    user_client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "hu"
    hungarian = dom(user_client.get(f"/modules/{SALES}/", {"q": "uzlet"}))
    assert row_cells(hungarian, filled["big"])[2] == "1 890 000"
    assert hungarian.by_id("column-chooser").find("button").attrs["title"] == "Feljebb"

    # Saved for this person only: another sees the default columns.
    other = django_user_model.objects.create_user("masik", password="x" * 12)
    theirs = dom(logged_in(Client(), other).get(f"/modules/{SALES}/"))
    assert headers(theirs) == ["Name", "Status", "Owner", "Company", "Updated"]


def test_columns_the_module_does_not_have_are_refused_and_nothing_is_saved(
    user_client: Client, filled: dict[str, int]
) -> None:
    answer = user_client.post(
        f"/modules/{SALES}/columns/", {"columns": ["status", "NoSuchField"]}, follow=True
    )

    assert any("NoSuchField" in message for message in messages_of(answer))
    assert not ColumnChoice.objects.exists()
    empty = user_client.post(f"/modules/{SALES}/columns/", {}, follow=True)
    assert messages_of(empty) == ["Choose at least one column."]


def test_any_column_sorts_numbers_as_numbers_both_ways(
    user_client: Client, filled: dict[str, int]
) -> None:
    mine = [filled["small"], filled["web"], filled["big"]]  # 900 < 45,000 < 1,890,000

    ascending = rows(user_client.get(f"/modules/{SALES}/", {"q": "uzlet kampany", "o": REVENUE}))
    by_revenue = rows(user_client.get(f"/modules/{SALES}/", {"o": REVENUE, f"f_{SOURCE}": ""}))
    descending = rows(user_client.get(f"/modules/{SALES}/", {"o": f"-{REVENUE}"}))

    assert ascending == []  # both words must begin words of one card
    assert [i for i in by_revenue if i in mine] == mine
    assert [i for i in descending if i in mine] == mine[::-1]
    by_date = rows(user_client.get(f"/modules/{SALES}/", {"o": f"-{CLOSING}"}))
    assert [i for i in by_date if i in mine] == [filled["web"], filled["small"], filled["big"]]


# -- search and filters -------------------------------------------------------------------------


def test_q_finds_words_by_their_beginnings_without_accents(
    user_client: Client, filled: dict[str, int]
) -> None:
    assert rows(user_client.get(f"/modules/{SALES}/", {"q": "osz kamp"})) == [filled["web"]]
    assert sorted(rows(user_client.get(f"/modules/{SALES}/", {"q": "ÜZLET"}))) == sorted(
        [filled["big"], filled["small"]]
    )
    # A dropdown's label is searched too.
    found = rows(user_client.get(f"/modules/{SALES}/", {"q": "weboldal"}))
    assert filled["big"] in found and filled["web"] in found and filled["small"] not in found


def test_a_dropdown_filter_with_counts_and_dates_between_two_days(
    user_client: Client, filled: dict[str, int]
) -> None:
    mine = set(filled.values())
    web = rows(user_client.get(f"/modules/{SALES}/", {f"f_{SOURCE}": "3161"}))
    assert {filled["big"], filled["web"]} <= set(web) and filled["small"] not in web
    held = Card.objects.filter(category_id=SALES, deleted=False, data__HolTalaltRank="Weboldal")
    assert len(web) == held.count()
    spring = rows(
        user_client.get(
            f"/modules/{SALES}/",
            {f"f_{CLOSING}_from": "2026-03-01", f"f_{CLOSING}_to": "2026-05-02"},
        )
    )
    assert set(spring) & mine == {filled["big"], filled["small"]}
    today = timezone.localdate().isoformat()
    assert filled["web"] in rows(
        user_client.get(f"/modules/{SALES}/", {"created_from": today, "created_to": today})
    )
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    assert (
        rows(user_client.get(f"/modules/{SALES}/", {"updated_to": yesterday, "q": "uzlet"})) == []
    )

    facets = dom(
        user_client.get(f"/modules/{SALES}/", {"facets": "1", "q": "uzlet kampany"}, headers=HTMX)
    )
    assert facets.find_all("div", class_="facet")  # answered as the sidebar's part alone
    source = facets.by_id(f"facet-f_{SOURCE}")
    counts = {
        li.find("a").text: li.find("span", class_="count").text for li in source.find_all("li")[1:]
    }
    assert counts == {"Weboldal": "0", "Ajánlás": "0", "Kiállítás": "0"}  # no card has both words
    facets = dom(user_client.get(f"/modules/{SALES}/", {"facets": "1", "q": "uzlet"}, headers=HTMX))
    source = facets.by_id(f"facet-f_{SOURCE}")
    counts = {
        li.find("a").text: li.find("span", class_="count").text for li in source.find_all("li")[1:]
    }
    assert counts == {"Weboldal": "1", "Ajánlás": "1", "Kiállítás": "0"}
    link = next(a for a in source.find_all("a") if a.text == "Ajánlás").attrs["href"]
    assert rows(user_client.get(link)) == [filled["small"]]


def test_the_date_hierarchy_goes_from_years_to_months_to_days(
    user_client: Client, filled: dict[str, int]
) -> None:
    def steps(**params: str) -> list[tuple[str, str, str]]:
        nav = dom(
            user_client.get(f"/modules/{SALES}/", {"facets": "1", **params}, headers=HTMX)
        ).find("nav", class_="date-hierarchy")
        return [
            (li.find("a").text, li.find("a").attrs["href"], li.text)
            for li in nav.find_all("li")
            if "up" not in li.classes
        ]

    now = timezone.localdate()
    years = steps(q="kampany")
    assert [label for label, _href, _text in years] == [str(now.year)]
    months = steps(q="kampany", updated_from=f"{now.year}-01-01", updated_to=f"{now.year}-12-31")
    assert len(months) == 1 and months[0][2].endswith("1")
    first = now.replace(day=1).isoformat()
    days = steps(
        q="kampany", updated_from=first, updated_to=months[0][1].split("updated_to=")[1][:10]
    )
    assert len(days) == 1
    assert rows(user_client.get(days[0][1])) == [filled["web"]]


def test_a_range_that_ends_before_it_starts_is_left_out_with_a_message(
    user_client: Client, filled: dict[str, int]
) -> None:
    response = user_client.get(
        f"/modules/{SALES}/", {"updated_from": "2026-05-01", "updated_to": "2026-04-01", "q": "kis"}
    )

    assert response.status_code == 200
    assert [m for m in messages_of(response) if "Updated (to)" in m] == [
        "Updated (to): the end of a range cannot come before its start, so it was left out."
    ]


def test_a_message_set_while_the_filters_change_in_place_is_shown_then(
    user_client: Client, filled: dict[str, int]
) -> None:
    in_place = {"HX-Request": "true", "HX-Target": "changelist-results"}
    params = {"updated_from": "2026-05-01", "updated_to": "2026-04-01"}

    response = user_client.get(f"/modules/{SALES}/", params, headers=in_place)

    # The page's messages are replaced out of band by the results' answer...
    box = dom(response).by_id("messages")
    assert box.attrs.get("hx-swap-oob") == "true"
    assert "Updated (to)" in box.text
    # ...and are not kept for the next page, where they would no longer be true.
    assert messages_of(user_client.get(f"/modules/{SALES}/")) == []
    # Without a message, the answer leaves the page's messages as they are.
    quiet = user_client.get(f"/modules/{SALES}/", {"q": "uzlet"}, headers=in_place)
    assert 'id="messages"' not in quiet.content.decode()

    user_client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "hu"
    hungarian = dom(user_client.get(f"/modules/{SALES}/", params, headers=in_place))
    assert "a tartomány vége nem lehet korábbi a kezdeténél" in hungarian.by_id("messages").text


# -- saved filters ------------------------------------------------------------------------------


def test_saved_filters_are_a_person_s_own_and_open_their_query(
    user_client: Client, filled: dict[str, int], django_user_model: type[User]
) -> None:
    query = f"f_{SOURCE}=3161&o=-{REVENUE}&p=2"
    saved = user_client.post(
        f"/modules/{SALES}/filters/", {"name": "  Webes   üzletek ", "query": query}
    )

    assert saved.status_code == 302
    kept = SavedFilter.objects.get()
    assert kept.name == "Webes üzletek" and kept.query == f"f_{SOURCE}=3161&o=-{REVENUE}"
    sidebar = dom(user_client.get(f"/modules/{SALES}/")).by_id("saved-filters")
    link = sidebar.find("a")
    assert link.text == "Webes üzletek"
    shown = rows(user_client.get(link.attrs["href"]))
    assert [i for i in shown if i in filled.values()] == [filled["big"], filled["web"]]
    other = django_user_model.objects.create_user("masik", password="x" * 12)
    assert (
        not dom(logged_in(Client(), other).get(f"/modules/{SALES}/"))
        .by_id("saved-filters")
        .has("a", string="Webes üzletek")
    )

    bad = user_client.post(
        f"/modules/{SALES}/filters/", {"name": "\x01\x02", "query": ""}, follow=True
    )
    assert messages_of(bad) == ["Give the filter a name (letters, digits, spaces)."]
    nul = user_client.post(f"/modules/{SALES}/filters/", {"name": "a\x00b"}, follow=True)
    assert messages_of(nul) == ["Null characters are not allowed."]
    assert SavedFilter.objects.count() == 1
    user_client.post(f"/modules/{SALES}/filters/{kept.pk}/delete/")
    assert not SavedFilter.objects.exists()


# -- every matching card ---------------------------------------------------------------------------


def test_a_bulk_change_of_all_matching_cards_takes_every_page(
    user_client: Client, filled: dict[str, int]
) -> None:
    query = "status=2620"  # Érdeklődő: the doc seed's cards and the test's own
    matching = Card.objects.filter(category_id=SALES, status_id=2620, deleted=False).count()
    page = dom(user_client.get(f"/modules/{SALES}/?{query}"))

    answer = user_client.post(
        f"/modules/{SALES}/bulk/",
        {"all_matching": "1", "action": "owner", "owner": "3300", "query": query, "confirm": "1"},
    )

    assert answer.status_code == 302
    job = BulkJob.objects.get()
    assert job.writes.count() == matching
    assert set(job.writes.values_list("target_id", flat=True)) == set(
        Card.objects.filter(category_id=SALES, status_id=2620).values_list("id", flat=True)
    )
    assert Write.objects.filter(payload={"UserId": 3300}).count() == matching
    assert page.by_id("selected-counter").attrs["data-all-text"].startswith("All ")


def test_the_changelist_in_hungarian_keeps_dates_and_labels(
    user_client: Client, filled: dict[str, int]
) -> None:
    user_client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "hu"
    params = {f"f_{CLOSING}_from": "2026-03-01", f"f_{CLOSING}_to": "2026-05-02", "q": "uzlet"}

    response = user_client.get(f"/modules/{SALES}/", params)

    page = dom(response)
    assert sorted(rows(response)) == sorted([filled["big"], filled["small"]])
    start = page.find("input", name=f"f_{CLOSING}_from")
    assert start.attrs["value"] == "2026-03-01"  # what the date input sends back, unchanged
    assert page.by_id("saved-filters").find("h2").text == "Mentett szűrők"
    assert page.by_id("column-chooser").find("summary").text == "Oszlopok"
    # A date typed the Hungarian way means the same days.
    typed = {**params, f"f_{CLOSING}_from": "2026.03.01.", f"f_{CLOSING}_to": "2026.05.02."}
    assert sorted(rows(user_client.get(f"/modules/{SALES}/", typed))) == sorted(rows(response))


def test_a_bulk_preview_counts_the_values_the_cards_have_now(
    user_client: Client, filled: dict[str, int]
) -> None:
    chosen = [str(filled["big"]), str(filled["small"]), str(filled["web"])]

    page = dom(
        user_client.post(
            f"/modules/{SALES}/bulk/",
            {"selected": chosen, "action": "field", "field": SOURCE, "value": "Ajánlás"},
        )
    )

    assert page.find("h1").text == "Hol talalt rank to “Ajánlás” on 3 cards?"
    rows_now = page.by_id("bulk-preview").find("tbody").find_all("tr")
    assert [[td.text for td in tr.find_all("td")] for tr in rows_now] == [
        ["Weboldal", "2", "Ajánlás"],
        ["Ajánlás", "1", "no change"],
    ]
    assert page.by_id("bulk-names").text == "Kis üzlet, Nagy üzlet, Őszi kampány"
    assert not Write.objects.exists()


def test_a_multi_select_filter_finds_the_cards_holding_a_choice(
    user_client: Client, filled: dict[str, int], settings: Settings
) -> None:
    from apps.mirror.models import Module

    # The module gets a multi-select (as a schema read again would bring it), and the cards
    # their values (as their details would).
    module = Module.objects.get(pk=SALES)
    module.schema = {
        **(module.schema or {}),
        "Etkezes": {"1": "Vegetáriánus", "2": "Glutén", "4": "Gluténmentes"},
    }
    module.save()
    for key, values in (
        ("big", ["Vegetáriánus", "Gluténmentes"]),
        ("small", ["Glutén"]),
        ("web", []),
    ):
        card = Card.objects.get(pk=filled[key])
        card.data = {**card.data, "Etkezes": values}
        card.save()

    def found(choice: str) -> set[int]:
        return set(rows(user_client.get(f"/modules/{SALES}/", {"f_Etkezes": choice, "q": "uzlet"})))

    assert found("4") == {filled["big"]}  # "Glutén" is not "Gluténmentes"
    assert found("2") == {filled["small"]}
    assert found("1") == {filled["big"]}
    facets = dom(user_client.get(f"/modules/{SALES}/", {"facets": "1", "q": "uzlet"}, headers=HTMX))
    box = facets.by_id("facet-f_Etkezes")
    counts = {
        li.find("a").text: li.find("span", class_="count").text for li in box.find_all("li")[1:]
    }
    assert counts == {"Vegetáriánus": "1", "Glutén": "1", "Gluténmentes": "1"}
