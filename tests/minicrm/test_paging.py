"""Search pages (count, page, has_next) and search_all iterating lazily over every page."""

from __future__ import annotations

from itertools import islice
from typing import Any

from minicrm import MiniCRMClient
from tests.conftest import Sandbox

PROJECT_SEARCH = "/Api/R3/Project"
OPEN_STATUSES_20 = {"Igényfelmérés", "Ajánlat kiküldve", "Tárgyalás"}  # demo category 20


def search_requests(sandbox: Sandbox) -> list[dict[str, Any]]:
    answer = sandbox.get("/_sandbox/requests")
    assert answer.status_code == 200, answer.text
    return [r for r in answer.json() if r["path"].rstrip("/") == PROJECT_SEARCH]


def test_a_page_knows_its_count_number_and_whether_more_follow(
    demo_client: MiniCRMClient,
) -> None:
    first = demo_client.projects.search(category_id=20)
    assert (first.count, first.page, len(first), first.pages) == (1000, 0, 100, 10)
    assert first.has_next
    second = demo_client.projects.search(category_id=20, page=1)
    assert (second.page, len(second), second.has_next) == (1, 100, True)
    assert not {row.id for row in first} & {row.id for row in second}
    last = demo_client.projects.search(category_id=20, page=9)
    assert (last.page, len(last), last.has_next, last.count) == (9, 100, False, 1000)
    beyond = demo_client.projects.search(category_id=20, page=10)
    assert (len(beyond), beyond.has_next, beyond.count) == (0, False, 1000)


def test_a_short_result_is_one_page(doc_client: MiniCRMClient) -> None:
    page = doc_client.projects.search(category_id=3)
    assert page.count == len(page) >= 2
    assert page.page == 0
    assert not page.has_next
    assert page.pages == 1
    empty = doc_client.contacts.search(email="senki@sehol.example")
    assert (empty.count, len(empty), empty.has_next, list(empty)) == (0, 0, False, [])


def test_search_all_yields_every_card_once(demo_client: MiniCRMClient) -> None:
    count = demo_client.projects.search(category_id=20).count
    cards = list(demo_client.projects.search_all(category_id=20))
    assert len(cards) == count == 1000
    assert len({card.id for card in cards}) == count
    other = {card.id for card in demo_client.projects.search(category_id=21)}
    assert not other & {card.id for card in cards}


def test_search_all_keeps_the_filters_on_every_page(demo_client: MiniCRMClient) -> None:
    first = demo_client.projects.search(category_id=20, status_group="Open")
    assert first.count > 100  # more than one page
    cards = list(demo_client.projects.search_all(category_id=20, status_group="Open"))
    assert len(cards) == first.count
    assert len({card.id for card in cards}) == first.count
    statuses = demo_client.schemas.project(20).fields["StatusId"].choices
    open_ids = {k for k, v in statuses.items() if v in OPEN_STATUSES_20}
    assert len(open_ids) == 3
    assert {card.status.id for card in cards} <= open_ids


def test_contact_search_all_over_every_page(demo_client: MiniCRMClient) -> None:
    first = demo_client.contacts.search()
    assert first.count >= 2500 and first.has_next
    contacts = list(demo_client.contacts.search_all())
    assert len(contacts) == first.count
    assert len({contact.id for contact in contacts}) == first.count
    assert {contact.type for contact in contacts} == {"Person", "Business"}


def test_search_all_fetches_pages_only_as_they_are_used(
    private_demo: Sandbox, logged_client: MiniCRMClient
) -> None:
    cards = logged_client.projects.search_all(category_id=20)
    assert search_requests(private_demo) == []  # nothing is fetched before iterating
    taken = list(islice(cards, 150))
    assert len({card.id for card in taken}) == 150
    made = search_requests(private_demo)
    assert len(made) == 2
    assert all(r["method"] == "GET" and r["status"] == 200 for r in made)
    list(islice(cards, 50))  # up to item 200: still the second page
    assert len(search_requests(private_demo)) == 2
    next(cards)  # item 201 needs the third page
    assert len(search_requests(private_demo)) == 3


def test_search_all_requests_each_page_once(
    private_demo: Sandbox, logged_client: MiniCRMClient
) -> None:
    cards = list(logged_client.projects.search_all(category_id=21))
    assert len(cards) == 1000
    assert len(search_requests(private_demo)) == 10
