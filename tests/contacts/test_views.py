"""Contact pages as a back-office user uses them: search, a company and a person, create,
edit and delete, against the doc and demo sandboxes."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator

import pytest
import redis
from django.conf import settings as django_settings
from django.test import Client
from pytest_django.fixtures import Settings

from apps.core.parallel import wait_idle
from apps.core.readcache import forget_kind
from apps.core.selectors import modules_all
from apps.mirror.models import Contact as MirrorContact
from apps.mirror.services import sync_run
from apps.writes.models import Write
from tests.conftest import Sandbox, SandboxStarter, free_port
from tests.mirror.test_contact_reads import freshness_said
from tests.viewsupport import (
    BackgroundSender,
    Node,
    dom,
    errors_of,
    faulty_console,
    field_row,
    form_data,
    is_full_page,
    messages_of,
    sandbox_ids,
    send,
    set_faults,
)

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true", "HX-Target": "contact-results"}


def result_ids(response) -> list[int]:
    """The contacts a result list links to, in order."""
    table = dom(response).by_id("result_list")
    return [
        int(a.attrs["href"].split("/")[2])
        for a in table.find_all("a")
        if a.parent and a.parent.tag == "th"
    ]


# -- search ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "params"),
    [
        ("Leskó", {"Query": "Leskó"}),
        ("norbert@minicrm.hu", {"Email": "norbert@minicrm.hu"}),
        ("MiniCRM", {"Query": "MiniCRM"}),
    ],
)
def test_search_finds_what_minicrm_finds(
    user_client: Client, doc: Sandbox, query: str, params: dict[str, str]
) -> None:
    response = user_client.get("/contacts/", {"q": query})

    assert response.status_code == 200
    expected = sandbox_ids(doc, "Contact", **params)
    assert expected
    assert result_ids(response) == expected
    count = dom(response).find("p", class_="paginator-count").text
    assert count == (
        f"{len(expected)} contact found"
        if len(expected) == 1
        else f"{len(expected)} contacts found"
    )


@pytest.mark.parametrize("query", ["2367532", "236 7532", "06 (20) 236 7532"])
def test_search_by_phone_suffix_finds_the_person(
    user_client: Client, doc: Sandbox, query: str
) -> None:
    response = user_client.get("/contacts/", {"q": query})

    assert result_ids(response) == [7506]
    row = dom(response).by_id("result_list").find("tbody").find("tr")
    assert row.find("th").text == "Leskó Norbert"
    assert "06 (20) 236 7532" in row.text
    assert row.links()["/contacts/7505/"] == "#7505"  # the person's company


def test_search_with_no_match_says_so(user_client: Client, doc: Sandbox) -> None:
    response = user_client.get("/contacts/", {"q": "nincs-ilyen-ugyfel-xyz"})

    page = dom(response)
    assert page.find("p", class_="paginator-count").text == "0 contacts found"
    assert not page.has(id="result_list")


def test_empty_search_explains_what_to_type(user_client: Client, doc: Sandbox) -> None:
    doc.delete("/_sandbox/requests")

    page = dom(user_client.get("/contacts/"))

    assert "last digits of a phone number" in page.by_id("contact-results").text
    searches = [r for r in doc.get("/_sandbox/requests").json() if r["path"] == "/Api/R3/Contact"]
    assert searches == []  # nothing to ask MiniCRM


def test_htmx_search_answers_only_the_results(user_client: Client, doc: Sandbox) -> None:
    partial = user_client.get("/contacts/", {"q": "2367532"}, headers=HTMX)
    full = user_client.get("/contacts/", {"q": "2367532"})

    assert partial.status_code == full.status_code == 200
    assert not is_full_page(partial)
    part = dom(partial)
    assert part.find("div").id == "contact-results"
    assert not part.has("form", id="contact-search")
    assert result_ids(partial) == [7506]
    assert is_full_page(full)
    page = dom(full)
    assert page.has("form", id="contact-search")
    assert page.by_id("id_q").attrs["value"] == "2367532"
    assert page.by_id("id_q").attrs["hx-target"] == "#contact-results"
    assert result_ids(full) == [7506]


def test_search_pages_follow_minicrm(user_client: Client, demo: Sandbox) -> None:
    first = user_client.get("/contacts/", {"q": "Kft"})
    second = user_client.get("/contacts/", {"q": "Kft", "p": "2"})

    total = int(demo.get("/Api/R3/Contact", params={"Query": "Kft"}).json()["Count"])
    assert total > 200  # three pages
    assert result_ids(first) == sandbox_ids(demo, "Contact", Query="Kft", Page=0)
    assert result_ids(second) == sandbox_ids(demo, "Contact", Query="Kft", Page=1)
    assert len(result_ids(first)) == 100
    nav = dom(second).find("nav", class_="paginator")
    assert "page 2 of 3" in nav.text
    links = nav.links()
    assert links["?q=Kft&p=1"].startswith("\N{SINGLE LEFT-POINTING ANGLE QUOTATION MARK}")
    assert links["?q=Kft&p=3"].endswith("\N{SINGLE RIGHT-POINTING ANGLE QUOTATION MARK}")
    assert f"{total} contacts found" in dom(first).by_id("contact-results").text


def test_a_search_page_past_the_end_is_the_last_page_and_says_so(
    user_client: Client, demo: Sandbox
) -> None:
    response = user_client.get("/contacts/", {"q": "Kft", "p": "9"})

    assert result_ids(response) == sandbox_ids(demo, "Contact", Query="Kft", Page=2)
    nav = dom(response).find("nav", class_="paginator")
    assert nav.find("span", class_="this-page").text == "page 3 of 3"
    assert set(nav.links()) == {"?q=Kft&p=2"}
    assert nav.find("span", class_="paginator-note").text == (
        "There is no page 9: this is the last one."
    )


@pytest.mark.parametrize("low", ["x", "0", "-3"])
def test_a_bad_search_page_is_the_first_page_of_the_same_search(
    user_client: Client, demo: Sandbox, low: str
) -> None:
    response = user_client.get("/contacts/", {"q": "Kft", "p": low})

    assert result_ids(response) == sandbox_ids(demo, "Contact", Query="Kft", Page=0)
    assert dom(response).by_id("id_q").attrs["value"] == "Kft"
    nav = dom(response).find("nav", class_="paginator")
    assert nav.find("span", class_="this-page").text == "page 1 of 3"


def test_a_search_page_past_the_end_in_hungarian(hungarian: Client, demo: Sandbox) -> None:
    nav = dom(hungarian.get("/contacts/", {"q": "Kft", "p": "4"})).find("nav", class_="paginator")

    assert nav.find("span", class_="this-page").text == "3. oldal (összesen 3)"
    assert nav.find("span", class_="paginator-note").text == "Nincs 4. oldal: ez az utolsó oldal."


@pytest.mark.parametrize("params", [{"p": "x"}, {"p": "0"}, {"p": "-3"}, {"q": "a" * 500}])
def test_bad_search_input_is_no_error(user_client: Client, doc: Sandbox, params) -> None:
    response = user_client.get("/contacts/", {"q": "Leskó", **params})

    assert response.status_code == 200


# -- a company and a person ---------------------------------------------------------------------


def cards_by_module(response) -> dict[str, list[int]]:
    """The contact page's cards: module name -> card ids."""
    box = dom(response).by_id("contact-cards")
    groups: dict[str, list[int]] = {}
    current = ""
    for node in box.iter():
        if node.tag == "h3":
            current = node.text.rsplit(" (", 1)[0]
            groups[current] = []
        elif node.tag == "a" and current:
            groups[current].append(int(node.attrs["href"].split("/")[2]))
    return groups


def test_company_page_lists_its_persons_and_its_cards_per_module(
    user_client: Client, doc: Sandbox
) -> None:
    response = user_client.get("/contacts/7505/")

    assert response.status_code == 200
    page = dom(response)
    assert page.find("h1").text.startswith("MiniCRM Zrt.")
    people = page.by_id("company-people").links()
    assert people == {"/contacts/7506/": "Leskó Norbert", "/contacts/7507/": "Egerszegi Krisztián"}
    assert cards_by_module(response) == {
        "Értékesítés": [2056],
        "Ügyfélszolgálat": [2055],
        "Partnerek": [2054],
    }
    assert "help@minicrm.hu" in page.find("table", class_="fields").text
    assert page.links()["/contacts/add/?type=Person&business=7505"] == "Add person"


def test_company_page_offers_a_new_order_for_the_company(user_client: Client, doc: Sandbox) -> None:
    page = dom(user_client.get("/contacts/7505/"))

    link = page.by_id("new-order")
    assert (link.attrs["href"], link.text) == ("/orders/add/?customer=7505", "New order")
    form = dom(user_client.get(link.attrs["href"])).find("form", class_="schema-form")
    assert form.find("input", name="customer").attrs["value"] == "7505"
    assert form.find("input", name="buyer_Name").attrs["value"] == "MiniCRM Zrt."


def test_company_page_offers_a_new_order_in_hungarian(hungarian: Client, doc: Sandbox) -> None:
    page = dom(hungarian.get("/contacts/7505/"))

    assert page.by_id("new-order").text == "Új megrendelés"
    assert page.by_id("company-people").find("caption").text == "Személyek"


def test_company_page_s_persons_wrap_in_their_box(user_client: Client, doc: Sandbox) -> None:
    # console.css wraps a long email or phone inside `table.people` instead of widening the box.
    people = dom(user_client.get("/contacts/7505/")).by_id("company-people")

    assert "people" in people.find("table").attrs["class"].split()


def test_person_page_links_its_company_and_its_cards(user_client: Client, doc: Sandbox) -> None:
    response = user_client.get("/contacts/7506/")

    page = dom(response)
    company = page.by_id("company-link")
    assert (company.attrs["href"], company.text) == ("/contacts/7505/", "MiniCRM Zrt.")
    fields = page.find("table", class_="fields").text
    assert "Cégvezető" in fields
    assert "Alma" in fields  # KedvencEtele's label, not its id 2001
    assert "2001" not in fields
    assert not page.has(id="company-people")
    assert not page.has(id="new-order")
    assert sorted(i for ids in cards_by_module(response).values() for i in ids) == [
        2054,
        2055,
        2056,
    ]
    assert page.links()["/contacts/7506/delete/"] == "Delete"


@pytest.mark.parametrize(
    "path", ["/contacts/999999/", "/contacts/999999/change/", "/contacts/999999/delete/"]
)
def test_unknown_contact_is_a_not_found_page(user_client: Client, doc: Sandbox, path: str) -> None:
    response = user_client.get(path)

    assert response.status_code == 404
    page = dom(response)
    assert page.find("h1").text == "Not found"
    assert "MiniCRM has no such record" in page.by_id("content").text
    assert page.has("nav", id="nav-sidebar")  # in the console's frame


# -- create ------------------------------------------------------------------------------------


def test_add_company_queues_it_and_it_lands_in_minicrm(user_client: Client, doc: Sandbox) -> None:
    name = f"Teszt Kft. {uuid.uuid4().hex[:8]}"
    form = dom(user_client.get("/contacts/add/?type=Business")).find("form", class_="schema-form")

    response = user_client.post(
        "/contacts/add/?type=Business",
        form_data(form, Name=name, Email="info@teszt.hu", Phone="06 1 234 5678"),
        follow=True,
    )

    write = Write.objects.get()
    assert (write.kind, write.target_type, write.target_id) == ("contact.create", "contact", None)
    assert write.payload == {
        "Name": name,
        "Email": "info@teszt.hu",
        "Phone": "06 1 234 5678",
        "Type": "Business",
    }
    assert response.redirect_chain[-1][0] == "/contacts/"
    assert any(
        m.startswith("Saved and queued: expected in MiniCRM in about")
        for m in messages_of(response)
    )

    sent = send(write)

    assert sent.state == Write.State.DONE
    landed = doc.get(f"/Api/R3/Contact/{sent.target_id}").json()
    assert (landed["Name"], landed["Email"]) == (name, "info@teszt.hu")
    page = dom(user_client.get(f"/contacts/{sent.target_id}/"))
    assert page.find("h1").text.startswith(name)


def test_add_person_under_a_company(user_client: Client, doc: Sandbox) -> None:
    email = f"{uuid.uuid4().hex[:8]}@minicrm.hu"
    page = dom(user_client.get("/contacts/add/?type=Person&business=7505"))
    assert page.find("h1").text == "Add person — MiniCRM Zrt."
    form = page.find("form", class_="schema-form")
    assert not form.has(name="BusinessId")  # the company comes from the page

    response = user_client.post(
        "/contacts/add/?type=Person&business=7505",
        form_data(form, FirstName="Zsófia", LastName="Kertész", Email=email),
    )

    assert response.status_code == 302
    assert response["Location"] == "/contacts/7505/"
    write = Write.objects.get()
    assert write.payload == {
        "FirstName": "Zsófia",
        "LastName": "Kertész",
        "Email": email,
        "BusinessId": 7505,
        "Type": "Person",
    }

    sent = send(write)

    assert sent.state == Write.State.DONE
    assert doc.get(f"/Api/R3/Contact/{sent.target_id}").json()["BusinessId"] == 7505
    people = dom(user_client.get("/contacts/7505/")).by_id("company-people").links()
    assert people[f"/contacts/{sent.target_id}/"] == "Kertész Zsófia"


def test_add_company_without_a_name_queues_nothing(user_client: Client, doc: Sandbox) -> None:
    form = dom(user_client.get("/contacts/add/?type=Business")).find("form", class_="schema-form")

    response = user_client.post("/contacts/add/?type=Business", form_data(form, Email="x@y.hu"))

    assert response.status_code == 200
    assert errors_of(field_row(dom(response), "Name")) == ["This field is required."]
    assert not Write.objects.exists()


# -- edit ----------------------------------------------------------------------------------------


def test_edit_form_shows_the_contact_as_minicrm_has_it(user_client: Client, doc: Sandbox) -> None:
    page = dom(user_client.get("/contacts/7506/change/"))

    form = page.find("form", class_="schema-form")
    assert form.find("input", name="Email").attrs["value"] == "norbert@minicrm.hu"
    assert form.find("input", name="Email").attrs["maxlength"] == "128"
    food = form.find("select", name="KedvencEtele")
    assert [(v, label) for v, label, _ in food.options()] == [
        ("", "—"),
        ("2001", "Alma"),
        ("2002", "Narancs"),
        ("2003", "Sajt"),
        ("2004", "Kolbász"),
    ]
    assert [v for v, _, selected in food.options() if selected] == ["2001"]
    assert form.find("input", name="YearlyRevenue").attrs["type"] == "number"
    assert not form.has(name="BusinessId")
    assert not form.has(name="CreatedAt")


def test_edit_sends_only_the_changed_fields_with_what_the_user_saw(
    user_client: Client, doc: Sandbox
) -> None:
    form = dom(user_client.get("/contacts/7506/change/")).find("form", class_="schema-form")

    response = user_client.post(
        "/contacts/7506/change/",
        form_data(form, Phone="06 (30) 111 2222", KedvencEtele="2003"),
        follow=True,
    )

    write = Write.objects.get()
    assert (write.kind, write.target_id) == ("contact.update", 7506)
    assert write.payload == {"Phone": "06 (30) 111 2222", "KedvencEtele": 2003}
    assert write.seen == {"Phone": "06 (20) 236 7532", "KedvencEtele": "Alma"}
    assert response.redirect_chain[-1][0] == "/contacts/7506/"
    page = dom(response)
    # The page shows the queued values over MiniCRM's, marked as pending.
    pending = page.find_all("tr", class_="pending")
    # (Labels come from the field names: MiniCRM's schema has none.)
    assert {row.find("th").text for row in pending} == {"Phone", "Kedvenc etele"}
    assert any("06 (30) 111 2222" in row.text and "pending" in row.text for row in pending)
    assert "Sajt" in page.find("table", class_="fields").text
    assert page.by_id("object-writes").has("li", class_="write-queued")


def test_edit_without_changes_queues_nothing(user_client: Client, doc: Sandbox) -> None:
    form = dom(user_client.get("/contacts/7506/change/")).find("form", class_="schema-form")

    response = user_client.post("/contacts/7506/change/", form_data(form), follow=True)

    assert not Write.objects.exists()
    assert "Nothing was changed." in messages_of(response)


def test_too_long_text_is_shown_next_to_its_field_and_nothing_is_queued(
    user_client: Client, doc: Sandbox
) -> None:
    form = dom(user_client.get("/contacts/7506/change/")).find("form", class_="schema-form")

    response = user_client.post(
        "/contacts/7506/change/", form_data(form, Email="a" * 120 + "@minicrm.hu")
    )

    assert response.status_code == 200
    page = dom(response)
    row = field_row(page, "Email")
    assert "errors" in row.classes
    assert errors_of(row) == ["Ensure this value has at most 128 characters (it has 131)."]
    assert errors_of(field_row(page, "Phone")) == []
    assert "Please correct the errors below." in page.find("form", class_="schema-form").text
    assert not Write.objects.exists()


def test_edit_carries_the_seen_values_across_a_failed_submit(
    user_client: Client, doc: Sandbox
) -> None:
    form = dom(user_client.get("/contacts/7506/change/")).find("form", class_="schema-form")
    bad = user_client.post("/contacts/7506/change/", form_data(form, YearlyRevenue="sok"))
    again = dom(bad).find("form", class_="schema-form")
    # What the user first saw travels with the form, so the retry still knows it.
    assert (
        again.find("input", name="seen").attrs["value"]
        == form.find("input", name="seen").attrs["value"]
    )

    user_client.post("/contacts/7506/change/", form_data(again, YearlyRevenue="120"))

    write = Write.objects.get()
    assert write.payload == {"YearlyRevenue": 120}
    assert write.seen == {"YearlyRevenue": 0}


# -- delete a person ---------------------------------------------------------------------------


def test_delete_page_explains_the_main_contact_rule(user_client: Client, doc: Sandbox) -> None:
    response = user_client.get("/contacts/7506/delete/")

    assert response.status_code == 200
    rule = dom(response).find("div", class_="main-contact-rule")
    assert "not the main contact of any card" in rule.text
    assert set(rule.links()) == {"/cards/2054/", "/cards/2055/", "/cards/2056/"}


def test_companies_are_not_deleted_here(user_client: Client, doc: Sandbox) -> None:
    response = user_client.post("/contacts/7505/delete/", follow=True)

    assert response.redirect_chain[-1][0] == "/contacts/7505/"
    assert "Only persons can be deleted here." in messages_of(response)
    assert not Write.objects.exists()


def test_deleting_a_person_without_cards_queues_a_purge_that_lands(
    user_client: Client, doc: Sandbox
) -> None:
    created = doc.put(
        "/Api/R3/Contact/",
        json={"Type": "Person", "FirstName": "Törlendő", "LastName": "Teszt", "BusinessId": 7505},
    ).json()["Id"]

    page = dom(user_client.get(f"/contacts/{created}/delete/"))
    assert not page.has("div", class_="main-contact-rule")
    response = user_client.post(f"/contacts/{created}/delete/")

    assert response.status_code == 302
    write = Write.objects.get()
    assert (write.kind, write.target_id, write.payload) == ("contact.purge", created, {})
    assert send(write).state == Write.State.DONE
    assert doc.get(f"/Api/R3/Contact/{created}").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_minicrm_refusing_to_delete_a_main_contact_is_explained(
    user_client: Client, doc: Sandbox, settings
) -> None:
    settings.WRITE_WAIT_SECONDS = 10
    sender = BackgroundSender()
    sender.start()

    response = user_client.post("/contacts/7506/delete/")
    sender.join()

    assert response.status_code == 200
    page = dom(response)
    refusal = page.find("div", class_="errornote").text
    assert refusal == (
        "MiniCRM refused: The person is marked as the main contact on one or more cards."
    )
    assert "not the main contact of any card" in page.find("div", class_="main-contact-rule").text
    # The refused write is given up (the page said why), and the person is still there.
    assert Write.objects.get().state == Write.State.DISCARDED
    assert doc.get("/Api/R3/Contact/7506").status_code == 200


# -- hardening: values round-trip unchanged, and what the type says is checked ---------------

PERSON = 11001  # a demo person with a birthday
PHONE_MESSAGE = "Enter a phone number: digits, spaces, +, -, / and brackets."


def contact_form(client: Client, contact_id: int) -> Node:
    return dom(client.get(f"/contacts/{contact_id}/change/")).find("form", class_="schema-form")


@pytest.mark.parametrize("contact_id", [PERSON, 10001])
def test_edit_form_in_hungarian_keeps_dates_numbers_and_labels_on_save(
    hungarian: Client, demo: Sandbox, contact_id: int
) -> None:
    detail = demo.get(f"/Api/R3/Contact/{contact_id}").json()
    form = contact_form(hungarian, contact_id)

    for node in form.find_all("input", type="date"):
        assert node.attrs["value"] == detail[node.attrs["name"]]
    for node in form.find_all("input", type="number"):
        assert node.attrs["value"] == str(detail[node.attrs["name"]])
    for select in form.find_all("select"):
        value = detail[select.attrs["name"]]
        if isinstance(value, str):  # a dropdown's label (a yes/no is 0 or 1)
            chosen = [label for _, label, on in select.options() if on]
            assert chosen == [value or "—"], select.attrs["name"]

    response = hungarian.post(
        f"/contacts/{contact_id}/change/", form_data(form, Description="Megjegyzés")
    )

    assert response.status_code == 302
    assert Write.objects.get().payload == {"Description": "Megjegyzés"}


def test_a_birthday_keeps_its_iso_value_in_hungarian(hungarian: Client, demo: Sandbox) -> None:
    birthday = demo.get(f"/Api/R3/Contact/{PERSON}").json()["Szuletesnap"]

    node = contact_form(hungarian, PERSON).find("input", name="Szuletesnap")

    assert (node.attrs["type"], node.attrs["value"]) == ("date", birthday)


@pytest.mark.parametrize(
    ("contact_id", "name", "value", "message"),
    [
        (10001, "Email", "not-an-email", "Enter a valid email address."),
        (10001, "Url", "nem egy cím", "Enter a valid web address."),
        (
            10001,
            "Phone",
            "hívj fel!",
            "Enter a phone number: digits, spaces, +, -, / and brackets.",
        ),
        (10001, "YearlyRevenue", "-5", "Ensure this value is greater than or equal to 0."),
        (10001, "YearlyRevenue", "1e7000000", "Enter a whole number."),
        (10001, "Alkalmazottak", "NaN", "Enter a whole number."),
        (PERSON, "Szuletesnap", "2999-01-01", "This date cannot be in the future."),
        (PERSON, "Email", "a@b", "Enter a valid email address."),
    ],
)
def test_values_the_type_refuses_are_shown_next_to_the_field_and_nothing_is_queued(
    user_client: Client, demo: Sandbox, contact_id: int, name: str, value: str, message: str
) -> None:
    response = user_client.post(
        f"/contacts/{contact_id}/change/",
        form_data(contact_form(user_client, contact_id), **{name: value}),
    )

    assert response.status_code == 200
    assert errors_of(field_row(dom(response), name)) == [message]
    assert not Write.objects.exists()


def test_a_new_company_with_a_bad_email_is_refused(user_client: Client, doc: Sandbox) -> None:
    form = dom(user_client.get("/contacts/add/?type=Business")).find("form", class_="schema-form")

    response = user_client.post(
        "/contacts/add/?type=Business", form_data(form, Name="Rossz Kft.", Email="not-an-email")
    )

    assert response.status_code == 200
    assert errors_of(field_row(dom(response), "Email")) == ["Enter a valid email address."]
    assert not Write.objects.exists()


def test_a_website_without_a_scheme_is_kept_as_typed(user_client: Client, doc: Sandbox) -> None:
    form = contact_form(user_client, 7505)

    user_client.post("/contacts/7505/change/", form_data(form, Url="www.minicrm.hu"))

    assert Write.objects.get().payload == {"Url": "www.minicrm.hu"}


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ("type=Business", {"Name": "Egyszer Kft."}),
        ("type=Person&business=7505", {"FirstName": "Egyszer", "LastName": "Ede"}),
    ],
)
def test_back_and_save_again_adds_the_contact_once(
    user_client: Client, doc: Sandbox, query: str, fields: dict[str, str]
) -> None:
    form = dom(user_client.get(f"/contacts/add/?{query}")).find("form", class_="schema-form")
    data = form_data(form, **fields)

    first = user_client.post(f"/contacts/add/?{query}", data)
    second = user_client.post(f"/contacts/add/?{query}", data)

    assert Write.objects.count() == 1
    assert second.status_code == 302
    assert second["Location"] == first["Location"]
    created = send(Write.objects.get()).target_id
    third = user_client.post(f"/contacts/add/?{query}", data)
    assert third["Location"] == f"/contacts/{created}/"
    assert Write.objects.count() == 1


def test_an_odd_value_minicrm_holds_does_not_block_saving_another_field(
    user_client: Client, doc: Sandbox
) -> None:
    # MiniCRM kept what an older tool wrote; the form checks only what the user changes.
    answer = doc.put(
        "/Api/R3/Contact/",
        json={"Type": "Business", "Name": f"Régi {uuid.uuid4().hex[:6]}", "Email": "régi cím"},
    )
    contact_id = int(answer.json()["Id"])
    form = contact_form(user_client, contact_id)

    response = user_client.post(
        f"/contacts/{contact_id}/change/", form_data(form, Description="Új megjegyzés")
    )

    assert response.status_code == 302
    assert Write.objects.get().payload == {"Description": "Új megjegyzés"}
    response = user_client.post(
        f"/contacts/{contact_id}/change/", form_data(form, Email="még mindig rossz")
    )
    assert errors_of(field_row(dom(response), "Email")) == ["Enter a valid email address."]


# -- search with punctuation ------------------------------------------------------------------


@pytest.mark.parametrize(
    "query", ["Leskó-", "*Leskó*", "%Leskó", "Leskó\\", "<Leskó>", '"Leskó"', "'Leskó'"]
)
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_search_with_punctuation_searches_the_words(
    user_client: Client, doc: Sandbox, query: str, htmx: bool
) -> None:
    response = user_client.get("/contacts/", {"q": query}, headers=HTMX if htmx else {})

    assert response.status_code == 200
    assert result_ids(response) == sandbox_ids(doc, "Contact", Query="Leskó")


@pytest.mark.parametrize("query", ["-", "*", "%", "\\", "<", '"', "'", "- * %"])
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_search_of_punctuation_alone_is_an_empty_search_with_a_hint(
    user_client: Client, doc: Sandbox, query: str, htmx: bool
) -> None:
    doc.delete("/_sandbox/requests")

    response = user_client.get("/contacts/", {"q": query}, headers=HTMX if htmx else {})

    assert response.status_code == 200
    results = dom(response).by_id("contact-results")
    assert results.find("p", class_="errornote").text == (
        "Type letters or digits: punctuation alone finds nothing."
    )
    searches = [r for r in doc.get("/_sandbox/requests").json() if r["path"] == "/Api/R3/Contact"]
    assert searches == []


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_a_search_minicrm_refuses_is_said_as_such(
    user_client: Client, doc: Sandbox, htmx: bool
) -> None:
    # A letter to Python that MiniCRM's (the sandbox's) word folding drops: it answers 400.
    query = "\N{GREEK YPOGEGRAMMENI}"

    response = user_client.get("/contacts/", {"q": query}, headers=HTMX if htmx else {})

    assert response.status_code == 200
    assert dom(response).by_id("contact-results").find("p", class_="errornote").text == (
        f"MiniCRM could not search for “{query}”: Invalid value '' for the Query parameter."
    )


# -- edit conflicts -------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_contact_edit_conflict_shows_minicrm_s_value_and_saving_again_keeps_mine(
    user_client: Client, doc: Sandbox, settings: Settings
) -> None:
    name = f"Ütköző {uuid.uuid4().hex[:8]} Kft."
    created = doc.put("/Api/R3/Contact", json={"Type": "Business", "Name": name, "Phone": "1"})
    contact_id = int(created.json()["Id"])
    path = f"/contacts/{contact_id}/change/"
    form = dom(user_client.get(path)).find("form", class_="schema-form")
    assert doc.put(f"/Api/R3/Contact/{contact_id}", json={"Phone": "2222"}).status_code == 200
    settings.WRITE_WAIT_SECONDS = 10

    sender = BackgroundSender()
    sender.start()
    response = user_client.post(path, form_data(form, Phone="3333"))
    sender.join()

    page = dom(response)
    assert "MiniCRM now has “2222”; yours is “3333”." in page.by_id("conflict").text
    # The conflict showed the mirror's copy is out of date: the contact page says it is being
    # read again (the sync does it), and "Refresh from MiniCRM" reads it at once.
    contact_page = dom(user_client.get(f"/contacts/{contact_id}/"))
    assert "refreshing…" in contact_page.by_id("contact-freshness").text
    refresh = contact_page.by_id("contact-refresh")
    user_client.post(refresh.attrs["action"], form_data(refresh))
    assert "2222" in dom(user_client.get(f"/contacts/{contact_id}/")).by_id("content").text
    sender = BackgroundSender()
    sender.start()
    response = user_client.post(path, form_data(page.find("form", class_="schema-form")))
    sender.join()

    assert response.status_code == 302
    assert doc.get(f"/Api/R3/Contact/{contact_id}").json()["Phone"] == "3333"


# -- a slow MiniCRM -------------------------------------------------------------------------

COMPANY = 7505  # Leskó Norbert's company in the doc seed


@pytest.fixture(scope="module")
def slow_sandbox(module_sandbox_factory: SandboxStarter) -> Sandbox:
    return module_sandbox_factory("doc")


@pytest.fixture
def slow(settings: Settings, slow_sandbox: Sandbox, redis_url: str) -> Iterator[Sandbox]:
    try:
        yield from faulty_console(settings, slow_sandbox, redis_url)
    finally:
        wait_idle()  # reads still running after a page answered fill this test's cache only


def card_groups(response) -> dict[str, list[str]]:
    """The company page's cards: module heading -> the cards listed under it."""
    groups: dict[str, list[str]] = {}
    heading = ""
    for node in dom(response).by_id("contact-cards").children:
        if isinstance(node, str):
            continue
        if node.tag == "h3":
            heading = node.text
            groups[heading] = []
        elif node.tag == "ul" and heading:
            groups[heading] += [a.text for a in node.find_all("a")]
    return groups


def test_a_slow_minicrm_s_answers_for_a_company_page_come_side_by_side(
    user_client: Client, slow: Sandbox
) -> None:
    settings = django_settings
    expected = card_groups(user_client.get(f"/contacts/{COMPANY}/"))
    assert len(expected) >= 2  # cards in several modules
    modules = len(slow.get("/Api/R3/Category").json())
    redis.Redis.from_url(settings.REDIS_URL).flushdb()  # nothing cached: every read goes out
    # One request after another (contact, modules, schema, persons and a search per module)
    # would take longer than the page's bound of 8 s.
    latency = 1.0
    assert (4 + modules) * latency > settings.PAGE_MINICRM_BUDGET_SECONDS
    set_faults(slow, latency=latency)
    slow.delete("/_sandbox/requests")

    response = user_client.get(f"/contacts/{COMPANY}/")

    assert response.status_code == 200
    assert not dom(response).has(id="page-late")
    # The searches of the modules went out side by side: in one wave (two with more modules
    # than threads), not one after another (a wave per module).
    times = sorted(
        r["t"] for r in slow.get("/_sandbox/requests").json() if r["path"] == "/Api/R3/Project"
    )
    assert len(times) == modules
    waves = 1 + sum(1 for a, b in itertools.pairwise(times) if b - a > latency / 2)
    assert waves <= 2
    assert card_groups(response) == expected
    assert dom(response).by_id("company-people").find("a").text == "Leskó Norbert"


def test_a_page_answers_at_its_bound_with_what_it_has_and_says_what_is_missing(
    user_client: Client, slow: Sandbox, settings: Settings
) -> None:
    user_client.get(f"/contacts/{COMPANY}/")  # the company, its fields and the modules: cached
    forget_kind("contact-people")
    forget_kind("contact-cards")
    settings.PAGE_MINICRM_BUDGET_SECONDS = 1
    set_faults(slow, latency=3)

    response = user_client.get(f"/contacts/{COMPANY}/")

    assert response.status_code == 200
    page = dom(response)
    note = page.by_id("page-late").text
    assert note.startswith(
        "Some of this page could not be loaded from MiniCRM in time: the company's persons, "
        "cards in "
    )
    assert "Reload the page to try again." in note
    assert card_groups(response) == {}


def test_a_page_whose_record_does_not_arrive_in_time_says_minicrm_is_slow(
    user_client: Client, slow: Sandbox, settings: Settings
) -> None:
    settings.PAGE_MINICRM_BUDGET_SECONDS = 1
    set_faults(slow, latency=3)

    response = user_client.get(f"/contacts/{COMPANY}/")

    assert response.status_code == 503
    assert "MiniCRM is answering too slowly right now" in dom(response).by_id("content").text


# -- how fresh, and "Refresh from MiniCRM" --------------------------------------------------------


def mirror_filled(settings: Settings) -> None:
    """The mirror filled by the sync (lists and details), as after `make run`."""
    settings.MINICRM_RATE_LIMIT = 100_000
    assert sync_run(until_caught_up=True).caught_up
    modules_all()  # the navigation's modules, as any page before has read them


def refresh(client: Client, contact_id: int, **kwargs):
    """Press the page's "Refresh from MiniCRM" button."""
    form = dom(client.get(f"/contacts/{contact_id}/")).by_id("contact-refresh")
    assert form.attrs["method"] == "post"
    return client.post(form.attrs["action"], form_data(form), **kwargs)


def new_company(sandbox: Sandbox, **values: object) -> int:
    name = f"Frissülő {uuid.uuid4().hex[:8]} Kft."
    answer = sandbox.put("/Api/R3/Contact/", json={"Type": "Business", "Name": name, **values})
    assert answer.status_code == 200, answer.text
    return int(answer.json()["Id"])


def test_the_contact_page_says_how_fresh_it_is_and_offers_a_refresh(
    user_client: Client, doc: Sandbox
) -> None:
    page = dom(user_client.get("/contacts/7505/"))

    assert freshness_said(page.by_id("contact-freshness").text) == (0, False)
    form = page.by_id("contact-refresh")
    assert (form.attrs["method"], form.attrs["action"]) == ("post", "/contacts/7505/refresh/")
    assert form.has("input", name="csrfmiddlewaretoken")
    assert form.find("button").text == "Refresh from MiniCRM"


def test_refresh_reads_the_contact_its_persons_and_its_cards_again(
    user_client: Client, doc: Sandbox, settings: Settings
) -> None:
    company = new_company(doc, Phone="1111")
    leaving = doc.put(
        "/Api/R3/Contact/",
        json={"Type": "Person", "FirstName": "Távozó", "LastName": "Tamás", "BusinessId": company},
    ).json()["Id"]
    mirror_filled(settings)
    before = dom(user_client.get(f"/contacts/{company}/"))
    assert before.by_id("company-people").links() == {f"/contacts/{leaving}/": "Tamás Távozó"}
    # Changed in MiniCRM behind the console's back (no webhook, no poll yet).
    doc.put(f"/Api/R3/Contact/{company}", json={"Phone": "2222"})
    doc.put(f"/Api/R3/Contact/{leaving}", json={"BusinessId": 7505})
    joined = doc.put(
        "/Api/R3/Contact/",
        json={"Type": "Person", "FirstName": "Érkező", "LastName": "Éva", "BusinessId": company},
    ).json()["Id"]
    card = doc.put(  # the card's company is its contact's
        "/Api/R3/Project/", json={"CategoryId": 10, "Name": "Új üzlet", "ContactId": joined}
    ).json()["Id"]
    stale = dom(user_client.get(f"/contacts/{company}/"))
    assert "2222" not in stale.by_id("content").text  # the mirror's copy, until refreshed

    response = refresh(user_client, company)

    assert response.status_code == 302
    assert response["Location"] == f"/contacts/{company}/"
    after = user_client.get(response["Location"])
    assert messages_of(after) == ["Refreshed from MiniCRM."]
    page = dom(after)
    assert "2222" in page.find("table", class_="fields").text
    assert page.by_id("company-people").links() == {f"/contacts/{joined}/": "Éva Érkező"}
    assert cards_by_module(after) == {"Értékesítés": [card]}
    assert MirrorContact.objects.get(pk=leaving).business_id == 7505


def test_refresh_when_minicrm_is_away_says_so_and_the_page_still_shows(
    user_client: Client, doc: Sandbox, settings: Settings
) -> None:
    mirror_filled(settings)
    user_client.get("/contacts/7505/")
    settings.MINICRM_BASE_URL = f"http://127.0.0.1:{free_port()}"
    settings.MINICRM_MAX_RETRIES = 0

    response = refresh(user_client, 7505, follow=True)

    assert response.status_code == 200
    assert response.redirect_chain == [("/contacts/7505/", 302)]
    assert messages_of(response) == [
        "The contact could not be refreshed from MiniCRM: MiniCRM cannot be reached."
    ]
    assert dom(response).find("h1").text.startswith("MiniCRM Zrt.")


def test_refresh_of_a_contact_minicrm_no_longer_has(user_client: Client, doc: Sandbox) -> None:
    person = doc.put(
        "/Api/R3/Contact/", json={"Type": "Person", "FirstName": "Eltűnő", "LastName": "Elek"}
    ).json()["Id"]
    refresh_form = dom(user_client.get(f"/contacts/{person}/")).by_id("contact-refresh")
    assert doc.get(f"/Api/R3/PurgePerson/{person}").status_code == 200

    response = user_client.post(refresh_form.attrs["action"], form_data(refresh_form), follow=True)

    assert response.redirect_chain == [("/contacts/", 302)]
    assert messages_of(response) == ["MiniCRM has no such contact (any more)."]
    assert user_client.get(f"/contacts/{person}/").status_code == 404


def test_refresh_is_post_only(user_client: Client, doc: Sandbox) -> None:
    assert user_client.get("/contacts/7505/refresh/").status_code == 405
