"""The words indexes (0003) without the search words on PostgreSQL: its btree refused a card or
contact whose words pass 2,704 bytes (a long text field), and it searches the words with the
trigram indexes of 0002. SQLite keeps them, as before."""

import apps.mirror.models
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("mirror", "0004_card_name_index"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="card",
            name="mirror_card_words",
        ),
        migrations.RemoveIndex(
            model_name="contact",
            name="mirror_contact_words",
        ),
        migrations.AddIndex(
            model_name="card",
            index=apps.mirror.models.WordsIndex(
                fields=["category_id", "updated_at", "id", "search_text", "deleted"],
                name="mirror_card_words",
            ),
        ),
        migrations.AddIndex(
            model_name="contact",
            index=apps.mirror.models.WordsIndex(
                fields=["name", "id", "search_text", "deleted", "type"], name="mirror_contact_words"
            ),
        ),
    ]
