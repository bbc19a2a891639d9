"""Indexes for the mirror at scale (100,000 cards): the header search and the contact search
scan an index of the words and the columns they filter and sort by, not every row with its
fields (PostgreSQL searches with the trigram indexes of 0002); the counts of cards by status
(the dashboard, the board) and by status and owner read an index alone; and a person's cards
whose to-dos are unread are found in the owner's index."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("mirror", "0002_trigram_search"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="card",
            name="mirror_card_status",
        ),
        migrations.RemoveIndex(
            model_name="card",
            name="mirror_card_owner",
        ),
        migrations.RemoveIndex(
            model_name="card",
            name="mirror_card_search",
        ),
        migrations.RemoveIndex(
            model_name="contact",
            name="mirror_contact_search",
        ),
        migrations.AddIndex(
            model_name="card",
            index=models.Index(
                fields=["category_id", "status_id", "user_id", "deleted", "id"],
                name="mirror_card_status",
            ),
        ),
        migrations.AddIndex(
            model_name="card",
            index=models.Index(fields=["user_id", "todos_synced_at"], name="mirror_card_owner"),
        ),
        migrations.AddIndex(
            model_name="card",
            index=models.Index(
                fields=["category_id", "updated_at", "id", "search_text", "deleted"],
                name="mirror_card_words",
            ),
        ),
        migrations.AddIndex(
            model_name="contact",
            index=models.Index(
                fields=["name", "id", "search_text", "deleted", "type"], name="mirror_contact_words"
            ),
        ),
    ]
