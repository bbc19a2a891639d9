"""What every resource service shares: a reference to the client and search paging."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from minicrm.types import Page, iterate_pages, results, to_int

if TYPE_CHECKING:
    from minicrm.client import MiniCRMClient

T = TypeVar("T")


class Resource:
    def __init__(self, client: MiniCRMClient) -> None:
        self._client = client

    def _get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self._client.request("GET", path, params=params)

    def _page(
        self, path: str, params: dict[str, Any], page: int, parse: Callable[[dict[str, Any]], T]
    ) -> Page[T]:
        query = {key: value for key, value in params.items() if value not in (None, "")}
        query["Page"] = page
        data = self._get(path, query) or {}
        return Page(
            items=[parse(row) for row in results(data)],
            count=to_int(data.get("Count")) or 0,
            page=page,
        )

    def _all(
        self, path: str, params: dict[str, Any], parse: Callable[[dict[str, Any]], T]
    ) -> Iterator[T]:
        return iterate_pages(lambda number: self._page(path, params, number, parse))


def written_id(answer: Any) -> int:
    """The Id of a `{"Id": n}` answer to a write."""
    number = to_int(answer.get("Id")) if isinstance(answer, dict) else None
    if number is None:
        from minicrm.errors import ServerError

        raise ServerError(f"MiniCRM answered a write without an Id: {answer!r}"[:200])
    return number
