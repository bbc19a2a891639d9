"""Card pages and changelists read the mirror: once the sync has filled it they make no MiniCRM
request at all (MiniCRM is pointed at a port nobody listens on to prove it), a card the mirror
has not read yet is read from MiniCRM once and stored, queued writes are still laid over the
values, the pages say how fresh they are, and a card page updates itself when the mirror's copy
is read again."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings

from apps.core.selectors import modules_all
from apps.mirror.models import Card, Completeness, StatusChange, SyncState
from apps.mirror.services import (
    card_fetch,
    modules_sync,
    pass_next,
    pass_step,
    sync_client,
)
from apps.writes.models import Write
from tests.conftest import Sandbox, SandboxStarter
from tests.mirror.test_contact_reads import freshness_said
from tests.viewsupport import (
    dom,
    form_data,
    messages_of,
    minicrm_away,
    mirror_console,
    mirror_fill,
    sandbox_count,
    sandbox_ids,
    send,
)
from tests.xlsxread import xlsx_rows

pytestmark = pytest.mark.django_db

SALES = 10  # the doc seed's sales module
QUALIFICATION = "AutoSalesV3_Qualification"
HTMX = {"HX-Request": "true"}


@pytest.fixture(scope="module")
def card_sandbox(module_sandbox_factory: SandboxStarter) -> Sandbox:
    return module_sandbox_factory("doc")


@pytest.fixture
def console(settings: Settings, card_sandbox: Sandbox, redis_url: str) -> Iterator[Sandbox]:
    yield from mirror_console(settings, card_sandbox, redis_url)


def fill() -> None:
    mirror_fill()
    modules_all()


def lists_fill() -> None:
    """Only the sync's list passes: every card as a search row, no detail."""
    client = sync_client()
    modules_sync(client=client)
    while (state := pass_next()) is not None:
        pass_step(state=state, client=client)


def new_card(sandbox: Sandbox, **values: object) -> int:
    body = {"CategoryId": SALES, "Name": f"Teszt {uuid.uuid4().hex[:8]}", "ContactId": 7506}
    answer = sandbox.put("/Api/R3/Project/", json={**body, **values})
    assert answer.status_code == 200, answer.text
    return int(answer.json()["Id"])


def row_ids(response) -> list[int]:
    table = dom(response).by_id("result_list")
    return [int(box.attrs["value"]) for box in table.find_all("input", name="selected")]


def cell(response, name: str) -> str:
    return dom(response).by_id(f"field-{name}").find_all("td")[0].text


# -- served from the mirror ---------------------------------------------------------------------


def test_a_card_page_from_the_mirror_asks_minicrm_nothing(
    user_client: Client, console: Sandbox, settings: Settings
) -> None:
    card_id = new_card(console, StatusId=2620, **{QUALIFICATION: 3103})
    assert console.put(f"/Api/R3/Project/{card_id}", json={"StatusId": 2621}).status_code == 200
    fill()
    minicrm_away(settings)

    response = user_client.get(f"/cards/{card_id}/")

    assert response.status_code == 200
    page = dom(response)
    assert page.by_id("card-status").text == "Ajánlat kiküldve"
    assert page.by_id("card-contact").text == "Leskó Norbert"
    assert "Érdeklődő → Ajánlat kiküldve" in page.by_id("status-history").text
    assert cell(response, QUALIFICATION) == "Nem célcsoport"  # the dropdown's label
    assert not page.has(id="page-late")
    assert freshness_said(page.by_id("card-freshness").text) == (0, False)
    # The change form and an inline edit are built from the mirror too.
    form = dom(user_client.get(f"/cards/{card_id}/change/")).find("form", class_="schema-form")
    chosen = [label for _v, label, on in form.find("select", name=QUALIFICATION).options() if on]
    assert chosen == ["Nem célcsoport"]
    assert user_client.get(f"/cards/{card_id}/fields/{QUALIFICATION}/").status_code == 200


def test_a_changelist_from_the_mirror_lists_what_minicrm_lists_and_asks_it_nothing(
    user_client: Client, console: Sandbox, settings: Settings
) -> None:
    new_card(console, StatusId=2620)
    new_card(console, StatusId=2621)
    lists_fill()
    expected = {
        "all": sandbox_ids(console, "Project", CategoryId=SALES),
        "status": sandbox_ids(console, "Project", CategoryId=SALES, StatusId=2620),
        "group": sandbox_ids(console, "Project", CategoryId=SALES, StatusGroup="Lead"),
    }
    assert expected["all"] and expected["status"]
    minicrm_away(settings)

    assert sorted(row_ids(user_client.get(f"/modules/{SALES}/"))) == sorted(expected["all"])
    by_status = user_client.get(f"/modules/{SALES}/", {"status": "2620"})
    assert sorted(row_ids(by_status)) == sorted(expected["status"])
    by_group = user_client.get(f"/modules/{SALES}/", {"group": "Lead"})
    assert sorted(row_ids(by_group)) == sorted(expected["group"])
    freshness = dom(user_client.get(f"/modules/{SALES}/")).by_id("changelist-freshness")
    assert freshness_said(freshness.text) == (0, False)


def test_a_field_search_reads_the_mirror_once_every_card_is_held_in_full(
    user_client: Client, console: Sandbox, settings: Settings
) -> None:
    card_id = new_card(console, **{QUALIFICATION: 3103})
    expected = sandbox_ids(
        console, "Project", CategoryId=SALES, **{QUALIFICATION: "Nem célcsoport"}
    )
    assert card_id in expected
    lists_fill()
    search = {"field": QUALIFICATION, "value": "Nem célcsoport"}

    # With search rows only, the field is MiniCRM's to search.
    assert sorted(row_ids(user_client.get(f"/modules/{SALES}/", search))) == sorted(expected)

    fill()
    minicrm_away(settings)
    assert sorted(row_ids(user_client.get(f"/modules/{SALES}/", search))) == sorted(expected)
    lower = {"field": QUALIFICATION, "value": "nem CÉLCSOPORT"}  # as MiniCRM, case aside
    assert sorted(row_ids(user_client.get(f"/modules/{SALES}/", lower))) == sorted(expected)


def test_paging_of_a_mirrored_changelist_follows_minicrm_s_count(
    user_client: Client, demo: Sandbox, settings: Settings
) -> None:
    settings.MINICRM_RATE_LIMIT = 100_000
    lists_fill()
    total = sandbox_count(demo, "Project", CategoryId=20)
    first_ids = sandbox_ids(demo, "Project", CategoryId=20, Page=0)
    minicrm_away(settings)

    first = user_client.get("/modules/20/")
    last_page = -(-total // 100)
    last = user_client.get("/modules/20/", {"p": str(last_page)})

    assert row_ids(first) == first_ids  # MiniCRM's order: by id
    assert dom(first).find("span", class_="action-counter").text == f"{total} cards"
    assert f"page 1 of {last_page}" in dom(first).find("nav", class_="paginator").text
    assert len(row_ids(last)) == total - (last_page - 1) * 100
    past = user_client.get("/modules/20/", {"p": str(last_page + 4)})
    assert row_ids(past) == row_ids(last)
    nav = dom(past).find("nav", class_="paginator")
    assert nav.find("span", class_="this-page").text == f"page {last_page} of {last_page}"
    assert nav.has("span", class_="paginator-note")


def test_a_card_first_opened_is_read_from_minicrm_once_and_stored(
    user_client: Client, console: Sandbox, settings: Settings
) -> None:
    card_id = new_card(console, **{QUALIFICATION: 3105})
    assert not Card.objects.filter(pk=card_id).exists()

    assert user_client.get(f"/cards/{card_id}/").status_code == 200

    row = Card.objects.get(pk=card_id)
    assert row.completeness == Completeness.DETAIL
    assert row.todos_synced_at is not None and row.history_synced_at is not None
    minicrm_away(settings)
    again = user_client.get(f"/cards/{card_id}/")
    assert again.status_code == 200 and cell(again, QUALIFICATION) == "Hideg"


def test_a_card_minicrm_no_longer_has_is_not_found(
    user_client: Client, console: Sandbox, settings: Settings
) -> None:
    card_id = new_card(console)
    fill()
    assert console.put(f"/Api/R3/Project/{card_id}", json={"Deleted": 1}).status_code == 200
    card_fetch(card_id=card_id)  # the sync's read finds it gone

    assert user_client.get(f"/cards/{card_id}/").status_code == 404
    assert card_id not in row_ids(user_client.get(f"/modules/{SALES}/"))


def test_queued_values_are_laid_over_and_a_landed_status_change_shows_at_once(
    user_client: Client, console: Sandbox, settings: Settings
) -> None:
    card_id = new_card(console, StatusId=2620)
    fill()
    status_form = dom(user_client.get(f"/cards/{card_id}/")).find("form", class_="status-buttons")
    user_client.post(f"/cards/{card_id}/status/", form_data(status_form, status="2621"))
    write = Write.objects.get()
    address = settings.MINICRM_BASE_URL
    minicrm_away(settings)

    page = dom(user_client.get(f"/cards/{card_id}/"))
    assert page.by_id("card-status").text == "Ajánlat kiküldve"
    assert "pending" in page.find("div", class_="card-summary").text

    settings.MINICRM_BASE_URL = address
    assert send(write).state == Write.State.DONE
    minicrm_away(settings)

    page = dom(user_client.get(f"/cards/{card_id}/"))
    assert page.by_id("card-status").text == "Ajánlat kiküldve"
    assert "pending" not in page.find("div", class_="card-summary").text
    newest = page.by_id("status-history").find("li")
    assert newest.text.endswith("Érdeklődő → Ajánlat kiküldve")
    by_status = user_client.get(f"/modules/{SALES}/", {"status": "2621"})
    assert card_id in row_ids(by_status)

    # The sync's next read of the history replaces the console's line with MiniCRM's own.
    settings.MINICRM_BASE_URL = address
    card_fetch(card_id=card_id)
    lines = StatusChange.objects.filter(card_id=card_id)
    assert lines.filter(id__lt=0).count() == 0
    assert lines.filter(new_status_id=2621).count() == 1


# -- freshness, refresh and the page that updates itself -----------------------------------------


def test_an_old_copy_is_shown_and_read_again_in_the_background(
    user_client: Client, console: Sandbox, settings: Settings
) -> None:
    card_id = new_card(console)
    fill()
    settings.MIRROR_STALE_SECONDS = 300
    Card.objects.filter(pk=card_id).update(synced_at=timezone.now() - timedelta(minutes=10))
    minicrm_away(settings)

    page = dom(user_client.get(f"/cards/{card_id}/"))

    assert freshness_said(page.by_id("card-freshness").text) == (10, True)
    assert Card.objects.get(pk=card_id).stale_since is not None


def test_the_card_page_asks_for_changes_and_swaps_in_the_new_copy(
    user_client: Client, console: Sandbox, settings: Settings
) -> None:
    card_id = new_card(console, **{QUALIFICATION: 3105})
    fill()
    body = dom(user_client.get(f"/cards/{card_id}/")).by_id("card-body")
    watch = body.attrs["hx-get"]
    assert body.attrs["hx-trigger"].startswith("every ")

    unchanged = user_client.get(watch, headers=HTMX)
    assert unchanged.status_code == 204  # nothing to swap: the page is as fresh as the mirror

    # Someone changes the card in MiniCRM; the sync reads it again.
    answer = console.put(f"/Api/R3/Project/{card_id}", json={QUALIFICATION: 3103})
    assert answer.status_code == 200
    card_fetch(card_id=card_id)
    changed = user_client.get(watch, headers=HTMX)

    assert changed.status_code == 200
    part = dom(changed)
    assert part.by_id("card-body").attrs["hx-get"] != watch  # it now watches the new copy
    assert part.by_id(f"field-{QUALIFICATION}").find_all("td")[0].text == "Nem célcsoport"
    assert not part.has("html")  # the body only, swapped in place


def test_refresh_from_minicrm_reads_the_card_again_now(
    user_client: Client, console: Sandbox, settings: Settings
) -> None:
    card_id = new_card(console, **{QUALIFICATION: 3105})
    fill()
    assert console.put(f"/Api/R3/Project/{card_id}", json={QUALIFICATION: 3102}).status_code == 200
    assert cell(user_client.get(f"/cards/{card_id}/"), QUALIFICATION) == "Hideg"  # the mirror's

    response = user_client.post(f"/cards/{card_id}/refresh/")

    assert response.status_code == 302 and response["Location"] == f"/cards/{card_id}/"
    assert cell(user_client.get(f"/cards/{card_id}/"), QUALIFICATION) == "Célcsoport"


def test_refresh_of_a_card_minicrm_no_longer_has_says_so(
    user_client: Client, console: Sandbox, settings: Settings
) -> None:
    card_id = new_card(console)
    fill()
    assert console.put(f"/Api/R3/Project/{card_id}", json={"Deleted": 1}).status_code == 200

    response = user_client.post(f"/cards/{card_id}/refresh/", follow=True)

    assert "MiniCRM has no such card (any more)." in response.content.decode()
    assert Card.objects.get(pk=card_id).deleted


def test_refresh_while_minicrm_is_away_says_why_and_keeps_the_copy(
    user_client: Client, console: Sandbox, settings: Settings
) -> None:
    card_id = new_card(console)
    fill()
    minicrm_away(settings)

    response = user_client.post(f"/cards/{card_id}/refresh/", follow=True)

    assert response.status_code == 200
    assert "could not be refreshed from MiniCRM" in response.content.decode()
    assert dom(response).by_id("card-status").text != ""


# -- without the mirror ---------------------------------------------------------------------------


def test_without_the_mirror_card_pages_read_minicrm_and_store_nothing(
    user_client: Client, console: Sandbox, settings: Settings
) -> None:
    settings.MIRROR_ENABLED = False
    card_id = new_card(console)

    page = dom(user_client.get(f"/cards/{card_id}/"))
    listed = user_client.get(f"/modules/{SALES}/")

    assert page.by_id("card-freshness").text == ""
    assert not page.has(id="card-refresh") and not page.by_id("card-body").attrs.get("hx-get")
    assert card_id in row_ids(listed)
    assert not Card.objects.exists() and not SyncState.objects.exists()


def test_a_mirrored_card_page_and_changelist_in_hungarian(
    user_client: Client, console: Sandbox, settings: Settings
) -> None:
    card_id = new_card(console, StatusId=2620)
    fill()
    Card.objects.filter(pk=card_id).update(synced_at=timezone.now() - timedelta(minutes=10))
    user_client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "hu"
    minicrm_away(settings)

    page = dom(user_client.get(f"/cards/{card_id}/"))
    listed = dom(user_client.get(f"/modules/{SALES}/"))

    assert page.by_id("card-freshness").text == "szinkronizálva 10 perc ezelőtt · frissítés…"
    assert page.by_id("card-refresh").find("button").text == "Frissítés a MiniCRM-ből"
    assert listed.by_id("changelist-freshness").text.startswith("szinkronizálva ")
    away = user_client.post(f"/cards/{card_id}/refresh/", follow=True)
    said = " ".join(messages_of(away))
    assert said.startswith("A kártyát nem sikerült frissíteni a MiniCRM-ből: ")


# -- sorting and names ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("order", "key"),
    [
        ("name", lambda c: (c.name.casefold(), c.id)),
        ("-name", lambda c: (c.name.casefold(), c.id)),
        ("updated", lambda c: (c.updated_at, c.id)),
        ("-updated", lambda c: (c.updated_at, c.id)),
    ],
)
def test_a_mirrored_changelist_sorts_by_a_column_both_ways(
    user_client: Client, demo: Sandbox, settings: Settings, order: str, key
) -> None:
    settings.MINICRM_RATE_LIMIT = 100_000
    lists_fill()
    for card_id in Card.objects.filter(category_id=20).values_list("id", flat=True)[:120]:
        card_fetch(card_id=card_id)  # some with their UpdatedAt, the rest without
    cards = list(Card.objects.filter(category_id=20, deleted=False))
    with_value = [c for c in cards if not order.endswith("updated") or c.updated_at]
    without = [c for c in cards if order.endswith("updated") and not c.updated_at]
    expected = sorted(with_value, key=key, reverse=order.startswith("-"))
    expected += sorted(without, key=lambda c: c.id, reverse=order.startswith("-"))
    minicrm_away(settings)

    response = user_client.get("/modules/20/", {"o": order, "p": "2"})

    assert row_ids(response) == [c.id for c in expected[100:200]]
    header = dom(response).by_id(f"column-{order.removeprefix('-')}")
    assert header.attrs["aria-sort"] == ("descending" if order.startswith("-") else "ascending")
    flipped = order.removeprefix("-") if order.startswith("-") else f"-{order}"
    assert header.find("a").attrs["href"] == f"?o={flipped}"  # back on page 1, the other way


def test_sorting_by_status_owner_and_company_follows_what_the_columns_show(
    user_client: Client, demo: Sandbox, settings: Settings
) -> None:
    settings.MINICRM_RATE_LIMIT = 100_000
    lists_fill()
    minicrm_away(settings)

    for order, column in (("status", 2), ("owner", 3), ("-company", 4)):
        response = user_client.get("/modules/20/", {"o": order, "status": "", "p": "1"})
        shown = [
            row.find_all("td")[column - 1].text
            for row in dom(response).by_id("result_list").find("tbody").find_all("tr")
        ]
        folded = [text.casefold() for text in shown]
        assert folded == sorted(folded, reverse=order.startswith("-")), order


def test_the_company_column_names_the_company(
    user_client: Client, console: Sandbox, settings: Settings
) -> None:
    fill()
    minicrm_away(settings)

    response = user_client.get(f"/modules/{SALES}/")

    links = dom(response).by_id("result_list").links()
    assert links.get("/contacts/7505/") == "MiniCRM Zrt."
    assert not any(text.startswith("#") for text in links.values())


def test_a_changelist_not_mirrored_yet_does_not_offer_sorting(
    user_client: Client, console: Sandbox, settings: Settings
) -> None:
    response = user_client.get(f"/modules/{SALES}/", {"o": "-name"})

    assert response.status_code == 200
    header = dom(response).by_id("column-name")
    assert not header.has("a") and "aria-sort" not in header.attrs
    assert row_ids(response) == sorted(row_ids(response))  # MiniCRM's order: by id


# -- export --------------------------------------------------------------------------------------


def all_pages(user_client: Client, path: str, params: dict[str, str]) -> list[int]:
    ids: list[int] = []
    for number in range(1, 100):
        found = row_ids(user_client.get(path, {**params, "p": str(number)}))
        if not found:
            return ids
        ids += found
        if len(found) < 100:
            return ids
    return ids


def test_an_export_holds_every_page_of_the_filtered_sorted_changelist(
    user_client: Client, demo: Sandbox, settings: Settings
) -> None:
    settings.MINICRM_RATE_LIMIT = 100_000
    lists_fill()
    minicrm_away(settings)
    params = {"group": "Open", "o": "-name"}
    expected = all_pages(user_client, "/modules/20/", params)
    assert len(expected) > 100  # more than one page

    page = dom(user_client.get("/modules/20/", params))
    csv_link = page.by_id("export-csv").attrs["href"]
    xlsx_link = page.by_id("export-xlsx").attrs["href"]
    as_csv = user_client.get(csv_link)
    as_xlsx = user_client.get(xlsx_link)

    today = timezone.localdate().isoformat()
    assert as_csv["Content-Disposition"] == f'attachment; filename="ertekesites-open-{today}.csv"'
    text = as_csv.getvalue().decode().removeprefix("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:6] == ["Id", "Name", "Status", "Owner", "Company", "Updated"]
    assert [int(row[0]) for row in rows[1:]] == expected
    sheet = xlsx_rows(as_xlsx.getvalue())
    assert [int(row[0]) for row in sheet[1:]] == expected
    assert sheet[0] == rows[0]


def test_a_list_the_mirror_does_not_hold_yet_is_not_exported(
    user_client: Client, console: Sandbox, settings: Settings
) -> None:
    response = user_client.get(f"/modules/{SALES}/export/", {"format": "csv"}, follow=True)

    assert response.redirect_chain[-1][0].startswith(f"/modules/{SALES}/")
    assert "can be exported once the mirror holds it" in " ".join(messages_of(response))


def test_an_export_in_an_unknown_format_says_so(
    user_client: Client, console: Sandbox, settings: Settings
) -> None:
    lists_fill()

    response = user_client.get(f"/modules/{SALES}/export/", {"format": "pdf"}, follow=True)

    assert response.status_code == 200
    assert "Choose CSV or XLSX." in messages_of(response)


def test_an_export_in_hungarian_names_its_columns_in_hungarian(
    user_client: Client, console: Sandbox, settings: Settings
) -> None:
    lists_fill()
    user_client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "hu"

    response = user_client.get(f"/modules/{SALES}/export/", {"format": "csv"})

    header = response.getvalue().decode().removeprefix("\ufeff").splitlines()[0]
    assert header.startswith("Id,Név,Státusz,")


# -- the board -----------------------------------------------------------------------------------


def board_columns(response) -> dict[str, list[int]]:
    columns = {}
    for section in dom(response).find_all("section", class_="board-column"):
        title = section.find("h2").find("a").text
        columns[title] = [int(li.attrs["data-card"]) for li in section.find_all("li")]
    return columns


def test_the_board_shows_each_status_s_cards_and_a_move_queues_the_change(
    user_client: Client, console: Sandbox, settings: Settings
) -> None:
    lead = new_card(console, StatusId=2620)
    lists_fill()
    address = settings.MINICRM_BASE_URL
    minicrm_away(settings)

    response = user_client.get(f"/modules/{SALES}/board/")

    assert response.status_code == 200
    columns = board_columns(response)
    assert lead in columns["Érdeklődő"]
    expected = sandbox_ids(console, "Project", CategoryId=SALES, StatusId=2620)
    assert sorted(columns["Érdeklődő"]) == sorted(expected)
    count = dom(response).by_id("board-column-2620").find("span", class_="count").text
    assert count == str(len(expected))
    # Its move form (the keyboard's and a browser's without JavaScript) offers every status,
    # its own chosen.
    options = dom(response).by_id(f"move-{lead}").options()
    assert [label for _value, label, _on in options] == list(columns)
    assert [value for value, _label, on in options if on] == ["2620"]

    # Dropped on "Ajánlat kiküldve" (the drag posts what the tile's form posts).
    settings.MINICRM_BASE_URL = address
    htmx = {"HX-Request": "true"}
    moved = user_client.post(
        f"/modules/{SALES}/board/move/", {"card": lead, "status": "2621"}, headers=htmx
    )
    assert moved.status_code == 200
    tile = dom(moved).by_id(f"board-card-{lead}")
    assert "pending" in tile.classes
    assert [value for value, _label, on in tile.find("select").options() if on] == ["2621"]
    write = Write.objects.get()
    assert write.payload == {"StatusId": 2621}
    minicrm_away(settings)
    columns = board_columns(user_client.get(f"/modules/{SALES}/board/"))
    assert lead in columns["Ajánlat kiküldve"] and lead not in columns["Érdeklődő"]

    settings.MINICRM_BASE_URL = address
    assert send(write).state == Write.State.DONE
    assert console.get(f"/Api/R3/Project/{lead}").json()["StatusId"] == "Ajánlat kiküldve"
    minicrm_away(settings)
    tile = dom(user_client.get(f"/modules/{SALES}/board/")).by_id(f"board-card-{lead}")
    assert "pending" not in tile.classes


def test_a_move_without_javascript_comes_back_to_the_board(
    user_client: Client, console: Sandbox, settings: Settings
) -> None:
    card_id = new_card(console, StatusId=2620)
    lists_fill()

    response = user_client.post(
        f"/modules/{SALES}/board/move/", {"card": card_id, "status": "2621", "query": "owner="}
    )

    assert response.status_code == 302
    assert response["Location"] == f"/modules/{SALES}/board/?owner="


@pytest.mark.parametrize(
    "data",
    [
        {"card": "abc", "status": "2621"},
        {"card": "1", "status": "999999"},
        {"status": "2621"},
    ],
)
def test_a_bad_move_says_why_and_changes_nothing(
    user_client: Client, console: Sandbox, settings: Settings, data: dict[str, str]
) -> None:
    lists_fill()

    response = user_client.post(
        f"/modules/{SALES}/board/move/", data, headers={"HX-Request": "true"}
    )

    assert response.status_code == 400
    assert dom(response).text
    assert not Write.objects.exists()


def test_a_card_of_another_module_is_not_moved_on_this_board(
    user_client: Client, console: Sandbox, settings: Settings
) -> None:
    lists_fill()
    other = sandbox_ids(console, "Project", CategoryId=3)[0]

    response = user_client.post(f"/modules/{SALES}/board/move/", {"card": other, "status": "2621"})

    assert response.status_code == 404
    assert not Write.objects.exists()


def test_the_board_waits_for_the_mirror_and_says_so(
    user_client: Client, console: Sandbox, settings: Settings
) -> None:
    response = user_client.get(f"/modules/{SALES}/board/", follow=True)

    assert response.redirect_chain[-1][0].startswith(f"/modules/{SALES}/")
    assert "once the mirror holds it" in " ".join(messages_of(response))


def test_the_board_says_which_filters_it_left_out(
    user_client: Client, console: Sandbox, settings: Settings
) -> None:
    # The list's link to its board carries the list's filters: those the board cannot use
    # are named, as on the list, and the others still apply.
    lists_fill()
    owner = dom(user_client.get(f"/modules/{SALES}/board/")).by_id("id_owner").options()[1][0]
    bad = {"owner": owner, "p": "nope", "updated_from": "2026-05-01", "updated_to": "2026-04-01"}

    response = user_client.get(f"/modules/{SALES}/board/", bad)

    assert messages_of(response) == [
        "Not understood in the address, so left out: Page.",
        "Updated (to): the end of a range cannot come before its start, so it was left out.",
    ]
    kept = {"owner": owner, "updated_from": "2026-05-01"}
    assert board_columns(response) == board_columns(
        user_client.get(f"/modules/{SALES}/board/", kept)
    )
    assert board_columns(response) != board_columns(user_client.get(f"/modules/{SALES}/board/"))
    in_place = {"HX-Request": "true", "HX-Target": "board-columns"}
    box = dom(user_client.get(f"/modules/{SALES}/board/", bad, headers=in_place)).by_id("messages")
    assert box.attrs.get("hx-swap-oob") == "true"
    assert "Updated (to)" in box.text


def test_the_board_in_hungarian(user_client: Client, console: Sandbox, settings: Settings) -> None:
    lists_fill()
    user_client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "hu"

    page = dom(user_client.get(f"/modules/{SALES}/board/"))

    assert page.find("h1").find("small").text == "Tábla"
    assert page.find("button", class_="link-button").text == "Áthelyezés"
