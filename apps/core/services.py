"""Writes that belong to the console itself rather than to a MiniCRM resource."""

import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from apps.core.minicrm import minicrm_client
from apps.core.models import Profile


def superuser_ensure(*, username: str) -> str | None:
    """Create the superuser `username` with a random password unless the user exists.

    Returns the new password when the user was created, None when it already existed
    (an existing user is left untouched).
    """
    user_model = get_user_model()
    with transaction.atomic():
        if user_model.objects.filter(username=username).exists():
            return None
        password = secrets.token_urlsafe(12)
        user_model.objects.create_superuser(username=username, email="", password=password)
    return password


def minicrm_schema_refresh(*entities: str) -> None:
    """Drop cached MiniCRM schemas ("Person", "Business", "Project/10"); all if none named.
    The mirror's copies go too: the next page reads them from MiniCRM again."""
    from apps.mirror.services import schemas_forget

    minicrm_client().schemas.refresh(*entities)
    schemas_forget(*entities)


def minicrm_user_set(*, user: Any, minicrm_user_id: int | None) -> None:
    """Remember which MiniCRM user a console user is."""
    Profile.objects.update_or_create(user=user, defaults={"minicrm_user_id": minicrm_user_id})
