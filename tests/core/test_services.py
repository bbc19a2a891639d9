import pytest
from django.contrib.auth import authenticate
from django.test import RequestFactory

from apps.core.services import superuser_ensure


def _login_request():
    """The login throttle checks every authentication against its request."""
    return RequestFactory().post("/accounts/login/")


@pytest.mark.django_db
def test_superuser_ensure_creates_a_superuser_with_a_random_password(django_user_model):
    password = superuser_ensure(username="admin")

    assert password
    user = django_user_model.objects.get(username="admin")
    assert user.is_superuser
    assert user.is_staff
    assert authenticate(_login_request(), username="admin", password=password) == user


@pytest.mark.django_db
def test_superuser_ensure_leaves_an_existing_user_alone():
    first = superuser_ensure(username="admin")

    assert superuser_ensure(username="admin") is None
    assert authenticate(_login_request(), username="admin", password=first) is not None


@pytest.mark.django_db
def test_superuser_passwords_differ_between_databases(django_user_model):
    first = superuser_ensure(username="admin")
    django_user_model.objects.all().delete()

    assert superuser_ensure(username="admin") != first
