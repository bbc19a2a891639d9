"""The header's search box: cards of every module and all contacts, grouped, from the mirror,
as a page and as the drop-down while typing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings as django_settings
from django.test import Client
from pytest_django.fixtures import Settings

from tests.conftest import Sandbox, SandboxStarter
from tests.viewsupport import dom, minicrm_away, mirror_console, mirror_fill

pytestmark = pytest.mark.django_db

DROPDOWN = {"HX-Request": "true", "HX-Target": "global-search-results"}


@pytest.fixture(scope="module")
def search_sandbox(module_sandbox_factory: SandboxStarter) -> Sandbox:
    sandbox = module_sandbox_factory("doc")
    for name, category in (("Őszi kampány Kovácséknak", 10), ("Kovács partnerség", 3)):
        answer = sandbox.put("/Api/R3/Project/", json={"CategoryId": category, "Name": name})
        assert answer.status_code == 200, answer.text
    return sandbox


@pytest.fixture
def console(settings: Settings, search_sandbox: Sandbox, redis_url: str) -> Iterator[Sandbox]:
    yield from mirror_console(settings, search_sandbox, redis_url)


def fill(settings: Settings) -> None:
    mirror_fill()
    minicrm_away(settings)


def groups(response) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for section in dom(response).find_all("section", class_="search-group"):
        title = section.find("h2").find("a").text
        found[title] = [a.text for a in section.find("ul").find_all("a")]
    return found


def test_search_finds_cards_of_every_module_and_contacts_grouped(
    user_client: Client, console: Sandbox, settings: Settings
) -> None:
    fill(settings)

    response = user_client.get("/search/", {"q": "kovacs"})  # no accents typed

    assert response.status_code == 200
    found = groups(response)
    assert found["Értékesítés"] == ["Őszi kampány Kovácséknak"]
    assert found["Partnerek"] == ["Kovács partnerség"]
    page = dom(response)
    assert page.by_id("global-search-q").attrs["value"] == "kovacs"  # the box keeps it
    assert not page.has(id="search-not-searched")


def test_every_word_must_begin_a_word(
    user_client: Client, console: Sandbox, settings: Settings
) -> None:
    fill(settings)

    assert groups(user_client.get("/search/", {"q": "osz kamp"})) == {
        "Értékesítés": ["Őszi kampány Kovácséknak"]
    }
    assert groups(user_client.get("/search/", {"q": "ampány"})) == {}
    nothing = dom(user_client.get("/search/", {"q": "ampány"}))
    assert nothing.by_id("search-nothing").text == "Nothing found for “ampány”."


def test_contacts_are_found_by_phone_and_by_name(
    user_client: Client, console: Sandbox, settings: Settings
) -> None:
    fill(settings)

    by_phone = groups(user_client.get("/search/", {"q": "06 (20) 236 7532"}))
    by_name = groups(user_client.get("/search/", {"q": "leskó"}))

    assert by_phone == {"Persons": ["Leskó Norbert"]}
    assert by_name["Persons"] == ["Leskó Norbert"]


def test_the_drop_down_while_typing_is_the_results_alone(
    user_client: Client, console: Sandbox, settings: Settings
) -> None:
    fill(settings)

    typed = user_client.get("/search/", {"q": "kov"}, headers=DROPDOWN)
    emptied = user_client.get("/search/", {"q": ""}, headers=DROPDOWN)

    assert typed.status_code == 200 and not dom(typed).has("html")
    assert "Őszi kampány Kovácséknak" in dom(typed).text
    assert emptied.status_code == 200 and emptied.content == b""
    header = dom(user_client.get("/")).by_id("global-search")
    assert header.attrs["hx-target"] == "#global-search-results"


def test_before_the_mirror_holds_the_modules_only_contacts_are_searched_and_it_says_so(
    user_client: Client, console: Sandbox, settings: Settings
) -> None:
    response = user_client.get("/search/", {"q": "leskó"})

    assert groups(response) == {"Persons": ["Leskó Norbert"]}  # MiniCRM's contact search
    assert "Értékesítés" in dom(response).by_id("search-not-searched").text


def test_punctuation_alone_and_an_overlong_query_are_answered_calmly(
    user_client: Client, console: Sandbox, settings: Settings
) -> None:
    fill(settings)

    assert user_client.get("/search/", {"q": "!!!"}).status_code == 200
    assert user_client.get("/search/", {"q": "x" * 10_000}).status_code == 200


def test_search_in_hungarian(user_client: Client, console: Sandbox, settings: Settings) -> None:
    fill(settings)
    user_client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "hu"

    response = user_client.get("/search/", {"q": "kovacs"})

    assert "Értékesítés" in groups(response)
    assert dom(response).find("h1").text == "Keresés: „kovacs”"


# -- contact pickers -------------------------------------------------------------------------------


def test_a_contact_picker_offers_the_mirror_s_contacts_by_name_and_by_id(
    user_client: Client, console: Sandbox, settings: Settings
) -> None:
    fill(settings)

    def offered(**params: str) -> list[tuple[str, str]]:
        response = user_client.get("/search/contacts/", params, headers={"HX-Request": "true"})
        assert response.status_code == 200
        return [(o.attrs["value"], o.text) for o in dom(response).find_all("option")]

    assert ("7506", "Leskó Norbert") in [
        (v, t.split(" — ")[0]) for v, t in offered(ContactId="lesko")
    ]
    assert [v for v, _t in offered(customer="7506")] == ["7506"]
    assert [v for v, _t in offered(BusinessId="minicrm", kind="Business")] == ["7505"]
    assert [v for v, _t in offered(BusinessId="lesko", kind="Business")] == []  # a person
    assert offered(ContactId="") == [] and offered(ContactId="\x00" * 3) == []


def test_a_contact_picker_offers_nothing_before_the_mirror_holds_the_contacts(
    user_client: Client, console: Sandbox
) -> None:
    response = user_client.get("/search/contacts/", {"ContactId": "lesko"})

    assert response.status_code == 200 and not dom(response).find_all("option")


def test_forms_pick_contacts_with_the_picker(user_client: Client, console: Sandbox) -> None:
    card_form = dom(user_client.get("/cards/2056/change/")).find("form", class_="schema-form")
    contact = card_form.find("input", name="ContactId")
    assert contact.attrs["hx-get"] == "/search/contacts/"
    assert card_form.by_id(contact.attrs["list"]).tag == "datalist"
    order_form = dom(user_client.get("/orders/add/"))
    assert order_form.find("input", name="customer").attrs["list"] == "picker-customer"
