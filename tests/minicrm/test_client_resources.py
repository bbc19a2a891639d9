"""Every endpoint method of every resource, called through MiniCRMClient against the sandbox.

The shared doc sandbox is only read where seeded records are involved; tests that write make
their own contacts, cards, to-dos and orders (unique names), and order 44's workflow runs on a
private sandbox.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
import redis

from minicrm import BadRequest, MethodNotAllowed, MiniCRMClient, NotFound
from minicrm.types import Order
from tests.conftest import Sandbox, SandboxStarter
from tests.minicrm.conftest import make_client

CENT = Decimal("0.01")
LEAD_STATUSES = {2620, 2876, 2520, 11684, 2540}  # the doc seed's statuses in the Lead group


def unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:10]}"


def ids(rows: Any) -> set[int]:
    return {row.id for row in rows}


def new_company(client: MiniCRMClient) -> int:
    return client.contacts.create({"Type": "Business", "Name": unique("Teszt Kft.")})


def new_person(client: MiniCRMClient, **fields: Any) -> int:
    data = {"Type": "Person", "FirstName": "Teszt", "LastName": unique("Elek"), **fields}
    return client.contacts.create(data)


def new_card(client: MiniCRMClient, **fields: Any) -> int:
    data = {"CategoryId": 10, "Name": unique("Teszt kártya"), "ContactId": 7461, **fields}
    return client.projects.create(data)


# -- categories -----------------------------------------------------------------------------------


def test_categories_come_in_module_order_with_names_and_types(doc_client: MiniCRMClient) -> None:
    categories = doc_client.categories.list()
    assert [(c.id, c.name, c.order, c.type) for c in categories] == [
        (10, "Értékesítés", 1, "Generic"),
        (5, "Ügyfélszolgálat", 2, "HelpDesk"),
        (6, "Projektek", 3, "Generic"),
        (7, "Megrendelés", 4, "Generic"),
        (8, "Webshop", 5, "Generic"),
        (9, "Számlázó", 6, "Generic"),
        (3, "Partnerek", 7, "Generic"),
    ]


def test_demo_categories_list_every_module(demo_client: MiniCRMClient) -> None:
    categories = demo_client.categories.list()
    assert [c.id for c in categories] == [20, 21, 22, 23, 24, 25, 26]
    assert [c.order for c in categories] == [1, 2, 3, 4, 5, 6, 7]
    assert {c.id: c.type for c in categories}[21] == "HelpDesk"
    assert categories[0].name == "Értékesítés"


# -- contacts -------------------------------------------------------------------------------------


def test_contact_search_by_email(doc_client: MiniCRMClient) -> None:
    page = doc_client.contacts.search(email="norbert@minicrm.hu")
    assert page.count == 1
    [row] = page.items
    assert (row.id, row.name, row.type) == (7506, "Leskó Norbert", "Person")
    assert row.business_id == 7505
    assert row.phone == "06 (20) 236 7532"
    assert row.url.endswith("/Api/R3/Contact/7506")


def test_contact_search_by_word_ignores_accents(doc_client: MiniCRMClient) -> None:
    plain = ids(doc_client.contacts.search(query="lesko"))
    accented = ids(doc_client.contacts.search(query="Leskó"))
    assert 7506 in plain
    assert plain == accented
    assert not plain & {7505, 7507, 7453, 7461, 225}
    pelda = ids(doc_client.contacts.search(query="pelda"))
    assert {7453, 7461} <= pelda
    assert not pelda & {7505, 7506, 7507, 225}


def test_contact_search_by_phone_suffix(doc_client: MiniCRMClient) -> None:
    # "367532" is not a word of any contact: only the phone number's tail can match it.
    found = ids(doc_client.contacts.search(query="367532"))
    assert 7506 in found
    assert not found & {7505, 7507, 7453, 7461, 225}


def test_contact_search_updated_since(doc_client: MiniCRMClient) -> None:
    since = datetime.now() - timedelta(minutes=1)
    fresh = new_person(doc_client)
    found = ids(doc_client.contacts.search(updated_since=since))
    assert fresh in found
    assert not found & {7505, 7506, 7507, 7453, 7461, 225}  # seeded in 2018
    as_text = ids(doc_client.contacts.search(updated_since="2018-02-14 14:10:06"))
    assert {7505, 7506, 7507} <= as_text


def test_contact_search_by_main_contact(doc_client: MiniCRMClient) -> None:
    page = doc_client.contacts.search(main_contact_id=7505)
    found = ids(page)
    assert {7505, 7506, 7507} <= found
    assert not found & {7453, 7461, 225}
    assert all(row.id == 7505 or row.business_id == 7505 for row in page)


def test_contact_search_by_schema_field(doc_client: MiniCRMClient) -> None:
    by_label = ids(doc_client.contacts.search(KedvencEtele="Alma"))
    assert 7506 in by_label
    assert not by_label & {7507, 7461, 7505}
    assert ids(doc_client.contacts.search(KedvencEtele="2001")) == by_label
    assert 7506 not in ids(doc_client.contacts.search(KedvencEtele="Sajt"))


def test_contact_get_parses_localized_type(doc_client: MiniCRMClient) -> None:
    person = doc_client.contacts.get(7506)
    assert person.fields["Type"] == "Személy"  # what the API sent
    assert person.type == "Person"
    assert person.is_person
    assert (person.first_name, person.last_name, person.name) == (
        "Norbert",
        "Leskó",
        "Leskó Norbert",
    )
    assert person.business_id == 7505
    assert person.email == "norbert@minicrm.hu"
    assert person.created_at == datetime(2018, 2, 14, 14, 10, 7)
    assert person.fields["KedvencEtele"] == "Alma"
    company = doc_client.contacts.get(7505)
    assert company.fields["Type"] == "Cég"
    assert company.type == "Business"
    assert not company.is_person
    assert company.name == "MiniCRM Zrt."


def test_contact_create_business_and_person(doc_client: MiniCRMClient) -> None:
    name = unique("Gyártó Kft.")
    company_id = doc_client.contacts.create(
        {"Type": "Business", "Name": name, "Email": "info@gyarto.example"}
    )
    person_id = doc_client.contacts.create(
        {
            "Type": "Person",
            "FirstName": "Anna",
            "LastName": "Próba",
            "BusinessId": company_id,
            "KedvencEtele": "Sajt",
        }
    )
    assert isinstance(company_id, int) and isinstance(person_id, int)
    assert company_id != person_id
    company = doc_client.contacts.get(company_id)
    assert (company.type, company.name, company.email) == ("Business", name, "info@gyarto.example")
    person = doc_client.contacts.get(person_id)
    assert (person.type, person.name, person.business_id) == ("Person", "Próba Anna", company_id)
    assert person.fields["KedvencEtele"] == "Sajt"
    assert ids(doc_client.contacts.search(main_contact_id=company_id)) == {company_id, person_id}


def test_contact_update_changes_land(doc_client: MiniCRMClient) -> None:
    person_id = new_person(doc_client, Email="regi@example.com")
    before = doc_client.contacts.get(person_id)
    answer = doc_client.contacts.update(
        person_id, {"Email": "uj@example.com", "Phone": "+36 30 111 2233", "KedvencEtele": 2004}
    )
    assert answer == person_id
    after = doc_client.contacts.get(person_id)
    assert after.email == "uj@example.com"
    assert after.phone == "+36 30 111 2233"
    assert after.fields["KedvencEtele"] == "Kolbász"
    assert after.last_name == before.last_name  # fields not sent stay as they were
    assert [row.id for row in doc_client.contacts.search(email="uj@example.com")] == [person_id]


def test_contact_purge_refused_for_a_main_contact(doc_client: MiniCRMClient) -> None:
    with pytest.raises(BadRequest) as caught:
        doc_client.contacts.purge(7506)
    assert caught.value.message == "The person is marked as the main contact on one or more cards."
    assert caught.value.status == 400
    assert doc_client.contacts.get(7506).name == "Leskó Norbert"  # still there


def test_contact_purge_deletes_a_fresh_person(doc_client: MiniCRMClient) -> None:
    email = f"{uuid.uuid4().hex[:12]}@purge.example"
    person_id = new_person(doc_client, Email=email)
    assert doc_client.contacts.get(person_id).email == email
    doc_client.contacts.purge(person_id)
    with pytest.raises(NotFound):
        doc_client.contacts.get(person_id)
    assert doc_client.contacts.search(email=email).count == 0


# -- projects (cards) -----------------------------------------------------------------------------


def test_project_search_by_category(doc_client: MiniCRMClient) -> None:
    page = doc_client.projects.search(category_id=10)
    found = ids(page)
    assert {2001, 2056, 29592} <= found
    assert not found & {2009, 2054, 2055, 206}  # other modules
    assert page.count == len(page.items)
    row = next(r for r in page if r.id == 2056)
    assert (row.name, row.contact_id, row.business_id) == (
        "MiniCRM Zrt. (Leskó Norbert)",
        7506,
        7505,
    )


def test_project_search_by_main_contact(doc_client: MiniCRMClient) -> None:
    found = ids(doc_client.projects.search(main_contact_id=7505))
    assert {2054, 2055, 2056} <= found
    assert not found & {2001, 2009, 29592, 206}


def test_project_search_by_status_id(doc_client: MiniCRMClient) -> None:
    page = doc_client.projects.search(status_id=2622)
    assert 2056 in ids(page)
    assert {row.status.id for row in page} == {2622}


def test_project_search_by_status_group(doc_client: MiniCRMClient) -> None:
    page = doc_client.projects.search(status_group="Lead")
    found = ids(page)
    assert {2009, 29592} <= found
    assert not found & {2056, 2001, 2054}
    assert {row.status.id for row in page} <= LEAD_STATUSES


def test_project_search_by_user(doc_client: MiniCRMClient) -> None:
    page = doc_client.projects.search(user_id=53986)
    assert 29592 in ids(page)
    assert {row.user.id for row in page} == {53986}
    assert ids(doc_client.projects.search(user_id="Tóth Gábor")) == ids(page)


def test_project_get_names_status_and_user_and_keeps_custom_fields(
    doc_client: MiniCRMClient,
) -> None:
    card = doc_client.projects.get(2056)
    assert (card.id, card.category_id, card.contact_id, card.business_id) == (2056, 10, 7506, 7505)
    assert card.status.name == "Feldolgozásra vár"
    assert card.status.id is None
    assert card.user.name == "Leskó Norbert"
    assert card.created_at == datetime(2018, 2, 14, 14, 12, 31)
    assert card.status_updated_at == datetime(2018, 2, 14, 14, 12, 41)
    assert card.fields["AutoSalesV3_Qualification"] == "VIP"
    assert card.custom_fields["VarhatoArbevetel"] == 1000000
    assert set(card.custom_fields) == {
        "AutoSalesV3_Qualification",
        "AutoSalesV3_IsHot",
        "AutoSalesV3_SalesStatus",
        "AutoSalesV3_LeadStep",
        "AutoSalesV3_CustomerStep",
        "DontesiSzempont",
        "HolTalaltRank",
        "VarhatoArbevetel",
        "KovetkezoHivasIdpontja",
        "VarhatoLezarasDatuma",
        "Szerzodes",
    }


def test_project_create(doc_client: MiniCRMClient) -> None:
    name = unique("Új érdeklődő")
    card_id = doc_client.projects.create(
        {"CategoryId": 10, "Name": name, "ContactId": 7461, "HolTalaltRank": "Ajánlás"}
    )
    card = doc_client.projects.get(card_id)
    assert (card.name, card.category_id, card.contact_id) == (name, 10, 7461)
    assert card.business_id == 7453  # the person's company
    assert card.status.name == "Érdeklődő"  # the module's first status
    assert card.fields["HolTalaltRank"] == "Ajánlás"
    assert card_id in ids(doc_client.projects.search(category_id=10, main_contact_id=7453))


def test_project_update_dropdowns_by_label(doc_client: MiniCRMClient) -> None:
    card_id = new_card(doc_client)
    answer = doc_client.projects.update(
        card_id,
        {
            "AutoSalesV3_Qualification": "Célcsoport",
            "StatusId": "Ajánlat kiküldve",
            "UserId": "Kovács Anna",
            "VarhatoArbevetel": 250000,
        },
    )
    assert answer == card_id
    card = doc_client.projects.get(card_id)
    assert card.fields["AutoSalesV3_Qualification"] == "Célcsoport"
    assert card.status.name == "Ajánlat kiküldve"
    assert card.user.name == "Kovács Anna"
    assert card.fields["VarhatoArbevetel"] == 250000
    doc_client.projects.update(card_id, {"AutoSalesV3_Qualification": 3105})  # by id
    assert doc_client.projects.get(card_id).fields["AutoSalesV3_Qualification"] == "Hideg"


def test_project_attach_file(doc_client: MiniCRMClient) -> None:
    card_id = new_card(doc_client)
    url = "https://files.example.com/szerzodes-123.pdf"
    assert doc_client.projects.attach_file(card_id, "Szerzodes", url) == card_id
    assert doc_client.projects.get(card_id).fields["Szerzodes"] == url


def test_project_status_change_adds_a_history_entry(doc_client: MiniCRMClient) -> None:
    card_id = new_card(doc_client)
    [created] = doc_client.projects.status_history(card_id)
    assert (created.project_id, created.old_status_id, created.new_status_id) == (
        card_id,
        None,
        2620,
    )
    doc_client.projects.update(card_id, {"StatusId": 2621})
    history = doc_client.projects.status_history(card_id)
    assert len(history) == 2
    last = history[-1]
    assert (last.old_status_id, last.new_status_id) == (2620, 2621)
    assert (last.old_status_name, last.new_status_name) == ("Érdeklődő", "Ajánlat kiküldve")
    assert last.at is not None and last.at >= datetime.now() - timedelta(minutes=5)
    assert last.id != created.id


def test_seeded_status_history(doc_client: MiniCRMClient) -> None:
    [entry] = doc_client.projects.status_history(29592)
    assert (entry.id, entry.new_status_id, entry.new_status_name) == (
        30027,
        2876,
        "Ügyfélminősítés",
    )
    assert entry.at == datetime(2018, 7, 18, 1, 44, 20)


# -- to-dos ---------------------------------------------------------------------------------------


def test_todo_list_open_closed_and_all(doc_client: MiniCRMClient) -> None:
    card_id = new_card(doc_client)
    first = doc_client.todos.create({"ProjectId": card_id, "Comment": "Felhívni"})
    second = doc_client.todos.create({"ProjectId": card_id, "Comment": "Ajánlatot küldeni"})
    doc_client.todos.close(second)
    open_page = doc_client.todos.list(card_id)
    assert ([t.id for t in open_page], open_page.count) == ([first], 1)
    assert open_page.items[0].is_open and open_page.items[0].comment == "Felhívni"
    closed = doc_client.todos.list(card_id, status="Closed")
    assert [(t.id, t.status) for t in closed] == [(second, "Closed")]
    every = doc_client.todos.list(card_id, status="All")
    assert ([t.id for t in every], every.count) == ([first, second], 2)
    with pytest.raises(ValueError):
        doc_client.todos.list(card_id, status="Done")


def test_todo_list_of_seeded_card(doc_client: MiniCRMClient) -> None:
    page = doc_client.todos.list(2001, status="All")
    by_id = {t.id: t for t in page}
    assert {1111, 2222} <= set(by_id)
    assert by_id[2222].deadline == datetime(2013, 1, 22, 23, 59)
    assert (by_id[2222].user_id, by_id[2222].type_id) == (3300, 1566)


def test_todo_get_turns_the_zero_date_into_none(doc_client: MiniCRMClient) -> None:
    todo = doc_client.todos.get(1111)
    assert todo.fields["ClosedAt"] == "0000-00-00 00:00:00"
    assert todo.closed_at is None
    assert (todo.id, todo.project_id, todo.status) == (1111, 2001, "Open")
    assert todo.user.name == "Keszei Csaba"
    assert todo.deadline == datetime(2012, 1, 17, 23, 59)
    assert todo.created_at == datetime(2012, 1, 17, 0, 1, 59)
    assert todo.is_open


def test_todo_create_update_and_close(doc_client: MiniCRMClient) -> None:
    card_id = new_card(doc_client)
    todo_id = doc_client.todos.create(
        {
            "ProjectId": card_id,
            "Comment": "Bemutatót tartani",
            "Deadline": "2030-01-02 10:00:00",
            "UserId": 3300,
            "Type": "Találkozó",
        }
    )
    todo = doc_client.todos.get(todo_id)
    assert (todo.project_id, todo.comment, todo.status) == (card_id, "Bemutatót tartani", "Open")
    assert todo.deadline == datetime(2030, 1, 2, 10, 0)
    assert todo.user.name == "Kovács Anna"
    assert todo.type == "Találkozó"

    assert doc_client.todos.update(todo_id, {"Comment": "Bemutató áttéve", "UserId": 53986}) == (
        todo_id
    )
    changed = doc_client.todos.get(todo_id)
    assert (changed.comment, changed.user.name) == ("Bemutató áttéve", "Tóth Gábor")

    closed_at = datetime(2030, 1, 3, 9, 15)
    assert doc_client.todos.close(todo_id, closed_at=closed_at) == todo_id
    closed = doc_client.todos.get(todo_id)
    assert (closed.status, closed.closed_at, closed.is_open) == ("Closed", closed_at, False)
    with pytest.raises(BadRequest):
        doc_client.todos.update(todo_id, {"Comment": "Túl késő"})
    assert doc_client.todos.get(todo_id).comment == "Bemutató áttéve"


def test_todo_close_without_a_time_sets_one(doc_client: MiniCRMClient) -> None:
    todo_id = doc_client.todos.create({"ProjectId": new_card(doc_client), "Comment": "Zárni"})
    doc_client.todos.close(todo_id)
    closed = doc_client.todos.get(todo_id)
    assert closed.status == "Closed"
    assert closed.closed_at is not None
    assert closed.closed_at >= datetime.now() - timedelta(minutes=5)


def test_todo_create_needs_a_project() -> None:
    client = MiniCRMClient(system_id="1", api_key="k", base_url="http://127.0.0.1:9")
    with pytest.raises(ValueError):
        client.todos.create({"Comment": "Nincs kártya"})  # refused before any request


# -- orders ---------------------------------------------------------------------------------------

THREE_ITEMS: list[dict[str, Any]] = [
    {"Name": "Kábel", "SKU": "K-1", "Unit": "m", "PriceNet": "1234.50", "Quantity": 3, "VAT": 27},
    {"Name": "Router", "PriceNet": "999.99", "Quantity": "2", "VAT": "5%"},
    {"Name": "Szerelés", "PriceNet": 150, "Quantity": "1.5", "VAT": 0},
]


def line_totals(price: Any, quantity: Any, vat: Any) -> tuple[Decimal, Decimal]:
    """Net and VAT of one line, each rounded to the cent as an invoice does."""
    net = (Decimal(str(price)) * Decimal(str(quantity))).quantize(CENT, ROUND_HALF_UP)
    rate = Decimal(str(vat).rstrip("%"))
    return net, (net * rate / 100).quantize(CENT, ROUND_HALF_UP)


def expected_totals(items: list[dict[str, Any]]) -> tuple[Decimal, Decimal, Decimal]:
    lines = [line_totals(i["PriceNet"], i["Quantity"], i["VAT"]) for i in items]
    net = sum((n for n, _ in lines), Decimal(0))
    vat = sum((v for _, v in lines), Decimal(0))
    return net, vat, net + vat


def assert_totals_add_up(order: Order) -> None:
    net = sum((item.price_net_total for item in order.items), Decimal(0))
    vat = sum((item.price_total - item.price_net_total for item in order.items), Decimal(0))
    assert order.amount_net == net
    assert order.amount_vat == vat
    assert order.amount == order.amount_net + order.amount_vat
    for item in order.items:
        line_net, line_vat = line_totals(item.price_net, item.quantity, item.vat_rate)
        assert (item.price_net_total, item.price_total) == (line_net, line_net + line_vat)


@pytest.fixture
def customer(doc_client: MiniCRMClient) -> tuple[int, str]:
    name = unique("Vevő Kft.")
    return doc_client.contacts.create({"Type": "Business", "Name": name}), name


@pytest.fixture
def euro_order(doc_client: MiniCRMClient, customer: tuple[int, str]) -> Order:
    return doc_client.orders.create(
        {
            "CustomerId": customer[0],
            "CurrencyCode": "EUR",
            "Subject": unique("Rendelés"),
            "Items": THREE_ITEMS,
        }
    )


def test_order_create_with_three_items_and_totals(
    doc_client: MiniCRMClient, euro_order: Order, customer: tuple[int, str]
) -> None:
    order = euro_order
    assert order.id > 0 and order.project_id > 0
    assert (order.customer_id, order.status, order.currency) == (customer[0], "Draft", "EUR")
    assert order.customer["Name"] == customer[1]
    assert doc_client.projects.get(order.project_id).contact_id == customer[0]
    assert [item.name for item in order.items] == ["Kábel", "Router", "Szerelés"]
    assert [item.vat_rate for item in order.items] == [Decimal(27), Decimal(5), Decimal(0)]
    assert order.items[0].quantity == Decimal(3) and order.items[2].quantity == Decimal("1.5")
    net, vat, gross = expected_totals(THREE_ITEMS)
    assert (order.amount_net, order.amount_vat, order.amount) == (net, vat, gross)
    assert (net, vat, gross) == (Decimal("5928.48"), Decimal("1099.95"), Decimal("7028.43"))
    assert all(isinstance(x, Decimal) for x in (order.amount_net, order.amount_vat, order.amount))
    assert_totals_add_up(order)


def test_order_get(doc_client: MiniCRMClient, euro_order: Order) -> None:
    assert doc_client.orders.get(euro_order.id) == euro_order
    seeded = doc_client.orders.get(44)
    assert (seeded.id, seeded.project_id, seeded.customer_id, seeded.status) == (
        44,
        206,
        225,
        "Draft",
    )
    [item] = seeded.items
    assert (item.id, item.name, item.price_net, item.quantity) == (
        54,
        "Optikai kábel",
        Decimal("500.00"),
        Decimal("15.00"),
    )
    assert (seeded.amount_net, seeded.amount_vat, seeded.amount) == (
        Decimal(7500),
        Decimal(2025),
        Decimal(9525),
    )
    with pytest.raises(NotFound):
        doc_client.orders.get(999999)


def test_order_modify_subject(
    doc_client: MiniCRMClient, euro_order: Order, customer: tuple[int, str]
) -> None:
    changed = doc_client.orders.modify(
        euro_order.id,
        {"CustomerId": customer[0], "Subject": "Új tárgy", "Performance": "2030-03-01"},
    )
    assert changed.subject == "Új tárgy"
    again = doc_client.orders.get(euro_order.id)
    assert again.subject == "Új tárgy"
    assert again.performance is not None and again.performance.isoformat() == "2030-03-01"
    assert again.items == euro_order.items


def test_order_items_add_edit_delete_recompute_totals(
    doc_client: MiniCRMClient, euro_order: Order, customer: tuple[int, str]
) -> None:
    extra = {"Name": "Tápegység", "PriceNet": "19.90", "Quantity": 4, "VAT": 27}
    added = doc_client.orders.add_items(euro_order.id, customer[0], [extra])
    assert [item.name for item in added.items] == ["Kábel", "Router", "Szerelés", "Tápegység"]
    net, vat, gross = expected_totals([*THREE_ITEMS, extra])
    assert (added.amount_net, added.amount_vat, added.amount) == (net, vat, gross)
    assert_totals_add_up(added)

    router = added.items[1]
    edited = doc_client.orders.edit_item(
        euro_order.id, customer[0], {"Id": router.id, "Quantity": 10}
    )
    new_router = next(item for item in edited.items if item.id == router.id)
    assert new_router.quantity == Decimal(10)
    assert new_router.price_net_total == Decimal("9999.90")
    assert len(edited.items) == 4
    assert edited.amount_net == added.amount_net + Decimal("9999.90") - router.price_net_total
    assert_totals_add_up(edited)
    with pytest.raises(ValueError):
        doc_client.orders.edit_item(euro_order.id, customer[0], {"Quantity": 1})  # no Id

    cable = edited.items[0]
    after_delete = doc_client.orders.delete_item(euro_order.id, cable.id)
    assert cable.id not in [item.id for item in after_delete.items]
    assert after_delete.amount == edited.amount - cable.price_total
    assert_totals_add_up(after_delete)
    assert doc_client.orders.get(euro_order.id) == after_delete


def test_order_set_custom_fields(doc_client: MiniCRMClient, euro_order: Order) -> None:
    changed = doc_client.orders.set_custom_fields(
        euro_order.id, {"SzallitasExtraInfo": "Hátsó kapu, 8-16 óra"}
    )
    assert changed.custom_fields["SzallitasExtraInfo"] == "Hátsó kapu, 8-16 óra"
    assert doc_client.orders.get(euro_order.id).custom_fields["SzallitasExtraInfo"] == (
        "Hátsó kapu, 8-16 óra"
    )
    card = doc_client.projects.get(euro_order.project_id)
    assert card.fields["SzallitasExtraInfo"] == "Hátsó kapu, 8-16 óra"


def test_order_status_workflow(
    doc_client: MiniCRMClient, euro_order: Order, customer: tuple[int, str]
) -> None:
    orders = doc_client.orders
    oid = euro_order.id
    for illegal in (orders.edit, orders.complete, orders.paid, orders.storno):
        with pytest.raises(MethodNotAllowed):
            illegal(oid)
    assert orders.get(oid).status == "Draft"

    finalized = orders.finalize(oid)
    assert finalized.status == "In progress"
    assert finalized.number  # a number is given on finalizing
    with pytest.raises(MethodNotAllowed):
        orders.modify(oid, {"CustomerId": customer[0], "Subject": "Már nem lehet"})
    with pytest.raises(MethodNotAllowed):
        orders.delete_item(oid, euro_order.items[0].id)
    for illegal in (orders.finalize, orders.paid, orders.storno):
        with pytest.raises(MethodNotAllowed):
            illegal(oid)
    assert orders.get(oid).items == euro_order.items

    assert orders.edit(oid).status == "Draft"
    assert orders.finalize(oid).status == "In progress"
    assert orders.complete(oid).status == "Completed"
    for illegal in (orders.finalize, orders.edit, orders.complete):
        with pytest.raises(MethodNotAllowed):
            illegal(oid)
    assert orders.storno(oid).status == "Failed"
    with pytest.raises(MethodNotAllowed):
        orders.storno(oid)
    # custom fields may change in any status
    failed = orders.set_custom_fields(oid, {"DeliveryExtraInfo": "Sztornó"})
    assert failed.custom_fields["DeliveryExtraInfo"] == "Sztornó"
    assert orders.paid(oid).status == "Paid"
    for illegal in (orders.finalize, orders.edit, orders.complete, orders.paid, orders.storno):
        with pytest.raises(MethodNotAllowed):
            illegal(oid)
    assert orders.get(oid).status == "Paid"


def test_completed_order_can_be_paid_directly(
    doc_client: MiniCRMClient, customer: tuple[int, str]
) -> None:
    order = doc_client.orders.create({"CustomerId": customer[0], "Items": [THREE_ITEMS[0]]})
    assert order.currency == "HUF"
    doc_client.orders.finalize(order.id)
    doc_client.orders.complete(order.id)
    paid = doc_client.orders.paid(order.id)
    assert paid.status == "Paid"
    # HUF totals are whole forints (3703.50 -> 3704, 999.95 -> 1000) that add up.
    assert (paid.amount_net, paid.amount_vat) == (Decimal(3704), Decimal(1000))
    assert paid.amount == paid.amount_net + paid.amount_vat == Decimal(4704)


@pytest.fixture
def private_doc(sandbox_factory: SandboxStarter) -> Sandbox:
    return sandbox_factory("doc")


@pytest.fixture
def private_client(private_doc: Sandbox, redis_client: redis.Redis) -> Iterator[MiniCRMClient]:
    client = make_client(private_doc, redis_client)
    yield client
    client.close()


def test_seeded_order_44_workflow(private_client: MiniCRMClient) -> None:
    orders = private_client.orders
    with pytest.raises(MethodNotAllowed):
        orders.complete(44)
    draft = orders.modify(44, {"CustomerId": 225, "Subject": "Optikai kábel rendelés"})
    assert draft.subject == "Optikai kábel rendelés"
    grown = orders.add_items(44, 225, [{"Name": "Csatlakozó", "PriceNet": 120, "Quantity": 10}])
    assert grown.amount_net == Decimal(7500 + 1200)
    shrunk = orders.delete_item(44, 54)
    assert [item.name for item in shrunk.items] == ["Csatlakozó"]
    assert (shrunk.amount_net, shrunk.amount_vat, shrunk.amount) == (
        Decimal(1200),
        Decimal(324),
        Decimal(1524),
    )
    finalized = orders.finalize(44)
    assert finalized.status == "In progress"
    assert finalized.number.endswith("000044")
    assert orders.complete(44).status == "Completed"
    with pytest.raises(MethodNotAllowed):
        orders.edit(44)
    assert orders.paid(44).status == "Paid"
    assert orders.get(44).status == "Paid"
