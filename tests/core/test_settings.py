"""Settings read from the environment, checked in a fresh interpreter for each environment."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_PROBE = """
import json
from django.conf import settings
db = settings.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"], "name": str(db["NAME"]), "host": db.get("HOST", ""),
    "debug": settings.DEBUG, "secret_key": settings.SECRET_KEY,
    "allowed_hosts": settings.ALLOWED_HOSTS, "redis_url": settings.REDIS_URL,
    "broker": settings.CELERY_BROKER_URL, "result_backend": settings.CELERY_RESULT_BACKEND,
    "acks_late": settings.CELERY_TASK_ACKS_LATE,
    "reject_on_worker_lost": settings.CELERY_TASK_REJECT_ON_WORKER_LOST,
    "prefetch": settings.CELERY_WORKER_PREFETCH_MULTIPLIER,
    "minicrm_base_url": settings.MINICRM_BASE_URL, "minicrm_system_id": settings.MINICRM_SYSTEM_ID,
    "rate_limit": settings.MINICRM_RATE_LIMIT, "rate_window": settings.MINICRM_RATE_WINDOW,
}))
"""


def _run(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "MINICRM_", "REDIS_", "CELERY_"))
    }
    clean["DJANGO_SETTINGS_MODULE"] = "crmconsole.settings"
    return subprocess.run(
        [sys.executable, "-c", _PROBE],
        env={**clean, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _settings(**env: str) -> dict:
    result = _run(**env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_defaults_are_for_local_development():
    values = _settings()

    assert values["engine"] == "django.db.backends.sqlite3"
    assert values["name"] == str(ROOT / "db.sqlite3")
    assert values["debug"] is True
    assert values["redis_url"] == "redis://127.0.0.1:6380/0"
    assert values["broker"] == values["result_backend"] == values["redis_url"]
    assert values["acks_late"] is True
    assert values["reject_on_worker_lost"] is True
    assert values["prefetch"] == 1
    assert values["minicrm_base_url"] == "https://r3.minicrm.hu"
    assert values["rate_limit"] == 180
    assert values["rate_window"] == 60


def test_database_url_selects_postgresql():
    values = _settings(DATABASE_URL="postgres://crm:pw@db.internal:5432/crmconsole")

    assert values["engine"] == "django.db.backends.postgresql"
    assert values["name"] == "crmconsole"
    assert values["host"] == "db.internal"


def test_environment_overrides_redis_and_minicrm():
    values = _settings(
        REDIS_URL="redis://cache:6379/3",
        MINICRM_BASE_URL="https://r3-test.minicrm.hu/",
        MINICRM_SYSTEM_ID="4242",
        MINICRM_RATE_LIMIT="90",
        MINICRM_RATE_WINDOW="0.5",
        DJANGO_ALLOWED_HOSTS="crm.example.com, console.example.com",
    )

    assert values["broker"] == "redis://cache:6379/3"
    assert values["minicrm_base_url"] == "https://r3-test.minicrm.hu"
    assert values["minicrm_system_id"] == "4242"
    assert values["rate_limit"] == 90
    assert values["rate_window"] == 0.5
    assert values["allowed_hosts"] == ["crm.example.com", "console.example.com"]


def test_production_requires_a_secret_key():
    result = _run(DJANGO_DEBUG="0")

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_production_uses_the_given_secret_key():
    values = _settings(DJANGO_DEBUG="off", DJANGO_SECRET_KEY="a-real-secret-from-the-env")

    assert values["debug"] is False
    assert values["secret_key"] == "a-real-secret-from-the-env"


def test_unreadable_flag_is_an_error_not_a_guess():
    result = _run(DJANGO_DEBUG="maybe")

    assert result.returncode != 0
    assert "DJANGO_DEBUG" in result.stderr


_PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "k3y-" + "x7Qp9vL2mZ8rT4wB6nY1cF5hJ0dS3gA" * 2,
    "DJANGO_ALLOWED_HOSTS": "crm.example.com,testserver",
}


def _clean_env(**env: str) -> dict[str, str]:
    clean = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "MINICRM_", "REDIS_", "CELERY_"))
    }
    return {**clean, "DJANGO_SETTINGS_MODULE": "crmconsole.settings", **env}


def test_check_deploy_finds_nothing_to_warn_about_in_production():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=_clean_env(**_PRODUCTION),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


_HTTPS_PROBE = """
import json
import django
django.setup()
from django.test import Client
client = Client()
plain = client.get("/accounts/login/")
proxied = client.get("/accounts/login/", headers={"X-Forwarded-Proto": "https"})
print(json.dumps({
    "plain": [plain.status_code, plain.get("Location", "")],
    "proxied": [proxied.status_code, proxied.get("Strict-Transport-Security", "")],
    "cookies_secure": client.cookies["csrftoken"]["secure"] if "csrftoken" in client.cookies
    else None,
}))
"""


def _https(**env: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", _HTTPS_PROBE],
        env=_clean_env(**env),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_redirects_to_https_and_trusts_the_proxy_header_it_is_told_of():
    answers = _https(**_PRODUCTION, DJANGO_SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO")

    assert answers["plain"] == [301, "https://testserver/accounts/login/"]
    status, hsts = answers["proxied"]
    assert status == 200
    assert hsts == "max-age=31536000; includeSubDomains; preload"


def test_without_the_proxy_setting_a_forwarded_header_is_not_believed():
    answers = _https(**_PRODUCTION)

    assert answers["proxied"][0] == 301


def test_plain_http_deployment_turns_redirect_and_hsts_off():
    """docker-compose on http://localhost sets these: the login page answers over HTTP."""
    answers = _https(
        **_PRODUCTION,
        DJANGO_SECURE_COOKIES="0",
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_SECURE_HSTS_SECONDS="0",
    )

    assert answers["plain"] == [200, ""]
    assert answers["cookies_secure"] == ""


def test_a_proxy_header_that_is_not_a_request_header_is_refused():
    result = _run(**_PRODUCTION, DJANGO_SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto")

    assert result.returncode != 0
    assert "DJANGO_SECURE_PROXY_SSL_HEADER" in result.stderr
