"""``manage.py create_app_role [NAME]``: the PostgreSQL role the application runs as, owning nothing.

Run it as the database owner (the role that runs ``migrate``), after every ``migrate``: it is
idempotent. The role may log in and read and write rows (SELECT, INSERT, UPDATE, DELETE on the
tables, USAGE on the sequences, also on tables later migrations create: default privileges), and no
more: it owns no table, so it cannot ``ALTER TABLE ... DISABLE TRIGGER`` nor drop anything; it has no
TRUNCATE; audit events and checkpoints are insert-only for it (no UPDATE, no DELETE) and audit chain
heads cannot be deleted. The application then connects with ``DATABASE_URL`` naming this role, while
migrations run with the owner's URL (``MIGRATION_DATABASE_URL`` in docker-compose.yml).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

#: Tables whose rows the application only ever inserts.
INSERT_ONLY = ("mrv_auditevent", "mrv_auditcheckpoint")
#: Tables whose rows the application never deletes.
NEVER_DELETED = ("mrv_auditchainhead",)


def scram_sha_256(password: str, *, iterations: int = 4096) -> str:
    """A PostgreSQL SCRAM-SHA-256 verifier of ``password`` (RFC 5802/7677): the server stores this, so
    the clear password never reaches it (nor its statement log)."""
    salt = os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()

    def b64(value: bytes) -> str:
        return base64.b64encode(value).decode()

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class Command(BaseCommand):
    help = (
        "Create (or bring up to date) the PostgreSQL role the application runs as: it can log in and "
        "read and write rows, and owns nothing. Run as the database owner after each migrate."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", nargs="?", default="mrv_app", help="the role's name (default mrv_app)")
        parser.add_argument(
            "--password-env",
            metavar="VARIABLE",
            default="",
            help="set the role's password from this environment variable (sent as a SCRAM verifier)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("create_app_role is for PostgreSQL (the embedded SQLite mode has no roles)")
        name: str = options["name"]
        password = ""
        if options["password_env"]:
            password = os.environ.get(options["password_env"], "")
            if not password:
                raise CommandError(f"{options['password_env']} is empty or not set")
        role = connection.ops.quote_name(name)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT current_user, current_database(), current_schema()")
            owner, database, schema = cursor.fetchone()
            if name == owner:
                raise CommandError(f"{name} is the role running this command: the application needs another")
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name])
            verb = "ALTER" if cursor.fetchone() else "CREATE"
            attributes = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT"
            if password:
                attributes += f" PASSWORD {_literal(scram_sha_256(password))}"
            cursor.execute(f"{verb} ROLE {role} {attributes}")
            cursor.execute(
                "SELECT relname FROM pg_class JOIN pg_roles ON pg_roles.oid = relowner WHERE rolname = %s",
                [name],
            )
            owned = sorted(row[0] for row in cursor.fetchall())
            if owned:
                raise CommandError(f"{name} owns {', '.join(owned)}: the application's role must own nothing")
            quoted_schema, quoted_owner = connection.ops.quote_name(schema), connection.ops.quote_name(owner)
            tables = ", ".join(connection.ops.quote_name(table) for table in INSERT_ONLY)
            never_deleted = ", ".join(connection.ops.quote_name(table) for table in NEVER_DELETED)
            for statement in (
                f"GRANT CONNECT ON DATABASE {connection.ops.quote_name(database)} TO {role}",
                f"GRANT USAGE ON SCHEMA {quoted_schema} TO {role}",
                f"REVOKE ALL ON ALL TABLES IN SCHEMA {quoted_schema} FROM {role}",
                f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {quoted_schema} TO {role}",
                f"REVOKE UPDATE, DELETE ON {tables} FROM {role}",
                f"REVOKE DELETE ON {never_deleted} FROM {role}",
                f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {quoted_schema} TO {role}",
                f"ALTER DEFAULT PRIVILEGES FOR ROLE {quoted_owner} IN SCHEMA {quoted_schema} "
                f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
                f"ALTER DEFAULT PRIVILEGES FOR ROLE {quoted_owner} IN SCHEMA {quoted_schema} "
                f"GRANT USAGE, SELECT ON SEQUENCES TO {role}",
            ):
                cursor.execute(statement)
        self.stdout.write(
            f"role {name}: {verb.lower()}d; rows of every table in {database}.{schema} (audit events and "
            f"checkpoints insert-only), owns nothing. Connect the application with it; migrate as {owner}."
        )
