"""Each test pass runs on the database it claims to, and hands that database to its workers.

`make test` runs the whole suite on SQLite and the database suites again on a private
PostgreSQL, and says which with TEST_DATABASE_VENDOR. A pass that silently fell back to
SQLite (DATABASE_URL lost on the way) would test nothing new; these tests make it fail.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.db import connection

from tests.databases import worker_database_url

ROOT = Path(__file__).resolve().parents[2]
VENDORS = {"sqlite": "sqlite", "postgres": "postgresql", "postgresql": "postgresql"}

_WORKER_PROBE = """
import django
django.setup()
from django.contrib.auth.models import User
from django.db import connection
print(connection.vendor, list(User.objects.values_list("username", flat=True)))
"""


def claimed_vendor() -> str:
    """What this pass says it runs on: TEST_DATABASE_VENDOR, else DATABASE_URL's scheme."""
    claimed = os.environ.get("TEST_DATABASE_VENDOR", "").strip().lower()
    if claimed:
        return claimed
    scheme = os.environ.get("DATABASE_URL", "sqlite://").partition(":")[0]
    return VENDORS.get(scheme.split("+")[0], scheme)


@pytest.mark.django_db
def test_the_pass_runs_on_the_database_it_claims():
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT version(), current_database()")
            version, database = cursor.fetchone()
            assert version.startswith("PostgreSQL")
        else:
            cursor.execute("SELECT sqlite_version()")
            database = connection.settings_dict["NAME"]

    assert connection.vendor == claimed_vendor()
    # pytest-django's test database, never the one `make run` or a deployment uses.
    assert Path(str(database)).name.startswith(("test_", "crmconsole-test-"))


@pytest.mark.django_db(transaction=True)
def test_a_worker_started_by_a_test_sees_the_tests_committed_data():
    User.objects.create_user(username="seen-by-the-worker", password=None)

    result = subprocess.run(
        [sys.executable, "-c", _WORKER_PROBE],
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "crmconsole.settings",
            "DATABASE_URL": worker_database_url(),
        },
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{connection.vendor} ['seen-by-the-worker']"
