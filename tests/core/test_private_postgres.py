"""scripts/private_postgres.py, the throw-away PostgreSQL of `make test`: real servers, real
signals. Each test starts one (about two seconds)."""

from __future__ import annotations

import glob
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from scripts import private_postgres

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "private_postgres.py"

# What the command sees: the URL, and that PostgreSQL answers on it with the database made.
_CLIENT = """
import os, sys, time
import psycopg
url = os.environ["DATABASE_URL"]
with psycopg.connect(url.replace("postgres://", "postgresql://", 1)) as db:
    print(url, db.execute("SELECT current_database()").fetchone()[0], flush=True)
if len(sys.argv) > 1:
    time.sleep(float(sys.argv[1]))
sys.exit(3)
"""


def folders() -> set[str]:
    places = {tempfile.gettempdir(), "/tmp"}  # noqa: S108  (root's servers live in /tmp)
    return {path for place in places for path in glob.glob(f"{place}/crmconsole-pg-*")}


def refuses(url: str) -> bool:
    address = urlsplit(url)
    with socket.socket() as sock:
        return sock.connect_ex((address.hostname or "", address.port or 0)) != 0


def test_the_command_runs_against_a_fresh_server_that_is_gone_afterwards() -> None:
    before = folders()

    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--", sys.executable, "-c", _CLIENT],
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 3, result.stderr  # the command's own exit status
    url, database = result.stdout.split()
    assert urlsplit(url).hostname == "127.0.0.1"
    assert urlsplit(url).password  # no trust over TCP
    assert database == "crmconsole"
    assert refuses(url)
    assert folders() - before == set()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stopped_run_stops_its_command_and_its_server(signum: signal.Signals) -> None:
    before = folders()
    proc = subprocess.Popen(
        [sys.executable, str(SCRIPT), "--", sys.executable, "-c", _CLIENT, "60"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own group, as a terminal's foreground job is
    )
    assert proc.stdout is not None
    url = proc.stdout.readline().split()[0]

    # Ctrl-C reaches the whole foreground group; SIGTERM only the wrapper, which passes it on.
    if signum == signal.SIGINT:
        os.killpg(proc.pid, signum)
    else:
        proc.send_signal(signum)
    returncode = proc.wait(timeout=60)

    assert returncode != 0
    assert refuses(url)
    assert folders() - before == set()


def test_without_a_command_it_prints_the_url_and_keeps_the_server_until_stopped() -> None:
    proc = subprocess.Popen(
        [sys.executable, str(SCRIPT)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    assert line.startswith("DATABASE_URL=postgres://")
    url = line.removeprefix("DATABASE_URL=")
    time.sleep(0.2)
    assert not refuses(url)

    proc.send_signal(signal.SIGTERM)

    assert proc.wait(timeout=60) == 0
    assert refuses(url)


def test_the_newest_installed_version_is_used_and_pg_bindir_wins(tmp_path: Path) -> None:
    found = private_postgres.find_bindir({})
    assert (found / "initdb").exists() and (found / "pg_ctl").exists()

    with pytest.raises(private_postgres.PostgresError, match="holds no initdb"):
        private_postgres.find_bindir({"PG_BINDIR": str(tmp_path)})
    assert private_postgres.find_bindir({"PG_BINDIR": str(found)}) == found
    assert private_postgres._version_key("16") > private_postgres._version_key("9.6")
