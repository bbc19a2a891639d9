"""The login throttle: repeated wrong passwords lock out a username and a client address, on
the console's login form and on the admin's, with a page that says when to try again."""

from datetime import timedelta

import pytest
from django.contrib.auth import authenticate
from django.http import HttpRequest
from django.test import Client, RequestFactory

from apps.core.login_throttle import client_ip

PASSWORD = "correct-horse-42"
ATTACKER = "203.0.113.7"
ELSEWHERE = "198.51.100.20"
LOGIN_FORMS = ["/accounts/login/", "/admin/login/"]


@pytest.fixture
def users(django_user_model):
    django_user_model.objects.create_user("ana", password=PASSWORD, is_staff=True)
    django_user_model.objects.create_user("bela", password=PASSWORD, is_staff=True)


def _log_in(client: Client, url: str, username: str, password: str, ip: str):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=ip)


def _logged_in(response) -> bool:
    return response.status_code == 302 and "login" not in response["Location"]


@pytest.mark.django_db
@pytest.mark.parametrize("url", LOGIN_FORMS)
def test_fifty_wrong_passwords_lock_out_the_right_one(client, users, url):
    for _attempt in range(50):
        assert not _logged_in(_log_in(client, url, "ana", "wrong-guess", ATTACKER))

    response = _log_in(client, url, "ana", PASSWORD, ATTACKER)

    assert response.status_code == 429
    page = response.content.decode()
    assert 'id="locked-out"' in page
    assert "Try again in 15 minutes." in page
    assert client.get("/").status_code == 302  # still not logged in


@pytest.mark.django_db
def test_the_lockout_page_speaks_hungarian(client, users, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "hu"
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        _log_in(client, "/accounts/login/", "ana", "wrong-guess", ATTACKER)

    response = _log_in(client, "/accounts/login/", "ana", PASSWORD, ATTACKER)

    assert response.status_code == 429
    page = response.content.decode()
    assert "Túl sok sikertelen bejelentkezés" in page
    assert "Próbálja újra 15 perc múlva." in page


@pytest.mark.django_db
@pytest.mark.parametrize("url", LOGIN_FORMS)
def test_another_user_from_another_address_is_unaffected(client, users, url):
    for _attempt in range(50):
        _log_in(client, url, "ana", "wrong-guess", ATTACKER)

    assert _logged_in(_log_in(Client(), url, "bela", PASSWORD, ELSEWHERE))


@pytest.mark.django_db
def test_the_username_is_locked_from_every_address(client, users, settings):
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        _log_in(client, "/accounts/login/", "ana", "wrong-guess", ATTACKER)

    assert _log_in(Client(), "/accounts/login/", "ana", PASSWORD, ELSEWHERE).status_code == 429


@pytest.mark.django_db
def test_the_address_is_locked_for_every_username(client, users, settings):
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        _log_in(client, "/accounts/login/", f"guess-{attempt}", "wrong-guess", ATTACKER)

    assert _log_in(client, "/admin/login/", "bela", PASSWORD, ATTACKER).status_code == 429


@pytest.mark.django_db
def test_failures_below_the_limit_do_not_lock(client, users, settings):
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        _log_in(client, "/accounts/login/", "ana", "wrong-guess", ATTACKER)

    assert _logged_in(_log_in(client, "/accounts/login/", "ana", PASSWORD, ATTACKER))


@pytest.mark.django_db
def test_logging_in_to_one_s_own_account_does_not_reset_the_count_on_another(
    client, users, settings
):
    """Someone with an account of their own guesses another's password between logins."""
    for _round in range(3):
        for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
            _log_in(client, "/accounts/login/", "ana", "wrong-guess", ATTACKER)
        _log_in(client, "/accounts/login/", "bela", PASSWORD, ATTACKER)
        client.post("/accounts/logout/")

    assert _log_in(Client(), "/accounts/login/", "ana", PASSWORD, ELSEWHERE).status_code == 429


@pytest.mark.django_db
def test_the_lockout_page_follows_the_cool_off_setting(client, users, settings):
    settings.AXES_FAILURE_LIMIT = 2
    settings.AXES_COOLOFF_TIME = timedelta(minutes=1)
    for _attempt in range(2):
        _log_in(client, "/accounts/login/", "ana", "wrong-guess", ATTACKER)

    page = _log_in(client, "/accounts/login/", "ana", PASSWORD, ATTACKER).content.decode()

    assert "Try again in 1 minute." in page


@pytest.mark.django_db
def test_authenticate_and_client_login_work_when_given_the_request(client, users):
    """The throttle needs the request: code (and tests) that authenticate pass it."""
    request = RequestFactory().post("/accounts/login/")

    assert authenticate(request, username="ana", password=PASSWORD) is not None
    assert client.login(request=HttpRequest(), username="ana", password=PASSWORD)


def test_client_address_behind_proxies_is_counted_from_the_right(settings):
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.7"
    )

    settings.LOGIN_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.1"
    settings.LOGIN_PROXY_COUNT = 1
    assert client_ip(request) == "203.0.113.7"
    settings.LOGIN_PROXY_COUNT = 3
    assert client_ip(request) == "10.0.0.1"
