"""Orders: create, read, change in Draft, items, custom fields and the status workflow."""

from __future__ import annotations

from typing import Any

from minicrm.resources.base import Resource
from minicrm.types import Order

PATH = "/Api/Order"


class Orders(Resource):
    def _order(self, method: str, path: str, body: dict[str, Any] | None = None) -> Order:
        answer = self._client.request(method, path, body=body, retry_safe=False)
        return Order.parse(answer or {})

    def create(self, data: dict[str, Any]) -> Order:
        """Create an order for `CustomerId` (or a card's `ReferenceId`), with its items."""
        return self._order("POST", f"{PATH}/", data)

    def get(self, order_id: int) -> Order:
        return Order.parse(self._get(f"{PATH}/{int(order_id)}") or {})

    def modify(self, order_id: int, data: dict[str, Any]) -> Order:
        """Change a Draft order; `data` needs CustomerId or ReferenceId, as MiniCRM asks."""
        return self._order("POST", f"{PATH}/{int(order_id)}", data)

    def add_items(self, order_id: int, customer_id: int, items: list[dict[str, Any]]) -> Order:
        return self.modify(order_id, {"CustomerId": customer_id, "Items": items})

    def edit_item(self, order_id: int, customer_id: int, item: dict[str, Any]) -> Order:
        """Overwrite the item whose `Id` is given."""
        if not item.get("Id"):
            raise ValueError("editing an item needs its Id")
        return self.modify(order_id, {"CustomerId": customer_id, "Items": [item]})

    def delete_item(self, order_id: int, item_id: int) -> Order:
        return self._order("GET", f"{PATH}/{int(order_id)}/DeleteItem/{int(item_id)}")

    def set_custom_fields(self, order_id: int, fields: dict[str, Any]) -> Order:
        """Custom fields of the order's card; allowed in any status."""
        return self._order("POST", f"{PATH}/{int(order_id)}/Project", fields)

    def finalize(self, order_id: int) -> Order:
        """Draft -> In progress."""
        return self._order("GET", f"{PATH}/{int(order_id)}/Finalize")

    def edit(self, order_id: int) -> Order:
        """In progress -> Draft."""
        return self._order("GET", f"{PATH}/{int(order_id)}/Edit")

    def complete(self, order_id: int) -> Order:
        """In progress -> Completed."""
        return self._order("GET", f"{PATH}/{int(order_id)}/Complete")

    def paid(self, order_id: int) -> Order:
        """Completed or Failed -> Paid."""
        return self._order("GET", f"{PATH}/{int(order_id)}/Paid")

    def storno(self, order_id: int) -> Order:
        """Completed -> Failed."""
        return self._order("GET", f"{PATH}/{int(order_id)}/Storno")
