"""What fleetlake adds to dlt's destinations: PostgreSQL without a password (trust, peer or certificate
authentication), and each destination's own settings named when they are missing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dlt
from dlt.common.configuration import configspec
from dlt.common.typing import TSecretStrValue
from dlt.destinations.impl.postgres.configuration import PostgresCredentials


@configspec(init=False)
class PasswordlessPostgresCredentials(PostgresCredentials):
    """dlt's PostgreSQL credentials with the password optional: a server that trusts the client (local
    `trust`, `peer`, client certificates) takes none, and dlt would insist on one."""

    password: TSecretStrValue | None = None  # type: ignore[assignment]  # optional is the point


def passwordless_postgres() -> Any:
    """A postgres destination built from dlt's own `destination.postgres.credentials` when that setting
    names no password; None when it has one, or is not set (dlt then resolves and reports as usual)."""
    configured: Any = dlt.secrets.get("destination.postgres.credentials")
    if not configured:
        configured = dlt.config.get("destination.postgres.credentials")
    credentials = PasswordlessPostgresCredentials()
    if isinstance(configured, str):
        credentials.parse_native_representation(configured)
    elif isinstance(configured, Mapping):
        for name, value in configured.items():
            if name in credentials:
                credentials[name] = value
    else:
        return None
    if credentials.password or not (credentials.host and credentials.database and credentials.username):
        return None
    credentials.resolve()
    return dlt.destinations.postgres(credentials=credentials)


# how each destination's missing setting is set, in its own form: (setting, example) for the message
EXAMPLES: dict[str, tuple[str, str]] = {
    "postgres": ("credentials", "postgresql://loader:password@localhost:5432/fleet (no password: trust auth)"),
    "sqlalchemy": ("credentials", "mysql+pymysql://root:password@127.0.0.1:3306/fleet (MariaDB, MySQL, TiDB)"),
    "filesystem": ("bucket_url", "s3://my-bucket/fleetlake, or file:///var/lib/fleetlake for a local folder"),
    "duckdb": ("credentials", "/var/lib/fleetlake/fleet.duckdb"),
    "motherduck": ("credentials", "md:fleet?motherduck_token=..."),
    "snowflake": ("credentials", "snowflake://loader:password@account/database?warehouse=wh&role=loader"),
    "bigquery": ("credentials", "the project_id, private_key and client_email of a service account"),
}

# the extra that installs a destination's driver, by the module dlt fails to import
EXTRAS = {
    "postgres": "postgres",
    "s3": "s3",
    "psycopg2": "postgres",
    "sqlalchemy": "mysql",
    "pymysql": "mysql",
    "MySQLdb": "mysql",
    "s3fs": "s3",
    "botocore": "s3",
    "deltalake": "deltalake",
    "pyiceberg": "iceberg",
}
