"""Cards (Project) and their status history."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from minicrm.resources.base import Resource, written_id
from minicrm.types import Page, Project, ProjectSummary, StatusChange, results

PATH = "/Api/R3/Project"


def _search_params(
    category_id: int | None,
    main_contact_id: int | None,
    status_id: int | str | None,
    status_group: str | None,
    user_id: int | str | None,
    reference_id: str | None,
    deleted: bool,
    updated_since: datetime | str | None,
    fields: dict[str, Any],
) -> dict[str, Any]:
    since = (
        updated_since.strftime("%Y-%m-%d %H:%M:%S")
        if isinstance(updated_since, datetime)
        else updated_since
    )
    return {
        "CategoryId": category_id,
        "MainContactId": main_contact_id,
        "StatusId": status_id,
        "StatusGroup": status_group,
        "UserId": user_id,
        "ReferenceId": reference_id,
        "Deleted": 1 if deleted else None,
        "UpdatedSince": since,
        **fields,
    }


class Projects(Resource):
    def search(
        self,
        *,
        category_id: int | None = None,
        main_contact_id: int | None = None,
        status_id: int | str | None = None,
        status_group: str | None = None,
        user_id: int | str | None = None,
        reference_id: str | None = None,
        deleted: bool = False,
        updated_since: datetime | str | None = None,
        page: int = 0,
        **fields: Any,
    ) -> Page[ProjectSummary]:
        """One page of cards; `status_group` is Lead, Open, Success or Failed; `updated_since`
        (MiniCRM's local time) keeps the cards changed after it."""
        params = _search_params(
            category_id,
            main_contact_id,
            status_id,
            status_group,
            user_id,
            reference_id,
            deleted,
            updated_since,
            fields,
        )
        return self._page(PATH, params, page, ProjectSummary.parse)

    def search_all(
        self,
        *,
        category_id: int | None = None,
        main_contact_id: int | None = None,
        status_id: int | str | None = None,
        status_group: str | None = None,
        user_id: int | str | None = None,
        reference_id: str | None = None,
        deleted: bool = False,
        updated_since: datetime | str | None = None,
        **fields: Any,
    ) -> Iterator[ProjectSummary]:
        params = _search_params(
            category_id,
            main_contact_id,
            status_id,
            status_group,
            user_id,
            reference_id,
            deleted,
            updated_since,
            fields,
        )
        return self._all(PATH, params, ProjectSummary.parse)

    def get(self, project_id: int) -> Project:
        return Project.parse(self._get(f"{PATH}/{int(project_id)}"))

    def create(self, data: dict[str, Any]) -> int:
        """Create a card: `CategoryId` and the module's required fields."""
        return written_id(self._client.request("PUT", f"{PATH}/", body=data))

    def update(self, project_id: int, changes: dict[str, Any]) -> int:
        """Send only the fields that changed; dropdowns by label or id."""
        return written_id(self._client.request("PUT", f"{PATH}/{int(project_id)}", body=changes))

    def attach_file(self, project_id: int, field: str, url: str) -> int:
        """Have MiniCRM download a public file into a File field of the card."""
        return self.update(project_id, {field: url})

    def status_history(self, project_id: int) -> list[StatusChange]:
        data = self._get(f"/Api/R3/ProjectHistory/{int(project_id)}", {"Type": "StatusHistory"})
        changes = [StatusChange.parse(row) for row in results(data or {})]
        return sorted(changes, key=lambda change: (change.at is None, change.at, change.id))
