"""The console in Hungarian: the card page, its edit form and the contact search as a Hungarian
back-office user reads them (MiniCRM's own words: kártya, ügyfél, cég, státusz, felelős)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from apps.writes.models import Write
from tests.conftest import Sandbox
from tests.viewsupport import Node, dom, messages_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def hungarian(user_client: Client) -> Client:
    user_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "hu"
    return user_client


def record_row(page: Node, label: str) -> Node:
    record = page.find("div", class_="record")
    return next(tr for tr in record.find_all("tr") if tr.find("th").text == label)


def test_card_page_in_hungarian(hungarian: Client, doc: Sandbox) -> None:
    response = hungarian.get("/cards/2056/")

    assert response.status_code == 200
    page = dom(response)
    assert page.find("html").attrs["lang"] == "hu"
    summary = page.find("div", class_="card-summary").text
    for word in ("Státusz:", "Felelős:", "Ügyfél:", "Cég:"):
        assert word in summary
    assert page.by_id("status-history").find("h2").text == "Státusztörténet"
    assert page.by_id("status-history").find("li").text == "A státusz még nem változott."
    assert page.by_id("card-todos").find("h2").text == "Teendők"
    assert page.find("table", id="card-fields").find("caption").text == "Mezők"
    assert page.find("a", class_="changelink").text == "Szerkesztés"
    # MiniCRM's own fields are labelled in Hungarian, and dates in the Hungarian short form.
    created = record_row(page, "Státusz módosítva").find("time")
    assert created.text == "2018.02.14. 14:12"
    assert record_row(page, "Létrehozva")
    nav = page.by_id("nav-sidebar").text
    assert "Ügyfelek" in nav
    assert "Küldési sor" in nav
    assert "0 függő módosítás" in page.by_id("console-status").text
    visible = page.find("body").text
    for english in ("Status history", "To-dos", "Owner", "Write queue", "pending", "Record"):
        assert english not in visible


def test_card_edit_form_in_hungarian(hungarian: Client, doc: Sandbox) -> None:
    page = dom(hungarian.get("/cards/2056/change/"))

    form = page.find("form", class_="schema-form")
    labels = {label.attrs["for"]: label.text for label in form.find_all("label")}
    assert labels["id_Name"] == "Név:"
    assert labels["id_StatusId"] == "Státusz:"
    assert labels["id_UserId"] == "Felelős:"
    assert labels["id_ContactId"] == "Ügyfél:"
    assert page.find("h1").text == "MiniCRM Zrt. (Leskó Norbert) szerkesztése"
    assert form.find("button").text == "Mentés"
    assert "A nyilvános cím, ahonnan a MiniCRM letölti a fájlt." in form.text


def test_saving_in_hungarian_says_so_in_hungarian(hungarian: Client, doc: Sandbox) -> None:
    response = hungarian.post("/cards/2056/status/", {"status": "2623"}, follow=True)

    assert Write.objects.get().payload == {"StatusId": 2623}
    assert messages_of(response)[0].startswith("Mentve és sorba állítva: kb. ")
    assert messages_of(response)[0].endswith(" mp múlva kerül a MiniCRM-be.")
    assert "függőben" in dom(response).find("div", class_="card-summary").text


def test_contact_search_in_hungarian(hungarian: Client, doc: Sandbox) -> None:
    response = hungarian.get("/contacts/", {"q": "2367532"})

    page = dom(response)
    assert page.find("h1").text == "Ügyfelek"
    assert page.find("label", for_="id_q").text == "Kulcsszó, e-mail-cím vagy telefonszám"
    assert page.find("form", id="contact-search").find("button").text == "Keresés"
    results = page.by_id("contact-results")
    assert results.find("p", class_="paginator-count").text == "1 ügyfél található"
    assert [th.text for th in results.find("thead").find_all("th")] == [
        "Név",
        "Típus",
        "E-mail",
        "Telefon",
        "Cég",
    ]
    assert results.find("tbody").find_all("td")[0].text == "Személy"
    assert page.links()["/contacts/add/?type=Business"] == "Új cég"

    empty = dom(hungarian.get("/contacts/", {"q": "nincs-ilyen-xyz"}))
    assert empty.find("p", class_="paginator-count").text == "0 ügyfél található"


def test_changelist_filters_in_hungarian(hungarian: Client, doc: Sandbox) -> None:
    page = dom(hungarian.get("/modules/10/"))

    groups = page.find("select", name="group").options()
    assert [label for _, label, _ in groups] == [
        "—",
        "Érdeklődő",
        "Folyamatban",
        "Sikeres",
        "Sikertelen",
    ]
    assert page.find("button", id="bulk-go").text == "Mehet"
    cards = doc.get("/Api/R3/Project", params={"CategoryId": 10}).json()["Count"]
    assert page.find("span", class_="action-counter").text == f"{cards} kártya"
