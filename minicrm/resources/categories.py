"""Modules (Category)."""

from __future__ import annotations

from minicrm.resources.base import Resource
from minicrm.types import Category, to_int, to_text


class Categories(Resource):
    def list(self) -> list[Category]:
        """The modules in MiniCRM's order, with their names and types."""
        data = self._get("/Api/R3/Category", {"Detailed": 1}) or {}
        categories = []
        for key, value in data.items():
            if isinstance(value, dict):
                categories.append(
                    Category(
                        id=to_int(value.get("Id")) or to_int(key) or 0,
                        name=to_text(value.get("Name")),
                        order=to_int(value.get("OrderId")),
                        type=to_text(value.get("Type")) or None,
                    )
                )
            else:  # the plain {id: name} answer
                categories.append(Category(id=to_int(key) or 0, name=to_text(value)))
        return sorted(categories, key=lambda c: (c.order is None, c.order or 0))
