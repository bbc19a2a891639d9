"""Who may reach what: every URL of the project refuses anonymous users (but the login page
and the language switch); the settings page and Django's admin are for administrators only."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.urlwalk import all_urls
from tests.viewsupport import logged_in

pytestmark = pytest.mark.django_db

PUBLIC = {"login", "admin:login", "set_language", "favicon"}
# Django's admin: each model's pages and the site's own.
ADMIN_SAMPLE = {"admin:index", "admin:auth_user_change", "admin:app_list", "admin:jsi18n"}
CONSOLE = {
    "core:home",
    "core:status",
    "search:everywhere",
    "search:contact_options",
    "core:preferences",
    "core:settings",
    "core:schema_refresh",
    "contacts:search",
    "contacts:add",
    "contacts:export",
    "contacts:contact",
    "contacts:change",
    "contacts:delete",
    "cards:changelist",
    "orders:list",
    "orders:export",
    "cards:add",
    "cards:bulk",
    "cards:card",
    "cards:change",
    "cards:field",
    "cards:status",
    "cards:columns",
    "cards:filter_add",
    "cards:filter_delete",
    "writes:queue",
    "writes:undo",
    "writes:retry",
    "writes:discard",
    "writes:job",
    "webhooks:receive",
    "webhooks:handlers",
    "webhooks:events",
    "mirror:sync",
    "mirror:resync_all",
    "mirror:contacts_resync",
    "mirror:module_resync",
    "mirror:record_resync",
}


URLS = all_urls()


def test_the_walk_finds_every_page_of_the_console_and_the_admin() -> None:
    names = {name for name, _ in URLS}

    assert names >= CONSOLE | PUBLIC | ADMIN_SAMPLE
    assert len(URLS) > 50


def _is_login_redirect(response) -> bool:
    location = response.get("Location", "")
    return response.status_code == 302 and location.startswith(
        ("/accounts/login/?next=", "/admin/login/?next=")
    )


@pytest.mark.parametrize(("name", "url"), [u for u in URLS if u[0] not in PUBLIC])
@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_users_are_refused_everywhere(
    client: Client, name: str, url: str, method: str
) -> None:
    response = getattr(client, method)(url)

    assert _is_login_redirect(response) or response.status_code in (401, 403), (
        f"{method.upper()} {url} ({name}) answered {response.status_code}"
        f" {response.get('Location', '')}"
    )


def test_anonymous_console_pages_redirect_to_the_console_login(client: Client) -> None:
    response = client.get("/cards/2056/")

    assert response["Location"] == "/accounts/login/?next=/cards/2056/"


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_the_login_pages_and_the_language_switch_are_open(client: Client, name: str) -> None:
    url = dict(URLS)[name]

    response = client.get(url) if name != "set_language" else client.post(url, {"language": "hu"})

    assert response.status_code in (200, 302)
    assert not _is_login_redirect(response)


def test_language_switch_works_before_logging_in(client: Client) -> None:
    response = client.post("/i18n/setlang/", {"language": "hu", "next": "/accounts/login/"})

    assert response["Location"] == "/accounts/login/"
    assert "Bejelentkezés" in client.get("/accounts/login/").content.decode()


@pytest.fixture
def member(django_user_model: type[User]) -> User:
    """A back-office user without administrator rights."""
    return django_user_model.objects.create_user(username="tag", password=None)


@pytest.fixture
def administrator(django_user_model: type[User]) -> User:
    return django_user_model.objects.create_user(username="fonok", password=None, is_staff=True)


def test_non_administrators_get_403_on_the_settings(client: Client, member: User) -> None:
    logged_in(client, member)

    assert client.get("/settings/").status_code == 403
    assert client.post("/settings/schema/refresh/").status_code == 403


@pytest.mark.parametrize(
    ("name", "url"), [u for u in URLS if u[0].startswith("admin:") and u[0] != "admin:login"]
)
def test_non_administrators_cannot_use_django_s_admin(
    client: Client, member: User, name: str, url: str
) -> None:
    response = logged_in(client, member).get(url, follow=True)

    assert response.redirect_chain, f"{url} ({name}) answered {response.status_code}"
    assert response.redirect_chain[-1][0].startswith("/admin/login/?next=")
    assert "not authorized to access this page" in response.content.decode()


def test_administrators_use_the_settings_and_the_admin(
    client: Client, administrator: User, minicrm_settings
) -> None:
    logged_in(client, administrator)

    assert client.get("/settings/").status_code == 200
    refresh = client.post("/settings/schema/refresh/")
    assert (refresh.status_code, refresh["Location"]) == (302, "/settings/")
    admin = client.get("/admin/")
    assert admin.status_code == 200
    assert "Log out" in admin.content.decode()


def test_superusers_manage_users_in_the_admin(client: Client, admin_user: User) -> None:
    users = logged_in(client, admin_user).get("/admin/auth/user/")

    assert users.status_code == 200
    assert f'href="/admin/auth/user/{admin_user.pk}/change/"' in users.content.decode()


def test_the_header_offers_settings_and_users_only_to_administrators(
    client: Client, member: User, administrator: User, minicrm_settings
) -> None:
    member_page = logged_in(client, member).get("/").content.decode()
    assert 'href="/settings/"' not in member_page

    admin_page = logged_in(client, administrator).get("/").content.decode()
    assert 'href="/settings/"' in admin_page
    assert 'href="/admin/"' in admin_page
