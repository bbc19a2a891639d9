from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("writes", "0002_first_attempt_at"),
    ]

    operations = [
        migrations.AddField(
            model_name="write",
            name="idempotency_key",
            field=models.CharField(
                blank=True, editable=False, max_length=80, null=True, unique=True
            ),
        ),
    ]
