"""Project (card) endpoints: the document's searches, detail and writes, and their semantics."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sandbox_checks import (
    R3,
    find_row,
    is_int,
    new_card,
    new_person,
    ok_json,
    project,
    result_ids,
    rows,
    search,
    text_error,
    unique,
    written_id,
)

ROW_2009 = {
    "Id": 2009,
    "Name": "Ez egy komoly érdeklődő (Példa Kft.)",
    "ContactId": 7461,
    "StatusId": 2540,
    "UserId": 22404,
    "Deleted": 0,
    "BusinessId": 7453,
}
ROW_2054 = {
    "Id": 2054,
    "Name": "MiniCRM Zrt. (CRM szolgáltató)",
    "ContactId": 7506,
    "StatusId": 2538,
    "UserId": 22404,
    "BusinessId": 7505,
}
ROW_2055 = {
    "Id": 2055,
    "Name": "API segítség kérés",
    "ContactId": 7506,
    "StatusId": 2521,
    "UserId": 22404,
    "BusinessId": 7505,
}
ROW_2056 = {
    "Id": 2056,
    "Name": "MiniCRM Zrt. (Leskó Norbert)",
    "ContactId": 7506,
    "StatusId": 2622,
    "UserId": 22404,
    "BusinessId": 7505,
}
DETAIL_2056 = {
    "Id": 2056,
    "CategoryId": 10,
    "ContactId": 7506,
    "UserId": "Leskó Norbert",
    "Name": "MiniCRM Zrt. (Leskó Norbert)",
    "StatusUpdatedAt": "2018-02-14 14:12:41",
    "Deleted": 0,
    "CreatedAt": "2018-02-14 14:12:31",
    "AutoSalesV3_Qualification": "VIP",
    "AutoSalesV3_IsHot": "Igen",
    "AutoSalesV3_SalesStatus": "Értékesítés folyamatban",
    "AutoSalesV3_LeadStep": "Ajánlat elfogadás",
    "AutoSalesV3_CustomerStep": "",
    "DontesiSzempont": "Termék minőség",
    "HolTalaltRank": "Weboldal",
    "VarhatoArbevetel": 1000000,
    "KovetkezoHivasIdpontja": "2018-02-16 13:00:59",
    "VarhatoLezarasDatuma": "2018-02-23 23:59:59",
    "BusinessId": 7505,
}
INVALID_QUALIFICATION = (
    "Project (PUT): Invalid value 'Such value cannot be found in the CRM' "
    "for the Lead qualification field."
)


def assert_project_row(row: dict[str, Any], expected: dict[str, Any]) -> None:
    for key, value in expected.items():
        assert row[key] == value, (key, row)
        if key != "Name":
            assert is_int(row[key]), (key, row)
    assert row["Url"].endswith(f"/Api/R3/Project/{expected['Id']}"), row["Url"]


@pytest.fixture(scope="module")
def file_server() -> Iterator[str]:
    """A public file server for the file-field upload: serves any path as a small PDF."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"%PDF-1.4\n% sandbox test file\n"
            self.send_response(200)
            self.send_header("Content-Type", "application/pdf")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def sandbox_rw(module_sandbox_factory):
    """A doc sandbox of this module's own, for tests that change seeded cards."""
    return module_sandbox_factory("doc")


# -- the document's searches --------------------------------------------------------------


def test_search_by_category(sandbox_doc):
    body = search(sandbox_doc, "Project", CategoryId=3)
    assert is_int(body["Count"])
    found = result_ids(body)
    assert {2009, 2054} <= found
    assert not found & {2055, 2056}
    assert_project_row(body["Results"]["2009"], ROW_2009)
    if body["Count"] <= 100:
        assert body["Count"] == len(found)


def test_second_page_of_a_small_module_is_empty(sandbox_doc):
    first = search(sandbox_doc, "Project", CategoryId=5)
    assert 2055 in result_ids(first)
    second = search(sandbox_doc, "Project", CategoryId=5, Page=1)
    assert second["Count"] == first["Count"] <= 100
    assert rows(second) == {}


def test_search_updated_since_finds_cards_changed_after_the_moment(sandbox_doc):
    card = new_card(sandbox_doc, 10, 7461)
    # Other tests share this sandbox and add cards too: page until the row turns up.
    assert find_row(sandbox_doc, "Project", card, UpdatedSince="2020-01-01 00:00:00")
    assert find_row(sandbox_doc, "Project", card, UpdatedSince="2100-01-01 00:00:00") is None
    # The document's lenient date form is read as Contact reads it, and really read.
    past = ok_json(sandbox_doc.get(f"{R3}/Project?UpdatedSince=2018-0214+10:00:00"))
    assert 2009 in result_ids(past)
    future = ok_json(sandbox_doc.get(f"{R3}/Project?UpdatedSince=2099-1231+10:00:00"))
    assert future["Count"] == 0


def test_search_updated_since_refuses_what_is_no_date(sandbox_doc):
    answer = sandbox_doc.get(f"{R3}/Project", params={"UpdatedSince": "tegnap"})

    assert text_error(answer, 400) == (
        "Project (GET): Invalid value 'tegnap' for the UpdatedSince parameter."
    )


def test_search_by_main_contact(sandbox_doc):
    body = search(sandbox_doc, "Project", MainContactId=7505)
    assert body["Count"] == 3
    assert set(rows(body)) == {"2054", "2055", "2056"}
    for expected in (ROW_2054, ROW_2055, ROW_2056):
        assert_project_row(body["Results"][str(expected["Id"])], expected)


@pytest.mark.parametrize("extra", [{"CategoryId": 10}, {"StatusId": 2622}])
def test_search_by_main_contact_narrowed(sandbox_doc, extra):
    body = search(sandbox_doc, "Project", MainContactId=7505, **extra)
    assert body["Count"] == 1
    assert list(rows(body)) == ["2056"]
    assert_project_row(body["Results"]["2056"], ROW_2056)


def test_search_by_user(sandbox_doc):
    mine = search(sandbox_doc, "Project", UserId=22404)
    assert {2009, 2054, 2055, 2056} <= result_ids(mine)
    assert all(row["UserId"] == 22404 for row in rows(mine).values())
    assert not result_ids(search(sandbox_doc, "Project", UserId=3200)) & {2009, 2054, 2055, 2056}


def test_search_by_custom_field(sandbox_doc):
    vip = search(sandbox_doc, "Project", CategoryId=10, AutoSalesV3_Qualification="VIP")
    assert 2056 in result_ids(vip)
    other = search(sandbox_doc, "Project", CategoryId=10, AutoSalesV3_Qualification="Célcsoport")
    assert 2056 not in result_ids(other)


def test_search_with_unknown_parameter_is_400(sandbox_doc):
    text_error(sandbox_doc.get(f"{R3}/Project", params={"NoSuchField": "1"}), 400)


# -- detail ----------------------------------------------------------------------------------


def test_detail_like_the_document(sandbox_doc):
    body = project(sandbox_doc, 2056)
    assert {key: body.get(key) for key in DETAIL_2056} == DETAIL_2056
    assert "Szerzodes" in body


def test_detail_shows_status_and_user_as_names_while_rows_carry_ids(sandbox_doc):
    row = search(sandbox_doc, "Project", MainContactId=7505)["Results"]["2054"]
    assert (row["StatusId"], row["UserId"]) == (2538, 22404)
    body = project(sandbox_doc, 2054)
    assert body["UserId"] == "Leskó Norbert"
    assert isinstance(body["StatusId"], str)
    assert body["StatusId"]
    assert not body["StatusId"].isdigit()
    assert body["CategoryId"] == 3
    assert body["ContactId"] == 7506


def test_unknown_project_is_404(sandbox_doc):
    message = text_error(sandbox_doc.get(f"{R3}/Project/99999999"), 404)
    assert message.startswith("Project (GET): ")


# -- the document's writes on card 2056 --------------------------------------------------------


def test_modify_dropdown_like_the_document(sandbox_rw):
    before = project(sandbox_rw, 2056)
    answer = sandbox_rw.curl(
        "PUT", f"{R3}/Project/2056", '{"AutoSalesV3_Qualification": "Célcsoport"}'
    )
    assert answer.content == b'{"Id":2056}'
    assert ok_json(answer) == {"Id": 2056}
    after = project(sandbox_rw, 2056)
    assert after["AutoSalesV3_Qualification"] == "Célcsoport"
    assert {
        k: v for k, v in after.items() if k not in ("AutoSalesV3_Qualification", "UpdatedAt")
    } == {k: v for k, v in before.items() if k not in ("AutoSalesV3_Qualification", "UpdatedAt")}


def test_invalid_dropdown_value_is_refused_with_the_documents_message(sandbox_rw):
    before = project(sandbox_rw, 2056)
    answer = sandbox_rw.curl(
        "PUT",
        f"{R3}/Project/2056",
        '{"AutoSalesV3_Qualification": "Such value cannot be found in the CRM"}',
    )
    assert text_error(answer, 400) == INVALID_QUALIFICATION
    assert project(sandbox_rw, 2056) == before


def test_dropdown_accepts_id_or_label(sandbox_rw):
    options = ok_json(sandbox_rw.get(f"{R3}/Schema/Project/10"))["AutoSalesV3_Qualification"]
    ids = {label: key for key, label in options.items()}
    for value, label in (
        (int(ids["VIP"]), "VIP"),
        (ids["Célcsoport"], "Célcsoport"),
        ("VIP", "VIP"),
    ):
        answer = sandbox_rw.put(f"{R3}/Project/2056", json={"AutoSalesV3_Qualification": value})
        assert ok_json(answer) == {"Id": 2056}
        assert project(sandbox_rw, 2056)["AutoSalesV3_Qualification"] == label


def test_file_field_from_url(sandbox_rw, file_server):
    file_url = f"{file_server}/files/szerzodes.pdf"
    answer = sandbox_rw.curl("PUT", f"{R3}/Project/2056", f'{{"Szerzodes": "{file_url}"}}')
    assert ok_json(answer) == {"Id": 2056}
    stored = project(sandbox_rw, 2056)["Szerzodes"]
    assert stored
    assert "szerzodes.pdf" in str(stored)


# -- card writes --------------------------------------------------------------------------------


def test_create_card_and_read_it_back(sandbox_doc):
    person = new_person(sandbox_doc)
    name = unique("Új kártya")
    card = written_id(
        sandbox_doc.put(
            f"{R3}/Project/",
            json={"CategoryId": 3, "ContactId": person, "Name": name, "StatusId": 2538},
        )
    )
    body = project(sandbox_doc, card)
    assert (body["Id"], body["CategoryId"], body["ContactId"], body["Name"]) == (
        card,
        3,
        person,
        name,
    )
    row = find_row(sandbox_doc, "Project", card, CategoryId=3)
    assert row is not None
    assert (row["Name"], row["StatusId"], row["ContactId"]) == (name, 2538, person)


def test_post_is_accepted_for_card_writes(sandbox_doc):
    person = new_person(sandbox_doc)
    card = written_id(
        sandbox_doc.post(
            f"{R3}/Project/", json={"CategoryId": 3, "ContactId": person, "Name": unique()}
        )
    )
    name = unique("Postázott")
    assert written_id(sandbox_doc.post(f"{R3}/Project/{card}", json={"Name": name})) == card
    assert project(sandbox_doc, card)["Name"] == name


def test_card_create_needs_a_known_category_and_contact(sandbox_doc):
    person = new_person(sandbox_doc)
    name = unique("Hiányos")
    first = new_card(sandbox_doc, 3, person)
    for body in (
        {"ContactId": person, "Name": name},
        {"CategoryId": 99999, "ContactId": person, "Name": name},
        {"CategoryId": 3, "ContactId": 99999999, "Name": name},
    ):
        text_error(sandbox_doc.put(f"{R3}/Project/", json=body), 400)
    # Nothing was stored: the next card gets the very next id.
    assert new_card(sandbox_doc, 3, person) == first + 1


def test_status_and_user_accept_label_or_id(sandbox_doc):
    label_2540 = project(sandbox_doc, 2009)["StatusId"]
    label_2538 = project(sandbox_doc, 2054)["StatusId"]
    assert label_2540 != label_2538
    person = new_person(sandbox_doc)
    card = new_card(sandbox_doc, 3, person, StatusId=2538, UserId=22404)

    def row() -> dict[str, Any]:
        found = find_row(sandbox_doc, "Project", card, CategoryId=3)
        assert found is not None
        return found

    assert (
        written_id(
            sandbox_doc.put(
                f"{R3}/Project/{card}", json={"StatusId": label_2540, "UserId": "Keszei Csaba"}
            )
        )
        == card
    )
    assert (row()["StatusId"], row()["UserId"]) == (2540, 3200)
    detail = project(sandbox_doc, card)
    assert (detail["StatusId"], detail["UserId"]) == (label_2540, "Keszei Csaba")
    assert (
        written_id(
            sandbox_doc.put(f"{R3}/Project/{card}", json={"StatusId": "2538", "UserId": 22404})
        )
        == card
    )
    assert (row()["StatusId"], row()["UserId"]) == (2538, 22404)
    detail = project(sandbox_doc, card)
    assert (detail["StatusId"], detail["UserId"]) == (label_2538, "Leskó Norbert")


def test_unknown_status_or_user_is_refused(sandbox_doc):
    person = new_person(sandbox_doc)
    card = new_card(sandbox_doc, 3, person, StatusId=2538)
    before = project(sandbox_doc, card)
    for body in ({"StatusId": "Nincs ilyen státusz"}, {"StatusId": 2622}, {"UserId": "Senki Sem"}):
        text_error(sandbox_doc.put(f"{R3}/Project/{card}", json=body), 400)
    assert project(sandbox_doc, card) == before


def test_status_change_adds_a_status_history_entry(sandbox_doc):
    person = new_person(sandbox_doc)
    card = new_card(sandbox_doc, 3, person, StatusId=2538)
    path = f"{R3}/ProjectHistory/{card}"
    before = rows(ok_json(sandbox_doc.get(path, params={"Type": "StatusHistory"})))
    label_2540 = project(sandbox_doc, 2009)["StatusId"]
    sandbox_doc.put(f"{R3}/Project/{card}", json={"StatusId": 2540}).raise_for_status()
    body = ok_json(sandbox_doc.get(path, params={"Type": "StatusHistory"}))
    after = rows(body)
    assert body["Count"] == str(len(after))
    new = [entry for key, entry in after.items() if key not in before]
    assert len(new) == 1
    entry = new[0]
    assert entry["ProjectId"] == str(card)
    assert entry["Type"] == "StatusHistory"
    assert (entry["Status_Old_Id"], entry["Status_New_Id"]) == ("2538", "2540")
    assert entry["Status_New_Name"] == label_2540
    # A change that keeps the status adds nothing.
    sandbox_doc.put(f"{R3}/Project/{card}", json={"Name": unique()}).raise_for_status()
    assert len(rows(ok_json(sandbox_doc.get(path, params={"Type": "StatusHistory"})))) == len(after)


def test_update_of_unknown_project_is_404(sandbox_doc):
    text_error(sandbox_doc.put(f"{R3}/Project/99999999", json={"Name": "Senki"}), 404)


# -- semantics over the demo seed -----------------------------------------------------------------


def _largest_module(demo_card_counts: dict[str, int]) -> str:
    return max(demo_card_counts, key=lambda category: demo_card_counts[category])


def test_project_paging_covers_every_card_once(sandbox_demo, demo_card_counts):
    category = _largest_module(demo_card_counts)
    total = demo_card_counts[category]
    assert total > 200
    seen: list[str] = []
    page = 0
    while True:
        body = search(sandbox_demo, "Project", CategoryId=category, Page=page)
        assert body["Count"] == total
        found = list(rows(body))
        if not found:
            break
        assert len(found) == min(100, total - 100 * page), page
        seen += found
        page += 1
    assert page == -(-total // 100)
    assert len(seen) == len(set(seen)) == total


def test_status_groups_partition_a_module(sandbox_demo, demo_card_counts):
    category = _largest_module(demo_card_counts)
    counts, statuses = {}, {}
    for group in ("Lead", "Open", "Success", "Failed"):
        body = search(sandbox_demo, "Project", CategoryId=category, StatusGroup=group)
        counts[group] = body["Count"]
        statuses[group] = {row["StatusId"] for row in rows(body).values()}
    assert sum(counts.values()) == demo_card_counts[category], counts
    groups = list(statuses)
    for index, group in enumerate(groups):
        for other in groups[index + 1 :]:
            assert not statuses[group] & statuses[other], (group, other)


def _multi_select_field(demo_schemas: dict[str, dict[str, Any]]) -> tuple[str, str, dict[int, str]]:
    """(category, field, {id: label}) of a multi-select: a choice field with power-of-two ids."""
    best: tuple[str, str, dict[int, str]] | None = None
    for category, schema in demo_schemas.items():
        for name, kind in schema.items():
            if not isinstance(kind, dict) or len(kind) < 3 or name == "StatusId":
                continue
            ids = {int(key): label for key, label in kind.items()}
            if all(key > 0 and key & (key - 1) == 0 for key in ids) and (
                best is None or max(ids) > max(best[2])
            ):
                best = (category, name, ids)
    assert best, "the demo seed needs a multi-select field (power-of-two ids)"
    return best


def test_multi_select_accepts_bitmask_and_lists(sandbox_demo, demo_schemas, demo_card_counts):
    category, name, options = _multi_select_field(demo_schemas)
    last_page = (demo_card_counts[category] - 1) // 100
    card = max(result_ids(search(sandbox_demo, "Project", CategoryId=category, Page=last_page)))
    ids = sorted(options)
    first, second, third = ids[0], ids[1], ids[-1]

    def stored() -> set[str]:
        value = project(sandbox_demo, card)[name]
        assert isinstance(value, list), value
        return set(value)

    for written, expected in (
        (first | third, {options[first], options[third]}),
        ([options[second]], {options[second]}),
        ([first, str(second)], {options[first], options[second]}),
        ([], set()),
    ):
        answer = sandbox_demo.put(f"{R3}/Project/{card}", json={name: written})
        assert ok_json(answer) == {"Id": card}, written
        assert stored() == expected, written
    # Bits that name no option are refused and change nothing.
    unknown_bit = next(1 << n for n in range(36) if (1 << n) not in options)
    text_error(sandbox_demo.put(f"{R3}/Project/{card}", json={name: unknown_bit}), 400)
    assert stored() == set()


def _valid_value(kind: Any) -> Any:
    """A value every field of this schema type accepts (None for file fields)."""
    if isinstance(kind, dict):
        first = min(int(key) for key in kind)
        ids = [int(key) for key in kind]
        is_multi = len(ids) >= 3 and all(i > 0 and i & (i - 1) == 0 for i in ids)
        return [first] if is_multi else first
    return {
        "Int": 7,
        "Float": 1.5,
        "Date": "2024-01-02",
        "DateTime": "2024-01-02 03:04:05",
        "Boolean": 1,
    }.get(kind, None if kind.startswith("File") else "szöveg")


def test_required_fields_are_enforced_per_module(sandbox_factory):
    sandbox = sandbox_factory("demo")
    person = new_person(sandbox)
    categories = ok_json(sandbox.get(f"{R3}/Category"))
    schemas = {c: ok_json(sandbox.get(f"{R3}/Schema/Project/{c}")) for c in categories}
    shared = set.intersection(*(set(schema) for schema in schemas.values()))
    required: dict[str, set[str]] = {}
    for category, schema in schemas.items():
        base = {"CategoryId": int(category), "ContactId": person, "Name": unique("Kötelező")}
        custom = {
            name: _valid_value(kind)
            for name, kind in schema.items()
            if name not in shared and _valid_value(kind) is not None
        }
        assert custom, f"module {category} has no custom fields"
        written_id(sandbox.put(f"{R3}/Project/", json={**base, **custom}))
        required[category] = set()
        for name in custom:
            without = {key: value for key, value in custom.items() if key != name}
            answer = sandbox.put(f"{R3}/Project/", json={**base, **without})
            if answer.status_code == 400:
                assert "required" in text_error(answer, 400).lower()
                required[category].add(name)
                text_error(sandbox.put(f"{R3}/Project/", json={**base, **without, name: ""}), 400)
            else:
                written_id(answer)
        minimal = sandbox.put(f"{R3}/Project/", json=base)
        if required[category]:
            text_error(minimal, 400)
        else:
            written_id(minimal)
    assert any(required.values()), "the demo seed should have required fields somewhere"
