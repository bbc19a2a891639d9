"""Authentication, the /{SystemId} path prefix, the Category endpoint and the JSON shape."""

from __future__ import annotations

import json

import pytest
import requests
from sandbox_checks import DOC_CATEGORIES, R3, ok_json, text_error


def test_wrong_credentials_are_401_like_the_document(sandbox_doc):
    # curl --user 12345:NemTudom -I -X GET ".../Api/R3/Category" -> HTTP/1.1 401 Unauthorized
    answer = requests.get(sandbox_doc.url(f"{R3}/Category"), auth=("12345", "NemTudom"), timeout=10)
    assert "Unauthorized" in text_error(answer, 401)


@pytest.mark.parametrize(
    "auth",
    [None, ("99999", "sandbox-api-key"), ("12345", ""), ("12345", "sandbox-api-key-x")],
    ids=["none", "wrong-system", "empty-key", "wrong-key"],
)
def test_missing_or_wrong_credentials_are_401(sandbox_doc, auth):
    for path in (f"{R3}/Category", f"{R3}/Contact/7506", "/Api/Order/44"):
        answer = requests.get(sandbox_doc.url(path), auth=auth, timeout=10)
        text_error(answer, 401)


def test_writes_with_wrong_credentials_are_401_and_change_nothing(sandbox_doc):
    before = ok_json(sandbox_doc.get(f"{R3}/Contact/7506"))
    answer = requests.put(
        sandbox_doc.url(f"{R3}/Contact/7506"),
        json={"Position": "Betörő"},
        auth=("12345", "NemTudom"),
        timeout=10,
    )
    text_error(answer, 401)
    assert ok_json(sandbox_doc.get(f"{R3}/Contact/7506")) == before


def test_category_lists_the_modules(sandbox_doc):
    answer = sandbox_doc.get(f"{R3}/Category")
    body = ok_json(answer)
    assert body == DOC_CATEGORIES
    # Compact and \u-escaped, like the document's raw output.
    assert b"\\u00c9rt\\u00e9kes\\u00edt\\u00e9s".lower() in answer.content.lower()
    compact = json.dumps(body, separators=(",", ":"), ensure_ascii=True)
    assert len(answer.content) == len(compact), answer.content


def test_category_detailed(sandbox_doc):
    body = ok_json(sandbox_doc.get(f"{R3}/Category", params={"Detailed": 1}))
    entries = list(body.values()) if isinstance(body, dict) else body
    assert {str(entry["Id"]): entry["Name"] for entry in entries} == DOC_CATEGORIES
    for entry in entries:
        assert {"Id", "OrderId", "Name", "Type"} <= set(entry), entry
        assert entry["Type"] in ("Generic", "HelpDesk"), entry


@pytest.mark.parametrize(
    "path",
    [
        f"{R3}/Category",
        f"{R3}/Contact?Email=norbert@minicrm.hu",
        f"{R3}/Contact/7506",
        f"{R3}/Schema/Project/10",
        f"{R3}/Project?MainContactId=7505",
        f"{R3}/Project/2056",
        f"{R3}/ProjectHistory/29592/Type=StatusHistory",
        f"{R3}/ToDoList/2001",
        f"{R3}/ToDo/1111",
        "/Api/Order/44",
    ],
)
def test_system_id_prefix_serves_the_same(sandbox_doc, path):
    plain = ok_json(sandbox_doc.get(path))
    prefixed = ok_json(sandbox_doc.get(f"/{sandbox_doc.system_id}{path}"))
    assert prefixed == plain


def test_system_id_prefix_in_url_with_credentials_like_the_document(sandbox_doc):
    # curl https://$SystemId:$ApiKey@r3.minicrm.hu/$SystemId/Api/R3/ProjectHistory/29592?...
    port = sandbox_doc.base_url.rsplit(":", 1)[1]
    url = f"http://12345:sandbox-api-key@127.0.0.1:{port}/12345{R3}/ProjectHistory/29592"
    body = ok_json(requests.get(url, params={"Type": "StatusHistory"}, timeout=10))
    assert "30027" in body["Results"]


def test_wrong_system_id_in_prefix_is_401(sandbox_doc):
    for path in (f"/54321{R3}/Category", f"/54321{R3}/Project/2056", "/54321/Api/Order/44"):
        text_error(sandbox_doc.get(path), 401)


def test_write_through_prefix_with_wrong_system_id_changes_nothing(sandbox_doc):
    before = ok_json(sandbox_doc.get(f"{R3}/Project/2056"))
    answer = sandbox_doc.put(f"/54321{R3}/Project/2056", json={"Name": "Nem szabadna"})
    text_error(answer, 401)
    assert ok_json(sandbox_doc.get(f"{R3}/Project/2056")) == before


def test_health_needs_no_credentials(sandbox_doc):
    answer = requests.get(sandbox_doc.url("/_sandbox/health"), timeout=10)
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "system_id": "12345", "seed": "doc"}


@pytest.mark.parametrize("path", ["/_sandbox/faults", "/_sandbox/requests", "/_sandbox/webhooks"])
def test_sandbox_endpoints_need_credentials(sandbox_doc, path):
    answer = requests.get(sandbox_doc.url(path), timeout=10)
    assert answer.status_code == 401
    answer = requests.get(sandbox_doc.url(path), auth=("12345", "wrong"), timeout=10)
    assert answer.status_code == 401
    assert sandbox_doc.get(path).status_code == 200


def test_unknown_path_is_404_plain_text(sandbox_doc):
    text_error(sandbox_doc.get(f"{R3}/NoSuchThing"), 404)
    text_error(sandbox_doc.get("/Api/R4/Category"), 404)
