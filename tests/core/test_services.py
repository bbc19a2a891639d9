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


@pytest.mark.django_db
def test_field_labels_save_stores_changes_drops_blanks_and_leaves_other_entities_alone():
    from apps.core.models import FieldLabel
    from apps.core.services import field_labels_save

    field_labels_save(entity="Person", labels={"Email": ("Work email", "Munkahelyi email")})
    assert field_labels_save(entity="20", labels={"Name": ("Title", ""), "Email": ("", "")}) == 1

    changed = field_labels_save(
        entity="20", labels={"Name": ("", ""), "ProjektKod": ("Project code", "Projektkód")}
    )

    assert changed == 2
    assert set(FieldLabel.objects.values_list("entity", "field_name", "label_en", "label_hu")) == {
        ("Person", "Email", "Work email", "Munkahelyi email"),
        ("20", "ProjektKod", "Project code", "Projektkód"),
    }
    assert (
        field_labels_save(entity="20", labels={"ProjektKod": ("Project code", "Projektkód")}) == 0
    )


@pytest.mark.django_db
def test_a_field_label_is_stored_whole_at_its_longest():
    from apps.core.models import LABEL_MAX_LENGTH, FieldLabel
    from apps.core.services import field_labels_save

    longest = "Ő" * LABEL_MAX_LENGTH
    field_labels_save(entity="Business", labels={"Name": (longest, longest)})

    assert FieldLabel.objects.get().label_hu == longest
