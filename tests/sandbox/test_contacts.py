"""Contact endpoints: the document's searches, detail, writes and PurgePerson, and paging."""

from __future__ import annotations

from typing import Any

from sandbox_checks import (
    R3,
    contact,
    find_row,
    is_int,
    new_business,
    new_card,
    new_person,
    ok_json,
    result_ids,
    rows,
    search,
    text_error,
    unique,
    written_id,
)

ROW_7505 = {
    "Id": 7505,
    "Name": "MiniCRM Zrt.",
    "Type": "Business",
    "Email": "help@minicrm.hu",
    "Phone": "06 (1) 999-0402",
}
ROW_7506 = {
    "Id": 7506,
    "Name": "Leskó Norbert",
    "Type": "Person",
    "Email": "norbert@minicrm.hu",
    "Phone": "06 (20) 236 7532",
    "BusinessId": 7505,
}
ROW_7507 = {
    "Id": 7507,
    "Name": "Egerszegi Krisztián",
    "Type": "Person",
    "Email": "egerszegi.krisztian@minicrm.hu",
    "Phone": "",
    "BusinessId": 7505,
}


def assert_contact_row(row: dict[str, Any], expected: dict[str, Any]) -> None:
    for key, value in expected.items():
        assert row[key] == value, (key, row)
        if key in ("Id", "BusinessId"):
            assert is_int(row[key]), (key, row)
    assert row["Url"].endswith(f"/Api/R3/Contact/{expected['Id']}"), row["Url"]


# -- the document's searches ----------------------------------------------------------


def test_search_by_email(sandbox_doc):
    body = search(sandbox_doc, "Contact", Email="norbert@minicrm.hu")
    assert body["Count"] == 1
    assert list(rows(body)) == ["7506"]
    assert_contact_row(body["Results"]["7506"], ROW_7506)


def test_search_rows_url_leads_to_the_detail(sandbox_doc):
    row = search(sandbox_doc, "Contact", Email="norbert@minicrm.hu")["Results"]["7506"]
    assert row["Url"] == sandbox_doc.url(f"{R3}/Contact/7506")
    detail = ok_json(sandbox_doc.session.get(row["Url"], timeout=10))
    assert detail["Id"] == 7506


def test_search_updated_since_accepts_the_documents_malformed_date(sandbox_doc):
    # The document sends "2018-0214+10:00:00" (the + is a space in a query string).
    past = ok_json(sandbox_doc.get(f"{R3}/Contact?UpdatedSince=2018-0214+10:00:00"))
    assert 7506 in result_ids(past)
    assert past["Count"] >= 3
    regular = search(sandbox_doc, "Contact", UpdatedSince="2018-02-14 10:00:00")
    assert result_ids(regular) == result_ids(past)
    # The date is really read: a malformed date in the future finds nothing.
    future = ok_json(sandbox_doc.get(f"{R3}/Contact?UpdatedSince=2099-1231+10:00:00"))
    assert future["Count"] == 0
    assert rows(future) == {}


def test_search_updated_since_sees_a_fresh_change(sandbox_doc):
    person = new_person(sandbox_doc)
    # Other tests share this sandbox and add contacts too: page until the row turns up.
    assert find_row(sandbox_doc, "Contact", person, UpdatedSince="2020-01-01 00:00:00")
    assert find_row(sandbox_doc, "Contact", person, UpdatedSince="2100-01-01 00:00:00") is None


def test_search_query_is_accent_and_case_insensitive_whole_word(sandbox_doc):
    body = search(sandbox_doc, "Contact", Query="lesko")
    assert 7506 in result_ids(body)
    assert body["Count"] == len(rows(body))
    assert_contact_row(body["Results"]["7506"], ROW_7506)
    for variant in ("Leskó", "LESKÓ", "leskó", "Lesko"):
        assert 7506 in result_ids(search(sandbox_doc, "Contact", Query=variant)), variant
    # Whole words only: a prefix does not match.
    assert 7506 not in result_ids(search(sandbox_doc, "Contact", Query="lesk"))
    assert 7506 not in result_ids(search(sandbox_doc, "Contact", Query="eskó"))


def test_search_query_has_no_wildcards(sandbox_doc):
    # "_" is a word character to the whole-word search, and a LIKE wildcard to SQLite: it must
    # match only a word "_" (there is none), not every one-letter word.
    assert search(sandbox_doc, "Contact", Query="_")["Count"] == 0
    assert search(sandbox_doc, "Contact", Query="lesk_")["Count"] == 0
    assert 7506 in result_ids(search(sandbox_doc, "Contact", Query="Leskó"))


def test_search_query_by_phone_suffix(sandbox_doc):
    body = search(sandbox_doc, "Contact", Query="2367532")
    assert body["Count"] == 1
    assert list(rows(body)) == ["7506"]
    assert_contact_row(body["Results"]["7506"], ROW_7506)
    assert 7506 not in result_ids(search(sandbox_doc, "Contact", Query="2367533"))


def test_search_by_schema_field(sandbox_doc):
    alma = search(sandbox_doc, "Contact", KedvencEtele="Alma")
    assert 7506 in result_ids(alma)
    assert 7507 not in result_ids(alma)
    assert 7506 not in result_ids(search(sandbox_doc, "Contact", KedvencEtele="Narancs"))


def test_search_by_main_contact_lists_the_company_and_its_people(sandbox_doc):
    body = search(sandbox_doc, "Contact", MainContactId=7505)
    # The seed's three; other tests sharing this sandbox may add persons to the company.
    assert body["Count"] == len(rows(body)) >= 3
    assert set(rows(body)) >= {"7505", "7506", "7507"}
    assert all(row.get("BusinessId", 7505) == 7505 for row in rows(body).values())
    assert_contact_row(body["Results"]["7505"], ROW_7505)
    assert_contact_row(body["Results"]["7506"], ROW_7506)
    assert_contact_row(body["Results"]["7507"], ROW_7507)


def test_search_with_unknown_parameter_is_400(sandbox_doc):
    text_error(sandbox_doc.get(f"{R3}/Contact", params={"NoSuchField": "x"}), 400)


# -- detail -------------------------------------------------------------------------------

DETAIL_KEYS = {
    "Id", "ParentId", "Type", "FirstName", "LastName", "Email", "Phone", "Description",
    "Deleted", "CreatedAt", "Url", "BankAccount", "Swift", "VatNumber", "Position",
    "Industry", "Region", "YearlyRevenue", "KedvencEtele", "BusinessId", "Tags",
}  # fmt: skip


def test_person_detail_like_the_document(sandbox_doc):
    body = contact(sandbox_doc, 7506)
    assert set(body) >= DETAIL_KEYS, DETAIL_KEYS - set(body)
    expected = {
        "Id": 7506,
        "ParentId": 0,
        "Type": "Személy",
        "FirstName": "Norbert",
        "LastName": "Leskó",
        "Email": "norbert@minicrm.hu",
        "Position": "Cégvezető",
        "KedvencEtele": "Alma",
        "BusinessId": 7505,
        "Deleted": 0,
        "Tags": [],
    }
    assert {key: body[key] for key in expected} == expected
    assert body["Phone"].replace(" ", "").endswith("2367532")
    assert is_int(body["YearlyRevenue"])


def test_business_detail_is_localized(sandbox_doc):
    body = contact(sandbox_doc, 7505)
    assert body["Id"] == 7505
    assert body["Type"] == "Cég"
    assert body["Name"] == "MiniCRM Zrt."
    assert body["Email"] == "help@minicrm.hu"


def test_unknown_contact_is_404(sandbox_doc):
    text_error(sandbox_doc.get(f"{R3}/Contact/99999999"), 404)


# -- writes ---------------------------------------------------------------------------------


def test_modify_email_like_the_document(sandbox_factory):
    sandbox = sandbox_factory("doc")
    for email in ("norbert+1@minicrm.io", "norbert+2@minicrm.io"):
        answer = sandbox.curl("PUT", f"{R3}/Contact/7506", f'{{"Email": "{email}"}}')
        assert ok_json(answer) == {"Id": 7506}
    detail = contact(sandbox, 7506)
    assert detail["Email"] == "norbert+2@minicrm.io"
    assert detail["FirstName"] == "Norbert"
    assert detail["KedvencEtele"] == "Alma"
    found = search(sandbox, "Contact", Email="norbert+2@minicrm.io")
    assert list(rows(found)) == ["7506"]
    assert found["Results"]["7506"]["Email"] == "norbert+2@minicrm.io"


def test_create_business_and_person_like_the_document(sandbox_doc):
    business = written_id(
        sandbox_doc.curl("PUT", f"{R3}/Contact/", '{"Type": "Business", "Name": "Példa Kft."}')
    )
    person_body = (
        '{"Type": "Person", "FirstName": "Péter", "LastName": "Kovács", '
        f'"Email": "kovacs.peter@example.com", "BusinessId": {business}}}'
    )
    person = written_id(sandbox_doc.curl("PUT", f"{R3}/Contact/", person_body))
    assert person != business
    assert contact(sandbox_doc, business)["Type"] == "Cég"
    assert contact(sandbox_doc, business)["Name"] == "Példa Kft."
    detail = contact(sandbox_doc, person)
    assert detail["Type"] == "Személy"
    assert (detail["FirstName"], detail["LastName"]) == ("Péter", "Kovács")
    assert detail["Email"] == "kovacs.peter@example.com"
    assert detail["BusinessId"] == business
    family = search(sandbox_doc, "Contact", MainContactId=business)
    assert result_ids(family) == {business, person}
    assert family["Results"][str(person)]["Type"] == "Person"
    assert family["Results"][str(person)]["Name"] == "Kovács Péter"
    assert family["Results"][str(business)]["Type"] == "Business"


def test_new_ids_are_one_past_the_largest(sandbox_doc):
    first = new_business(sandbox_doc)
    second = new_person(sandbox_doc, BusinessId=first)
    assert second == first + 1


def test_post_is_accepted_for_contact_writes(sandbox_doc):
    created = written_id(
        sandbox_doc.post(f"{R3}/Contact/", json={"Type": "Person", "FirstName": "Posta"})
    )
    assert written_id(sandbox_doc.post(f"{R3}/Contact/{created}", json={"LastName": "Pál"})) == (
        created
    )
    assert contact(sandbox_doc, created)["LastName"] == "Pál"


def test_contact_dropdown_accepts_label_or_id(sandbox_doc):
    person = new_person(sandbox_doc)
    for value, label in (("Sajt", "Sajt"), (2002, "Narancs"), ("2004", "Kolbász")):
        assert written_id(sandbox_doc.put(f"{R3}/Contact/{person}", json={"KedvencEtele": value}))
        assert contact(sandbox_doc, person)["KedvencEtele"] == label
    answer = sandbox_doc.put(f"{R3}/Contact/{person}", json={"KedvencEtele": "Pizza"})
    assert "Pizza" in text_error(answer, 400)
    assert contact(sandbox_doc, person)["KedvencEtele"] == "Kolbász"


def test_business_needs_a_name_and_person_a_first_name(sandbox_doc):
    marker = unique("Hiányzó").split()[1]
    refused = [
        {"Type": "Business"},
        {"Type": "Business", "Name": "", "Description": marker},
        {"Type": "Person", "LastName": marker},
        {"Type": "Person", "FirstName": "", "LastName": marker},
    ]
    for body in refused:
        text_error(sandbox_doc.put(f"{R3}/Contact/", json=body), 400)
    assert search(sandbox_doc, "Contact", Query=marker)["Count"] == 0


def test_required_names_cannot_be_cleared(sandbox_doc):
    person = new_person(sandbox_doc)
    business = new_business(sandbox_doc)
    before = (contact(sandbox_doc, person), contact(sandbox_doc, business))
    for cleared in ("", None):
        text_error(sandbox_doc.put(f"{R3}/Contact/{person}", json={"FirstName": cleared}), 400)
        text_error(sandbox_doc.put(f"{R3}/Contact/{business}", json={"Name": cleared}), 400)
    assert (contact(sandbox_doc, person), contact(sandbox_doc, business)) == before


def test_type_cannot_change(sandbox_doc):
    person = new_person(sandbox_doc)
    business = new_business(sandbox_doc)
    before = (contact(sandbox_doc, person), contact(sandbox_doc, business))
    text_error(sandbox_doc.put(f"{R3}/Contact/{person}", json={"Type": "Business"}), 400)
    text_error(
        sandbox_doc.put(f"{R3}/Contact/{business}", json={"Type": "Person", "Name": "Más"}), 400
    )
    assert (contact(sandbox_doc, person), contact(sandbox_doc, business)) == before


def test_update_of_unknown_contact_is_404(sandbox_doc):
    text_error(sandbox_doc.put(f"{R3}/Contact/99999999", json={"Email": "x@example.com"}), 404)


# -- PurgePerson -----------------------------------------------------------------------------


def test_purge_person_like_the_document(sandbox_doc):
    for method in ("GET", "PUT", "POST"):
        person = new_person(sandbox_doc, Email=f"{unique('purge').split()[1]}@example.com")
        answer = sandbox_doc.request(method, f"{R3}/PurgePerson/{person}")
        assert answer.status_code == 200, (method, answer.status_code, answer.text)
        text_error(sandbox_doc.get(f"{R3}/Contact/{person}"), 404)


def test_purge_person_refused_while_main_contact_of_a_card(sandbox_doc):
    person = new_person(sandbox_doc)
    other = new_person(sandbox_doc)
    card = new_card(sandbox_doc, 3, person)
    answer = sandbox_doc.get(f"{R3}/PurgePerson/{person}")
    assert answer.status_code == 400
    assert answer.json() == {
        "Message": "The person is marked as the main contact on one or more cards."
    }
    assert contact(sandbox_doc, person)["Id"] == person
    # Another main contact on the card frees the person.
    assert written_id(sandbox_doc.put(f"{R3}/Project/{card}", json={"ContactId": other})) == card
    assert sandbox_doc.get(f"{R3}/PurgePerson/{person}").status_code == 200
    text_error(sandbox_doc.get(f"{R3}/Contact/{person}"), 404)
    assert ok_json(sandbox_doc.get(f"{R3}/Project/{card}"))["ContactId"] == other


def test_purge_unknown_person_is_404(sandbox_doc):
    text_error(sandbox_doc.get(f"{R3}/PurgePerson/99999999"), 404)


# -- paging over the demo seed ----------------------------------------------------------------


def test_contact_paging_covers_everyone_once(demo_contact_pages):
    pages = demo_contact_pages
    total = pages[0]["Count"]
    assert is_int(total)
    assert total >= 2000
    assert len(pages) == -(-total // 100)
    seen: list[str] = []
    for number, page in enumerate(pages):
        assert page["Count"] == total, number
        expected = 100 if number < len(pages) - 1 else total - 100 * (len(pages) - 1)
        assert len(rows(page)) == expected, number
        seen += list(rows(page))
    assert len(seen) == len(set(seen)) == total


def test_contact_page_past_the_end_is_empty(sandbox_demo, demo_contact_pages):
    beyond = len(demo_contact_pages)
    body = search(sandbox_demo, "Contact", Page=beyond)
    assert body["Count"] == demo_contact_pages[0]["Count"]
    assert rows(body) == {}
