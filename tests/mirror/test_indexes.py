"""The mirror's covering indexes: on SQLite, the header search, the contact search and the counts
of cards by status read an index, not every card with its fields (benchmarks/admin_scale.py:
the header search took 500 ms on 100,000 cards without them, the dashboard 200 ms)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from pytest_django.fixtures import Settings

from apps.core.models import Profile
from tests.conftest import Sandbox, SandboxStarter
from tests.viewsupport import minicrm_away, mirror_console, mirror_fill

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL uses trigram indexes"),
]


@pytest.fixture
def filled(
    settings: Settings, sandbox_factory: SandboxStarter, redis_url: str
) -> Iterator[Sandbox]:
    for sandbox in mirror_console(settings, sandbox_factory("doc"), redis_url):
        mirror_fill()
        minicrm_away(settings)
        yield sandbox


def plans(client: Client, url: str, table: str, marker: str) -> list[str]:
    """SQLite's plan of each query of the page on `table` whose SQL has `marker`."""
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    found = []
    with connection.cursor() as cursor:
        for query in queries.captured_queries:
            sql = query["sql"]
            if f'FROM "{table}"' in sql and marker in sql:
                cursor.execute("EXPLAIN QUERY PLAN " + sql)
                found.append(" / ".join(str(row[3]) for row in cursor.fetchall()))
    assert found, f"no query of {url} on {table} with {marker}"
    return found


def test_the_header_search_counts_cards_and_contacts_from_the_word_indexes(
    user_client: Client, filled: Sandbox
) -> None:
    counts = plans(user_client, "/search/?q=kov", "mirror_card", "COUNT(")
    assert all("COVERING INDEX mirror_card_words" in plan for plan in counts), counts
    contacts = plans(user_client, "/search/?q=kov", "mirror_contact", "COUNT(")
    assert all("COVERING INDEX mirror_contact_words" in plan for plan in contacts), contacts


def test_the_dashboard_counts_cards_by_status_from_an_index(
    user_client: Client, filled: Sandbox
) -> None:
    counts = plans(user_client, "/", "mirror_card", "GROUP BY")
    assert all("COVERING INDEX mirror_card_status" in plan for plan in counts), counts


def test_the_dashboard_finds_a_persons_unread_cards_in_the_owners_index(
    user_client: Client, staff_user: User, filled: Sandbox
) -> None:
    Profile.objects.create(user=staff_user, minicrm_user_id=22404)

    unread = plans(user_client, "/", "mirror_card", '"todos_synced_at" IS NULL')
    assert all("mirror_card_owner (user_id=? AND todos_synced_at=?)" in p for p in unread), unread
