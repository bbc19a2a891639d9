"""The handler form checks what a handler names when it is saved: its module, the fields it
watches and sets (against MiniCRM's schema, here a private doc sandbox), the Python function it
runs (WEBHOOK_PYTHON_FUNCTIONS) and the address it forwards to (public addresses only unless
WEBHOOK_FORWARD_ALLOW_PRIVATE). A refusal is an error next to its field; nothing is saved and
nothing is a 500."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from pytest_django.fixtures import Settings

from apps.webhooks.models import Handler
from tests.conftest import free_port
from tests.viewsupport import dom, errors_of, form_data, logged_in
from tests.webhooks.support import RECORDER
from tests.writes.support import Crm

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client: Client, admin_account: User, crm: Crm) -> Client:
    return logged_in(client, admin_account)


def save(client: Client, **changes: Any) -> Any:
    form = dom(client.get("/webhooks/add/")).find("form", class_="schema-form")
    values = {
        "name": "Státusz",
        "slug": "statusz",
        "type": "Project",
        "category_id": "10",
        "fields_text": "StatusId",
        **changes,
    }
    return client.post("/webhooks/add/", form_data(form, **values))


def refused(answer: Any, field: str) -> list[str]:
    """The errors next to one field of a refused form (nothing was saved)."""
    assert answer.status_code == 200
    assert not Handler.objects.exists()
    return errors_of(dom(answer).by_id(f"row-{field}"))


def test_a_handler_with_existing_module_fields_and_actions_is_saved(admin_client: Client) -> None:
    answer = save(
        admin_client,
        fields_text="StatusId, UserId",
        **{
            "actions-0-kind": "set_fields",
            "actions-0-values": '{"ReferenceId": "x"}',
            "actions-1-kind": "python",
            "actions-1-path": RECORDER,
        },
    )

    assert answer.status_code == 302
    assert Handler.objects.get().fields == ["StatusId", "UserId"]


def test_the_fields_of_other_actions_are_neither_checked_nor_kept(
    admin_client: Client, settings: Settings
) -> None:
    settings.WEBHOOK_FORWARD_ALLOW_PRIVATE = True  # the forward's address needs no DNS
    # Without JavaScript the page shows every action's fields; what the others hold is ignored.
    others = {
        "comment": "left over",
        "owner": "not a number",
        "days": "-5",
        "values": "not JSON",
        "url": "not a url",
        "path": "os.system",
    }
    answer = save(
        admin_client,
        **{f"actions-0-{name}": value for name, value in others.items() if name != "url"},
        **{"actions-0-kind": "forward", "actions-0-url": "http://10.1.2.3/hook"},
        **{f"actions-1-{name}": value for name, value in others.items() if name != "path"},
        **{"actions-1-kind": "python", "actions-1-path": RECORDER},
    )

    assert answer.status_code == 302
    actions = Handler.objects.get().actions.order_by("position")
    assert [(a.kind, a.config) for a in actions] == [
        ("forward", {"url": "http://10.1.2.3/hook"}),
        ("python", {"path": RECORDER}),
    ]


def test_an_empty_action_ignores_whatever_its_fields_hold(admin_client: Client) -> None:
    answer = save(admin_client, **{"actions-0-kind": "", "actions-0-url": "not a url"})

    assert answer.status_code == 302
    assert not Handler.objects.get().actions.exists()


# -- module and fields ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("999", "MiniCRM has no module 999."),
        ("²", "Enter a whole number."),
        (str(2**64 + 1), "Ensure this value is less than or equal to 9223372036854775807."),
        ("0", "Ensure this value is greater than or equal to 1."),
    ],
)
def test_a_module_minicrm_does_not_have_or_a_bad_number_is_refused(
    admin_client: Client, value: str, error: str
) -> None:
    assert refused(save(admin_client, category_id=value), "category_id") == [error]


def test_fields_the_module_does_not_have_are_refused(admin_client: Client) -> None:
    answer = save(admin_client, fields_text="StatusId, Nincs, KedvencEtele")

    assert refused(answer, "fields_text") == [
        "MiniCRM has no such field here: Nincs, KedvencEtele."
    ]


def test_a_handler_of_any_module_may_watch_a_field_of_one_of_them(admin_client: Client) -> None:
    assert save(admin_client, category_id="", fields_text="DeliveryExtraInfo").status_code == 302


def test_contact_handlers_are_checked_against_the_contact_schemas(admin_client: Client) -> None:
    answer = save(admin_client, type="Contact", category_id="", fields_text="Email, StatusId")
    assert refused(answer, "fields_text") == ["MiniCRM has no such field here: StatusId."]

    with_module = save(admin_client, type="Contact", category_id="10", fields_text="Email")
    assert refused(with_module, "category_id") == [
        "A contact handler has no module: leave it empty."
    ]


def test_a_handler_cannot_be_checked_while_minicrm_is_away(
    admin_client: Client, settings: Settings
) -> None:
    settings.MINICRM_BASE_URL = f"http://127.0.0.1:{free_port()}"
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # no cached modules either

    answer = save(admin_client)

    assert refused(answer, "category_id") == [
        "MiniCRM did not answer, so the module and fields cannot be checked. Try again in a minute."
    ]


@pytest.mark.parametrize(
    ("values", "error"),
    [
        ('{"Nincs": "x"}', "Nincs: MiniCRM has no such field."),
        ('{"StatusId": "Nincs ilyen"}', "StatusId:"),
        ('{"ReferenceId": {"a": 1}}', "Each value is text, a number, true/false or a list"),
        ('{"ReferenceId": [[1]]}', "Each value is text, a number, true/false or a list"),
        ("[" * 4000 + "]" * 4000, "Give the fields as a JSON object."),
        ('{"a":' * 1600 + "1" + "}" * 1600, "Give the fields as a JSON object."),
        ("not json", "Give the fields as a JSON object."),
        ('{"a": "' + "x" * 10_000 + '"}', "Ensure this value has at most 10000 characters"),
    ],
    ids=[
        "unknown field",
        "bad value",
        "object value",
        "nested list",
        "deep list",
        "deep object",
        "not json",
        "too long",
    ],
)
def test_set_fields_values_the_schema_refuses_are_refused(
    admin_client: Client, values: str, error: str
) -> None:
    answer = save(admin_client, **{"actions-0-kind": "set_fields", "actions-0-values": values})

    errors = refused(answer, "actions-0-values")
    assert len(errors) == 1 and error in errors[0]


# -- the Python function ----------------------------------------------------------------------


def test_only_allowed_functions_are_offered(admin_client: Client, settings: Settings) -> None:
    settings.WEBHOOK_PYTHON_FUNCTIONS = [RECORDER]

    select = dom(admin_client.get("/webhooks/add/")).find("select", name="actions-0-path")

    assert [value for value, _label, _selected in select.options()] == ["", RECORDER]


@pytest.mark.parametrize("path", ["os.system", "subprocess.run", "tests.webhooks.nowhere.x"])
def test_a_function_that_is_not_allowed_is_refused(admin_client: Client, path: str) -> None:
    answer = save(admin_client, **{"actions-0-kind": "python", "actions-0-path": path})

    assert refused(answer, "actions-0-path") == [
        f"{path} is not a function WEBHOOK_PYTHON_FUNCTIONS allows: only the functions listed "
        "there can run."
    ]


def test_an_allowed_function_that_does_not_exist_is_refused(
    admin_client: Client, settings: Settings
) -> None:
    settings.WEBHOOK_PYTHON_FUNCTIONS = [
        "tests.webhooks.nowhere.do_it",
        "tests.webhooks.automations.RUNS_KEY",
    ]

    missing = save(
        admin_client,
        **{"actions-0-kind": "python", "actions-0-path": "tests.webhooks.nowhere.do_it"},
    )
    not_a_function = save(
        admin_client,
        **{"actions-0-kind": "python", "actions-0-path": "tests.webhooks.automations.RUNS_KEY"},
    )

    assert refused(missing, "actions-0-path") == [
        "tests.webhooks.nowhere.do_it cannot be run: No module named 'tests.webhooks.nowhere'"
    ]
    assert refused(not_a_function, "actions-0-path") == [
        "tests.webhooks.automations.RUNS_KEY cannot be run: tests.webhooks.automations.RUNS_KEY "
        "is not a function."
    ]


# -- the forward address ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("http://127.0.0.1:9/x", "127.0.0.1 is a loopback address (127.0.0.1)"),
        ("http://localhost/x", "localhost is a loopback address"),
        ("http://[::1]/x", "::1 is a loopback address (::1)"),
        ("http://10.1.2.3/x", "10.1.2.3 is a private address (10.1.2.3)"),
        ("http://192.168.0.10/x", "192.168.0.10 is a private address"),
        ("http://169.254.169.254/latest", "169.254.169.254 is a link-local address"),
        ("http://[::ffff:127.0.0.1]/x", "is a loopback address"),
        ("http://0.0.0.0/x", "is a"),
        ("http://240.0.0.1/x", "240.0.0.1 is a reserved address"),
        ("http://no-such-host.invalid/x", "no-such-host.invalid cannot be resolved."),
    ],
)
def test_a_forward_to_an_address_that_is_not_public_is_refused(
    admin_client: Client, url: str, error: str
) -> None:
    answer = save(admin_client, **{"actions-0-kind": "forward", "actions-0-url": url})

    errors = refused(answer, "actions-0-url")
    assert len(errors) == 1 and error in errors[0], errors


def test_a_setting_allows_forwards_to_private_addresses(
    admin_client: Client, settings: Settings
) -> None:
    settings.WEBHOOK_FORWARD_ALLOW_PRIVATE = True

    answer = save(
        admin_client, **{"actions-0-kind": "forward", "actions-0-url": "http://10.1.2.3/"}
    )

    assert answer.status_code == 302


def test_set_fields_of_a_handler_of_any_module_are_checked_by_name(admin_client: Client) -> None:
    answer = save(
        admin_client,
        category_id="",
        **{"actions-0-kind": "set_fields", "actions-0-values": '{"Nincs": "x", "Name": "y"}'},
    )

    assert refused(answer, "actions-0-values") == ["Nincs: MiniCRM has no such field."]


@pytest.mark.parametrize("total", ["21", "100000", "²", ""])
def test_a_forged_number_of_actions_is_refused_not_a_500(admin_client: Client, total: str) -> None:
    answer = save(admin_client, **{"actions-TOTAL_FORMS": total})

    assert answer.status_code == 200
    assert not Handler.objects.exists()
    assert dom(answer).has(class_="errornote")
