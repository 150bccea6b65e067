"""The README tests' PostgreSQL database (``omop_url``)."""

from __future__ import annotations

import os

import pytest


@pytest.fixture
def omop_url():
    """A fresh, empty database on the test PostgreSQL server (None without one), dropped after."""
    base = os.environ.get("HYGEIA_TEST_POSTGRES_URL")
    if not base:
        yield None
        return
    import secrets
    from urllib.parse import urlsplit, urlunsplit

    import pg8000.native

    parts = urlsplit(base)
    name = f"hygeia_readme_{secrets.token_hex(4)}"
    admin = pg8000.native.Connection(user=parts.username or "postgres", host=parts.hostname or "127.0.0.1",
                                     port=parts.port or 5432, password=parts.password, database=parts.path.lstrip("/"))
    try:
        admin.run(f"CREATE DATABASE {name}")
        yield urlunsplit(parts._replace(path=f"/{name}"))
        admin.run(f"DROP DATABASE IF EXISTS {name}")
    finally:
        admin.close()
