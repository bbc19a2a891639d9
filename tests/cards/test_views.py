"""Card pages as a back-office user uses them: a module's changelist, the card page, its
change form, inline edits, status changes and bulk actions, against the doc and demo sandboxes."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client
from pytest_django.fixtures import Settings

from apps.cards.services import card_update
from apps.core.minicrm import minicrm_budget
from apps.core.parallel import wait_idle
from apps.core.readcache import forget
from apps.mirror.models import Card as MirrorCard
from apps.writes.models import BulkJob, Write
from minicrm import Priority
from tests.conftest import Sandbox, SandboxStarter, free_port
from tests.viewsupport import (
    BackgroundSender,
    Node,
    console_at,
    dom,
    errors_of,
    faulty_console,
    field_row,
    form_data,
    is_full_page,
    messages_of,
    sandbox_count,
    sandbox_ids,
    send,
    set_faults,
)

pytestmark = pytest.mark.django_db

QUALIFICATION = "AutoSalesV3_Qualification"
SALES = 20  # the demo's sales module
NEXT = "next \N{SINGLE RIGHT-POINTING ANGLE QUOTATION MARK}"
PREVIOUS = "\N{SINGLE LEFT-POINTING ANGLE QUOTATION MARK} previous"
HTMX_RESULTS = {"HX-Request": "true", "HX-Target": "changelist-results"}


def row_ids(response) -> list[int]:
    table = dom(response).by_id("result_list")
    return [int(box.attrs["value"]) for box in table.find_all("input", name="selected")]


def cell(page: Node, name: str) -> Node:
    """The value cell of a field on the card page."""
    return page.by_id(f"field-{name}").find_all("td")[0]


def new_card(sandbox: Sandbox, **values: object) -> int:
    """A card of the test's own in the doc sales module (seeded cards stay as they are)."""
    body = {"CategoryId": 10, "Name": f"Teszt {uuid.uuid4().hex[:8]}", "ContactId": 7461}
    answer = sandbox.put("/Api/R3/Project/", json={**body, **values})
    assert answer.status_code == 200, answer.text
    return int(answer.json()["Id"])


# -- the changelist ---------------------------------------------------------------------------


def test_changelist_shows_a_page_of_100_and_minicrm_s_total(
    user_client: Client, demo: Sandbox
) -> None:
    response = user_client.get(f"/modules/{SALES}/")

    assert response.status_code == 200
    page = dom(response)
    assert page.find("h1").text == "Értékesítés"
    assert row_ids(response) == sandbox_ids(demo, "Project", CategoryId=SALES, Page=0)
    assert len(row_ids(response)) == 100
    total = sandbox_count(demo, "Project", CategoryId=SALES)
    assert page.find("span", class_="action-counter").text == f"{total} cards"
    nav = page.find("nav", class_="paginator")
    assert "page 1 of 10" in nav.text
    assert nav.links() == {"?p=2": NEXT}
    # The navigation marks the module being shown.
    assert page.by_id("nav-modules").find("a", aria_current="page").text == "Értékesítés"


def test_changelist_rows_show_status_and_owner_labels(user_client: Client, demo: Sandbox) -> None:
    response = user_client.get(f"/modules/{SALES}/")

    first = dom(response).by_id("result_list").find("tbody").find("tr")
    cells = [td.text for td in first.find_all("td")]
    assert first.find("th").text == "Tanácsadás #1"
    assert cells[1:4] == ["Érdeklődő", "Szabó Gergő", "#10349"]


def test_changelist_second_page(user_client: Client, demo: Sandbox) -> None:
    response = user_client.get(f"/modules/{SALES}/", {"p": "2"})

    assert row_ids(response) == sandbox_ids(demo, "Project", CategoryId=SALES, Page=1)
    nav = dom(response).find("nav", class_="paginator")
    assert "page 2 of 10" in nav.text
    assert nav.links() == {"?p=1": PREVIOUS, "?p=3": NEXT}


@pytest.mark.parametrize(
    ("query", "minicrm"),
    [
        ({"status": "5001"}, {"StatusId": 5001}),
        ({"group": "Lead"}, {"StatusGroup": "Lead"}),
        ({"owner": "104"}, {"UserId": 104}),
        ({"field": "Forras", "value": "Weboldal"}, {"Forras": "Weboldal"}),
        ({"owner": "104", "status": "5001"}, {"UserId": 104, "StatusId": 5001}),
        ({"group": "Success", "p": "2"}, {"StatusGroup": "Success", "Page": 1}),
    ],
)
def test_filters_narrow_the_list_as_minicrm_s_search_does(
    user_client: Client, demo: Sandbox, query: dict[str, str], minicrm: dict[str, object]
) -> None:
    response = user_client.get(f"/modules/{SALES}/", query)

    assert response.status_code == 200
    expected = sandbox_ids(demo, "Project", CategoryId=SALES, **{"Page": 0, **minicrm})
    assert expected
    assert row_ids(response) == expected
    total = sandbox_count(demo, "Project", CategoryId=SALES, **minicrm)
    assert total < 1000
    assert dom(response).find("span", class_="action-counter").text == f"{total} cards"
    # The filter form shows what is applied, so the page can be read (and bookmarked) as is.
    filters = dom(response).by_id("changelist-filters")
    for name, value in query.items():
        if name == "p":
            continue
        widget = filters.find(name=name)
        shown = (
            widget.attrs.get("value")
            if widget.tag == "input"
            else next(v for v, _, selected in widget.options() if selected)
        )
        assert shown == value


def test_status_filter_rows_all_have_that_status(user_client: Client, demo: Sandbox) -> None:
    response = user_client.get(f"/modules/{SALES}/", {"status": "5006"})

    rows = dom(response).by_id("result_list").find("tbody").find_all("tr")
    assert rows
    assert {row.find_all("td")[1].text for row in rows} == {"Megnyert"}


@pytest.mark.parametrize("past", ["11", "57", "100000"])
def test_a_page_past_the_end_is_the_last_page_and_says_so(
    user_client: Client, demo: Sandbox, past: str
) -> None:
    response = user_client.get(f"/modules/{SALES}/", {"p": past})

    assert response.status_code == 200
    assert row_ids(response) == sandbox_ids(demo, "Project", CategoryId=SALES, Page=9)
    nav = dom(response).find("nav", class_="paginator")
    assert nav.find("span", class_="this-page").text == "page 10 of 10"
    assert nav.links() == {"?p=9": PREVIOUS}
    assert nav.find("span", class_="paginator-note").text == (
        f"There is no page {past}: this is the last one."
    )


def test_a_filtered_page_past_the_end_is_the_filtered_last_page(
    user_client: Client, demo: Sandbox
) -> None:
    total = sandbox_count(demo, "Project", CategoryId=SALES, StatusGroup="Success")
    last = -(-total // 100)

    response = user_client.get(
        f"/modules/{SALES}/", {"group": "Success", "p": str(last + 3)}, headers=HTMX_RESULTS
    )

    expected = sandbox_ids(demo, "Project", CategoryId=SALES, StatusGroup="Success", Page=last - 1)
    assert row_ids(response) == expected
    nav = dom(response).find("nav", class_="paginator")
    assert nav.find("span", class_="this-page").text == f"page {last} of {last}"


@pytest.mark.parametrize("low", ["0", "-3", "abc"])
def test_a_page_below_1_or_not_a_number_is_the_first_page(
    user_client: Client, demo: Sandbox, low: str
) -> None:
    response = user_client.get(f"/modules/{SALES}/", {"p": low})

    assert row_ids(response) == sandbox_ids(demo, "Project", CategoryId=SALES, Page=0)
    nav = dom(response).find("nav", class_="paginator")
    assert nav.find("span", class_="this-page").text == "page 1 of 10"
    assert not nav.has("span", class_="paginator-note")


def test_a_page_past_the_end_in_hungarian(hungarian: Client, demo: Sandbox) -> None:
    nav = dom(hungarian.get(f"/modules/{SALES}/", {"p": "11"})).find("nav", class_="paginator")

    assert nav.find("span", class_="this-page").text == "10. oldal (összesen 10)"
    assert nav.find("span", class_="paginator-note").text == (
        "Nincs 11. oldal: ez az utolsó oldal."
    )


def test_a_filter_that_matches_nothing_says_so_with_a_way_to_clear_it(
    user_client: Client, demo: Sandbox
) -> None:
    response = user_client.get(f"/modules/{SALES}/", {"field": "Forras", "value": "Sehonnan"})

    empty = dom(response).by_id("changelist-empty")
    assert empty.text == "No cards match these filters. Clear all filters"
    assert empty.links() == {f"/modules/{SALES}/": "Clear all filters"}


def test_a_module_without_cards_says_it_has_none_yet(hungarian: Client, doc: Sandbox) -> None:
    modules = doc.get("/Api/R3/Category").json()
    empty = next(
        int(module_id)
        for module_id in modules
        if sandbox_count(doc, "Project", CategoryId=module_id) == 0
    )
    response = hungarian.get(f"/modules/{empty}/")

    assert dom(response).by_id("changelist-empty").text == "Ebben a modulban még nincs kártya."
    filtered = hungarian.get(f"/modules/{empty}/", {"owner": "", "status": ""})
    assert dom(filtered).by_id("changelist-empty").text == "Ebben a modulban még nincs kártya."


def test_paging_links_keep_the_filters(user_client: Client, demo: Sandbox) -> None:
    response = user_client.get(f"/modules/{SALES}/", {"group": "Open"})

    links = dom(response).find("nav", class_="paginator").links()
    assert "?group=Open&p=2" in links


def test_htmx_changelist_answers_only_the_results(user_client: Client, demo: Sandbox) -> None:
    partial = user_client.get(f"/modules/{SALES}/", {"status": "5001"}, headers=HTMX_RESULTS)
    full = user_client.get(f"/modules/{SALES}/", {"status": "5001"})

    assert not is_full_page(partial)
    part = dom(partial)
    assert part.find("div").id == "changelist-results"
    assert not part.has("form", id="changelist-filters")
    assert row_ids(partial) == row_ids(full)
    assert is_full_page(full)
    filters = dom(full).by_id("changelist-filters")
    assert filters.attrs["hx-target"] == "#changelist-results"
    assert filters.attrs["hx-push-url"] == "true"


@pytest.mark.parametrize(
    "query",
    [
        {"p": "abc"},
        {"p": "0"},
        {"p": "999"},
        {"status": "nope"},
        {"status": "999999"},
        {"group": "Nincs"},
        {"owner": "-1"},
        {"field": "Nincs", "value": "x"},
        {"field": "VarhatoArbevetel", "value": "sok"},
    ],
)
def test_odd_query_strings_are_no_error(
    user_client: Client, demo: Sandbox, query: dict[str, str]
) -> None:
    response = user_client.get(f"/modules/{SALES}/", query)

    assert response.status_code == 200
    assert dom(response).has(id="result_list")


@pytest.mark.parametrize("bad", ["²", str(2**64 + 1), "nope"])
def test_a_bad_filter_is_left_out_with_a_message_and_the_others_still_apply(
    user_client: Client, demo: Sandbox, bad: str
) -> None:
    status = row_ids(user_client.get(f"/modules/{SALES}/", {"status": "5006"}))

    response = user_client.get(f"/modules/{SALES}/", {"status": "5006", "owner": bad, "p": bad})

    assert response.status_code == 200
    assert messages_of(response) == ["Not understood in the address, so left out: Owner, Page."]
    assert row_ids(response) == status


def test_unknown_module_is_a_not_found_page(user_client: Client, doc: Sandbox) -> None:
    for path in ("/modules/999/", "/modules/999/add/"):
        response = user_client.get(path)
        assert response.status_code == 404, path
        assert dom(response).find("h1").text == "Not found"


# -- the card page ------------------------------------------------------------------------------


def test_card_page_labels_every_field(user_client: Client, doc: Sandbox) -> None:
    response = user_client.get("/cards/2056/")

    assert response.status_code == 200
    page = dom(response)
    assert page.find("h1").text.startswith("MiniCRM Zrt. (Leskó Norbert)")
    assert page.by_id("card-status").text == "Feldolgozásra vár"
    assert page.by_id("card-owner").text == "Leskó Norbert"
    contact, company = page.by_id("card-contact"), page.by_id("card-company")
    assert (contact.attrs["href"], contact.text) == ("/contacts/7506/", "Leskó Norbert")
    assert (company.attrs["href"], company.text) == ("/contacts/7505/", "MiniCRM Zrt.")
    # Dropdowns by their labels, never their ids.
    assert cell(page, QUALIFICATION).text == "VIP"
    assert cell(page, "AutoSalesV3_IsHot").text == "Igen"
    assert cell(page, "DontesiSzempont").text == "Termék minőség"
    assert "3101" not in page.by_id("card-fields").text
    # Dates as dates, in the user's zone (Budapest by default).
    when = cell(page, "KovetkezoHivasIdpontja").find("time")
    assert when.attrs["datetime"] == "2018-02-16T13:00:59+01:00"
    assert when.text == "2018-02-16 13:00"
    assert cell(page, "VarhatoArbevetel").text == "1000000"
    # Empty values as empty.
    for name in ("AutoSalesV3_CustomerStep", "Szerzodes"):
        assert cell(page, name).find("span", class_="empty").text == "—"
    # Header fields are not repeated in the field list.
    assert not page.by_id("card-fields").has(id="field-StatusId")
    assert not page.by_id("card-fields").has(id="field-ContactId")


def test_card_page_status_buttons_mark_the_current_status(
    user_client: Client, doc: Sandbox
) -> None:
    page = dom(user_client.get("/cards/2056/"))

    buttons = page.find("form", class_="status-buttons").find_all("button")
    assert [b.text for b in buttons] == [
        "Érdeklődő",
        "Ügyfélminősítés",
        "Ajánlat kiküldve",
        "Feldolgozásra vár",
        "Sikeres",
        "Sikertelen",
    ]
    current = [b for b in buttons if "disabled" in b.attrs]
    assert [(b.text, b.attrs["value"]) for b in current] == [("Feldolgozásra vár", "2622")]


def test_card_page_shows_multi_selects_as_lists_and_booleans_as_words(
    user_client: Client, demo: Sandbox
) -> None:
    page = dom(user_client.get("/cards/100003/"))

    tags = cell(page, "Erdeklodes").find("ul", class_="tags")
    assert [li.text for li in tags.find_all("li")] == [
        "CRM",
        "Marketing automatizáció",
        "Projektmenedzsment",
    ]
    assert cell(page, "ForroLead").text == "No"
    assert cell(page, "Valoszinuseg").text == "70.5"
    closing = cell(page, "VarhatoLezaras").find("time")
    assert (closing.attrs["datetime"], closing.text) == ("2026-02-06", "2026-02-06")
    link = cell(page, "Ajanlat").find("a")
    assert link.attrs["href"] == "https://files.example.com/demo/9282.pdf"

    other = dom(user_client.get("/cards/100002/"))
    assert cell(other, "Erdeklodes").has("span", class_="empty")
    assert cell(other, "KovetkezoHivas").has("span", class_="empty")
    assert cell(other, "ForroLead").text == "Yes"


def test_card_page_shows_the_status_history_newest_first(
    user_client: Client, demo: Sandbox
) -> None:
    page = dom(user_client.get("/cards/100003/"))

    entries = page.by_id("status-history").find("ol", class_="timeline").find_all("li")
    assert [li.text for li in entries] == [
        "2025-03-16 14:44 Kapcsolatfelvétel → Megnyert",
        "2025-03-13 13:44 Igényfelmérés → Kapcsolatfelvétel",
        "2025-03-10 12:44 Érdeklődő → Igényfelmérés",
        "2025-03-07 11:44 Érdeklődő",
    ]
    assert entries[0].find("time").attrs["datetime"] == "2025-03-16T14:44:00+01:00"


def test_card_page_without_history_or_to_dos_says_so(user_client: Client, doc: Sandbox) -> None:
    page = dom(user_client.get("/cards/2056/"))

    assert page.by_id("status-history").find("li").text == "No status changes yet."
    todos = page.by_id("card-todos")
    assert not todos.has("li", class_="todo")
    assert "quiet" in todos.find("li").classes


def todo_items(page: Node) -> list[tuple[str, str]]:
    """The card page's to-dos: (deadline as shown, comment)."""
    return [
        (li.find("time").text, li.find("span", class_="comment").text)
        for li in page.by_id("card-todos").find_all("li", class_="todo")
    ]


def test_card_page_lists_its_open_to_dos(user_client: Client, doc: Sandbox) -> None:
    page = dom(user_client.get("/cards/2001/"))

    assert todo_items(page) == [
        (
            "2012-01-17 23:59",
            "Felhívni és megkérdezni sikerült-e dönteni, van-e még valamilyen kérdése a termékről.",
        ),
        ("2013-01-22 23:59", "Történt valami előrelépés?"),
    ]


def test_card_page_leaves_closed_to_dos_to_their_tab(user_client: Client, demo: Sandbox) -> None:
    # Card 100004 has two open to-dos; 100002 only a closed one.
    assert todo_items(dom(user_client.get("/cards/100004/"))) == [
        ("2025-10-29 21:23", "Számlát ellenőrizni"),
        ("2026-08-24 22:23", "Visszahívni"),
    ]
    assert todo_items(dom(user_client.get("/cards/100002/"))) == []


def test_card_page_marks_queued_changes(user_client: Client, doc: Sandbox) -> None:
    card_update(
        card_id=2056,
        category_id=10,
        changes={QUALIFICATION: "Célcsoport", "StatusId": 2623},
        seen={QUALIFICATION: "VIP", "StatusId": "Feldolgozásra vár"},
    )

    page = dom(user_client.get("/cards/2056/"))

    row = page.by_id(f"field-{QUALIFICATION}")
    assert "pending" in row.classes
    assert row.find_all("td")[0].text == "Célcsoport pending"
    assert page.by_id("card-status").text == "Sikeres"
    assert page.find("div", class_="card-summary").find("span", class_="pending-mark")
    writes = page.by_id("object-writes")
    assert writes.find("li", class_="write-queued").find("span", class_="state").text == "queued"
    assert not page.by_id("field-VarhatoArbevetel").classes & {"pending"}


def test_card_page_offers_retry_for_a_failed_write(user_client: Client, doc: Sandbox) -> None:
    Write.objects.create(
        kind=Write.Kind.PROJECT_UPDATE,
        target_type="project",
        target_id=2056,
        payload={"VarhatoArbevetel": 5},
        state=Write.State.FAILED,
        last_error="Invalid value '5' for the Várható árbevétel field.",
        error_field="VarhatoArbevetel",
    )

    page = dom(user_client.get("/cards/2056/"))

    failed = page.by_id("object-writes").find("li", class_="write-failed")
    assert "VarhatoArbevetel: Invalid value '5' for the Várható árbevétel field." in failed.text
    assert [b.text for b in failed.find_all("button")] == ["Retry", "Discard"]
    # A failed write is not MiniCRM's value, nor shown as pending.
    assert cell(page, "VarhatoArbevetel").text == "1000000"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/cards/999999/"),
        ("get", "/cards/999999/change/"),
        ("get", "/cards/999999/fields/Name/"),
        ("post", "/cards/999999/status/"),
    ],
)
def test_unknown_card_is_a_not_found_page(
    user_client: Client, doc: Sandbox, method: str, path: str
) -> None:
    response = getattr(user_client, method)(path, {"status": "2623"} if method == "post" else {})

    assert response.status_code == 404
    page = dom(response)
    assert page.find("h1").text == "Not found"
    assert "MiniCRM has no such record" in page.by_id("content").text
    assert not Write.objects.exists()


# -- the change form --------------------------------------------------------------------------


def change_form(client: Client, card_id: int = 2056) -> Node:
    response = client.get(f"/cards/{card_id}/change/")
    assert response.status_code == 200
    return dom(response).find("form", class_="schema-form")


def test_change_form_has_the_right_widget_per_type(user_client: Client, doc: Sandbox) -> None:
    form = change_form(user_client)

    qualification = form.find("select", name=QUALIFICATION)
    assert qualification.options() == [
        ("", "—", False),
        ("3101", "VIP", True),
        ("3102", "Célcsoport", False),
        ("3103", "Nem célcsoport", False),
        ("3105", "Hideg", False),
    ]
    call = form.find("input", name="KovetkezoHivasIdpontja")
    assert call.attrs["type"] == "datetime-local"
    assert call.attrs["value"].startswith("2018-02-16T13:00")
    assert form.find("input", name="Szerzodes").attrs["type"] == "url"
    revenue = form.find("input", name="VarhatoArbevetel")
    assert (revenue.attrs["type"], revenue.attrs["value"]) == ("number", "1000000")
    name = form.find("input", name="Name")
    assert (name.attrs["type"], name.attrs["maxlength"]) == ("text", "512")
    assert "required" in field_row(form, "Name").classes
    statuses = form.find("select", name="StatusId")
    assert [v for v, _, selected in statuses.options() if selected] == ["2622"]
    owners = form.find("select", name="UserId")
    assert [label for _, label, selected in owners.options() if selected] == ["Leskó Norbert"]
    # Bookkeeping and computed fields are not offered.
    for hidden in ("Id", "CategoryId", "BusinessId", "CreatedAt", "StatusUpdatedAt", "Deleted"):
        assert not form.has(name=hidden), hidden


def test_change_form_has_multi_select_and_yes_no_and_date(
    user_client: Client, demo: Sandbox
) -> None:
    form = change_form(user_client, 100003)

    boxes = form.find_all("input", name="Erdeklodes")
    assert {b.attrs["type"] for b in boxes} == {"checkbox"}
    checked = {b.parent.text for b in boxes if "checked" in b.attrs and b.parent}
    assert checked == {"CRM", "Marketing automatizáció", "Projektmenedzsment"}
    assert form.find("select", name="ForroLead").options() == [
        ("", "—", False),
        ("1", "Yes", False),
        ("0", "No", True),
    ]
    closing = form.find("input", name="VarhatoLezaras")
    assert (closing.attrs["type"], closing.attrs["value"]) == ("date", "2026-02-06")
    assert form.find("input", name="Valoszinuseg").attrs["type"] == "number"
    assert form.find("input", name="Megjegyzes").attrs["maxlength"] == "1024"


def test_saving_one_changed_field_queues_only_that_field(user_client: Client, doc: Sandbox) -> None:
    form = change_form(user_client)

    response = user_client.post(
        "/cards/2056/change/", form_data(form, **{QUALIFICATION: "3102"}), follow=True
    )

    write = Write.objects.get()
    assert (write.kind, write.target_type, write.target_id) == ("project.update", "project", 2056)
    assert write.payload == {QUALIFICATION: 3102}
    assert write.seen == {QUALIFICATION: "VIP"}
    assert response.redirect_chain[-1][0] == "/cards/2056/"
    assert messages_of(response)[0].startswith("Saved and queued: expected in MiniCRM in about")
    assert cell(dom(response), QUALIFICATION).text == "Célcsoport pending"


def test_saving_a_multi_select_and_a_date_queues_them_as_minicrm_takes_them(
    user_client: Client, demo: Sandbox
) -> None:
    form = change_form(user_client, 100003)

    user_client.post(
        "/cards/100003/change/",
        form_data(
            form,
            Erdeklodes=["1073741824", "4294967296"],
            KovetkezoHivas="2025-04-01T09:30",
        ),
    )

    write = Write.objects.get()
    assert write.payload == {
        "Erdeklodes": [1073741824, 4294967296],
        "KovetkezoHivas": "2025-04-01 09:30:00",
    }
    assert write.seen == {
        "Erdeklodes": ["CRM", "Marketing automatizáció", "Projektmenedzsment"],
        "KovetkezoHivas": "2024-05-31 17:42:00",
    }


def test_saving_without_changes_queues_nothing(user_client: Client, doc: Sandbox) -> None:
    response = user_client.post("/cards/2056/change/", form_data(change_form(user_client)))

    assert response.status_code == 302
    assert not Write.objects.exists()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("Name", "x" * 513, "Ensure this value has at most 512 characters (it has 513)."),
        ("Name", "", "This field is required."),
        ("VarhatoArbevetel", "sok", "Enter a whole number."),
        ("Szerzodes", "nem egy cím", "Enter a valid URL."),
        ("KovetkezoHivasIdpontja", "holnap", "Enter a valid date/time."),
        (QUALIFICATION, "9999", "Select a valid choice. 9999 is not one of the available choices."),
    ],
)
def test_invalid_values_are_shown_next_to_their_field_and_nothing_is_queued(
    user_client: Client, doc: Sandbox, name: str, value: str, message: str
) -> None:
    response = user_client.post(
        "/cards/2056/change/", form_data(change_form(user_client), **{name: value})
    )

    assert response.status_code == 200
    page = dom(response)
    assert errors_of(field_row(page, name)) == [message]
    assert not Write.objects.exists()


def test_a_card_edit_lands_in_minicrm(user_client: Client, doc: Sandbox) -> None:
    card_id = new_card(doc, AutoSalesV3_Qualification=3101)
    form = change_form(user_client, card_id)

    user_client.post(
        f"/cards/{card_id}/change/",
        form_data(form, **{QUALIFICATION: "3105", "KovetkezoHivasIdpontja": "2030-05-06T07:08"}),
    )
    write = send(Write.objects.get())

    assert write.state == Write.State.DONE
    landed = doc.get(f"/Api/R3/Project/{card_id}").json()
    assert landed[QUALIFICATION] == "Hideg"
    assert landed["KovetkezoHivasIdpontja"] == "2030-05-06 07:08:00"
    page = dom(user_client.get(f"/cards/{card_id}/"))
    assert cell(page, QUALIFICATION).text == "Hideg"
    assert cell(page, "KovetkezoHivasIdpontja").text == "2030-05-06 07:08"


@pytest.mark.django_db(transaction=True)
def test_minicrm_s_400_is_shown_next_to_the_field_it_names(
    user_client: Client, doc: Sandbox, settings: Settings
) -> None:
    # A contact id is a whole number to the schema, but MiniCRM knows no contact 999999.
    form = change_form(user_client)
    settings.WRITE_WAIT_SECONDS = 10
    sender = BackgroundSender()
    sender.start()

    response = user_client.post("/cards/2056/change/", form_data(form, ContactId="999999"))
    sender.join()

    assert response.status_code == 200
    page = dom(response)
    assert errors_of(field_row(page, "ContactId")) == [
        "Invalid value '999999' for the ContactId field."
    ]
    assert errors_of(field_row(page, QUALIFICATION)) == []
    # Nothing the user typed is lost, and the refused write does not wait in the queue.
    assert page.find("input", name="ContactId").attrs["value"] == "999999"
    assert Write.objects.get().state == Write.State.DISCARDED
    assert doc.get("/Api/R3/Project/2056").json()["ContactId"] == 7506


# -- inline edit and status --------------------------------------------------------------------


def test_inline_edit_get_answers_the_one_field_form(user_client: Client, doc: Sandbox) -> None:
    headers = {"HX-Request": "true", "HX-Target": f"field-{QUALIFICATION}"}

    response = user_client.get(f"/cards/2056/fields/{QUALIFICATION}/", headers=headers)

    assert response.status_code == 200
    assert not is_full_page(response)
    row = dom(response).find("tr")
    assert (row.id, row.classes) == (f"field-{QUALIFICATION}", {"editing"})
    form = row.find("form")
    assert form.attrs["hx-post"] == f"/cards/2056/fields/{QUALIFICATION}/"
    selects = form.find_all("select")
    assert len(selects) == 1
    assert [label for _, label, selected in selects[0].options() if selected] == ["VIP"]
    visible = [n for n in form.find_all("input") if n.attrs.get("type") != "hidden"]
    assert visible == []

    plain = user_client.get(f"/cards/2056/fields/{QUALIFICATION}/")
    assert is_full_page(plain)
    assert dom(plain).has("tr", id=f"field-{QUALIFICATION}")


def test_inline_edit_post_queues_the_change_and_answers_the_row(
    user_client: Client, doc: Sandbox
) -> None:
    headers = {"HX-Request": "true", "HX-Target": f"field-{QUALIFICATION}"}
    form = dom(user_client.get(f"/cards/2056/fields/{QUALIFICATION}/", headers=headers)).find(
        "form"
    )
    select = form.find("select").attrs["name"]

    response = user_client.post(
        f"/cards/2056/fields/{QUALIFICATION}/", form_data(form, **{select: "3103"}), headers=headers
    )

    assert response.status_code == 200
    assert not is_full_page(response)
    row = dom(response).find("tr")
    assert row.id == f"field-{QUALIFICATION}"
    assert "pending" in row.classes
    assert row.find_all("td")[0].text == "Nem célcsoport pending"
    write = Write.objects.get()
    assert write.payload == {QUALIFICATION: 3103}
    assert write.seen == {QUALIFICATION: "VIP"}


def test_inline_edit_shows_errors_in_the_row(user_client: Client, doc: Sandbox) -> None:
    headers = {"HX-Request": "true", "HX-Target": "field-VarhatoArbevetel"}
    form = dom(user_client.get("/cards/2056/fields/VarhatoArbevetel/", headers=headers)).find(
        "form"
    )
    name = form.find("input", type="number").attrs["name"]

    response = user_client.post(
        "/cards/2056/fields/VarhatoArbevetel/", form_data(form, **{name: "sok"}), headers=headers
    )

    assert response.status_code == 200
    row = dom(response).find("tr")
    assert "editing" in row.classes
    assert errors_of(row) == ["Enter a whole number."]
    assert not Write.objects.exists()


@pytest.mark.parametrize("name", ["CreatedAt", "BusinessId", "Id", "Nincs"])
def test_inline_edit_refuses_fields_that_cannot_be_edited(
    user_client: Client, doc: Sandbox, name: str
) -> None:
    response = user_client.post(f"/cards/2056/fields/{name}/", {f"f-{name}-{name}": "1"})

    assert response.status_code == 400
    assert "This field cannot be edited here." in response.content.decode()
    assert not Write.objects.exists()


def test_inline_edit_is_for_the_fields_the_card_page_lists(
    user_client: Client, doc: Sandbox
) -> None:
    # The name is the card's title, edited in the change form: the fields table has no row
    # for it, so there is no cell to edit (saving one showed a 500 after queueing the write).
    response = user_client.post("/cards/2056/fields/Name/", {"f-Name-Name": "Új név"})

    assert response.status_code == 400
    assert "This field cannot be edited here." in response.content.decode()
    assert not Write.objects.exists()


def test_inline_edit_without_javascript_saves_and_returns_to_the_card(
    user_client: Client, doc: Sandbox
) -> None:
    form = dom(user_client.get("/cards/2056/fields/VarhatoArbevetel/")).find("form")

    response = user_client.post(
        "/cards/2056/fields/VarhatoArbevetel/",
        form_data(form, **{"f-VarhatoArbevetel-VarhatoArbevetel": "2500000"}),
    )

    assert (response.status_code, response["Location"]) == (302, "/cards/2056/")
    assert Write.objects.get().payload == {"VarhatoArbevetel": 2500000}
    shown = messages_of(user_client.get("/cards/2056/"))
    assert len(shown) == 1
    assert shown[0].startswith("Saved and queued: expected in MiniCRM in about")


def status_form(client: Client, card_id: int = 2056) -> Node:
    return dom(client.get(f"/cards/{card_id}/")).find("form", class_="status-buttons")


def test_status_change_in_one_click_queues_the_status(user_client: Client, doc: Sandbox) -> None:
    form = status_form(user_client)

    response = user_client.post("/cards/2056/status/", form_data(form, status="2623"), follow=True)

    write = Write.objects.get()
    assert write.payload == {"StatusId": 2623}
    assert write.seen == {"StatusId": "Feldolgozásra vár"}
    assert response.redirect_chain == [("/cards/2056/", 302)]
    page = dom(response)
    assert page.by_id("card-status").text == "Sikeres"
    assert messages_of(response)[0].startswith("Saved and queued")


@pytest.mark.parametrize(
    ("client_fixture", "pending"), [("user_client", "pending"), ("hungarian", "függőben")]
)
def test_a_queued_status_is_the_highlighted_pill_marked_pending(
    request: pytest.FixtureRequest, doc: Sandbox, client_fixture: str, pending: str
) -> None:
    client: Client = request.getfixturevalue(client_fixture)
    client.post("/cards/2056/status/", form_data(status_form(client), status="2623"))
    assert Write.objects.get().state == Write.State.QUEUED  # on its way, not in MiniCRM yet

    buttons = status_form(client).find_all("button")

    current = [b for b in buttons if "current" in b.classes]
    assert [(b.text, b.attrs["value"]) for b in current] == [(f"Sikeres {pending}", "2623")]
    assert "pending" in current[0].classes
    assert "disabled" in current[0].attrs and current[0].attrs["aria-current"] == "true"
    old = next(b for b in buttons if b.attrs["value"] == "2622")  # MiniCRM's status still
    assert old.classes == set()
    assert "disabled" not in old.attrs and "aria-current" not in old.attrs


def test_status_change_from_htmx_redirects_the_browser(user_client: Client, doc: Sandbox) -> None:
    response = user_client.post(
        "/cards/2056/status/",
        form_data(status_form(user_client), status="2621"),
        HTTP_HX_REQUEST="true",
    )

    assert response["HX-Redirect"] == "/cards/2056/"
    assert Write.objects.get().payload == {"StatusId": 2621}


def test_status_change_to_an_unknown_status_queues_nothing(
    user_client: Client, doc: Sandbox
) -> None:
    response = user_client.post("/cards/2056/status/", {"status": "5001"}, follow=True)

    assert "Choose one of the module's statuses." in messages_of(response)
    assert not Write.objects.exists()


def test_status_change_lands_and_shows_in_the_history(user_client: Client, doc: Sandbox) -> None:
    card_id = new_card(doc, StatusId=2620)

    user_client.post(
        f"/cards/{card_id}/status/", form_data(status_form(user_client, card_id), status="2621")
    )
    assert send(Write.objects.get()).state == Write.State.DONE

    page = dom(user_client.get(f"/cards/{card_id}/"))
    assert page.by_id("card-status").text == "Ajánlat kiküldve"
    newest = page.by_id("status-history").find("li")
    assert newest.text.endswith("Érdeklődő → Ajánlat kiküldve")


def test_a_card_added_to_a_module_lands_in_minicrm(user_client: Client, doc: Sandbox) -> None:
    name = f"Új lehetőség {uuid.uuid4().hex[:6]}"
    page = dom(user_client.get("/modules/10/add/"))
    assert page.find("h1").text == "Add card to Értékesítés"
    form = page.find("form", class_="schema-form")

    user_client.post("/modules/10/add/", form_data(form, Name=name, **{QUALIFICATION: "3102"}))

    write = Write.objects.get()
    assert write.kind == "project.create"
    assert write.payload["CategoryId"] == 10
    assert write.payload["Name"] == name
    assert write.payload[QUALIFICATION] == 3102
    sent = send(write)
    landed = doc.get(f"/Api/R3/Project/{sent.target_id}").json()
    assert (landed["Name"], landed[QUALIFICATION]) == (name, "Célcsoport")


# -- bulk actions --------------------------------------------------------------------------------


def test_bulk_action_with_nothing_selected_warns_and_queues_nothing(
    user_client: Client, demo: Sandbox
) -> None:
    response = user_client.post(
        f"/modules/{SALES}/bulk/",
        {"action": "status", "status": "5002", "query": "status=5001"},
        follow=True,
    )

    assert response.redirect_chain == [(f"/modules/{SALES}/?status=5001", 302)]
    assert "Select the cards to change first: nothing was changed." in messages_of(response)
    assert not Write.objects.exists()
    assert not BulkJob.objects.exists()


def test_bulk_status_on_three_cards_makes_a_job(user_client: Client, demo: Sandbox) -> None:
    response = user_client.post(
        f"/modules/{SALES}/bulk/",
        {
            "selected": ["100001", "100002", "100003"],
            "action": "status",
            "status": "5002",
            "confirm": "1",
        },
    )

    job = BulkJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/queue/jobs/{job.pk}/"
    assert job.total == 3
    assert job.description == "Status to “Kapcsolatfelvétel” on 3 cards"
    writes = list(job.writes.order_by("target_id"))
    assert [w.target_id for w in writes] == [100001, 100002, 100003]
    assert {json.dumps(w.payload) for w in writes} == {json.dumps({"StatusId": 5002})}
    page = dom(user_client.get(response["Location"]))
    assert page.find("h1").text == "Status to “Kapcsolatfelvétel” on 3 cards"
    assert page.by_id("job-counts").text.startswith("0 done, 0 failed, of 3")


def test_a_bulk_job_made_in_hungarian_reads_in_english_for_an_english_viewer(
    hungarian: Client, demo: Sandbox
) -> None:
    response = hungarian.post(
        f"/modules/{SALES}/bulk/",
        {"selected": ["100001", "100002"], "action": "status", "status": "5002", "confirm": "1"},
    )

    job = BulkJob.objects.get()
    assert job.summary == {"action": "status", "label": "Kapcsolatfelvétel", "count": 2}
    assert dom(hungarian.get(response["Location"])).find("h1").text == (
        "2 kártya státusza: „Kapcsolatfelvétel”"
    )
    hungarian.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    assert dom(hungarian.get(response["Location"])).find("h1").text == (
        "Status to “Kapcsolatfelvétel” on 2 cards"
    )


def test_bulk_action_over_htmx_redirects_with_a_header(user_client: Client, demo: Sandbox) -> None:
    response = user_client.post(
        f"/modules/{SALES}/bulk/",
        {"selected": ["100004", "100005"], "action": "owner", "owner": "101", "confirm": "1"},
        HTTP_HX_REQUEST="true",
    )

    job = BulkJob.objects.get()
    assert response["HX-Redirect"] == f"/queue/jobs/{job.pk}/"
    assert job.description == "Owner to “Nagy Katalin” on 2 cards"
    assert {json.dumps(w.payload) for w in job.writes.all()} == {json.dumps({"UserId": 101})}


def test_bulk_field_value_is_checked_against_the_schema(user_client: Client, demo: Sandbox) -> None:
    response = user_client.post(
        f"/modules/{SALES}/bulk/",
        {"selected": ["100001"], "action": "field", "field": "VarhatoArbevetel", "value": "sok"},
        follow=True,
    )

    assert "Enter a whole number." in " ".join(messages_of(response))
    assert not BulkJob.objects.exists()


def test_bulk_status_without_a_status_asks_for_one(user_client: Client, demo: Sandbox) -> None:
    response = user_client.post(
        f"/modules/{SALES}/bulk/", {"selected": ["100001"], "action": "status"}, follow=True
    )

    assert "Choose the new status." in messages_of(response)
    assert not BulkJob.objects.exists()


def test_a_bulk_change_shows_what_it_will_do_and_asks_once(
    user_client: Client, demo: Sandbox
) -> None:
    chosen = ["100001", "100002", "100003"]

    preview = user_client.post(
        f"/modules/{SALES}/bulk/",
        {"selected": chosen, "action": "status", "status": "5002", "query": "o=name"},
    )

    assert preview.status_code == 200
    assert not BulkJob.objects.exists() and not Write.objects.exists()  # nothing queued yet
    page = dom(preview)
    assert page.find("h1").text == "Status to “Kapcsolatfelvétel” on 3 cards?"
    assert page.by_id("bulk-unknown").find_all("td")[1].text == "3"  # no mirror here
    form = page.by_id("bulk-confirm")
    assert form.links() == {f"/modules/{SALES}/?o=name": "No, go back"}

    confirmed = user_client.post(form.attrs["action"], form_data(form))

    job = BulkJob.objects.get()
    assert confirmed["Location"] == f"/queue/jobs/{job.pk}/"
    assert sorted(int(i or 0) for i in job.writes.values_list("target_id", flat=True)) == [
        100001,
        100002,
        100003,
    ]


def test_a_bulk_preview_in_hungarian(hungarian: Client, demo: Sandbox) -> None:
    page = dom(
        hungarian.post(
            f"/modules/{SALES}/bulk/",
            {"selected": ["100001", "100002"], "action": "owner", "owner": "101"},
        )
    )

    assert page.by_id("bulk-confirm").find("button").text == "Igen, 2 kártya módosítása"
    assert page.by_id("bulk-confirm").find("input", name="owner").attrs["value"] == "101"


# -- MiniCRM's budget spent --------------------------------------------------------------------


def spend_the_budget() -> None:
    budget = minicrm_budget()
    while budget.try_acquire(Priority.INTERACTIVE).granted:
        pass


def test_spent_budget_shows_one_moment_not_an_error(user_client: Client, demo: Sandbox) -> None:
    spend_the_budget()

    response = user_client.get(f"/modules/{SALES}/")

    assert response.status_code == 503
    assert 1 <= int(response["Retry-After"]) <= 61
    page = dom(response)
    assert page.find("h1").text == "One moment"
    assert "request budget is spent for the moment" in page.by_id("content").text
    refresh = page.find("meta", http_equiv="refresh")
    assert refresh.attrs["content"] == response["Retry-After"]
    # The header still shows the gauge, full.
    assert page.by_id("budget-used").text == "180/180"


def test_spent_budget_in_an_htmx_swap_answers_the_message_only(
    user_client: Client, demo: Sandbox
) -> None:
    spend_the_budget()

    response = user_client.get(f"/modules/{SALES}/", {"p": "2"}, headers=HTMX_RESULTS)

    assert response.status_code == 503
    assert not is_full_page(response)
    assert "request budget is spent" in dom(response).find("div", class_="busy").text


def test_status_change_with_the_budget_spent_is_queued(user_client: Client, doc: Sandbox) -> None:
    form = status_form(user_client)  # the page just read the card and its module
    spend_the_budget()

    response = user_client.post("/cards/2056/status/", form_data(form, status="2623"))

    assert response.status_code == 302
    assert Write.objects.get().state == Write.State.QUEUED


# -- hardening: values round-trip unchanged, in every language ---------------------------------

DIGITS = 26  # the demo's module whose dropdown labels are digits other than their ids
FLAT = 180001  # Hazi: labels 3, 4, 5, 7, 8, 9 (ids 2, 8, 4, 16, 32, 64); Emelet: "3" (id 6)
HOUSES = ["3", "5", "4", "7", "8", "9"]


@pytest.fixture(scope="module")
def digits_sandbox(module_sandbox_factory: SandboxStarter) -> Sandbox:
    """A demo sandbox of this module's own: its writes are sent and read back."""
    return module_sandbox_factory("demo")


@pytest.fixture
def digits(settings: Settings, digits_sandbox: Sandbox, redis_url: str) -> Iterator[Sandbox]:
    yield from console_at(settings, digits_sandbox, redis_url)


def box_label(box: Node) -> str:
    return box.parent.text if box.parent else ""


def ticked(form: Node, name: str) -> list[str]:
    return [box_label(b) for b in form.find_all("input", name=name) if "checked" in b.attrs]


def selected(form: Node, name: str) -> list[str]:
    return [label for _, label, chosen in form.find("select", name=name).options() if chosen]


@pytest.mark.parametrize("card_id", [FLAT, 100003])
def test_change_form_in_hungarian_carries_iso_dates_and_plain_numbers(
    hungarian: Client, demo: Sandbox, card_id: int
) -> None:
    detail = demo.get(f"/Api/R3/Project/{card_id}").json()
    form = change_form(hungarian, card_id)

    for node in form.find_all("input", type="date"):
        assert node.attrs["value"] == detail[node.attrs["name"]], node.attrs["name"]
    for node in form.find_all("input", type="datetime-local"):
        wanted = detail[node.attrs["name"]][:16].replace(" ", "T")
        assert node.attrs["value"] == wanted, node.attrs["name"]
    for node in form.find_all("input", type="number"):
        assert node.attrs["value"] == str(detail[node.attrs["name"]]), node.attrs["name"]
    assert form.find_all("input", type="date")

    hungarian.post(f"/cards/{card_id}/change/", form_data(form, Name="Új név"))

    assert Write.objects.get().payload == {"Name": "Új név"}


def test_change_form_in_hungarian_shows_the_digits_module_as_minicrm_has_it(
    hungarian: Client, demo: Sandbox
) -> None:
    form = change_form(hungarian, FLAT)

    assert form.find("input", name="Atadas").attrs["value"] == "2026-10-15"
    assert form.find("input", name="Bejaras").attrs["value"] == "2026-10-01T14:30"
    assert form.find("input", name="Ar").attrs["value"] == "1890000"
    assert form.find("input", name="Terulet").attrs["value"] == "12.5"


def test_inline_date_edit_in_hungarian_keeps_the_date(hungarian: Client, demo: Sandbox) -> None:
    headers = {"HX-Request": "true", "HX-Target": "field-Atadas"}
    form = dom(hungarian.get(f"/cards/{FLAT}/fields/Atadas/", headers=headers)).find("form")

    assert form.find("input", type="date").attrs["value"] == "2026-10-15"
    response = hungarian.post(f"/cards/{FLAT}/fields/Atadas/", form_data(form), headers=headers)

    assert response.status_code == 200
    assert not Write.objects.exists()


def test_digit_labels_are_shown_as_labels_on_the_card_page(
    user_client: Client, demo: Sandbox
) -> None:
    page = dom(user_client.get(f"/cards/{FLAT}/"))

    houses = cell(page, "Hazi").find("ul", class_="tags")
    assert [li.text for li in houses.find_all("li")] == HOUSES
    assert cell(page, "Emelet").text == "3"
    other = dom(user_client.get("/cards/180002/"))
    assert [li.text for li in cell(other, "Hazi").find_all("li")] == ["2"]
    assert cell(other, "Emelet").text == "5"


def test_digit_labels_are_ticked_in_the_editor_and_a_save_keeps_them(
    user_client: Client, digits: Sandbox
) -> None:
    before = digits.get(f"/Api/R3/Project/{FLAT}").json()
    form = change_form(user_client, FLAT)
    assert sorted(ticked(form, "Hazi")) == sorted(HOUSES)
    assert selected(form, "Emelet") == ["3"]

    user_client.post(f"/cards/{FLAT}/change/", form_data(form, Ar="1990000"))
    write = Write.objects.get()
    assert write.payload == {"Ar": 1990000}
    assert send(write).state == Write.State.DONE

    after = digits.get(f"/Api/R3/Project/{FLAT}").json()
    assert after["Ar"] == 1990000
    assert {k: v for k, v in after.items() if k not in ("Ar", "UpdatedAt")} == {
        k: v for k, v in before.items() if k not in ("Ar", "UpdatedAt")
    }


def test_a_digit_label_chosen_in_the_editor_lands_as_that_label(
    user_client: Client, digits: Sandbox
) -> None:
    form = change_form(user_client, 180002)
    house_four = next(
        b.attrs["value"] for b in form.find_all("input", name="Hazi") if box_label(b) == "4"
    )

    user_client.post("/cards/180002/change/", form_data(form, Hazi=["1", house_four], Emelet="5"))
    assert send(Write.objects.get()).state == Write.State.DONE

    landed = digits.get("/Api/R3/Project/180002").json()
    assert sorted(landed["Hazi"]) == ["2", "4"]
    assert landed["Emelet"] == "6"
    page = dom(user_client.get("/cards/180002/"))
    assert sorted(li.text for li in cell(page, "Hazi").find_all("li")) == ["2", "4"]
    assert cell(page, "Emelet").text == "6"


@pytest.mark.parametrize("value", ["NaN", "sNaN", "Infinity", "-Infinity", "1e7000000", "1" * 16])
@pytest.mark.parametrize("name", ["Ar", "Terulet"])
def test_numbers_that_are_no_numbers_or_too_big_are_refused_next_to_the_field(
    user_client: Client, demo: Sandbox, name: str, value: str
) -> None:
    response = user_client.post(
        f"/cards/{FLAT}/change/", form_data(change_form(user_client, FLAT), **{name: value})
    )

    assert response.status_code == 200
    assert errors_of(field_row(dom(response), name))
    assert not Write.objects.exists()


def test_a_number_of_15_digits_is_accepted(user_client: Client, demo: Sandbox) -> None:
    user_client.post(
        f"/cards/{FLAT}/change/",
        form_data(change_form(user_client, FLAT), Ar="999999999999999", Terulet="1234567.25"),
    )

    assert Write.objects.get().payload == {"Ar": 999999999999999, "Terulet": 1234567.25}


@pytest.mark.parametrize("name", ["Deleted", "ReferenceId", "CategoryId"])
def test_inline_edit_offers_only_what_the_change_form_offers(
    user_client: Client, doc: Sandbox, name: str
) -> None:
    for method in ("get", "post"):
        response = getattr(user_client, method)(
            f"/cards/2056/fields/{name}/", {f"f-{name}-{name}": "1"}
        )
        assert response.status_code == 400
        assert "This field cannot be edited here." in response.content.decode()
    assert not Write.objects.exists()
    assert doc.get("/Api/R3/Project/2056").json()["Deleted"] == 0


@pytest.mark.parametrize("name", ["Deleted", "ReferenceId"])
def test_bulk_set_a_field_offers_only_what_the_change_form_offers(
    user_client: Client, demo: Sandbox, name: str
) -> None:
    offered = dom(user_client.get(f"/modules/{SALES}/")).by_id("id_bulk_field").options()
    assert name not in [value for value, _label, _chosen in offered]

    response = user_client.post(
        f"/modules/{SALES}/bulk/",
        {"selected": ["100001"], "action": "field", "field": name, "value": "1"},
        follow=True,
    )

    assert response.status_code == 200
    assert messages_of(response)
    assert not BulkJob.objects.exists()
    assert not Write.objects.exists()


@pytest.mark.parametrize(
    "selected", [["²"], ["100001", "²"], [str(2**64 + 1)], ["abc"], ["-1"], ["0"], ["1e3"]]
)
def test_bulk_selection_of_no_card_ids_is_refused_with_a_clear_message(
    user_client: Client, demo: Sandbox, selected: list[str]
) -> None:
    response = user_client.post(
        f"/modules/{SALES}/bulk/",
        {"selected": selected, "action": "status", "status": "5002"},
        follow=True,
    )

    assert response.status_code == 200
    shown = " ".join(messages_of(response))
    assert "is not a card id: nothing was changed." in shown
    assert "invalid literal" not in shown
    assert not BulkJob.objects.exists()
    assert not Write.objects.exists()


def test_back_and_save_again_adds_the_card_once(user_client: Client, doc: Sandbox) -> None:
    form = dom(user_client.get("/modules/10/add/")).find("form", class_="schema-form")
    data = form_data(form, Name=f"Egyszer {uuid.uuid4().hex[:6]}")
    assert len(data["once"]) == 32

    first = user_client.post("/modules/10/add/", data)
    second = user_client.post("/modules/10/add/", data)

    write = Write.objects.get()
    assert first.status_code == second.status_code == 302
    assert second["Location"] == first["Location"]
    send(write)
    third = user_client.post("/modules/10/add/", data)
    assert third["Location"] == f"/cards/{Write.objects.get().target_id}/"
    assert Write.objects.count() == 1


@pytest.mark.parametrize(
    "key", ["", "nem-kulcs", pytest.param("x" * 5000, id="long"), "../../etc", "0" * 31]
)
def test_a_forged_one_time_key_makes_the_card_as_new(
    user_client: Client, doc: Sandbox, key: str
) -> None:
    form = dom(user_client.get("/modules/10/add/")).find("form", class_="schema-form")

    response = user_client.post("/modules/10/add/", form_data(form, Name="Kulcs", once=key))

    assert response.status_code == 302
    assert Write.objects.get().idempotency_key is None


@pytest.mark.parametrize(
    ("field", "value", "cards"), [("Emelet", "3", [FLAT]), ("Hazi", "2", [180002])]
)
def test_searching_a_module_by_a_digit_label_finds_the_cards_with_that_label(
    user_client: Client, demo: Sandbox, field: str, value: str, cards: list[int]
) -> None:
    response = user_client.get(f"/modules/{DIGITS}/", {"field": field, "value": value})

    assert response.status_code == 200
    assert row_ids(response) == cards


def test_bulk_set_a_dropdown_by_its_digit_label_sets_that_label(
    user_client: Client, demo: Sandbox
) -> None:
    user_client.post(
        f"/modules/{DIGITS}/bulk/",
        {
            "selected": ["180002", "180003"],
            "action": "field",
            "field": "Emelet",
            "value": "3",
            "confirm": "1",
        },
    )

    job = BulkJob.objects.get()
    assert {json.dumps(w.payload) for w in job.writes.all()} == {json.dumps({"Emelet": 6})}


def test_inline_edit_of_a_digit_multi_select_ticks_its_labels(
    user_client: Client, demo: Sandbox
) -> None:
    headers = {"HX-Request": "true", "HX-Target": "field-Hazi"}
    form = dom(user_client.get(f"/cards/{FLAT}/fields/Hazi/", headers=headers)).find("form")

    assert sorted(ticked(form, "f-Hazi-Hazi")) == sorted(HOUSES)
    user_client.post(f"/cards/{FLAT}/fields/Hazi/", form_data(form), headers=headers)
    assert not Write.objects.exists()


@pytest.mark.parametrize(
    "seen",
    ["[" * 100_000 + "]" * 100_000, json.dumps({"Name": "x" * 300_000}), '{"a": [[[[[1]]]]]}'],
    ids=["deeply-nested", "huge", "nested-object"],
)
def test_a_forged_seen_field_is_ignored_not_a_500(
    user_client: Client, doc: Sandbox, seen: str
) -> None:
    card_id = new_card(doc)
    data = form_data(change_form(user_client, card_id), VarhatoArbevetel="4242", seen=seen)

    response = user_client.post(f"/cards/{card_id}/change/", data)

    assert response.status_code == 302
    # What the page showed stands in for the forged values.
    assert Write.objects.get().seen == {"VarhatoArbevetel": ""}


# -- MiniCRM away, failing or refusing -----------------------------------------------------------


@pytest.fixture(scope="module")
def faulty_sandbox(module_sandbox_factory: SandboxStarter) -> Sandbox:
    return module_sandbox_factory("doc")


@pytest.fixture
def faulty(
    settings: Settings, faulty_sandbox: Sandbox, redis_url: str, user_client: Client
) -> Iterator[Sandbox]:
    """The console at a sandbox that will fail, after the module's fields were read (schemas
    are kept for long) and when the short-lived list of modules has expired."""
    for sandbox in faulty_console(settings, faulty_sandbox, redis_url):
        assert user_client.get("/modules/10/").status_code == 200
        forget("categories", "all")
        yield sandbox


def test_a_failing_minicrm_is_said_as_such_not_as_a_missing_module(
    user_client: Client, faulty: Sandbox
) -> None:
    set_faults(faulty, error_rate=1)

    response = user_client.get("/modules/10/")

    assert response.status_code == 502
    page = dom(response)
    assert page.find("h1").text == "MiniCRM is not answering as it should"
    assert "MiniCRM answered with an error: MiniCRM answered 500" in page.by_id("content").text


def test_an_unreachable_minicrm_is_said_as_such_not_as_a_missing_module(
    user_client: Client, faulty: Sandbox, settings: Settings
) -> None:
    settings.MINICRM_BASE_URL = f"http://127.0.0.1:{free_port()}"  # nothing listens there

    response = user_client.get("/modules/10/")

    assert response.status_code == 503
    assert int(response["Retry-After"]) >= 1
    assert "MiniCRM cannot be reached right now." in dom(response).by_id("content").text


def test_minicrm_s_429s_are_said_as_a_busy_budget_not_as_a_missing_module(
    user_client: Client, faulty: Sandbox
) -> None:
    set_faults(faulty, force_429=1000)

    response = user_client.get("/modules/10/")

    assert response.status_code == 503
    assert int(response["Retry-After"]) >= 1
    assert dom(response).find("h1").text == "One moment"


# -- edit conflicts -------------------------------------------------------------------------------


def save_with_a_quick_worker(client: Client, path: str, data: dict, **headers: str) -> Any:
    sender = BackgroundSender()
    sender.start()
    response = client.post(path, data, headers=headers)
    sender.join()
    return response


@pytest.mark.django_db(transaction=True)
def test_an_edit_conflict_shows_minicrm_s_value_and_can_be_resolved(
    user_client: Client, doc: Sandbox, settings: Settings
) -> None:
    card_id = new_card(doc, AutoSalesV3_Qualification=3101)
    form = change_form(user_client, card_id)  # the console has read (and cached) the card
    # Meanwhile someone changes the same field in MiniCRM.
    assert doc.put(f"/Api/R3/Project/{card_id}", json={QUALIFICATION: 3102}).status_code == 200
    theirs = doc.get(f"/Api/R3/Project/{card_id}").json()[QUALIFICATION]
    settings.WRITE_WAIT_SECONDS = 10

    response = save_with_a_quick_worker(
        user_client, f"/cards/{card_id}/change/", form_data(form, **{QUALIFICATION: "3105"})
    )

    assert response.status_code == 200
    page = dom(response)
    conflict = page.by_id("conflict")
    assert f"MiniCRM now has “{theirs}”; yours is “Hideg”." in conflict.text
    assert conflict.find("button", name="keep").text == "Keep mine (overwrite MiniCRM's value)"
    take_theirs = conflict.find("a", class_="take-theirs")
    assert take_theirs.attrs["href"] == f"/cards/{card_id}/change/"
    assert errors_of(field_row(page, QUALIFICATION)) == [
        f"{QUALIFICATION} was changed in MiniCRM to “{theirs}” since you opened it. "
        "Save again to keep yours, or take theirs."
    ]
    # The card page and the form show MiniCRM's value at once, not the cached one.
    assert cell(dom(user_client.get(f"/cards/{card_id}/")), QUALIFICATION).text == theirs
    fresh = dom(user_client.get(take_theirs.attrs["href"])).find("select", name=QUALIFICATION)
    assert [label for _v, label, selected in fresh.options() if selected] == [theirs]

    # Keep mine: saving the form again overwrites MiniCRM's value, with no second conflict.
    again = page.find("form", class_="schema-form")
    response = save_with_a_quick_worker(user_client, f"/cards/{card_id}/change/", form_data(again))

    assert response.status_code == 302
    assert Write.objects.filter(state=Write.State.CONFLICT).count() == 0
    assert Write.objects.filter(state=Write.State.DONE).count() == 1
    assert doc.get(f"/Api/R3/Project/{card_id}").json()[QUALIFICATION] == "Hideg"


@pytest.mark.django_db(transaction=True)
def test_an_inline_edit_conflict_offers_both_ways_and_saving_again_keeps_mine(
    user_client: Client, doc: Sandbox, settings: Settings
) -> None:
    card_id = new_card(doc, VarhatoArbevetel=100)
    path = f"/cards/{card_id}/fields/VarhatoArbevetel/"
    row = dom(user_client.get(path, headers={"HX-Request": "true"})).find("form")
    assert doc.put(f"/Api/R3/Project/{card_id}", json={"VarhatoArbevetel": 200}).status_code == 200
    settings.WRITE_WAIT_SECONDS = 10

    response = save_with_a_quick_worker(
        user_client,
        path,
        form_data(row, **{"f-VarhatoArbevetel-VarhatoArbevetel": "300"}),
        **{"HX-Request": "true"},
    )

    part = dom(response)
    conflict = part.by_id("conflict")
    assert "MiniCRM now has “200”; yours is “300”." in conflict.text
    assert conflict.find("a", class_="take-theirs").attrs["hx-get"] == path
    save_with_a_quick_worker(
        user_client, path, form_data(part.find("form")), **{"HX-Request": "true"}
    )

    assert doc.get(f"/Api/R3/Project/{card_id}").json()["VarhatoArbevetel"] == 300


# -- a slow MiniCRM -------------------------------------------------------------------------------


def test_a_mirrored_card_page_waits_at_most_its_bound_for_what_the_mirror_lacks(
    user_client: Client, slow: Sandbox, settings: Settings
) -> None:
    assert user_client.get("/cards/2056/").status_code == 200  # read once, stored in the mirror
    MirrorCard.objects.filter(pk=2056).update(todos_synced_at=None, history_synced_at=None)
    settings.PAGE_MINICRM_BUDGET_SECONDS = 1
    set_faults(slow, latency=3)

    page = dom(user_client.get("/cards/2056/"))

    assert page.by_id("page-late").text == (
        "Some of this page could not be loaded from MiniCRM in time: the to-dos, the status "
        "history. Reload the page to try again."
    )
    assert page.by_id("card-contact").text == "Leskó Norbert"  # the mirror's, not waited for
    assert page.by_id("card-status").text != ""


@pytest.fixture
def slow(settings: Settings, faulty_sandbox: Sandbox, redis_url: str) -> Iterator[Sandbox]:
    try:
        yield from faulty_console(settings, faulty_sandbox, redis_url)
    finally:
        wait_idle()  # reads still running after a page answered fill this test's cache only


def test_a_card_page_answers_at_its_bound_and_says_what_is_missing(
    user_client: Client, slow: Sandbox, settings: Settings
) -> None:
    settings.MIRROR_ENABLED = False  # every read live, briefly cached
    assert user_client.get("/cards/2056/").status_code == 200  # the card and its fields: cached
    forget("project-history", 2056)
    forget("project-todos", 2056)
    settings.PAGE_MINICRM_BUDGET_SECONDS = 1
    set_faults(slow, latency=3)

    response = user_client.get("/cards/2056/")

    assert response.status_code == 200
    page = dom(response)
    assert page.by_id("page-late").text == (
        "Some of this page could not be loaded from MiniCRM in time: the status history, "
        "the to-dos. Reload the page to try again."
    )
    assert page.by_id("card-contact").text == "Leskó Norbert"
