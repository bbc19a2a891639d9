"""Schema endpoints: field names with their types, and dropdown options as {id: label}."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sandbox_checks import R3, ok_json, text_error

SIMPLE_TYPE = re.compile(r"^(Int|Float|Text\(\d+\)|Date|DateTime|Boolean|File(\(\w+\))?)$")


def assert_schema_shape(schema: dict[str, Any]) -> None:
    assert schema, "a schema lists fields"
    for name, kind in schema.items():
        if isinstance(kind, dict):
            assert all(key.isdigit() for key in kind), (name, kind)
            assert all(isinstance(label, str) for label in kind.values()), (name, kind)
        else:
            assert isinstance(kind, str), (name, kind)
            assert SIMPLE_TYPE.match(kind), (name, kind)


def test_person_schema_like_the_document(sandbox_doc):
    schema = ok_json(sandbox_doc.get(f"{R3}/Schema/Person"))
    assert_schema_shape(schema)
    expected = {
        "Id": "Int",
        "BusinessId": "Int",
        "FirstName": "Text(255)",
        "LastName": "Text(255)",
        "Email": "Text(128)",
        "Phone": "Text(128)",
        "KedvencEtele": {"2001": "Alma", "2002": "Narancs", "2003": "Sajt", "2004": "Kolbász"},
    }
    assert {key: schema.get(key) for key in expected} == expected


def test_business_schema(sandbox_doc):
    schema = ok_json(sandbox_doc.get(f"{R3}/Schema/Business"))
    assert_schema_shape(schema)
    assert schema["Id"] == "Int"
    assert schema["Name"].startswith("Text(")
    assert "FirstName" not in schema


def test_project_schema_of_the_sales_module(sandbox_doc):
    schema = ok_json(sandbox_doc.get(f"{R3}/Schema/Project/10"))
    assert_schema_shape(schema)
    qualification = schema["AutoSalesV3_Qualification"]
    assert isinstance(qualification, dict)
    assert {"VIP", "Célcsoport"} <= set(qualification.values())
    assert schema["Id"] == "Int"
    # Every custom field the document's card detail shows is described.
    for name in ("AutoSalesV3_IsHot", "VarhatoArbevetel", "KovetkezoHivasIdpontja", "Szerzodes"):
        assert name in schema, name
    assert schema["Szerzodes"].startswith("File")


@pytest.mark.parametrize("category", ["3", "5", "6", "7", "8", "9"])
def test_every_module_has_a_schema(sandbox_doc, category):
    assert_schema_shape(ok_json(sandbox_doc.get(f"{R3}/Schema/Project/{category}")))


@pytest.mark.parametrize("path", ["Schema/Project/99999", "Schema/Nothing", "Schema/Project/abc"])
def test_unknown_schema_is_404(sandbox_doc, path):
    text_error(sandbox_doc.get(f"{R3}/{path}"), 404)
