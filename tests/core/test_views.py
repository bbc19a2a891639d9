"""The console's shell as a browser sees it: login, the dashboard, the language switch."""

import pytest
from django.urls import reverse

API_KEY_MARKER = "api-key-marker-Zq7xv41"


@pytest.fixture(autouse=True)
def _minicrm(minicrm_settings):
    """Every logged-in page shows MiniCRM's modules and the budget: use the doc sandbox."""


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(username="ana", password="correct-horse-42")


def test_login_page_renders_the_form_for_anonymous_users(client):
    response = client.get(reverse("login"))

    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="login-form"' in page
    assert 'name="username"' in page
    assert 'name="password"' in page
    assert "csrfmiddlewaretoken" in page
    assert 'hx-headers=\'{"x-csrftoken": ' in page
    assert "/static/vendor/htmx.min.js" in page


def test_home_redirects_anonymous_users_to_login(client):
    response = client.get(reverse("core:home"))

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


@pytest.mark.django_db
def test_logging_in_leads_to_the_dashboard(client, user):
    response = client.post(
        reverse("login"), {"username": "ana", "password": "correct-horse-42", "next": "/"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200


@pytest.mark.django_db
def test_wrong_password_shows_an_error(client, user):
    response = client.post(reverse("login"), {"username": "ana", "password": "wrong"})

    assert response.status_code == 200
    assert 'class="errornote"' in response.content.decode()


@pytest.mark.django_db
def test_settings_show_the_backend_but_never_the_api_key(client, admin_user, settings):
    settings.MINICRM_BASE_URL = "https://r3-test.minicrm.hu"
    settings.MINICRM_SYSTEM_ID = "98765"
    settings.MINICRM_API_KEY = API_KEY_MARKER
    client.force_login(admin_user)

    response = client.get(reverse("core:settings"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "https://r3-test.minicrm.hu" in page
    assert "98765" in page
    assert API_KEY_MARKER not in page


@pytest.mark.django_db
def test_admin_link_only_for_staff(client, user, admin_user):
    client.force_login(user)
    assert 'href="/admin/"' not in client.get("/").content.decode()

    client.force_login(admin_user)
    assert 'href="/admin/"' in client.get("/").content.decode()


@pytest.mark.django_db
def test_logout_returns_to_the_login_page(client, user):
    client.force_login(user)

    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert client.get("/").status_code == 302


@pytest.mark.django_db
def test_switching_to_hungarian_translates_the_page(client, user):
    client.force_login(user)
    assert "Dashboard" in client.get("/").content.decode()

    response = client.post(reverse("set_language"), {"language": "hu", "next": "/"})

    assert response.status_code == 302
    assert response["Location"] == "/"
    page = client.get("/").content.decode()
    assert '<html lang="hu">' in page
    assert "Irányítópult" in page
    assert "Kijelentkezés" in page
    assert "Dashboard" not in page


def test_login_page_follows_the_browser_language(client):
    page = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="hu").content.decode()

    assert "Bejelentkezés" in page
    assert "Felhasználónév" in page  # Django's own translation of the form label
