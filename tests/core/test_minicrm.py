"""The console's MiniCRM client: configured from settings, sharing budget and schemas in Redis."""

from __future__ import annotations

import pytest
import redis
from django.core.management import call_command

from apps.core.minicrm import minicrm_budget, minicrm_client
from minicrm import Priority
from tests.conftest import Sandbox


def test_the_client_talks_to_the_configured_system(minicrm_settings: Sandbox) -> None:
    client = minicrm_client()
    assert client.base_url == minicrm_settings.base_url
    assert client.categories.list()[0].name == "Értékesítés"
    assert minicrm_settings.api_key not in repr(client)
    assert minicrm_settings.api_key not in repr(client.session.auth)


def test_web_and_background_clients_take_from_one_budget(minicrm_settings: Sandbox) -> None:
    minicrm_client(Priority.INTERACTIVE).categories.list()
    minicrm_client(Priority.BULK).contacts.get(7506)
    assert minicrm_budget().usage().used == 2
    assert minicrm_client(Priority.BULK).priority == Priority.BULK


@pytest.mark.django_db
def test_schemas_are_cached_in_redis_until_refreshed(
    minicrm_settings: Sandbox, redis_url: str
) -> None:
    connection = redis.Redis.from_url(redis_url)
    minicrm_client().schemas.project(10)
    assert connection.keys("minicrm:schema:*") == [b"minicrm:schema:12345:Project/10"]
    minicrm_settings.request("DELETE", "/_sandbox/requests")
    minicrm_client(Priority.BULK).schemas.project(10)  # another process would see it too
    assert minicrm_settings.get("/_sandbox/requests").json() == []
    call_command("minicrm_schema", "--refresh")
    assert connection.keys("minicrm:schema:*") == []


def test_the_schema_command_lists_fields_with_their_kinds(
    minicrm_settings: Sandbox, capsys
) -> None:
    call_command("minicrm_schema", "Project/10")
    out = capsys.readouterr().out
    assert "AutoSalesV3_Qualification" in out
    assert "3102=Célcsoport" in out
    assert "Name" in out and "max 512; required" in out
