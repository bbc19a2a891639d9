"""Handler passwords are kept as hashes only: existing plain-text passwords are hashed."""

from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import migrations, models


def hash_passwords(apps: Any, schema_editor: Any) -> None:
    Handler = apps.get_model("webhooks", "Handler")
    for handler in Handler.objects.all():
        handler.password_hash = make_password(handler.password)
        handler.save(update_fields=["password_hash"])


class Migration(migrations.Migration):
    dependencies = [("webhooks", "0001_handlers_and_events")]

    operations = [
        migrations.AddField(
            model_name="handler",
            name="password_hash",
            field=models.CharField(default="", editable=False, max_length=128),
            preserve_default=False,
        ),
        # Irreversible on purpose: a hash cannot be turned back into the password.
        migrations.RunPython(hash_passwords, migrations.RunPython.noop, elidable=False),
        migrations.RemoveField(model_name="handler", name="password"),
    ]
