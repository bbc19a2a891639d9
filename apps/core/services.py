"""Writes that belong to the console itself rather than to a MiniCRM resource."""

import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from apps.core.minicrm import minicrm_client
from apps.core.models import FieldLabel, Profile


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


def field_labels_save(*, entity: str, labels: dict[str, tuple[str, str]]) -> int:
    """Store administrators' labels of an entity's fields ({field name: (English,
    Hungarian)}); both blank drops the field's row (its default label is back). Fields not
    named keep theirs. Returns how many fields changed."""
    from apps.core.fieldviews import named_fields_forget

    changed = 0
    with transaction.atomic():
        held = {row.field_name: row for row in FieldLabel.objects.filter(entity=entity)}
        for name, (english, hungarian) in labels.items():
            row = held.get(name)
            if not english and not hungarian:
                if row is not None:
                    row.delete()
                    changed += 1
            elif row is None:
                FieldLabel.objects.create(
                    entity=entity, field_name=name, label_en=english, label_hu=hungarian
                )
                changed += 1
            elif (row.label_en, row.label_hu) != (english, hungarian):
                row.label_en, row.label_hu = english, hungarian
                row.save(update_fields=["label_en", "label_hu", "updated_at"])
                changed += 1
    named_fields_forget()
    return changed
