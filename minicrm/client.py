"""The MiniCRM client: one HTTP session, the shared budget, retries, and one service per resource.

Every request takes a slot from the budget first. A 429 sets the shared cool-down (honouring
`Retry-After`) and is retried, since MiniCRM did nothing with it. Reads are also retried on
connection errors, timeouts and 5xx; writes are not, because MiniCRM may have applied them
(the write queue makes those safe to send again).
"""

from __future__ import annotations

import json
import logging
import random
import time
from typing import Any

import requests

from minicrm.errors import (
    ConnectionFailed,
    MiniCRMError,
    RateLimited,
    RequestTimeout,
    ServerError,
    raise_for_response,
)
from minicrm.ratelimit import Budget, BudgetExhausted, LocalBudget, Priority, acquire
from minicrm.resources.categories import Categories
from minicrm.resources.contacts import Contacts
from minicrm.resources.orders import Orders
from minicrm.resources.projects import Projects
from minicrm.resources.schema import SchemaCache, Schemas
from minicrm.resources.todos import ToDos

log = logging.getLogger("minicrm")

DEFAULT_BASE_URL = "https://r3.minicrm.hu"
TEST_BASE_URL = "https://r3-test.minicrm.hu"
DEFAULT_DEADLINES = {Priority.INTERACTIVE: 10.0, Priority.BULK: 120.0}
RETRYABLE_STATUSES = {500, 502, 503, 504}

__all__ = ["DEFAULT_BASE_URL", "TEST_BASE_URL", "MiniCRMClient", "Priority"]


class _BasicAuth(requests.auth.HTTPBasicAuth):
    """HTTP Basic auth whose repr never shows the key (tracebacks, debug pages, logs)."""

    def __repr__(self) -> str:
        return f"<BasicAuth {self.username!s}:***>"


class MiniCRMClient:
    """A client for one MiniCRM system."""

    def __init__(
        self,
        *,
        system_id: str,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        budget: Budget | None = None,
        priority: Priority = Priority.INTERACTIVE,
        deadline: float | None = None,
        timeout: tuple[float, float] = (5.0, 30.0),
        max_retries: int = 3,
        backoff: float = 0.5,
        schema_cache: SchemaCache | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.system_id = str(system_id)
        self.base_url = base_url.rstrip("/")
        self.budget: Budget = budget or LocalBudget()
        self.priority = priority
        self.deadline = DEFAULT_DEADLINES[priority] if deadline is None else deadline
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.session = session or requests.Session()
        self.session.auth = _BasicAuth(self.system_id, api_key)
        self.session.headers.update(
            {"Accept": "application/json", "User-Agent": "crmconsole-minicrm-client/0.1"}
        )
        self.categories = Categories(self)
        self.contacts = Contacts(self)
        self.schemas = Schemas(self, schema_cache)
        self.projects = Projects(self)
        self.todos = ToDos(self)
        self.orders = Orders(self)

    def __repr__(self) -> str:
        return f"<MiniCRMClient system {self.system_id} at {self.base_url}>"

    def close(self) -> None:
        self.session.close()

    # -- the one place requests are sent ---------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        retry_safe: bool | None = None,
    ) -> Any:
        """Send one API call and return its decoded JSON, or raise a MiniCRMError.

        `retry_safe` says whether the call may be sent again after an ambiguous failure;
        it defaults to True for GET (some MiniCRM writes are GETs: pass False for them).
        """
        retry_safe = method == "GET" if retry_safe is None else retry_safe
        url = f"{self.base_url}{path}"
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8"} if data else {}
        give_up_at = time.monotonic() + self.deadline
        attempt = 0
        while True:
            attempt += 1
            self._take_slot(give_up_at, method, path)
            started = time.monotonic()
            try:
                response = self.session.request(
                    method, url, params=params, data=data, headers=headers, timeout=self.timeout
                )
            except requests.Timeout:
                failure: MiniCRMError = RequestTimeout(
                    f"MiniCRM did not answer within {self.timeout[1]:g} s", method=method, path=path
                )
            except requests.RequestException as exc:
                failure = ConnectionFailed(
                    f"MiniCRM could not be reached ({type(exc).__name__})", method=method, path=path
                )
            else:
                log.debug(
                    "%s %s -> %s in %.0f ms",
                    method,
                    path,
                    response.status_code,
                    (time.monotonic() - started) * 1000,
                )
                if response.status_code == 429:
                    failure = self._rate_limited(response, attempt, method, path)
                    if attempt <= self.max_retries and time.monotonic() < give_up_at:
                        continue
                    raise failure
                if response.status_code in RETRYABLE_STATUSES and retry_safe:
                    failure = ServerError(
                        f"MiniCRM answered {response.status_code}", method=method, path=path
                    )
                else:
                    raise_for_response(response, method=method, path=path, payload=body)
                    return self._decode(response, method, path)
            pause = self._backoff_seconds(attempt)
            # A retry that could not finish before the deadline only makes the caller wait.
            if (
                not retry_safe
                or attempt > self.max_retries
                or time.monotonic() + pause >= give_up_at
            ):
                raise failure
            time.sleep(pause)

    def _take_slot(self, give_up_at: float, method: str, path: str) -> None:
        try:
            acquire(self.budget, self.priority, max(0.0, give_up_at - time.monotonic()))
        except BudgetExhausted as exc:
            raise RateLimited(
                f"the request budget is spent; a slot frees in {exc.expected_wait:.0f} s",
                retry_after=exc.expected_wait,
                method=method,
                path=path,
            ) from None

    def _rate_limited(
        self, response: requests.Response, attempt: int, method: str, path: str
    ) -> RateLimited:
        """Pause every process of this system, honouring Retry-After as a minimum."""
        try:
            raise_for_response(response, method=method, path=path)
        except RateLimited as error:
            pause = max(error.retry_after, self._backoff_seconds(attempt))
            self.budget.cool_down(pause)
            log.warning("%s %s answered 429: pausing %.1f s", method, path, pause)
            return error
        raise AssertionError("unreachable")  # pragma: no cover

    def _backoff_seconds(self, attempt: int) -> float:
        return min(30.0, self.backoff * 2 ** (attempt - 1)) * (0.5 + random.random() / 2)

    @staticmethod
    def _decode(response: requests.Response, method: str, path: str) -> Any:
        if not response.content.strip():
            return None
        try:
            return response.json()
        except ValueError:
            raise ServerError(
                f"MiniCRM answered {response.status_code} with a body that is not JSON",
                method=method,
                path=path,
            ) from None
