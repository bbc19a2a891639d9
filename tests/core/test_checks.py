"""The web server's timeout and MiniCRM's timeouts agree: gunicorn lets a request run longer
than it can wait on MiniCRM, and a system check warns when the settings say otherwise."""

import re
import subprocess
import sys
from pathlib import Path

from django.core.checks import run_checks

from apps.core.checks import web_request_worst_wait

ROOT = Path(__file__).resolve().parents[2]


def _warnings() -> list[str]:
    return [message.id or "" for message in run_checks() if message.id == "core.W001"]


def test_the_defaults_agree(settings):
    assert web_request_worst_wait() <= settings.WEB_REQUEST_TIMEOUT
    assert _warnings() == []


def test_a_read_timeout_past_the_request_timeout_is_warned_about(settings):
    settings.MINICRM_READ_TIMEOUT = settings.WEB_REQUEST_TIMEOUT

    assert _warnings() == ["core.W001"]


def test_a_short_request_timeout_is_warned_about(settings):
    settings.WEB_REQUEST_TIMEOUT = 25
    settings.WRITE_WAIT_SECONDS = 3

    assert web_request_worst_wait() > 25
    assert _warnings() == ["core.W001"]


def _gunicorn_config(**env: str) -> dict[str, str]:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--print-config",
            "--config",
            "gunicorn.conf.py",
            "crmconsole.wsgi",
        ],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return dict(re.findall(r"^(\w+)\s*=\s*(.*)$", result.stdout, re.MULTILINE))


def test_gunicorn_outlasts_the_longest_request(settings):
    config = _gunicorn_config()

    assert int(config["timeout"]) > settings.WEB_REQUEST_TIMEOUT >= web_request_worst_wait()
    assert config["worker_class"] == "gthread"
    assert int(config["threads"]) > 1


def test_gunicorn_follows_web_request_timeout():
    config = _gunicorn_config(WEB_REQUEST_TIMEOUT="120", WEB_THREADS="8", WEB_WORKERS="3")

    assert int(config["timeout"]) > 120
    assert (config["threads"], config["workers"]) == ("8", "3")


def test_the_image_and_compose_start_gunicorn_with_that_config():
    for name in ("Dockerfile", "docker-compose.yml"):
        text = (ROOT / name).read_text()
        assert '"gunicorn", "crmconsole.wsgi", "--config", "gunicorn.conf.py"' in text, name


def test_manage_py_check_reports_it():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "MINICRM_READ_TIMEOUT": "90"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert "core.W001" in result.stderr + result.stdout
    assert "can wait 108 s on MiniCRM" in result.stderr + result.stdout
