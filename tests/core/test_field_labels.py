"""Field labels as administrators name them on the Settings page, and every page that names a
field (the card page, the change form, the changelist's columns and filters) in English and
Hungarian, against the doc sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from pytest_django.fixtures import Settings

from apps.core.models import FieldLabel
from apps.core.services import field_labels_save
from apps.writes.models import Write
from tests.conftest import Sandbox
from tests.viewsupport import (
    Node,
    dom,
    errors_of,
    form_data,
    logged_in,
    minicrm_away,
    mirror_console,
    mirror_fill,
)

pytestmark = pytest.mark.django_db

QUALIFICATION = "AutoSalesV3_Qualification"
SALES = 10  # the doc sandbox's sales module; card 2056 is one of its cards
CARD = 2056
DEFAULT = "Auto sales v3 qualification"  # the field's name made readable


@pytest.fixture
def admin_browser(admin_account: User, doc: Sandbox) -> Client:
    return logged_in(Client(), admin_account)


def in_hungarian(client: Client) -> Client:
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "hu"
    return client


def labels_form(client: Client, entity: str = str(SALES)) -> Node:
    response = client.get(f"/settings/?labels={entity}")
    assert response.status_code == 200
    return dom(response).by_id("field-labels-form")


def save_labels(client: Client, entity: str = str(SALES), **changes: Any) -> Any:
    return client.post("/settings/", form_data(labels_form(client, entity), **changes))


def card_field_name(client: Client, name: str = QUALIFICATION) -> str:
    page = dom(client.get(f"/cards/{CARD}/"))
    return page.by_id(f"field-{name}").find("th").text


def change_form_label(client: Client, name: str = QUALIFICATION) -> str:
    page = dom(client.get(f"/cards/{CARD}/change/"))
    return page.by_id(f"row-{name}").find("label").text.rstrip(":")


def changelist(client: Client) -> Node:
    response = client.get(f"/modules/{SALES}/")
    assert response.status_code == 200
    return dom(response)


def field_filter_label(page: Node, name: str = QUALIFICATION) -> str:
    return next(
        label for value, label, _ in page.find("select", id="id_field").options() if value == name
    )


def test_settings_list_the_module_s_fields_with_their_type_and_default_label(
    admin_browser: Client,
) -> None:
    form = labels_form(admin_browser)

    row = form.by_id(f"label-{QUALIFICATION}")
    cells = [td.text for td in row.find_all("td")]
    assert cells[:3] == [QUALIFICATION, "Dropdown", DEFAULT]
    for language in ("en", "hu"):
        assert row.find("input", name=f"{QUALIFICATION}__{language}").attrs.get("value", "") == ""
    # Companies and persons are offered too.
    page = dom(admin_browser.get("/settings/"))
    offered = [value for value, _l, _s in page.find("select", id="id_labels").options()]
    assert str(SALES) in offered and {"Business", "Person"} <= set(offered)


def test_an_admin_s_labels_name_the_field_in_english_and_in_hungarian(
    admin_browser: Client, user_client: Client
) -> None:
    saved = save_labels(
        admin_browser,
        **{
            f"{QUALIFICATION}__en": "Lead quality",
            f"{QUALIFICATION}__hu": "Lead minősége",
            "StatusId__en": "Stage",
            "StatusId__hu": "Szakasz",
        },
    )
    assert saved.status_code == 302
    assert saved["Location"] == f"/settings/?labels={SALES}"

    assert card_field_name(user_client) == "Lead quality"
    assert change_form_label(user_client) == "Lead quality"
    page = changelist(user_client)
    assert field_filter_label(page) == "Lead quality"
    assert page.by_id("column-status").text == "Stage"
    assert page.find("label", for_="id_status").text == "Stage"
    header = dom(user_client.get(f"/cards/{CARD}/")).by_id("card-status").parent
    assert header is not None and header.text.startswith("Stage:")

    in_hungarian(user_client)
    assert card_field_name(user_client) == "Lead minősége"
    assert change_form_label(user_client) == "Lead minősége"
    page = changelist(user_client)
    assert field_filter_label(page) == "Lead minősége"
    assert page.by_id("column-status").text == "Szakasz"


def test_an_english_label_alone_is_shown_in_hungarian_too(
    admin_browser: Client, hungarian: Client
) -> None:
    save_labels(admin_browser, **{f"{QUALIFICATION}__en": "Lead quality"})

    assert card_field_name(hungarian) == "Lead quality"


def test_a_blank_label_restores_the_default(admin_browser: Client, user_client: Client) -> None:
    field_labels_save(entity=str(SALES), labels={QUALIFICATION: ("Lead quality", "Minőség")})
    assert card_field_name(user_client) == "Lead quality"

    saved = save_labels(admin_browser, **{f"{QUALIFICATION}__en": "", f"{QUALIFICATION}__hu": ""})

    assert saved.status_code == 302
    assert not FieldLabel.objects.exists()
    assert card_field_name(user_client) == DEFAULT
    assert field_filter_label(changelist(user_client)) == DEFAULT


def test_saving_one_module_s_labels_leaves_the_others_alone(admin_browser: Client) -> None:
    field_labels_save(entity="Business", labels={"Name": ("Company name", "Cégnév")})

    save_labels(admin_browser, **{f"{QUALIFICATION}__en": "Lead quality"})

    assert set(FieldLabel.objects.values_list("entity", "field_name", "label_en", "label_hu")) == {
        ("Business", "Name", "Company name", "Cégnév"),
        (str(SALES), QUALIFICATION, "Lead quality", ""),
    }


@pytest.mark.parametrize(
    "bad",
    ["x" * 10_000, "Lead\x00quality", "two\nlines"],
    ids=["10000 characters", "NUL", "line break"],
)
def test_a_bad_label_is_refused_next_to_its_field_and_nothing_is_stored(
    admin_browser: Client, bad: str
) -> None:
    answer = save_labels(admin_browser, **{f"{QUALIFICATION}__hu": bad, "StatusId__en": "Stage"})

    assert answer.status_code == 400
    page = dom(answer)
    row = page.by_id(f"label-{QUALIFICATION}")
    assert errors_of(row)
    assert not errors_of(page.by_id("label-StatusId"))
    assert not FieldLabel.objects.exists()


def test_a_too_long_label_says_how_long_it_may_be(admin_browser: Client) -> None:
    answer = save_labels(admin_browser, **{f"{QUALIFICATION}__en": "x" * 10_000})

    assert errors_of(dom(answer).by_id(f"label-{QUALIFICATION}")) == [
        "Ensure this value has at most 100 characters (it has 10000)."
    ]


def test_a_control_character_is_named_in_hungarian(admin_browser: Client) -> None:
    in_hungarian(admin_browser)

    answer = save_labels(admin_browser, **{f"{QUALIFICATION}__en": "a\x00b"})

    assert errors_of(dom(answer).by_id(f"label-{QUALIFICATION}")) == [
        "A címke nem tartalmazhat vezérlőkaraktert (sortörést, tabulátort, NUL-t)."
    ]


def test_the_hungarian_page_round_trips_the_labels_unchanged(admin_browser: Client) -> None:
    labels = {
        QUALIFICATION: ("Lead quality “VIP”", "Árvíztűrő tükörfúrógép <b>"),
        "StatusId": ("", "Státusz & fázis"),
    }
    field_labels_save(entity=str(SALES), labels=labels)
    before = set(FieldLabel.objects.values_list("field_name", "label_en", "label_hu", "updated_at"))
    in_hungarian(admin_browser)

    form = labels_form(admin_browser)
    assert (
        form.find("input", name=f"{QUALIFICATION}__hu").attrs["value"] == labels[QUALIFICATION][1]
    )
    saved = admin_browser.post("/settings/", form_data(form))

    assert saved.status_code == 302
    after = set(FieldLabel.objects.values_list("field_name", "label_en", "label_hu", "updated_at"))
    assert after == before


def test_an_unknown_entity_is_refused_with_a_message(admin_browser: Client) -> None:
    data = form_data(labels_form(admin_browser), entity="99999", **{f"{QUALIFICATION}__en": "X"})

    answer = admin_browser.post("/settings/", data)

    assert answer.status_code == 400
    assert "There are no such fields" in answer.content.decode()
    assert not FieldLabel.objects.exists()


def test_non_administrators_can_neither_open_nor_post_the_labels(
    user_client: Client, doc: Sandbox
) -> None:
    assert user_client.get(f"/settings/?labels={SALES}").status_code == 403
    answer = user_client.post(
        "/settings/", {"entity": str(SALES), f"{QUALIFICATION}__en": "Lead quality"}
    )

    assert answer.status_code == 403
    assert not FieldLabel.objects.exists()


def test_a_page_reads_the_labels_once_however_many_fields_it_names(
    admin_browser: Client, user_client: Client
) -> None:
    field_labels_save(
        entity=str(SALES), labels={QUALIFICATION: ("Lead quality", ""), "Name": ("Title", "")}
    )

    with CaptureQueriesContext(connection) as queries:
        response = user_client.get(f"/cards/{CARD}/change/")

    assert response.status_code == 200
    assert dom(response).by_id("row-Name").find("label").text.rstrip(":") == "Title"
    reads = [q["sql"] for q in queries.captured_queries if "core_fieldlabel" in q["sql"]]
    assert len(reads) == 1


def test_a_card_s_history_names_the_changed_field_by_its_label(
    admin_browser: Client, user_client: Client, doc: Sandbox
) -> None:
    field_labels_save(entity=str(SALES), labels={QUALIFICATION: ("Lead quality", "Minőség")})
    form = dom(user_client.get(f"/cards/{CARD}/change/")).find("form", class_="schema-form")
    user_client.post(f"/cards/{CARD}/change/", form_data(form, **{QUALIFICATION: "3102"}))
    assert Write.objects.filter(target_id=CARD).exists()

    history = dom(user_client.get(f"/cards/{CARD}/")).by_id("card-history").text
    assert "Lead quality: VIP → Célcsoport" in history
    in_hungarian(user_client)
    history = dom(user_client.get(f"/cards/{CARD}/")).by_id("card-history").text
    assert "Minőség: VIP → Célcsoport" in history


def test_a_person_s_page_names_its_fields_by_their_labels(
    admin_browser: Client, user_client: Client
) -> None:
    save_labels(admin_browser, "Person", Email__en="Work email", Email__hu="Munkahelyi email")
    assert FieldLabel.objects.filter(entity="Person", field_name="Email").exists()

    def row_names() -> list[str]:
        page = dom(user_client.get("/contacts/7506/"))
        return [th.text for th in page.find("table", class_="fields").find_all("th")]

    assert "Work email" in row_names()
    in_hungarian(user_client)
    assert "Munkahelyi email" in row_names()


@pytest.fixture
def on_the_mirror(settings: Settings, sandbox_doc: Sandbox, redis_url: str) -> Iterator[Sandbox]:
    """The console on a mirror filled from the doc sandbox, MiniCRM away afterwards."""
    for sandbox in mirror_console(settings, sandbox_doc, redis_url):
        mirror_fill()
        minicrm_away(settings)
        yield sandbox


def test_on_the_mirror_labels_are_named_and_shown_without_asking_minicrm(
    on_the_mirror: Sandbox, admin_account: User, user_client: Client
) -> None:
    admin_browser = logged_in(Client(), admin_account)
    saved = save_labels(
        admin_browser, **{f"{QUALIFICATION}__en": "Lead quality", "UserId__hu": "Felelős"}
    )
    assert saved.status_code == 302

    page = changelist(user_client)
    assert field_filter_label(page) == "Lead quality"
    assert card_field_name(user_client) == "Lead quality"
    in_hungarian(user_client)
    page = changelist(user_client)
    assert page.by_id("column-owner").text == "Felelős"
    assert page.find("label", for_="id_owner").text == "Felelős"
