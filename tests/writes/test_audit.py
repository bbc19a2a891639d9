"""History and audit: a card's and a contact's History merge MiniCRM's status history with
every change made through the console (who, when, which fields from what to what, how it
ended); the audit page filters all of it and exports it."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from apps.writes.models import Write
from tests.conftest import Sandbox
from tests.viewsupport import admin_account as admin_account
from tests.viewsupport import doc as doc
from tests.viewsupport import dom, form_data, logged_in, send
from tests.viewsupport import staff_user as staff_user
from tests.viewsupport import user_client as user_client

pytestmark = pytest.mark.django_db

QUALIFICATION = "AutoSalesV3_Qualification"


def new_card(sandbox: Sandbox, **values: object) -> int:
    body = {"CategoryId": 10, "Name": f"Napló {uuid.uuid4().hex[:8]}", "ContactId": 7506}
    answer = sandbox.put("/Api/R3/Project/", json={**body, **values})
    assert answer.status_code == 200, answer.text
    return int(answer.json()["Id"])


def change_qualification(client: Client, card_id: int, value: str) -> Write:
    form = dom(client.get(f"/cards/{card_id}/change/")).find("form", class_="schema-form")
    client.post(f"/cards/{card_id}/change/", form_data(form, **{QUALIFICATION: value}))
    return Write.objects.filter(target_id=card_id).latest("id")


def history_rows(page) -> list[list[str]]:
    rows = page.find("table", class_="history").find("tbody").find_all("tr")
    return [[td.text for td in row.find_all("td")] for row in rows]


def test_a_card_s_history_shows_console_changes_and_minicrm_s_status_lines(
    user_client: Client, doc: Sandbox
) -> None:
    card_id = new_card(doc, StatusId=2620, **{QUALIFICATION: 3105})
    assert doc.put(f"/Api/R3/Project/{card_id}", json={"StatusId": 2621}).status_code == 200
    write = change_qualification(user_client, card_id, "3101")
    assert send(write).state == Write.State.DONE

    rows = history_rows(dom(user_client.get(f"/cards/{card_id}/")).by_id("card-history"))

    mine = [row for row in rows if row[1] == "Edit"]
    assert len(mine) == 1
    assert "Auto sales v3 qualification: Hideg → VIP" in mine[0][2]
    assert mine[0][3] == "done"
    assert any("Érdeklődő → Ajánlat kiküldve" in row[2] for row in rows)


def test_a_failed_change_shows_in_the_history_with_minicrm_s_reason(
    user_client: Client, doc: Sandbox
) -> None:
    card_id = new_card(doc)
    Write.objects.create(
        kind=Write.Kind.PROJECT_UPDATE,
        target_type="project",
        target_id=card_id,
        payload={QUALIFICATION: 3102},
        state=Write.State.FAILED,
        last_error="Invalid value",
    )

    rows = history_rows(dom(user_client.get(f"/cards/{card_id}/")).by_id("card-history"))

    assert rows[0][3].startswith("failed") and "Invalid value" in rows[0][3]
    assert "Auto sales v3 qualification: Célcsoport" in rows[0][2]


def test_the_audit_page_is_for_administrators(
    client: Client, doc: Sandbox, staff_user: User
) -> None:
    assert logged_in(client, staff_user).get("/audit/").status_code == 403


def test_the_audit_page_filters_by_person_object_module_and_date_and_exports(
    client: Client, doc: Sandbox, staff_user: User, admin_account: User
) -> None:
    card_id = new_card(doc, **{QUALIFICATION: 3105})
    change_qualification(logged_in(client, staff_user), card_id, "3101")
    other = Write.objects.create(
        kind=Write.Kind.CONTACT_UPDATE,
        target_type="contact",
        target_id=7506,
        payload={"Phone": "06 1 234 5678"},
        requested_by=admin_account,
    )
    old = Write.objects.create(
        kind=Write.Kind.PROJECT_UPDATE,
        target_type="project",
        target_id=card_id,
        payload={"Name": "Régi"},
        requested_by=admin_account,
    )
    Write.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    admin = logged_in(client, admin_account)

    def listed(**params: str) -> list[str]:
        page = dom(admin.get("/audit/", params))
        rows = page.by_id("audit-list").find("tbody").find_all("tr")
        return [row.find_all("td")[2].text for row in rows if row.find_all("td")[2:]]

    assert len(listed()) == 3
    assert listed(person=str(staff_user.pk)) == [f"card #{card_id}"]
    assert listed(object_type="contact") == ["contact #7506"]
    assert listed(object_id=str(card_id)) == [f"card #{card_id}", f"card #{card_id}"]
    since = (timezone.localdate() - timedelta(days=7)).isoformat()
    assert sorted(listed(since=since)) == sorted([f"card #{card_id}", "contact #7506"])
    until = (timezone.localdate() - timedelta(days=30)).isoformat()
    assert listed(until=until) == [f"card #{card_id}"]
    assert listed(since="nonsense")  # a bad date is left out, with its error shown
    assert other.pk

    exported = admin.get("/audit/", {"object_id": str(card_id), "format": "csv"})
    rows = list(csv.reader(io.StringIO(exported.getvalue().decode().removeprefix("\ufeff"))))
    assert rows[0] == ["When", "Who", "Object", "What", "Changes", "Result", "Error"]
    assert len(rows) == 3
    assert "Auto sales v3 qualification: Hideg → VIP" in rows[1][4]


def test_the_audit_page_in_hungarian(client: Client, doc: Sandbox, admin_account: User) -> None:
    admin = logged_in(client, admin_account)
    admin.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "hu"

    page = dom(admin.get("/audit/"))

    assert page.find("h1").text == "Napló"
    assert page.by_id("audit-list").find("th").text == "Mikor"
