"""The data migration that replaces handlers' plain-text passwords with hashes: MiniCRM keeps
delivering with the ApiUrl it has, and the password is nowhere in the database afterwards."""

from __future__ import annotations

import json

import pytest
import redis
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client

from apps.webhooks.models import Event, Handler
from tests.webhooks.support import basic, card_message

BEFORE = [("webhooks", "0001_handlers_and_events")]
AFTER = [("webhooks", "0002_handler_password_hash")]


@pytest.mark.django_db(transaction=True)
def test_plain_text_passwords_become_hashes_that_still_open_the_receiver(
    console_redis: redis.Redis,
) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps.get_model("webhooks", "Handler")
    kept = old.objects.create(
        name="Régi", slug="regi", type="Project", username="minicrm-0a1b2c3d", password="s3cret-pw"
    )
    try:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(AFTER)
    finally:
        MigrationExecutor(connection).migrate(executor.loader.graph.leaf_nodes())

    handler = Handler.objects.get(pk=kept.pk)
    assert handler.password_hash.startswith("pbkdf2_sha256$")
    row = Handler.objects.filter(pk=handler.pk).values().get()
    assert "s3cret-pw" not in json.dumps(row, default=str)
    answer = Client().post(
        "/hooks/regi/",
        data=json.dumps(card_message()),
        content_type="application/json",
        HTTP_AUTHORIZATION=basic("minicrm-0a1b2c3d", "s3cret-pw"),
    )
    assert answer.status_code == 200
    assert Event.objects.filter(handler=handler).count() == 1
    wrong = Client().post(
        "/hooks/regi/",
        data=json.dumps(card_message()),
        content_type="application/json",
        HTTP_AUTHORIZATION=basic("minicrm-0a1b2c3d", "s3cret-px"),
    )
    assert wrong.status_code == 401
