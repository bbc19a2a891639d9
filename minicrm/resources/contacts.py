"""Contacts: companies (Business) and persons (Person)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from minicrm.resources.base import Resource, written_id
from minicrm.types import Contact, ContactSummary, Page

PATH = "/Api/R3/Contact"


def _search_params(
    email: str | None,
    query: str | None,
    updated_since: datetime | str | None,
    main_contact_id: int | None,
    fields: dict[str, Any],
) -> dict[str, Any]:
    since = (
        updated_since.strftime("%Y-%m-%d %H:%M:%S")
        if isinstance(updated_since, datetime)
        else updated_since
    )
    return {
        "Email": email,
        "Query": query,
        "UpdatedSince": since,
        "MainContactId": main_contact_id,
        **fields,
    }


class Contacts(Resource):
    def search(
        self,
        *,
        email: str | None = None,
        query: str | None = None,
        updated_since: datetime | str | None = None,
        main_contact_id: int | None = None,
        page: int = 0,
        **fields: Any,
    ) -> Page[ContactSummary]:
        """One page of contacts; `fields` filter by any schema field (`KedvencEtele="Alma"`)."""
        params = _search_params(email, query, updated_since, main_contact_id, fields)
        return self._page(PATH, params, page, ContactSummary.parse)

    def search_all(
        self,
        *,
        email: str | None = None,
        query: str | None = None,
        updated_since: datetime | str | None = None,
        main_contact_id: int | None = None,
        **fields: Any,
    ) -> Iterator[ContactSummary]:
        params = _search_params(email, query, updated_since, main_contact_id, fields)
        return self._all(PATH, params, ContactSummary.parse)

    def get(self, contact_id: int) -> Contact:
        return Contact.parse(self._get(f"{PATH}/{int(contact_id)}"))

    def create(self, data: dict[str, Any]) -> int:
        """Create a company (`Type: Business`, `Name`) or a person (`Type: Person`, `FirstName`)."""
        return written_id(self._client.request("PUT", f"{PATH}/", body=data))

    def update(self, contact_id: int, changes: dict[str, Any]) -> int:
        """Send only the fields that changed."""
        return written_id(self._client.request("PUT", f"{PATH}/{int(contact_id)}", body=changes))

    def purge(self, contact_id: int) -> None:
        """Delete a person; MiniCRM refuses while the person is a card's main contact."""
        self._client.request("GET", f"/Api/R3/PurgePerson/{int(contact_id)}", retry_safe=False)
