"""Read-only views of the demo seed, fetched once per worker session and shared by modules."""

from __future__ import annotations

from typing import Any

import pytest
from sandbox_checks import R3, ok_json


@pytest.fixture(scope="session")
def demo_contact_pages(sandbox_demo) -> list[dict[str, Any]]:
    """Every page of the demo seed's unfiltered Contact search, in order."""
    pages = [ok_json(sandbox_demo.get(f"{R3}/Contact"))]
    total = pages[0]["Count"]
    for number in range(1, -(-total // 100)):
        pages.append(ok_json(sandbox_demo.get(f"{R3}/Contact", params={"Page": number})))
    return pages


@pytest.fixture(scope="session")
def demo_categories(sandbox_demo) -> dict[str, str]:
    return ok_json(sandbox_demo.get(f"{R3}/Category"))


@pytest.fixture(scope="session")
def demo_schemas(sandbox_demo, demo_categories) -> dict[str, dict[str, Any]]:
    """Schema/Project/{CategoryId} of every demo module, keyed by category id."""
    return {
        category: ok_json(sandbox_demo.get(f"{R3}/Schema/Project/{category}"))
        for category in demo_categories
    }


@pytest.fixture(scope="session")
def demo_card_counts(sandbox_demo, demo_categories) -> dict[str, int]:
    """How many (undeleted) cards each demo module has, by Project search's Count."""
    return {
        category: ok_json(sandbox_demo.get(f"{R3}/Project", params={"CategoryId": category}))[
            "Count"
        ]
        for category in demo_categories
    }
