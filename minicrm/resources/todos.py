"""To-dos of a card."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from minicrm.resources.base import Resource, written_id
from minicrm.types import Page, ToDo, ToDoSummary

STATUSES = ("Open", "Closed", "All")


class ToDos(Resource):
    def list(self, project_id: int, *, status: str = "Open", page: int = 0) -> Page[ToDoSummary]:
        """A card's to-dos: status Open, Closed or All."""
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}")
        return self._page(
            f"/Api/R3/ToDoList/{int(project_id)}", {"Status": status}, page, ToDoSummary.parse
        )

    def get(self, todo_id: int) -> ToDo:
        return ToDo.parse(self._get(f"/Api/R3/ToDo/{int(todo_id)}"))

    def create(self, data: dict[str, Any]) -> int:
        """Create a to-do (PUT, as MiniCRM wants); `ProjectId` is required."""
        if not data.get("ProjectId"):
            raise ValueError("a to-do needs a ProjectId")
        return written_id(self._client.request("PUT", "/Api/R3/ToDo/", body=data))

    def update(self, todo_id: int, changes: dict[str, Any]) -> int:
        """Change an open to-do; ProjectId, Members and Notes cannot change."""
        return written_id(self._client.request("PUT", f"/Api/R3/ToDo/{int(todo_id)}", body=changes))

    def close(self, todo_id: int, closed_at: datetime | None = None) -> int:
        changes: dict[str, Any] = {"Status": "Closed"}
        if closed_at is not None:
            changes["ClosedAt"] = closed_at.strftime("%Y-%m-%d %H:%M:%S")
        return self.update(todo_id, changes)
