"""Every error class, raised by the client against a real sandbox, and the API key kept out of
every message, repr and log line.

Most tests run on a private doc sandbox started with its own API key, so the key is a marker
that cannot appear anywhere by chance, and so its faults and request log are ours alone.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from itertools import pairwise
from typing import Any

import pytest
import redis

from minicrm import (
    BadRequest,
    ConnectionFailed,
    MethodNotAllowed,
    MiniCRMClient,
    MiniCRMError,
    NotFound,
    RateLimited,
    RequestTimeout,
    ServerError,
    Unauthorized,
)
from minicrm.ratelimit import RedisBudget
from tests.conftest import Sandbox, SandboxStarter, free_port
from tests.minicrm.conftest import make_client

SECRET = "s3cret-key-xyz"
WRONG_KEY = "wr0ng-key-qrs"


# -- fixtures and helpers -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def secret_sandbox(module_sandbox_factory: SandboxStarter) -> Sandbox:
    sandbox = module_sandbox_factory("doc", extra_args=("--api-key", SECRET))
    sandbox.api_key = SECRET
    sandbox.session.auth = (sandbox.system_id, SECRET)
    return sandbox


def set_faults(sandbox: Sandbox, **faults: float) -> None:
    answer = sandbox.post("/_sandbox/faults", json=faults)
    assert answer.status_code == 200, answer.text


def logged(sandbox: Sandbox) -> list[dict[str, Any]]:
    answer = sandbox.get("/_sandbox/requests")
    assert answer.status_code == 200, answer.text
    return list(answer.json())


@pytest.fixture
def secret(secret_sandbox: Sandbox) -> Iterator[Sandbox]:
    """The module's sandbox with no faults and an empty request log, reset again afterwards."""
    set_faults(secret_sandbox, latency=0, error_rate=0, force_429=0)
    assert secret_sandbox.delete("/_sandbox/requests").status_code == 200
    yield secret_sandbox
    set_faults(secret_sandbox, latency=0, error_rate=0, force_429=0)


@pytest.fixture
def client(secret: Sandbox, redis_client: redis.Redis) -> Iterator[MiniCRMClient]:
    client = make_client(secret, redis_client, backoff=0.01)
    yield client
    client.close()


def assert_key_hidden(error: BaseException, client: MiniCRMClient, key: str = SECRET) -> None:
    for text in (str(error), repr(error), repr(client), repr(error.args)):
        assert key not in text, text
    assert key not in repr(vars(error))


def raised(call: Any, error_class: type[MiniCRMError]) -> Any:
    with pytest.raises(error_class) as caught:
        call()
    return caught.value


class RecordingBudget(RedisBudget):
    """The shared Redis budget, noting every cool-down the client asks for."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cool_downs: list[float] = []

    def cool_down(self, seconds: float) -> None:
        self.cool_downs.append(seconds)
        super().cool_down(seconds)


# -- 400 BadRequest -------------------------------------------------------------------------------


def test_invalid_dropdown_value_names_the_field_sent(client: MiniCRMClient) -> None:
    error = raised(
        lambda: client.projects.update(2056, {"AutoSalesV3_Qualification": "Nincs ilyen"}),
        BadRequest,
    )
    assert error.field == "AutoSalesV3_Qualification"
    assert error.message == "Invalid value 'Nincs ilyen' for the Lead qualification field."
    assert (error.status, error.method, error.path) == (400, "PUT", "/Api/R3/Project/2056")
    assert str(error) == f"PUT /Api/R3/Project/2056: {error.message}"
    assert_key_hidden(error, client)
    assert client.projects.get(2056).fields["AutoSalesV3_Qualification"] == "VIP"


def test_invalid_dropdown_value_with_an_accented_label(demo_client: MiniCRMClient) -> None:
    card_id = demo_client.projects.search(category_id=20).items[0].id
    error = raised(lambda: demo_client.projects.update(card_id, {"Forras": "Rádió"}), BadRequest)
    assert "Forrás" in error.message
    assert error.field == "Forras"


def test_invalid_dropdown_value_names_its_field_when_another_field_has_the_same_value(
    client: MiniCRMClient,
) -> None:
    # "Nem" is a valid Hot lead answer but not a Sales status: a form saving both gets one error.
    error = raised(
        lambda: client.projects.update(
            2056, {"AutoSalesV3_IsHot": "Nem", "AutoSalesV3_SalesStatus": "Nem"}
        ),
        BadRequest,
    )
    assert "Sales status" in error.message
    assert error.field == "AutoSalesV3_SalesStatus"


def test_unknown_field_names_that_field(client: MiniCRMClient) -> None:
    error = raised(lambda: client.contacts.update(7506, {"KedvencItala": "Tea"}), BadRequest)
    assert error.field == "KedvencItala"
    assert error.message == "Unknown field 'KedvencItala'."
    create = raised(
        lambda: client.projects.create({"CategoryId": 10, "Name": "x", "Szin": "kék"}), BadRequest
    )
    assert create.field == "Szin"
    assert_key_hidden(error, client)


@pytest.mark.parametrize(
    ("category_id", "field", "label"),
    [(20, "Forras", "Forrás"), (21, "Prioritas", "Prioritás"), (24, "Esemeny", "Esemény")],
)
def test_missing_required_field_on_create_names_the_field(
    demo_client: MiniCRMClient, category_id: int, field: str, label: str
) -> None:
    error = raised(
        lambda: demo_client.projects.create({"CategoryId": category_id, "Name": "Hiányos"}),
        BadRequest,
    )
    assert error.message == f"The {label} field is required."
    assert error.field == field


def test_missing_name_on_create_names_the_field(client: MiniCRMClient) -> None:
    error = raised(lambda: client.projects.create({"CategoryId": 10}), BadRequest)
    assert error.field == "Name"
    person = raised(lambda: client.contacts.create({"Type": "Person", "LastName": "X"}), BadRequest)
    assert person.field == "FirstName"


def test_too_long_text_names_the_field(client: MiniCRMClient) -> None:
    error = raised(lambda: client.projects.update(2056, {"Name": "x" * 513}), BadRequest)
    assert error.field == "Name"
    assert "At most 512 characters" in error.message


@pytest.mark.parametrize(
    ("card_id", "field"),
    [(206, "SzallitasExtraInfo"), (206, "DeliveryExtraInfo")],
)
def test_too_long_custom_text_names_the_field(
    client: MiniCRMClient, card_id: int, field: str
) -> None:
    error = raised(lambda: client.projects.update(card_id, {field: "x" * 1025}), BadRequest)
    assert "At most 1024 characters" in error.message
    assert error.field == field


def test_bad_datetime_names_the_field(client: MiniCRMClient) -> None:
    error = raised(
        lambda: client.projects.update(2056, {"KovetkezoHivasIdpontja": "holnap délben"}),
        BadRequest,
    )
    assert error.field == "KovetkezoHivasIdpontja"


def test_json_error_message_is_read(client: MiniCRMClient) -> None:
    error = raised(lambda: client.contacts.purge(7506), BadRequest)
    assert error.message == "The person is marked as the main contact on one or more cards."
    assert error.field is None
    assert '{"Message"' not in str(error)
    assert_key_hidden(error, client)


# -- 401, 404, 405 --------------------------------------------------------------------------------


def test_wrong_api_key_is_unauthorized_and_not_retried(
    secret: Sandbox, redis_client: redis.Redis
) -> None:
    client = MiniCRMClient(
        system_id=secret.system_id,
        api_key=WRONG_KEY,
        base_url=secret.base_url,
        budget=RedisBudget(redis_client, system_id=secret.system_id),
        backoff=0.01,
    )
    error = raised(lambda: client.contacts.get(7506), Unauthorized)
    assert error.status == 401
    assert "Unauthorized" in error.message
    assert [r["status"] for r in logged(secret)] == [401]
    assert_key_hidden(error, client, WRONG_KEY)
    assert_key_hidden(error, client, SECRET)
    client.close()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c: c.contacts.get(999999), "Contact 999999 not found."),
        (lambda c: c.projects.get(999999), "Project 999999 not found."),
        (lambda c: c.todos.get(999999), "ToDo 999999 not found."),
        (lambda c: c.orders.get(999999), "Order 999999 not found."),
        (lambda c: c.todos.list(999999), "Project 999999 not found."),
    ],
)
def test_unknown_ids_are_not_found(client: MiniCRMClient, call: Any, message: str) -> None:
    error = raised(lambda: call(client), NotFound)
    assert (error.status, error.message) == (404, message)
    assert_key_hidden(error, client)


def test_wrong_method_is_method_not_allowed(client: MiniCRMClient) -> None:
    error = raised(
        lambda: client.request("POST", "/Api/R3/ToDo/", body={"ProjectId": 2001}), MethodNotAllowed
    )
    assert (error.status, error.message) == (405, "A metódus nem engedélyezett!")
    assert_key_hidden(error, client)


def test_illegal_order_transition_is_method_not_allowed(client: MiniCRMClient) -> None:
    error = raised(lambda: client.orders.complete(44), MethodNotAllowed)
    assert error.status == 405
    assert "Draft" in error.message
    assert client.orders.get(44).status == "Draft"
    assert_key_hidden(error, client)


# -- 5xx ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("max_retries", [0, 2])
def test_server_errors_on_a_read_are_retried_then_raised(
    secret: Sandbox, redis_client: redis.Redis, max_retries: int
) -> None:
    client = make_client(secret, redis_client, backoff=0.01, max_retries=max_retries)
    set_faults(secret, error_rate=1.0)
    error = raised(lambda: client.contacts.get(7506), ServerError)
    assert error.status == 500
    requests_made = logged(secret)
    assert [(r["method"], r["path"], r["status"]) for r in requests_made] == [
        ("GET", "/Api/R3/Contact/7506", 500)
    ] * (max_retries + 1)
    assert_key_hidden(error, client)
    client.close()


def test_a_read_recovers_when_the_server_recovers(secret: Sandbox, client: MiniCRMClient) -> None:
    set_faults(secret, error_rate=1.0)
    raised(lambda: client.contacts.get(7506), ServerError)
    set_faults(secret, error_rate=0)
    assert client.contacts.get(7506).name == "Leskó Norbert"


@pytest.mark.parametrize(
    ("call", "method"),
    [
        (lambda c: c.contacts.update(7507, {"Phone": "06 1 234 5678"}), "PUT"),
        (lambda c: c.projects.create({"CategoryId": 10, "Name": "Egyszer"}), "PUT"),
        (lambda c: c.contacts.purge(7507), "GET"),  # a write sent as GET
        (lambda c: c.orders.finalize(44), "GET"),
    ],
)
def test_server_error_on_a_write_is_not_retried(
    secret: Sandbox, client: MiniCRMClient, call: Any, method: str
) -> None:
    set_faults(secret, error_rate=1.0)
    error = raised(lambda: call(client), ServerError)
    assert error.status == 500
    requests_made = logged(secret)
    assert [(r["method"], r["status"]) for r in requests_made] == [(method, 500)]
    assert_key_hidden(error, client)


# -- 429 ------------------------------------------------------------------------------------------


def test_rate_limited_past_the_deadline(secret: Sandbox, redis_client: redis.Redis) -> None:
    short = make_client(secret, redis_client, backoff=0.01, max_retries=3, deadline=0.5)
    set_faults(secret, force_429=10)
    started = time.monotonic()
    error = raised(lambda: short.contacts.get(7506), RateLimited)
    assert time.monotonic() - started < 1.0  # gave up at its deadline, not after the pause
    assert error.status == 429
    assert error.retry_after > 0
    assert short.budget.usage().cooling_down > 0  # the pause is shared through Redis
    assert [r["status"] for r in logged(secret)] == [429]
    assert_key_hidden(error, short)
    # Another client of the same system is paused too: it gives up without sending anything.
    other = make_client(secret, redis_client, deadline=0.2)
    raised(lambda: other.contacts.get(7505), RateLimited)
    assert len(logged(secret)) == 1
    short.close()
    other.close()


def test_rate_limited_after_every_retry_was_refused(
    secret: Sandbox, redis_client: redis.Redis
) -> None:
    client = make_client(secret, redis_client, backoff=0.01, max_retries=1)
    set_faults(secret, force_429=10)
    error = raised(lambda: client.contacts.get(7506), RateLimited)
    assert error.retry_after == 1.0  # the sandbox's Retry-After
    assert [r["status"] for r in logged(secret)] == [429, 429]
    assert_key_hidden(error, client)
    client.close()


def test_a_short_burst_of_429_is_waited_out(secret: Sandbox, redis_client: redis.Redis) -> None:
    budget = RecordingBudget(redis_client, system_id=secret.system_id, limit=100000, window=60)
    client = MiniCRMClient(
        system_id=secret.system_id,
        api_key=SECRET,
        base_url=secret.base_url,
        budget=budget,
        backoff=0.01,
    )
    set_faults(secret, force_429=2)
    assert client.contacts.get(7506).name == "Leskó Norbert"
    requests_made = logged(secret)
    assert [r["status"] for r in requests_made] == [429, 429, 200]
    assert len(budget.cool_downs) == 2
    assert all(pause >= 1.0 for pause in budget.cool_downs)  # Retry-After is the minimum
    gaps = [b["t"] - a["t"] for a, b in pairwise(requests_made)]
    assert all(gap >= 0.9 for gap in gaps), gaps
    client.close()


# -- the way to MiniCRM ---------------------------------------------------------------------------


def test_nobody_listening_is_connection_failed(redis_client: redis.Redis) -> None:
    client = MiniCRMClient(
        system_id="12345",
        api_key=SECRET,
        base_url=f"http://127.0.0.1:{free_port()}",
        budget=RedisBudget(redis_client, system_id="12345"),
        backoff=0.01,
        max_retries=1,
    )
    error = raised(lambda: client.contacts.get(7506), ConnectionFailed)
    assert not isinstance(error, RequestTimeout)
    assert (error.method, error.path) == ("GET", "/Api/R3/Contact/7506")
    assert_key_hidden(error, client)
    write = raised(lambda: client.contacts.update(7506, {"Phone": "1"}), ConnectionFailed)
    assert_key_hidden(write, client)
    client.close()


def test_slow_answer_is_request_timeout(secret: Sandbox, redis_client: redis.Redis) -> None:
    client = make_client(secret, redis_client, timeout=(1, 0.5), max_retries=0)
    set_faults(secret, latency=2)
    started = time.monotonic()
    error = raised(lambda: client.contacts.get(7506), RequestTimeout)
    assert time.monotonic() - started < 1.5
    assert isinstance(error, ConnectionFailed)
    assert "0.5 s" in error.message
    assert_key_hidden(error, client)
    # The sandbox logs the request once it has answered: exactly one was sent.
    deadline = time.monotonic() + 5
    while not logged(secret) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [r["path"] for r in logged(secret)] == ["/Api/R3/Contact/7506"]
    client.close()


# -- the key in logs ------------------------------------------------------------------------------


def test_log_output_never_contains_the_key(
    secret: Sandbox, client: MiniCRMClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="minicrm")
    client.contacts.get(7506)
    for call, error_class in [
        (lambda: client.contacts.get(999999), NotFound),
        (lambda: client.projects.update(2056, {"Nope": 1}), BadRequest),
        (lambda: client.orders.complete(44), MethodNotAllowed),
    ]:
        raised(call, error_class)
    set_faults(secret, force_429=1)
    client.categories.list()
    set_faults(secret, error_rate=1.0)
    raised(lambda: client.contacts.get(7506), ServerError)
    minicrm_records = [r for r in caplog.records if r.name == "minicrm"]
    assert any("-> 200" in r.getMessage() for r in minicrm_records)
    assert any(r.levelno == logging.WARNING and "429" in r.getMessage() for r in minicrm_records)
    assert SECRET not in caplog.text
    assert all(SECRET not in r.getMessage() for r in caplog.records)
