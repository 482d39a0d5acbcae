"""API tokens stored as SHA-512 digests (django-rest-knox), expiring, several per user.

The tokens of DRF's ``rest_framework.authtoken`` (kept in clear text in ``authtoken_token``) are hashed
in place: each becomes an ``ApiToken`` with the digest of the same key, so clients keep working,
expiring ``MRV_TOKEN_TTL_DAYS`` after this migration; then the clear-text table is dropped.
"""

import hashlib
from datetime import timedelta

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone

KNOX_TOKEN_KEY_LENGTH = 15  # knox.settings.CONSTANTS.TOKEN_KEY_LENGTH


def hash_clear_text_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if "authtoken_token" not in connection.introspection.table_names():
        return  # a database that never had DRF's token table
    with connection.cursor() as cursor:
        cursor.execute("SELECT key, user_id FROM authtoken_token")
        rows = cursor.fetchall()
    ApiToken = apps.get_model("mrv", "ApiToken")
    expiry = timezone.now() + timedelta(days=getattr(settings, "MRV_TOKEN_TTL_DAYS", 90))
    ApiToken.objects.using(connection.alias).bulk_create(
        ApiToken(
            # knox.crypto.hash_token: SHA-512 of the token's UTF-8 bytes, in hex
            digest=hashlib.sha512(key.encode("utf-8")).hexdigest(),
            token_key=key[:KNOX_TOKEN_KEY_LENGTH],
            user_id=user_id,
            expiry=expiry,
            name="migrated from the clear-text token table",
        )
        for key, user_id in rows
    )
    schema_editor.execute("DROP TABLE authtoken_token")


class Migration(migrations.Migration):
    dependencies = [
        ("mrv", "0009_finding_acknowledgement"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ApiToken",
            fields=[
                ("token_key", models.CharField(db_index=True, max_length=25)),
                ("created", models.DateTimeField(auto_now_add=True)),
                ("expiry", models.DateTimeField(blank=True, null=True)),
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("digest", models.CharField(max_length=128, unique=True)),
                (
                    "name",
                    models.CharField(blank=True, help_text="what the owner uses the token for", max_length=100),
                ),
                ("last_used_at", models.DateTimeField(blank=True, null=True)),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="auth_token_set",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={"ordering": ["-created", "-id"]},
        ),
        migrations.RunPython(hash_clear_text_tokens, migrations.RunPython.noop, elidable=True),
    ]
