"""Load CDM rows into DuckDB (one file) or PostgreSQL (one transaction).

A *sink* receives the rows: :meth:`begin` creates the tables, :meth:`insert`
appends one Arrow table, :meth:`finish` adds the primary keys and makes the
result visible, :meth:`abort` throws everything away. :func:`load` drives a
sink with the rows of every shard, so memory stays flat in N.

- :class:`DuckDBSink` writes a ``.duckdb`` file at a temporary path (the
  exporter renames it into place), one transaction per shard with its journal row, so
  that a killed export continues from the shards committed; an abort deletes it and its WAL.
- :class:`PostgresSink` runs everything in one transaction on a ``pg8000``
  connection (the BSD-licensed pure-Python driver): a failure or an interrupt
  rolls back, and a killed process's transaction is rolled back by the server.

Example:
    >>> safe_url("postgresql://alice:secret@db.example:5433/cdm")
    'postgresql://alice:***@db.example:5433/cdm'
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import socket
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pyarrow as pa
import pyarrow.csv as pacsv

from hygeia.core._faults import EXPORT_KILL_ENV, maybe_kill
from hygeia.errors import ConfigError, MissingExtraError, OutputError, Terminated
from hygeia.export._checkpoint import Checkpoint
from hygeia.export.omop._ddl import (
    ALL_TABLES,
    VOCABULARY_TABLES,
    render_primary_keys,
    render_table,
)
from hygeia.export.omop._transform import ShardTransformer
from hygeia.export.omop._vocabulary import Vocabulary

__all__ = ["DuckDBSink", "PgTarget", "PostgresSink", "connect_postgres", "load", "parse_url", "safe_url"]

_SCHEMA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
#: How long to wait for a PostgreSQL server to accept the TCP connection.
CONNECT_TIMEOUT_S = 10.0


def load(shards: Iterable[tuple[pa.Table, pa.Table]], sink: Any, run_info: dict,
         vocabulary: Vocabulary | None = None, start: str | None = None, *,
         checkpoint: Checkpoint | None = None) -> dict[str, int]:
    """Map every shard to CDM rows and write them, then ``cdm_source`` and the vocabulary tables,
    through ``sink``; returns rows per table.

    With a ``checkpoint`` (DuckDB), ``shards`` starts at ``checkpoint.start``: the sink already
    holds the earlier shards (:meth:`DuckDBSink.resume`), whose journalled states renumber the ids
    from where they stopped. Each shard is one transaction with its journal row.
    """
    counts = {table: 0 for table in ALL_TABLES}
    transformer = ShardTransformer(run_info, vocabulary, start)
    try:
        sink.begin()
        index = 0
        if checkpoint is not None:
            index = checkpoint.start
            for state in checkpoint.states:  # the shards the database holds already
                for table, n in state["counts"].items():
                    counts[table] += n
                transformer.offsets.update(state["offsets"])
                for locale, state_name, location_id in state["locations"]:
                    transformer.locations[(locale, state_name)] = location_id
        for persons, events in shards:
            locations = len(transformer.locations)
            shard_counts: dict[str, int] = {}
            sink.begin_shard()
            for table, rows in transformer.transform(persons, events):
                if rows.num_rows:
                    sink.insert(table, rows)
                    shard_counts[table] = shard_counts.get(table, 0) + rows.num_rows
            state = {"persons": persons.num_rows, "counts": shard_counts, "offsets": dict(transformer.offsets),
                     "locations": [[locale, state_name, i] for (locale, state_name), i
                                   in islice(transformer.locations.items(), locations, None)]}
            if checkpoint is not None:
                maybe_kill(index, EXPORT_KILL_ENV)  # test-only: killed before the shard commits; nothing when unset
            sink.end_shard(index, state)
            if checkpoint is not None:
                checkpoint.shard_done(index, state)  # (the database's own journal row is what counts)
            for table, n in shard_counts.items():
                counts[table] += n
            index += 1
        sink.insert("cdm_source", transformer.cdm_source())
        counts["cdm_source"] = 1
        for table in VOCABULARY_TABLES:
            for rows in transformer.vocabulary.batches(transformer.con, table):
                sink.insert(table, rows)
                counts[table] += rows.num_rows
        sink.finish()
    except (KeyboardInterrupt, Terminated):  # Ctrl-C, SIGTERM: a journalled file is kept for --resume
        sink.stop()
        raise
    except BaseException:
        sink.abort()
        raise
    finally:
        transformer.close()
    return counts


# -- DuckDB ---------------------------------------------------------------------
class DuckDBSink:
    """Writes the CDM into a new DuckDB file at ``path`` (which must not exist), one transaction per shard.

    Each shard's rows are committed together with a row of the journal table
    ``_hygeia_checkpoint`` (its index and its state, with a SHA-256 of them), so the file a
    killed export leaves holds exactly the shards it committed: DuckDB's write-ahead log rolls
    back the torn one when the file is opened again. :meth:`resume` reopens such a file;
    :meth:`finish` drops the journal table.
    """

    def __init__(self, path: str | Path, *, journal: bool = True) -> None:
        self.path = Path(path)
        self.journal = journal
        self.con: Any = None

    def resume(self, shards: int) -> list[dict[str, Any]] | None:
        """Reopen the file a killed export left; returns the journalled states of its shards, in order.

        Returns None (and deletes the file) where nothing can be kept: no file, a file DuckDB
        cannot open, a damaged journal row, or tables whose row counts differ from the journal's.
        """
        import duckdb

        if not self.path.is_file():
            self._delete()
            return None
        try:
            con = duckdb.connect(str(self.path))
        except duckdb.Error:
            self._delete()
            return None
        try:
            rows = con.execute(f"SELECT shard, entry FROM {_JOURNAL_TABLE} ORDER BY shard").fetchall()
            states = []
            for i, (shard, entry) in enumerate(rows):
                obj = json.loads(entry)
                if shard != i or i >= shards or obj.get("check") != _entry_check(obj):
                    raise ValueError(f"journal row {i} is damaged")
                states.append(obj["state"])
            for table in ALL_TABLES:  # the tables hold the committed shards' rows, no more, no fewer
                want = sum(int(state["counts"].get(table, 0)) for state in states)
                if con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] != want:
                    raise ValueError(f"{table} does not hold the journalled rows")
        except (duckdb.Error, ValueError, KeyError, TypeError, json.JSONDecodeError):
            con.close()
            self._delete()
            return None
        self.con = con
        return states

    def begin(self) -> None:
        import duckdb

        if self.con is not None:  # resumed: the tables are there
            return
        try:
            self.con = duckdb.connect(str(self.path))
        except duckdb.Error as e:
            raise OutputError(f"cannot create the DuckDB file {str(self.path)!r}: {e}. "
                              "Choose an --out path in a folder you can write to.") from e
        for table in ALL_TABLES:
            self.con.execute(render_table(table, "duckdb"))
        if self.journal:
            self.con.execute(f"CREATE TABLE {_JOURNAL_TABLE} (shard INTEGER, entry VARCHAR)")

    def begin_shard(self) -> None:
        if self.journal:
            self.con.execute("BEGIN TRANSACTION")

    def end_shard(self, index: int, state: dict[str, Any]) -> None:
        if not self.journal:
            return
        entry = {"shard": index, "state": state}
        entry["check"] = _entry_check(entry)
        self.con.execute(f"INSERT INTO {_JOURNAL_TABLE} VALUES (?, ?)", [index, json.dumps(entry, sort_keys=True)])
        self.con.execute("COMMIT")

    def insert(self, table: str, rows: pa.Table) -> None:
        self.con.register("_rows", rows)
        try:
            self.con.execute(f"INSERT INTO {table} SELECT * FROM _rows")
        finally:
            self.con.unregister("_rows")

    def finish(self) -> None:
        if self.journal:
            self.con.execute(f"DROP TABLE {_JOURNAL_TABLE}")
        for statement in render_primary_keys():
            self.con.execute(statement)
        self.con.execute("CHECKPOINT")
        self.con.close()
        self.con = None

    def abort(self) -> None:
        if self.con is not None:
            try:
                self.con.close()
            finally:
                self.con = None
        self._delete()

    def stop(self) -> None:
        """Stop without finishing: roll back the open shard and keep the committed ones (deleted if not journalled)."""
        if not self.journal:
            self.abort()
            return
        if self.con is not None:
            try:
                self.con.execute("ROLLBACK")
            except Exception:  # noqa: BLE001 - no transaction open (between shards)
                pass
            finally:
                self.con.close()
                self.con = None

    def _delete(self) -> None:
        for p in (self.path, self.path.with_name(self.path.name + ".wal")):
            p.unlink(missing_ok=True)


_JOURNAL_TABLE = "_hygeia_checkpoint"


def _entry_check(entry: dict[str, Any]) -> str:
    body = json.dumps({k: v for k, v in entry.items() if k != "check"}, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(body.encode()).hexdigest()


# -- PostgreSQL -----------------------------------------------------------------
@dataclass(frozen=True)
class PgTarget:
    """Where a ``postgresql://user:password@host:port/database`` URL points."""

    user: str
    password: str | None
    host: str
    port: int
    database: str
    ssl: bool
    url: str  # as given; never print it (it may hold a password): use safe_url()


def safe_url(url: str) -> str:
    """``url`` with its password replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0].split(":", 1)[0]
    return parts._replace(netloc=f"{user}:***@{netloc[1]}").geturl()


def parse_url(url: str) -> PgTarget:
    """Parse a PostgreSQL URL.

    Raises:
        ConfigError: not a ``postgresql://`` URL, no database named, or an unknown option.
    """
    shown = safe_url(url)
    example = "postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE"
    try:
        parts = urlsplit(url)
        port = parts.port or 5432
    except ValueError as e:
        raise ConfigError(f"--omop-url {shown!r} is not a valid URL ({e}); write it as {example}") from None
    if parts.scheme not in ("postgresql", "postgres"):
        raise ConfigError(f"--omop-url {shown!r} is not a PostgreSQL URL; write it as {example} "
                          "(or leave out --omop-url to write a DuckDB file)")
    database = unquote(parts.path.lstrip("/"))
    if not database:
        raise ConfigError(f"--omop-url {shown!r} names no database; write it as {example}")
    query = parse_qs(parts.query)
    unknown = sorted(set(query) - {"sslmode"})
    if unknown:
        raise ConfigError(f"--omop-url {shown!r} has unsupported option(s) {unknown}; only sslmode is understood")
    sslmode = query.get("sslmode", ["prefer"])[-1]
    if sslmode not in ("disable", "allow", "prefer", "require"):
        raise ConfigError(f"--omop-url {shown!r}: sslmode={sslmode!r} is not supported; use disable or require")
    return PgTarget(
        user=unquote(parts.username) if parts.username else "postgres",
        password=unquote(parts.password) if parts.password is not None else None,
        host=parts.hostname or "localhost",
        port=port,
        database=database,
        ssl=sslmode == "require",
        url=url,
    )


def connect_postgres(url: str) -> Any:
    """Open a ``pg8000.native.Connection`` to ``url``, or explain why not.

    Raises:
        ConfigError: a malformed URL.
        MissingExtraError: pg8000 is not installed.
        OutputError: the server refuses, cannot be reached, or rejects the login/database.
    """
    target = parse_url(url)
    shown = safe_url(url)
    try:
        import pg8000.native
    except ImportError:
        raise MissingExtraError("pg8000", "postgres", "Loading OMOP into PostgreSQL") from None
    where = f"{target.host}:{target.port}"
    # Probe first with a timeout, so a closed port or an unreachable host fails fast and clearly.
    try:
        socket.create_connection((target.host, target.port), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as e:
        reason = e.strerror or type(e).__name__
        if isinstance(e, TimeoutError) or isinstance(e, socket.timeout):
            reason = f"no answer within {CONNECT_TIMEOUT_S:g} s"
        raise OutputError(
            f"cannot connect to the PostgreSQL server of --omop-url {shown!r}: {where} refused or did not "
            f"answer ({reason}). Start the server (or fix host/port in the URL), or leave out --omop-url to "
            "write a DuckDB file instead."
        ) from None
    try:
        con = pg8000.native.Connection(
            user=target.user, password=target.password, host=target.host, port=target.port,
            database=target.database, ssl_context=True if target.ssl else None,
            timeout=None, application_name="hygeia-omop",
        )
    except pg8000.native.DatabaseError as e:
        detail = e.args[0] if e.args and isinstance(e.args[0], dict) else {}
        message = detail.get("M", str(e))
        code = detail.get("C", "")
        hint = {
            "3D000": f"create it first (createdb -h {target.host} -p {target.port} -U {target.user} "
                     f"{target.database}) or name an existing database in the URL",
            "28P01": "check the user name and password in the URL",
            "28000": "check the user name in the URL and the server's pg_hba.conf",
        }.get(code, "check the user, password and database in the URL")
        raise OutputError(f"the PostgreSQL server of --omop-url {shown!r} refused the connection: {message}. "
                          f"Fix: {hint}.") from None
    except (pg8000.native.InterfaceError, OSError) as e:
        raise OutputError(f"cannot connect to the PostgreSQL server of --omop-url {shown!r} at {where}: {e}. "
                          "Check that it is a PostgreSQL server and that the URL is right.") from None
    return con


class PostgresSink:
    """Writes the CDM into PostgreSQL in one transaction.

    Args:
        url: ``postgresql://user[:password]@host[:port]/database``.
        schema: the schema for the tables (created if missing); default: the
            connection's current schema (normally ``public``).
        overwrite: replace the CDM tables if the schema already has any of them.

    Raises:
        OutputError: on connection (see :func:`connect_postgres`), or if the
            tables exist and ``overwrite`` is false.
    """

    def __init__(self, url: str, *, schema: str | None = None, overwrite: bool = False) -> None:
        if schema is not None and not _SCHEMA_NAME.fullmatch(schema):
            raise ConfigError(f"omop_schema {schema!r} is not a plain SQL name; use letters, digits and _ only")
        self.url = url
        self.schema = schema
        self.overwrite = overwrite
        self.con: Any = None

    def begin(self) -> None:
        self.con = connect_postgres(self.url)
        con = self.con
        con.run("BEGIN")
        if self.schema is not None:
            con.run(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
            con.run(f'SET LOCAL search_path TO "{self.schema}"')
        names = ", ".join(f"'{t}'" for t in ALL_TABLES)
        existing = [r[0] for r in con.run(
            "SELECT table_name FROM information_schema.tables "
            f"WHERE table_schema = current_schema() AND table_name IN ({names}) ORDER BY table_name")]
        if existing and not self.overwrite:
            schema = con.run("SELECT current_schema()")[0][0]
            raise OutputError(
                f"the PostgreSQL database of --omop-url {safe_url(self.url)!r} already has OMOP tables in schema "
                f"{schema!r} ({', '.join(existing)}); pass --overwrite (overwrite=True) to replace them, "
                "or choose another database or schema."
            )
        for table in existing:
            con.run(f"DROP TABLE {table} CASCADE")
        for table in ALL_TABLES:
            con.run(render_table(table, "postgresql"))

    def begin_shard(self) -> None:
        """Nothing: the whole load is one transaction (a killed load is rolled back by the server)."""

    def end_shard(self, index: int, state: dict[str, Any]) -> None:
        """Nothing: see :meth:`begin_shard`."""

    def insert(self, table: str, rows: pa.Table) -> None:
        for chunk in _csv_chunks(rows):
            self.con.run(f"COPY {table} FROM STDIN WITH (FORMAT csv)", stream=chunk)

    def finish(self) -> None:
        for statement in render_primary_keys():
            self.con.run(statement)
        self.con.run("COMMIT")
        self.con.close()
        self.con = None

    def stop(self) -> None:
        """Stopped by Ctrl-C or SIGTERM: the load is one transaction, so it is rolled back (:meth:`abort`)."""
        self.abort()

    def abort(self) -> None:
        con, self.con = self.con, None
        if con is None:
            return
        try:
            con.run("ROLLBACK")
        except Exception:  # noqa: BLE001 - the connection may be gone; the server rolls back then
            pass
        finally:
            try:
                con.close()
            except Exception:  # noqa: BLE001 - closing a broken socket
                pass


def _csv_chunks(rows: pa.Table, batch_rows: int = 200_000) -> Iterator[io.BytesIO]:
    """``rows`` as CSV (no header; null unquoted-empty, "" quoted), in bounded chunks."""
    options = pacsv.WriteOptions(include_header=False)
    for start in range(0, rows.num_rows, batch_rows):
        buf = io.BytesIO()
        pacsv.write_csv(rows.slice(start, batch_rows), buf, options)
        buf.seek(0)
        yield buf
