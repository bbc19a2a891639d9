"""To-do pages as a back-office user uses them: a card's to-dos (open, closed, all), adding,
editing and closing one through the write queue, and "my to-dos", against doc sandboxes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings

from apps.mirror.models import Card, Completeness
from apps.mirror.models import ToDo as MirrorToDo
from apps.mirror.services import card_fetch, sync_run
from apps.writes.models import Write
from tests.conftest import Sandbox, SandboxStarter, free_port
from tests.viewsupport import (
    console_at,
    dom,
    errors_of,
    field_row,
    form_data,
    is_full_page,
    messages_of,
    send,
)

pytestmark = pytest.mark.django_db

TYPES = {1566: "Telefonhívás", 1567: "Találkozó", 1568: "E-mail"}
USERS = {
    2: "Rendszer",
    3200: "Keszei Csaba",
    3300: "Kovács Anna",
    22404: "Leskó Norbert",
    53986: "Tóth Gábor",
    54726: "Szabó Éva",
}
HTMX = {"HX-Request": "true", "HX-Target": "todo-list"}
QUEUED = "Saved and queued: expected in MiniCRM in about"


@pytest.fixture
def private(
    settings: Settings, sandbox_factory: SandboxStarter, redis_url: str
) -> Iterator[Sandbox]:
    """The console at a doc sandbox of the test's own (its seeded to-dos may change)."""
    yield from console_at(settings, sandbox_factory("doc"), redis_url)


def new_card(sandbox: Sandbox, *, owner: int = 22404, name: str = "") -> int:
    """A card of the test's own in the doc sales module."""
    body = {
        "CategoryId": 10,
        "Name": name or f"Teendők {uuid.uuid4().hex[:8]}",
        "ContactId": 7461,
        "UserId": owner,
    }
    answer = sandbox.put("/Api/R3/Project/", json=body)
    assert answer.status_code == 200, answer.text
    return int(answer.json()["Id"])


def new_todo(sandbox: Sandbox, card_id: int, comment: str, **values: Any) -> int:
    """A to-do made in MiniCRM (closed right away with `closed=True`)."""
    closed = values.pop("closed", False)
    answer = sandbox.put("/Api/R3/ToDo/", json={"ProjectId": card_id, "Comment": comment, **values})
    assert answer.status_code == 200, answer.text
    todo_id = int(answer.json()["Id"])
    if closed:
        answer = sandbox.put(f"/Api/R3/ToDo/{todo_id}", json={"Status": "Closed"})
        assert answer.status_code == 200, answer.text
    return todo_id


def minicrm_todo(sandbox: Sandbox, todo_id: int) -> dict[str, Any]:
    answer = sandbox.get(f"/Api/R3/ToDo/{todo_id}")
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def minicrm_todos(sandbox: Sandbox, card_id: int) -> list[dict[str, Any]]:
    answer = sandbox.get(f"/Api/R3/ToDoList/{card_id}", params={"Status": "All"})
    assert answer.status_code == 200, answer.text
    return list(answer.json()["Results"])


def listed(response: Any) -> list[str]:
    """The comments of the to-dos a list shows, in its order."""
    return [
        span.text for span in dom(response).by_id("todo-list").find_all("span", class_="comment")
    ]


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def choose_me(client: Client, minicrm_user: int | str) -> None:
    """Say in Preferences which MiniCRM user I am."""
    response = client.post("/preferences/", {"minicrm_user": str(minicrm_user)})
    assert response.status_code == 302


# -- a card's to-dos ----------------------------------------------------------------------------


@pytest.fixture
def card_with_todos(doc: Sandbox) -> tuple[int, dict[str, int]]:
    """A card with two open to-dos (later deadline made first) and a closed one."""
    card_id = new_card(doc)
    ids = {
        "later": new_todo(doc, card_id, "Ajánlatot küldeni", Deadline="2031-05-02 10:00:00"),
        "sooner": new_todo(doc, card_id, "Visszahívni", Deadline="2031-03-01 09:00:00"),
        "closed": new_todo(doc, card_id, "Bemutató megtartva", closed=True),
    }
    return card_id, ids


@pytest.mark.parametrize(
    ("status", "comments"),
    [
        ("open", ["Visszahívni", "Ajánlatot küldeni"]),
        ("closed", ["Bemutató megtartva"]),
        ("all", ["Visszahívni", "Ajánlatot küldeni", "Bemutató megtartva"]),
    ],
)
def test_card_todo_tabs_show_open_closed_or_all_soonest_deadline_first(
    user_client: Client,
    card_with_todos: tuple[int, dict[str, int]],
    status: str,
    comments: list[str],
) -> None:
    card_id, _ids = card_with_todos

    response = user_client.get(f"/cards/{card_id}/todos/", {"status": status})

    assert response.status_code == 200
    assert is_full_page(response)
    assert listed(response) == comments
    tabs = dom(response).find("nav", class_="tabs")
    assert tabs.find("a", aria_current="true").attrs["href"].endswith(f"?status={status}")
    # Only open to-dos can be edited or closed from the list.
    edit_links = [a for a in dom(response).by_id("todo-list").find_all("a") if a.text == "edit"]
    assert len(edit_links) == sum(c != "Bemutató megtartva" for c in comments)


def test_a_tab_clicked_with_htmx_gets_only_the_list(
    user_client: Client, card_with_todos: tuple[int, dict[str, int]]
) -> None:
    card_id, ids = card_with_todos

    response = user_client.get(f"/cards/{card_id}/todos/", {"status": "closed"}, headers=HTMX)

    assert response.status_code == 200
    assert not is_full_page(response)
    page = dom(response)
    assert [node.id for node in page.children if not isinstance(node, str)] == ["todo-list"]
    assert listed(response) == ["Bemutató megtartva"]
    assert not page.has("nav")
    assert f"/todos/{ids['closed']}/change/" not in response.content.decode()


def test_an_unknown_tab_shows_the_open_to_dos(
    user_client: Client, card_with_todos: tuple[int, dict[str, int]]
) -> None:
    card_id, _ids = card_with_todos

    response = user_client.get(f"/cards/{card_id}/todos/", {"status": "<script>"})

    assert response.status_code == 200
    assert listed(response) == ["Visszahívni", "Ajánlatot küldeni"]


def test_the_card_page_lists_its_open_to_dos_with_the_tabs(
    user_client: Client, card_with_todos: tuple[int, dict[str, int]]
) -> None:
    card_id, ids = card_with_todos

    response = user_client.get(f"/cards/{card_id}/")

    assert response.status_code == 200
    box = dom(response).by_id("card-todos")
    assert sorted(span.text for span in box.find_all("span", class_="comment")) == [
        "Ajánlatot küldeni",
        "Visszahívni",
    ]
    assert f"/todos/{ids['closed']}/" not in str(box.links())
    tabs = box.find("nav", class_="tabs")
    assert tabs.find("a", hx_get=f"/cards/{card_id}/todos/?status=closed").text == "Closed"
    assert tabs.find("a", class_="addlink").attrs["href"] == f"/cards/{card_id}/todos/add/"


def test_past_deadlines_of_open_to_dos_are_marked_overdue(
    user_client: Client, doc: Sandbox
) -> None:
    card_id = new_card(doc)
    new_todo(doc, card_id, "Lejárt", Deadline="2020-01-10 10:00:00")
    new_todo(doc, card_id, "Ráér", Deadline="2039-01-10 10:00:00")
    new_todo(doc, card_id, "Lejárt, de kész", Deadline="2020-01-09 10:00:00", closed=True)

    response = user_client.get(f"/cards/{card_id}/todos/", {"status": "all"})

    rows = dom(response).by_id("todo-list").find_all("li")
    overdue = {li.find("span", class_="comment").text: "overdue" in li.classes for li in rows}
    assert overdue == {"Lejárt": True, "Ráér": False, "Lejárt, de kész": False}


# -- adding a to-do -----------------------------------------------------------------------------


def test_the_add_form_offers_the_configured_types_and_defaults_the_owner_to_me(
    user_client: Client, doc: Sandbox, settings: Settings
) -> None:
    settings.MINICRM_TODO_TYPES = TYPES
    choose_me(user_client, 54726)
    card_id = new_card(doc)

    response = user_client.get(f"/cards/{card_id}/todos/add/")

    assert response.status_code == 200
    form = dom(response).find("form", class_="schema-form")
    owners = form.find("select", name="UserId").options()
    assert [(v, label) for v, label, _sel in owners] == [("", "—")] + [
        (str(k), v) for k, v in USERS.items()
    ]
    assert [v for v, _label, selected in owners if selected] == ["54726"]
    types = form.find("select", name="Type").options()
    assert [(v, label) for v, label, _sel in types] == [("", "—")] + [
        (str(k), v) for k, v in TYPES.items()
    ]
    assert "required" in field_row(form, "Comment").classes


def test_without_configured_types_the_add_form_has_no_type_and_no_owner_default(
    user_client: Client, doc: Sandbox, settings: Settings
) -> None:
    settings.MINICRM_TODO_TYPES = {}
    card_id = new_card(doc)

    response = user_client.get(f"/cards/{card_id}/todos/add/")

    form = dom(response).find("form", class_="schema-form")
    assert not form.has("select", name="Type")
    owners = form.find("select", name="UserId").options()
    assert [v for v, _label, selected in owners if selected] == [""]  # nobody chosen
    assert owners[0][:2] == ("", "—")


def test_a_to_do_without_a_comment_is_refused_and_nothing_is_queued(
    user_client: Client, doc: Sandbox
) -> None:
    card_id = new_card(doc)

    response = user_client.post(
        f"/cards/{card_id}/todos/add/", {"Comment": "  ", "UserId": "3200", "Deadline": ""}
    )

    assert response.status_code == 200
    assert errors_of(field_row(dom(response), "Comment")) == ["This field is required."]
    assert not Write.objects.exists()


def test_a_bad_deadline_is_refused_next_to_the_field(user_client: Client, doc: Sandbox) -> None:
    card_id = new_card(doc)

    response = user_client.post(
        f"/cards/{card_id}/todos/add/", {"Comment": "Visszahívni", "Deadline": "holnap reggel"}
    )

    assert response.status_code == 200
    assert errors_of(field_row(dom(response), "Deadline")) == ["Enter a valid date/time."]
    assert not Write.objects.exists()


def test_an_added_to_do_is_queued_and_lands_on_the_card(
    user_client: Client, doc: Sandbox, settings: Settings, staff_user: Any
) -> None:
    settings.MINICRM_TODO_TYPES = TYPES
    choose_me(user_client, 3300)
    card_id = new_card(doc)
    form = dom(user_client.get(f"/cards/{card_id}/todos/add/")).find("form", class_="schema-form")

    response = user_client.post(
        f"/cards/{card_id}/todos/add/",
        form_data(form, Comment="Szerződést egyeztetni", Deadline="2031-06-01T14:30", Type="1567"),
    )

    assert response.status_code == 302
    assert response["Location"] == f"/cards/{card_id}/"
    write = Write.objects.get()
    assert (write.kind, write.target_type, write.requested_by) == (
        Write.Kind.TODO_CREATE,
        "todo",
        staff_user,
    )
    assert write.payload == {
        "ProjectId": card_id,
        "Comment": "Szerződést egyeztetni",
        "UserId": 3300,  # the owner from my Preferences, left as the form offered it
        "Deadline": "2031-06-01 14:30:00",
        "Type": 1567,
    }
    assert any(m.startswith(QUEUED) for m in messages_of(user_client.get(f"/cards/{card_id}/")))

    assert send(write).state == Write.State.DONE

    rows = minicrm_todos(doc, card_id)
    assert [(r["Comment"], r["UserId"], r["Type"], r["Deadline"], r["Status"]) for r in rows] == [
        ("Szerződést egyeztetni", "3300", "1567", "2031-06-01 14:30:00", "Open")
    ]
    page = user_client.get(f"/cards/{card_id}/")
    assert [s.text for s in dom(page).by_id("card-todos").find_all("span", class_="comment")] == [
        "Szerződést egyeztetni"
    ]


# -- editing and closing ------------------------------------------------------------------------


def test_the_edit_form_offers_only_comment_owner_and_deadline(
    user_client: Client, doc: Sandbox, settings: Settings
) -> None:
    settings.MINICRM_TODO_TYPES = TYPES

    response = user_client.get("/todos/2222/change/")  # a seeded open to-do, only read

    assert response.status_code == 200
    form = dom(response).find("form", class_="schema-form")
    names = {node.attrs["name"] for node in form.iter() if "name" in node.attrs}
    assert names == {"csrfmiddlewaretoken", "Comment", "UserId", "Deadline"}
    assert form.find("textarea", name="Comment").text == "Történt valami előrelépés?"
    assert [v for v, _l, selected in form.find("select", name="UserId").options() if selected] == [
        "3300"
    ]
    assert form.find("input", name="Deadline").attrs["value"] == "2013-01-22T23:59"
    assert "MiniCRM does not let a to-do's card, members or notes change." in form.text


def test_an_unchanged_edit_queues_nothing(user_client: Client, doc: Sandbox) -> None:
    form = dom(user_client.get("/todos/2222/change/")).find("form", class_="schema-form")

    response = user_client.post("/todos/2222/change/", form_data(form), follow=True)

    assert "Nothing was changed." in messages_of(response)
    assert not Write.objects.exists()


def test_an_edit_queues_only_what_changed_and_lands(
    user_client: Client, doc: Sandbox, staff_user: Any
) -> None:
    card_id = new_card(doc)
    todo_id = new_todo(doc, card_id, "Visszahívni", UserId=3200, Deadline="2031-01-05 09:00:00")
    form = dom(user_client.get(f"/todos/{todo_id}/change/")).find("form", class_="schema-form")

    response = user_client.post(
        f"/todos/{todo_id}/change/",
        # A hand-made request cannot sneak in what MiniCRM refuses to change.
        {
            **form_data(form, Comment="Visszahívni kedden", UserId="54726"),
            "ProjectId": "2001",
            "Notes": "titok",
            "Members": "7",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == f"/cards/{card_id}/"
    write = Write.objects.get()
    assert (write.kind, write.target_type, write.target_id, write.requested_by) == (
        Write.Kind.TODO_UPDATE,
        "todo",
        todo_id,
        staff_user,
    )
    assert write.payload == {"Comment": "Visszahívni kedden", "UserId": 54726}

    assert send(write).state == Write.State.DONE

    todo = minicrm_todo(doc, todo_id)
    assert (todo["Comment"], todo["UserId"], todo["ProjectId"], todo["Deadline"]) == (
        "Visszahívni kedden",
        "Szabó Éva",
        card_id,
        "2031-01-05 09:00:00",
    )


def test_a_closed_to_do_is_shown_read_only(user_client: Client, doc: Sandbox) -> None:
    card_id = new_card(doc)
    todo_id = new_todo(doc, card_id, "Bemutató megtartva", UserId=3300, closed=True)

    response = user_client.get(f"/todos/{todo_id}/change/")

    assert response.status_code == 200
    page = dom(response)
    assert page.find("h1").text == "Closed to-do"
    assert not page.has("textarea") and not page.has("select", name="UserId")
    assert not page.has("form", class_="schema-form")
    cells = {tr.find("th").text: tr.find("td").text for tr in page.find("table").find_all("tr")}
    assert cells["Comment"] == "Bemutató megtartva"
    assert cells["Owner"] == "Kovács Anna"
    assert cells["Closed"] != "—"

    # Posting to it anyway changes nothing.
    response = user_client.post(f"/todos/{todo_id}/change/", {"Comment": "Mégis"})
    assert response.status_code == 200
    assert dom(response).find("h1").text == "Closed to-do"
    response = user_client.post(f"/todos/{todo_id}/close/", {"next": f"/cards/{card_id}/"})
    assert response.status_code == 302
    assert not Write.objects.exists()


def test_closing_a_to_do_is_queued_and_it_moves_to_the_closed_tab(
    user_client: Client, doc: Sandbox
) -> None:
    card_id = new_card(doc)
    todo_id = new_todo(doc, card_id, "Számlát ellenőrizni", Deadline="2031-02-02 10:00:00")
    page = dom(user_client.get(f"/cards/{card_id}/todos/"))
    close = page.find("form", action=f"/todos/{todo_id}/close/")

    response = user_client.post(close.attrs["action"], form_data(close))

    assert response.status_code == 302
    assert response["Location"] == f"/cards/{card_id}/todos/"
    write = Write.objects.get()
    assert (write.kind, write.target_id, write.payload) == (
        Write.Kind.TODO_UPDATE,
        todo_id,
        {"Status": "Closed"},
    )

    assert send(write).state == Write.State.DONE

    assert minicrm_todo(doc, todo_id)["Status"] == "Closed"
    assert listed(user_client.get(f"/cards/{card_id}/todos/")) == []
    assert listed(user_client.get(f"/cards/{card_id}/todos/", {"status": "closed"})) == [
        "Számlát ellenőrizni"
    ]
    assert dom(user_client.get(f"/todos/{todo_id}/change/")).find("h1").text == "Closed to-do"


def test_close_is_post_only(user_client: Client, doc: Sandbox) -> None:
    response = user_client.get("/todos/2222/close/")

    assert response.status_code == 405
    assert not Write.objects.exists()


def test_an_unknown_to_do_is_not_found(user_client: Client, doc: Sandbox) -> None:
    assert user_client.get("/todos/987654/change/").status_code == 404


# -- my to-dos ----------------------------------------------------------------------------------


def test_my_to_dos_asks_who_i_am_until_i_say(user_client: Client, doc: Sandbox) -> None:
    response = user_client.get("/todos/mine/")

    assert response.status_code == 200
    page = dom(response)
    notice = page.find("p", class_="notice")
    assert "Tell the console which MiniCRM user you are" in notice.text
    assert notice.find("a").attrs["href"] == "/preferences/"
    assert not page.has(id="my-todos")


def test_my_to_dos_lists_my_open_to_dos_on_cards_i_opened_or_own(
    user_client: Client, private: Sandbox
) -> None:
    me, other = 53986, 3300
    now = timezone.localtime()
    owned = new_card(private, owner=me, name="Saját kártya")
    visited = new_card(private, owner=other, name="Megnyitott kártya")
    elsewhere = new_card(private, owner=other, name="Idegen kártya")
    new_todo(private, owned, "Holnap", UserId=me, Deadline=stamp(now + timedelta(days=1)))
    new_todo(private, owned, "Tegnap", UserId=me, Deadline=stamp(now - timedelta(days=1)))
    new_todo(private, owned, "Anna dolga", UserId=other, Deadline=stamp(now))
    new_todo(private, owned, "Kész", UserId=me, closed=True)
    new_todo(private, visited, "Jövő héten", UserId=me, Deadline=stamp(now + timedelta(days=7)))
    new_todo(private, elsewhere, "Nem látom", UserId=me, Deadline=stamp(now))

    choose_me(user_client, me)
    before = dom(user_client.get("/todos/mine/")).by_id("my-todos")
    assert [tr.find_all("td")[1].text for tr in before.find("tbody").find_all("tr")] == [
        "Tegnap",
        "Holnap",
    ]
    assert user_client.get(f"/cards/{visited}/").status_code == 200  # opening it counts

    response = user_client.get("/todos/mine/")

    assert response.status_code == 200
    rows = dom(response).by_id("my-todos").find("tbody").find_all("tr")
    shown = [
        (tr.find_all("td")[1].text, tr.find_all("td")[2].text, "overdue" in tr.classes)
        for tr in rows
    ]
    assert shown == [
        ("Tegnap", "Saját kártya", True),
        ("Holnap", "Saját kártya", False),
        ("Jövő héten", "Megnyitott kártya", False),
    ]
    assert rows[0].find("span", class_="overdue-mark").text == "overdue"
    assert rows[2].find("a").attrs["href"] == f"/cards/{visited}/"


def test_choosing_no_one_in_preferences_hides_my_to_dos_again(
    user_client: Client, doc: Sandbox
) -> None:
    choose_me(user_client, 3200)
    assert dom(user_client.get("/todos/mine/")).has(id="my-todos")

    choose_me(user_client, "")

    page = dom(user_client.get("/todos/mine/"))
    assert not page.has(id="my-todos")
    assert page.has("p", class_="notice")


@pytest.mark.parametrize("back", ["https://evil.example/", "//evil.example/x", "todos", ""])
def test_closing_goes_back_only_to_a_page_of_the_console(
    user_client: Client, doc: Sandbox, back: str
) -> None:
    card_id = new_card(doc)
    todo_id = new_todo(doc, card_id, "Visszahívni")

    response = user_client.post(f"/todos/{todo_id}/close/", {"next": back})

    assert response.status_code == 302
    assert response["Location"] == "/todos/mine/"
    assert Write.objects.get().payload == {"Status": "Closed"}


# -- in Hungarian -------------------------------------------------------------------------------


def test_to_do_pages_in_hungarian(
    user_client: Client, card_with_todos: tuple[int, dict[str, int]]
) -> None:
    user_client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "hu"
    card_id, ids = card_with_todos

    tabs = dom(user_client.get(f"/cards/{card_id}/todos/")).find("nav", class_="tabs")
    closed = dom(user_client.get(f"/todos/{ids['closed']}/change/"))
    form = dom(user_client.get(f"/cards/{card_id}/todos/add/")).find("form", class_="schema-form")
    mine = dom(user_client.get("/todos/mine/"))

    assert [a.text for a in tabs.find_all("a")] == ["Nyitott", "Lezárt", "Összes", "Új teendő"]
    assert closed.find("h1").text == "Lezárt teendő"
    assert [label.text for label in form.find_all("label")][:3] == [
        "Megjegyzés:",
        "Felelős:",
        "Határidő:",
    ]
    assert mine.find("h1").text == "Teendőim"
    notice = mine.find("p", class_="notice")
    assert notice.text.startswith("Adja meg a Saját beállítások oldalon")
    assert notice.find("a").attrs["href"] == "/preferences/"


# -- hardening: Back and Save again, and Hungarian forms -----------------------------------


def test_back_and_save_again_adds_the_to_do_once(user_client: Client, doc: Sandbox) -> None:
    card_id = new_card(doc)
    form = dom(user_client.get(f"/cards/{card_id}/todos/add/")).find("form", class_="schema-form")
    data = form_data(form, Comment="Egyszer hívni", Deadline="2031-06-01T14:30")

    first = user_client.post(f"/cards/{card_id}/todos/add/", data)
    second = user_client.post(f"/cards/{card_id}/todos/add/", data)

    assert first.status_code == second.status_code == 302
    write = Write.objects.get()
    assert "once" not in write.payload
    assert send(write).state == Write.State.DONE
    user_client.post(f"/cards/{card_id}/todos/add/", data)
    assert Write.objects.count() == 1
    assert [t["Comment"] for t in minicrm_todos(doc, card_id)] == ["Egyszer hívni"]


def test_a_second_to_do_from_a_fresh_form_is_a_second_to_do(
    user_client: Client, doc: Sandbox
) -> None:
    card_id = new_card(doc)
    for _ in range(2):
        form = dom(user_client.get(f"/cards/{card_id}/todos/add/")).find(
            "form", class_="schema-form"
        )
        user_client.post(f"/cards/{card_id}/todos/add/", form_data(form, Comment="Hívni"))

    assert Write.objects.count() == 2


def test_the_edit_form_in_hungarian_keeps_the_deadline(user_client: Client, doc: Sandbox) -> None:
    user_client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "hu"
    form = dom(user_client.get("/todos/2222/change/")).find("form", class_="schema-form")

    assert form.find("input", name="Deadline").attrs["value"] == "2013-01-22T23:59"
    assert not form.has(name="once")  # only a new to-do has a one-time key
    user_client.post("/todos/2222/change/", form_data(form))
    assert not Write.objects.exists()


# -- from the mirror ------------------------------------------------------------------------------


def mirror_filled(settings: Settings) -> None:
    """The mirror filled by the sync (lists, then every card with its to-dos), as after
    `make run`."""
    settings.MINICRM_RATE_LIMIT = 100_000
    assert sync_run(until_caught_up=True).caught_up


def asked(sandbox: Sandbox) -> list[str]:
    """The paths the console asked MiniCRM for since the log was last emptied."""
    return [r["path"] for r in sandbox.get("/_sandbox/requests").json()]


def test_my_to_dos_from_the_mirror_cover_every_card_and_ask_minicrm_nothing(
    user_client: Client, private: Sandbox, settings: Settings
) -> None:
    me, other = 53986, 3300
    now = timezone.localtime()
    owned = new_card(private, owner=me, name="Saját kártya")
    elsewhere = new_card(private, owner=other, name="Idegen kártya")
    new_todo(private, owned, "Holnap", UserId=me, Deadline=stamp(now + timedelta(days=1)))
    new_todo(private, owned, "Anna dolga", UserId=other, Deadline=stamp(now))
    new_todo(private, owned, "Kész", UserId=me, closed=True)
    new_todo(private, elsewhere, "Tegnap", UserId=me, Deadline=stamp(now - timedelta(days=1)))
    new_todo(private, elsewhere, "Egyszer", UserId=me)  # no deadline: last
    new_todo(private, elsewhere, "Jövő héten", UserId=me, Deadline=stamp(now + timedelta(7)))
    choose_me(user_client, me)
    mirror_filled(settings)
    settings.MINICRM_BASE_URL = f"http://127.0.0.1:{free_port()}"  # nobody answers there

    response = user_client.get("/todos/mine/")

    assert response.status_code == 200
    rows = dom(response).by_id("my-todos").find("tbody").find_all("tr")
    shown = [
        (tr.find_all("td")[1].text, tr.find_all("td")[2].text, "overdue" in tr.classes)
        for tr in rows
    ]
    assert shown == [
        ("Tegnap", "Idegen kártya", True),  # on a card I neither opened nor own
        ("Holnap", "Saját kártya", False),
        ("Jövő héten", "Idegen kártya", False),
        ("Egyszer", "Idegen kártya", False),
    ]
    assert rows[0].find("a").attrs["href"] == f"/cards/{elsewhere}/"


def test_my_to_dos_by_tab_and_module_and_closed_in_place(
    user_client: Client, private: Sandbox, settings: Settings
) -> None:
    me = 53986
    now = timezone.localtime()
    today_end = now.replace(hour=23, minute=59, second=0)
    sales = new_card(private, owner=me, name="Értékesítési kártya")
    answer = private.put(
        "/Api/R3/Project/", json={"CategoryId": 3, "Name": "Partner kártya", "UserId": me}
    )
    partner = int(answer.json()["Id"])
    late = new_todo(private, sales, "Tegnapi", UserId=me, Deadline=stamp(now - timedelta(days=1)))
    new_todo(private, partner, "Mai", UserId=me, Deadline=stamp(today_end))
    new_todo(private, sales, "Holnapi", UserId=me, Deadline=stamp(now + timedelta(days=1)))
    new_todo(private, partner, "Jövő havi", UserId=me, Deadline=stamp(now + timedelta(days=30)))
    choose_me(user_client, me)
    mirror_filled(settings)

    def shown(**params: str) -> list[str]:
        page = dom(user_client.get("/todos/mine/", params))
        return [
            tr.find_all("td")[1].text for tr in page.by_id("my-todos").find("tbody").find_all("tr")
        ]

    tomorrow_this_week = now.date().weekday() < 6  # Sunday's tomorrow is next week
    assert shown() == ["Tegnapi", "Mai", "Holnapi", "Jövő havi"]
    assert shown(when="overdue") == ["Tegnapi"]
    assert shown(when="today") == ["Mai"]
    assert shown(when="week") == ["Mai", "Holnapi"] if tomorrow_this_week else ["Mai"]
    assert shown(module="3") == ["Mai", "Jövő havi"]
    assert shown(module="3", when="today") == ["Mai"]
    assert shown(when="nonsense", module="x") == shown()  # bad input: everything, no error
    page = dom(user_client.get("/todos/mine/", {"module": "10"}))
    assert page.by_id("tab-overdue").find("span", class_="count").text == "1"
    assert page.by_id("tab-all").find("span", class_="count").text == "2"
    row = page.by_id(f"my-todo-{late}")
    assert row.find_all("td")[3].text == "Értékesítés"

    # Closed in place: the row says so; the close waits in the write queue.
    form = row.find("form")
    closed = user_client.post(
        form.attrs["hx-post"], form_data(form), headers={"HX-Request": "true"}
    )
    assert closed.status_code == 200
    assert "closing (queued)" in dom(closed).by_id(f"my-todo-{late}").text
    write = Write.objects.get()
    assert (write.kind, write.target_id) == (Write.Kind.TODO_UPDATE, late)
    assert send(write).state == Write.State.DONE
    assert minicrm_todo(private, late)["Status"] == "Closed"
    assert "Tegnapi" not in shown()


def test_my_to_dos_read_the_cards_i_own_whose_to_dos_the_mirror_lacks(
    user_client: Client, private: Sandbox, settings: Settings
) -> None:
    me = 53986
    owned = new_card(private, owner=me, name="Saját kártya")
    new_todo(private, owned, "Visszahívni", UserId=me, Deadline="2031-01-01 10:00:00")
    mirror_filled(settings)
    # The card is listed, but the backfill has not read its to-dos yet.
    Card.objects.filter(pk=owned).update(todos_synced_at=None)
    MirrorToDo.objects.filter(card_id=owned).delete()
    choose_me(user_client, me)
    private.delete("/_sandbox/requests")

    rows = dom(user_client.get("/todos/mine/")).by_id("my-todos").find("tbody").find_all("tr")

    assert [(tr.find_all("td")[1].text, tr.find_all("td")[2].text) for tr in rows] == [
        ("Visszahívni", "Saját kártya")
    ]
    assert asked(private) == [f"/Api/R3/ToDoList/{owned}"]  # that card's alone
    assert Card.objects.get(pk=owned).todos_synced_at is not None  # stored for next time
    private.delete("/_sandbox/requests")
    user_client.get("/todos/mine/")
    assert asked(private) == []


def test_a_card_s_to_dos_come_from_the_mirror_once_it_has_read_them(
    user_client: Client, doc: Sandbox, card_with_todos: tuple[int, dict[str, int]]
) -> None:
    card_id, _ids = card_with_todos
    card_fetch(card_id=card_id)  # the sync read the card (detail, to-dos, history)
    doc.delete("/_sandbox/requests")

    response = user_client.get(f"/cards/{card_id}/todos/", {"status": "all"})

    assert listed(response) == ["Visszahívni", "Ajánlatot küldeni", "Bemutató megtartva"]
    assert f"/Api/R3/ToDoList/{card_id}" not in asked(doc)


def test_a_card_s_to_dos_first_read_from_minicrm_are_stored(
    user_client: Client, card_with_todos: tuple[int, dict[str, int]]
) -> None:
    card_id, ids = card_with_todos

    response = user_client.get(f"/cards/{card_id}/todos/")

    assert listed(response) == ["Visszahívni", "Ajánlatot küldeni"]
    stored = MirrorToDo.objects.filter(card_id=card_id)
    assert dict(stored.values_list("pk", "status")) == {
        ids["later"]: "Open",
        ids["sooner"]: "Open",
        ids["closed"]: "Closed",
    }


def test_a_to_do_read_once_is_edited_from_the_mirror(user_client: Client, doc: Sandbox) -> None:
    card_id = new_card(doc)
    todo_id = new_todo(doc, card_id, "Visszahívni", UserId=3300, Deadline="2031-01-05 09:00:00")
    card_fetch(card_id=card_id)  # the sync read the card and its to-do list
    user_client.get(f"/todos/{todo_id}/change/")
    held = MirrorToDo.objects.get(pk=todo_id)  # the detail, owner by name: its id is kept
    assert (held.completeness, held.user_id) == (Completeness.DETAIL, 3300)
    doc.delete("/_sandbox/requests")

    form = dom(user_client.get(f"/todos/{todo_id}/change/")).find("form", class_="schema-form")

    assert f"/Api/R3/ToDo/{todo_id}" not in asked(doc)
    assert form.find("textarea", name="Comment").text == "Visszahívni"
    owner = form.find("select", name="UserId").options()
    assert [v for v, _label, selected in owner if selected] == ["3300"]
    assert form.find("input", name="Deadline").attrs["value"] == "2031-01-05T09:00"


def test_a_to_do_changed_in_minicrm_is_read_again_once_the_sync_sees_it(
    user_client: Client, doc: Sandbox
) -> None:
    card_id = new_card(doc)
    todo_id = new_todo(doc, card_id, "Visszahívni", UserId=3300)
    user_client.get(f"/todos/{todo_id}/change/")  # its detail is in the mirror now
    doc.put(f"/Api/R3/ToDo/{todo_id}", json={"Comment": "Visszahívni holnap"})
    card_fetch(card_id=card_id)  # the sync reads the card again (a webhook, the poll)

    form = dom(user_client.get(f"/todos/{todo_id}/change/")).find("form", class_="schema-form")

    assert form.find("textarea", name="Comment").text == "Visszahívni holnap"


def test_an_added_to_do_that_landed_is_on_the_card_s_list_from_the_mirror(
    user_client: Client, doc: Sandbox
) -> None:
    card_id = new_card(doc)
    card_fetch(card_id=card_id)  # the mirror has read the card and its (empty) to-do list
    form = dom(user_client.get(f"/cards/{card_id}/todos/add/")).find("form", class_="schema-form")
    user_client.post(f"/cards/{card_id}/todos/add/", form_data(form, Comment="Ajánlatot kérni"))
    assert send(Write.objects.get()).state == Write.State.DONE
    doc.delete("/_sandbox/requests")

    response = user_client.get(f"/cards/{card_id}/todos/")

    assert listed(response) == ["Ajánlatot kérni"]
    assert f"/Api/R3/ToDoList/{card_id}" not in asked(doc)


def test_my_to_dos_tabs_in_hungarian(
    user_client: Client, private: Sandbox, settings: Settings
) -> None:
    me = 53986
    card_id = new_card(private, owner=me, name="Kártya")
    new_todo(
        private,
        card_id,
        "Tegnapi",
        UserId=me,
        Deadline=stamp(timezone.localtime() - timedelta(days=1)),
    )
    choose_me(user_client, me)
    mirror_filled(settings)
    user_client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "hu"

    page = dom(user_client.get("/todos/mine/", {"when": "overdue"}))

    tabs = [a.text for a in page.find("nav", class_="tabs").find_all("a")]
    assert tabs == ["Minden nyitott 1", "Lejárt 1", "Ma 0", "Ezen a héten 0"]
    assert page.by_id("tab-overdue").attrs["aria-current"] == "true"
