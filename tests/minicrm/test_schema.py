"""Schema introspection (`client.schemas`): field kinds, validation that agrees with the API, and
the schema cache."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import pytest

from minicrm import BadRequest, MiniCRMClient
from minicrm.resources.schema import FieldSpec, SchemaValidationError
from tests.conftest import Sandbox

DEMO_MULTISELECTS = {
    20: "Erdeklodes",
    21: "Kategoria",
    22: "Technologiak",
    23: "Regio",
    24: "Etkezes",
}


def schema_requests(sandbox: Sandbox) -> list[str]:
    answer = sandbox.get("/_sandbox/requests")
    assert answer.status_code == 200, answer.text
    return [r["path"] for r in answer.json() if "/Schema/" in r["path"]]


def new_card(client: MiniCRMClient) -> int:
    return client.projects.create({"CategoryId": 10, "Name": f"Séma {uuid.uuid4().hex[:8]}"})


# -- describing fields ----------------------------------------------------------------------------


def test_project_schema_describes_the_fields_of_a_module(doc_client: MiniCRMClient) -> None:
    fields = doc_client.schemas.project(10).fields
    qualification = fields["AutoSalesV3_Qualification"]
    assert qualification.kind == "select"
    assert qualification.choices == {
        3101: "VIP",
        3102: "Célcsoport",
        3103: "Nem célcsoport",
        3105: "Hideg",
    }
    assert fields["StatusId"].kind == "select"
    assert fields["StatusId"].choices[2622] == "Feldolgozásra vár"
    assert fields["UserId"].choices[22404] == "Leskó Norbert"
    assert (fields["Name"].kind, fields["Name"].max_length, fields["Name"].required) == (
        "text",
        512,
        True,
    )
    assert fields["ReferenceId"].max_length == 255
    assert fields["KovetkezoHivasIdpontja"].kind == "datetime"
    assert fields["Szerzodes"].kind == "file"
    assert fields["VarhatoArbevetel"].kind == "int"
    assert fields["Id"].read_only and fields["CreatedAt"].read_only
    assert fields["CategoryId"].create_only and not fields["CategoryId"].read_only
    assert "SzallitasExtraInfo" not in fields  # a field of module 7
    assert doc_client.schemas.project(7).fields["SzallitasExtraInfo"].max_length == 1024


def test_person_schema(doc_client: MiniCRMClient) -> None:
    schema = doc_client.schemas.person()
    fields = schema.fields
    assert schema.entity == "Person"
    assert (fields["FirstName"].kind, fields["FirstName"].max_length) == ("text", 255)
    assert fields["FirstName"].required
    assert fields["Email"].max_length == 128
    assert fields["Description"].max_length == 65535
    assert fields["YearlyRevenue"].kind == "int"
    assert fields["CreatedAt"].kind == "datetime" and fields["CreatedAt"].read_only
    assert fields["KedvencEtele"].kind == "select"
    assert fields["KedvencEtele"].choices == {
        2001: "Alma",
        2002: "Narancs",
        2003: "Sajt",
        2004: "Kolbász",
    }
    assert "Id" not in {spec.name for spec in schema.editable}
    business = doc_client.schemas.business().fields
    assert business["Name"].required and "FirstName" not in business
    assert doc_client.schemas.contact("Business").fields.keys() == business.keys()
    assert doc_client.schemas.contact("Person").fields.keys() == fields.keys()


def test_demo_schema_has_every_kind(demo_client: MiniCRMClient) -> None:
    fields = demo_client.schemas.project(20).fields
    kinds = {name: fields[name].kind for name in fields}
    assert kinds["VarhatoArbevetel"] == "int"
    assert kinds["Valoszinuseg"] == "float"
    assert kinds["Forras"] == "select"
    assert kinds["Erdeklodes"] == "multiselect"
    assert kinds["KovetkezoHivas"] == "datetime"
    assert kinds["VarhatoLezaras"] == "date"
    assert kinds["ForroLead"] == "bool"
    assert kinds["Ajanlat"] == "file"
    assert (kinds["Megjegyzes"], fields["Megjegyzes"].max_length) == ("text", 1024)
    assert demo_client.schemas.project(22).fields["ProjektKod"].max_length == 64
    assert demo_client.schemas.person().fields["Szuletesnap"].kind == "date"
    assert demo_client.schemas.person().fields["Hirlevel"].kind == "bool"


def test_multiselect_ids_up_to_2_to_the_35_are_python_ints(demo_client: MiniCRMClient) -> None:
    interest = demo_client.schemas.project(20).fields["Erdeklodes"]
    assert interest.kind == "multiselect"
    assert max(interest.choices) == 34359738368 == 2**35
    assert interest.choices[2**35] == "Projektmenedzsment"
    assert interest.choices[2**30] == "CRM"
    assert all(type(key) is int for key in interest.choices)
    assert interest.display(2**35 + 2**30) == ["CRM", "Projektmenedzsment"]
    assert interest.display(str(2**35)) == ["Projektmenedzsment"]
    assert interest.clean(["Projektmenedzsment", "crm"]) == [2**30, 2**35]


@pytest.mark.parametrize("category_id", [20, 21, 22, 23, 24])
def test_multiselects_are_told_from_selects(demo_client: MiniCRMClient, category_id: int) -> None:
    fields = demo_client.schemas.project(category_id).fields
    multi = {name for name, spec in fields.items() if spec.kind == "multiselect"}
    assert multi == {DEMO_MULTISELECTS[category_id]}
    selects = [spec for spec in fields.values() if spec.kind == "select"]
    assert {"StatusId", "UserId"} <= {spec.name for spec in selects}


# -- validate -------------------------------------------------------------------------------------


def test_validate_cleans_values_for_sending(doc_client: MiniCRMClient) -> None:
    schema = doc_client.schemas.project(10)
    cleaned = schema.validate(
        {
            "AutoSalesV3_Qualification": "vip",
            "StatusId": "Sikeres",
            "UserId": "Tóth Gábor",
            "VarhatoArbevetel": "1500",
            "KovetkezoHivasIdpontja": datetime(2030, 1, 2, 9, 30),
            "Szerzodes": " https://files.example.com/a.pdf ",
            "Name": "Név",
        }
    )
    assert cleaned == {
        "AutoSalesV3_Qualification": 3101,
        "StatusId": 2623,
        "UserId": 53986,
        "VarhatoArbevetel": 1500,
        "KovetkezoHivasIdpontja": "2030-01-02 09:30:00",
        "Szerzodes": "https://files.example.com/a.pdf",
        "Name": "Név",
    }


def test_validate_demo_kinds(demo_client: MiniCRMClient) -> None:
    schema = demo_client.schemas.project(20)
    cleaned = schema.validate(
        {
            "Forras": "Ajánlás",
            "Erdeklodes": ["Webshop", "CRM"],
            "ForroLead": "igen",
            "VarhatoLezaras": date(2030, 5, 1),
            "Valoszinuseg": "12,5",
        }
    )
    forras = next(k for k, v in schema.fields["Forras"].choices.items() if v == "Ajánlás")
    assert cleaned == {
        "Forras": forras,
        "Erdeklodes": [2**30, 2**32],
        "ForroLead": 1,
        "VarhatoLezaras": "2030-05-01",
        "Valoszinuseg": 12.5,
    }


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"AutoSalesV3_Qualification": "Nincs ilyen"}, "AutoSalesV3_Qualification"),
        ({"Name": "x" * 513}, "Name"),
        ({"KovetkezoHivasIdpontja": "holnap"}, "KovetkezoHivasIdpontja"),
        ({"BusinessId": 7505}, "BusinessId"),
        ({"CreatedAt": "2020-01-01 00:00:00"}, "CreatedAt"),
        ({"Id": 1}, "Id"),
        ({"CategoryId": 10}, "CategoryId"),  # only when creating
        ({"NoSuchField": 1}, "NoSuchField"),
    ],
)
def test_validate_rejects_with_errors_keyed_by_field(
    doc_client: MiniCRMClient, changes: dict[str, Any], field: str
) -> None:
    schema = doc_client.schemas.project(10)
    with pytest.raises(SchemaValidationError) as caught:
        schema.validate({"Name": "Jó név", **changes})
    assert list(caught.value.errors) == [field]
    assert field in str(caught.value)


def test_validate_reports_every_bad_field_at_once(doc_client: MiniCRMClient) -> None:
    schema = doc_client.schemas.project(10)
    with pytest.raises(SchemaValidationError) as caught:
        schema.validate(
            {"AutoSalesV3_IsHot": "Talán", "VarhatoArbevetel": "sok", "Name": "ok"}, creating=False
        )
    assert set(caught.value.errors) == {"AutoSalesV3_IsHot", "VarhatoArbevetel"}
    with pytest.raises(SchemaValidationError) as missing:
        schema.validate({"CategoryId": 10}, creating=True)
    assert set(missing.value.errors) == {"Name"}
    assert schema.validate({"CategoryId": 10, "Name": "Új"}, creating=True) == {
        "CategoryId": 10,
        "Name": "Új",
    }


def test_validate_bad_dates_of_a_date_field(demo_client: MiniCRMClient) -> None:
    schema = demo_client.schemas.project(20)
    for bad in ("2030-02-30", "jövő héten", "05/01/2030"):
        with pytest.raises(SchemaValidationError) as caught:
            schema.validate({"VarhatoLezaras": bad})
        assert list(caught.value.errors) == ["VarhatoLezaras"]


# -- validate agrees with the API -----------------------------------------------------------------


def test_values_validate_accepts_are_accepted_by_the_sandbox(doc_client: MiniCRMClient) -> None:
    card_id = new_card(doc_client)
    schema = doc_client.schemas.project(10)
    cleaned = schema.validate(
        {
            "AutoSalesV3_Qualification": "nem célcsoport",
            "StatusId": "Feldolgozásra vár",
            "UserId": "Szabó Éva",
            "VarhatoArbevetel": " 42000 ",
            "KovetkezoHivasIdpontja": "2030-01-02T09:30",
            "Szerzodes": "https://files.example.com/szerzodes.pdf",
            "Name": "Validált kártya",
        }
    )
    assert doc_client.projects.update(card_id, cleaned) == card_id
    card = doc_client.projects.get(card_id)
    assert card.fields["AutoSalesV3_Qualification"] == "Nem célcsoport"
    assert card.status.name == "Feldolgozásra vár"
    assert card.user.name == "Szabó Éva"
    assert card.fields["VarhatoArbevetel"] == 42000
    assert card.fields["KovetkezoHivasIdpontja"] == "2030-01-02 09:30:00"
    assert card.fields["Szerzodes"] == "https://files.example.com/szerzodes.pdf"
    assert card.name == "Validált kártya"


def test_a_card_validate_accepts_is_created_in_the_demo(logged_client: MiniCRMClient) -> None:
    schema = logged_client.schemas.project(20)
    cleaned = schema.validate(
        {
            "CategoryId": 20,
            "Name": "Validált demo kártya",
            "Forras": "kiállítás",
            "Erdeklodes": ["Projektmenedzsment", "CRM"],
            "ForroLead": True,
            "VarhatoLezaras": date(2030, 5, 1),
            "KovetkezoHivas": "2030-04-01 10:00",
            "Valoszinuseg": "12,5",
            "VarhatoArbevetel": "900000",
            "Ajanlat": "https://files.example.com/ajanlat.pdf",
            "Megjegyzes": "x" * 1024,
        },
        creating=True,
    )
    card = logged_client.projects.get(logged_client.projects.create(cleaned))
    assert card.category_id == 20
    assert card.fields["Forras"] == "Kiállítás"
    assert sorted(card.fields["Erdeklodes"]) == ["CRM", "Projektmenedzsment"]
    assert card.fields["ForroLead"] == 1
    assert card.fields["VarhatoLezaras"] == "2030-05-01"
    assert card.fields["KovetkezoHivas"] == "2030-04-01 10:00:00"
    assert card.fields["Valoszinuseg"] == 12.5
    assert card.fields["VarhatoArbevetel"] == 900000
    assert len(card.fields["Megjegyzes"]) == 1024


DOC_REFUSED = [
    ("AutoSalesV3_Qualification", "Nincs ilyen"),
    ("StatusId", 999999),
    ("Name", "x" * 513),
    ("KovetkezoHivasIdpontja", "holnap"),
    ("VarhatoArbevetel", "sok"),
    ("Szerzodes", "nem egy url"),
    ("NoSuchField", "x"),
]
DEMO_REFUSED = [
    ("Erdeklodes", ["CRM", "Nincs ilyen"]),
    ("VarhatoLezaras", "2030-02-30"),
    ("ForroLead", "talán"),
    ("Valoszinuseg", "sok"),
    ("Megjegyzes", "x" * 1025),
]


@pytest.mark.parametrize(("field", "value"), DOC_REFUSED)
def test_values_the_sandbox_refuses_validate_refuses_first(
    doc_client: MiniCRMClient, field: str, value: Any
) -> None:
    card_id = new_card(doc_client)
    before = doc_client.projects.get(card_id)
    with pytest.raises(BadRequest):
        doc_client.projects.update(card_id, {field: value})
    assert doc_client.projects.get(card_id) == before
    with pytest.raises(SchemaValidationError) as caught:
        doc_client.schemas.project(10).validate({field: value})
    assert list(caught.value.errors) == [field]


@pytest.mark.parametrize(("field", "value"), DEMO_REFUSED)
def test_demo_values_the_sandbox_refuses_validate_refuses_first(
    logged_client: MiniCRMClient, field: str, value: Any
) -> None:
    card_id = logged_client.projects.search(category_id=20).items[0].id
    with pytest.raises(BadRequest):
        logged_client.projects.update(card_id, {field: value})
    with pytest.raises(SchemaValidationError) as caught:
        logged_client.schemas.project(20).validate({field: value})
    assert list(caught.value.errors) == [field]


# -- the cache ------------------------------------------------------------------------------------


def test_a_schema_is_fetched_once(private_demo: Sandbox, logged_client: MiniCRMClient) -> None:
    first = logged_client.schemas.project(20)
    second = logged_client.schemas.project(20)
    assert second == first
    logged_client.schemas.person()
    logged_client.schemas.person()
    assert schema_requests(private_demo) == ["/Api/R3/Schema/Project/20", "/Api/R3/Schema/Person"]
    logged_client.schemas.project(21)  # another module is another schema
    assert schema_requests(private_demo)[-1] == "/Api/R3/Schema/Project/21"


def test_refresh_drops_the_cached_schemas(
    private_demo: Sandbox, logged_client: MiniCRMClient
) -> None:
    logged_client.schemas.project(20)
    logged_client.schemas.person()
    assert len(schema_requests(private_demo)) == 2
    logged_client.schemas.refresh()
    logged_client.schemas.project(20)
    logged_client.schemas.person()
    assert schema_requests(private_demo) == [
        "/Api/R3/Schema/Project/20",
        "/Api/R3/Schema/Person",
        "/Api/R3/Schema/Project/20",
        "/Api/R3/Schema/Person",
    ]
    logged_client.schemas.project(20)
    assert len(schema_requests(private_demo)) == 4  # cached again


def test_refresh_of_one_schema_keeps_the_others(
    private_demo: Sandbox, logged_client: MiniCRMClient
) -> None:
    logged_client.schemas.project(20)
    logged_client.schemas.person()
    logged_client.schemas.refresh("Project/20")
    logged_client.schemas.person()
    logged_client.schemas.project(20)
    assert schema_requests(private_demo) == [
        "/Api/R3/Schema/Project/20",
        "/Api/R3/Schema/Person",
        "/Api/R3/Schema/Project/20",
    ]


# -- labels that look like ids ------------------------------------------------------------------

HOUSES = FieldSpec.from_schema(
    "Project", "Hazi", {"1": "2", "2": "3", "4": "5", "8": "4", "16": "7", "32": "8", "64": "9"}
)
FLOOR = FieldSpec.from_schema("Project", "Emelet", {"3": "5", "5": "6", "6": "3", "7": "9"})


def test_a_detail_value_is_read_as_labels_even_when_they_are_digits() -> None:
    assert (HOUSES.kind, FLOOR.kind) == ("multiselect", "select")
    # Real MiniCRM answers a multi-select as labels joined by commas; the sandbox as a list.
    assert HOUSES.display("3, 4, 5, 7, 8, 9") == ["3", "4", "5", "7", "8", "9"]
    assert HOUSES.display(["3", "4", "5"]) == ["3", "4", "5"]
    assert HOUSES.display("5") == ["5"]  # one label, not the bitmask 1 + 4
    assert HOUSES.clean("3, 4, 5, 7, 8, 9") == [2, 4, 8, 16, 32, 64]
    assert FLOOR.display("3") == "3"
    assert FLOOR.choice_key("3") == 6
    assert FLOOR.clean("3") == 6


def test_ids_are_ids_where_the_api_gives_ids() -> None:
    assert HOUSES.display(2 + 8) == ["3", "4"]  # a webhook's bitmask
    assert HOUSES.display([2, 8]) == ["3", "4"]  # a queued write's ids
    assert FLOOR.display(3) == "5"
    assert FLOOR.clean(3) == 3
    assert FLOOR.choice_key("7") == 7  # text that is no label is an id
    with pytest.raises(ValueError, match="not one of the choices"):
        FLOOR.clean("²")


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("Float", "NaN"),
        ("Float", "sNaN"),
        ("Float", "Infinity"),
        ("Float", "1e7000000"),
        ("Float", "1234567890123456"),
        ("Int", "1e7000000"),
        ("Int", "9" * 5000),
        ("Int", "²"),
        ("Int", 10**15),
    ],
)
def test_numbers_are_bounded_before_anything_is_stored(kind: str, value: Any) -> None:
    spec = FieldSpec.from_schema("Project", "Szam", kind)
    with pytest.raises(ValueError, match="number"):
        spec.clean(value)


@pytest.mark.parametrize(
    ("entity", "name", "kind", "value"),
    [
        ("Business", "Email", "Text(128)", "not-an-email"),
        ("Business", "Url", "Text(255)", "nem egy cím"),
        ("Person", "Phone", "Text(128)", "hívj fel"),
        ("Business", "YearlyRevenue", "Int", -1),
        ("Person", "Szuletesnap", "Date", "2999-01-01"),
        ("Business", "AlapitasDatuma", "Date", "2999-01-01"),
    ],
)
def test_values_their_meaning_refuses_are_refused(
    entity: str, name: str, kind: str, value: Any
) -> None:
    with pytest.raises(ValueError):
        FieldSpec.from_schema(entity, name, kind).clean(value)


def test_values_their_meaning_allows_are_kept() -> None:
    assert FieldSpec.from_schema("Business", "Url", "Text(255)").clean("www.minicrm.hu")
    assert FieldSpec.from_schema("Person", "Phone", "Text(128)").clean("+36 (20) 236-7532")
    assert FieldSpec.from_schema("Project", "Eredmeny", "Int").clean(-5) == -5
    assert FieldSpec.from_schema("Person", "Szuletesnap", "Date").clean("1980-02-03")
