"""A minimal FHIR R4 transaction processor over SQL tables (DuckDB or PostgreSQL), for the export tests.

It implements what a server does with a transaction Bundle (FHIR R4 http.html#transaction,
#trules), the parts Hygeia's Bundles use, and refuses anything else:

- the Bundle is processed atomically: any failure rolls back every entry (one SQL transaction);
- ``POST`` with ``request.ifNoneExist`` (conditional create, ``identifier=system|value``): no
  match -> create, one match -> create nothing and use the match, several -> fail (412);
- ``PUT Type?identifier=...`` (conditional update): no match -> create, one -> update it;
- the server assigns every created resource a new id (the client's id is not kept), and
  rewrites each reference to an entry's ``fullUrl`` to ``Type/<the id it got>``;
- a conditional reference (``Type?identifier=system|value``) is resolved by search, and must
  match exactly one resource;
- referential integrity: every reference must name a stored resource (or one of the Bundle).

Example:
    >>> import duckdb
    >>> store = FhirStore(duckdb.connect())
    >>> bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
    ...     {"fullUrl": "urn:uuid:a", "resource": {"resourceType": "Patient", "id": "a",
    ...      "identifier": [{"system": "urn:ietf:rfc:3986", "value": "urn:uuid:a"}]},
    ...      "request": {"method": "POST", "url": "Patient", "ifNoneExist": "identifier=urn:ietf:rfc:3986|urn:uuid:a"}}]}
    >>> [r["status"] for r in store.transaction(bundle) + store.transaction(bundle)]
    ['201 Created', '200 OK']
    >>> store.counts()
    {'Patient': 1}
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

__all__ = ["FhirStore", "TransactionError"]


class TransactionError(Exception):
    """The transaction failed (an HTTP status and why); nothing of it was stored."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status


def _search(query: str) -> tuple[str, str]:
    """``(system, value)`` of an ``identifier=system|value`` search (the only parameter supported)."""
    name, _, token = query.partition("=")
    if name != "identifier" or "&" in token or "|" not in token:
        raise TransactionError(400, f"unsupported search {query!r} (this store supports identifier=system|value)")
    system, _, value = unquote(token).partition("|")
    return system, value


def _references(obj: Any, out: list[str]) -> list[str]:
    if isinstance(obj, dict):
        if isinstance(obj.get("reference"), str):
            out.append(obj["reference"])
        for v in obj.values():
            _references(v, out)
    elif isinstance(obj, list):
        for v in obj:
            _references(v, out)
    return out


def _rewrite(obj: Any, targets: dict[str, str], i: int) -> Any:
    """``obj`` with every reference to a fullUrl or a conditional reference replaced by ``Type/id``."""
    if isinstance(obj, list):
        return [_rewrite(v, targets, i) for v in obj]
    if not isinstance(obj, dict):
        return obj
    out = {k: _rewrite(v, targets, i) for k, v in obj.items()}
    ref = out.get("reference")
    if isinstance(ref, str):
        if ref in targets:
            out["reference"] = targets[ref]
        elif ref.startswith("urn:") or "/" not in ref:
            raise TransactionError(400, f"entry {i}: reference {ref!r} names no entry of the Bundle")
    return out


class FhirStore:
    """FHIR resources in two SQL tables: ``resources(type, id, body)`` and ``identifiers(type, system, value, id)``.

    ``con`` is a DuckDB connection or a pg8000 native connection (``dialect="postgres"``).
    """

    def __init__(self, con: Any, dialect: str = "duckdb") -> None:
        self.con, self.dialect = con, dialect
        self.next_id = 0
        self._sql("DROP TABLE IF EXISTS fhir_identifiers")
        self._sql("DROP TABLE IF EXISTS fhir_resources")
        self._sql("CREATE TABLE fhir_resources (type TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL, "
                  "PRIMARY KEY (type, id))")
        self._sql("CREATE TABLE fhir_identifiers (type TEXT NOT NULL, system TEXT NOT NULL, value TEXT NOT NULL, "
                  "id TEXT NOT NULL)")
        self._sql("CREATE INDEX fhir_identifier_value ON fhir_identifiers (value)")

    # -- SQL ---------------------------------------------------------------
    def _sql(self, sql: str, *params: Any) -> list[tuple]:
        if self.dialect == "postgres":
            names = {f"p{i}": v for i, v in enumerate(params)}
            for i in range(len(params)):
                sql = sql.replace("?", f":p{i}", 1)
            return [tuple(r) for r in (self.con.run(sql, **names) or [])]
        cur = self.con.execute(sql, list(params))
        try:
            return cur.fetchall()
        except Exception:  # a statement without a result set
            return []

    def _lookup(self, keys: set[tuple[str, str, str]]) -> dict[tuple[str, str, str], list[str]]:
        """The stored ids of each (type, system, value), in one query."""
        found: dict[tuple[str, str, str], list[str]] = {k: [] for k in keys}
        values = sorted({k[2] for k in keys})
        for lo in range(0, len(values), 500):
            chunk = values[lo:lo + 500]
            rows = self._sql("SELECT DISTINCT type, system, value, id FROM fhir_identifiers WHERE value IN ("
                             + ", ".join("?" * len(chunk)) + ")", *chunk)
            for rtype, system, value, rid in rows:
                if (rtype, system, value) in found:
                    found[(rtype, system, value)].append(rid)
        return {k: sorted(v) for k, v in found.items()}

    def _stored(self, refs: set[str]) -> set[str]:
        """Which of the references ``Type/id`` name a stored resource, in one query."""
        ids = sorted({r.partition("/")[2] for r in refs})
        out: set[str] = set()
        for lo in range(0, len(ids), 500):
            chunk = ids[lo:lo + 500]
            rows = self._sql("SELECT type, id FROM fhir_resources WHERE id IN (" + ", ".join("?" * len(chunk)) + ")",
                             *chunk)
            out |= {f"{t}/{i}" for t, i in rows}
        return out & refs

    def _store(self, writes: list[tuple[dict, bool]]) -> None:
        for res, update in writes:
            if update:  # an UPDATE, not delete-and-insert: DuckDB checks a key's uniqueness before the end
                self._sql("UPDATE fhir_resources SET body = ? WHERE type = ? AND id = ?", json.dumps(res),
                          res["resourceType"], res["id"])
                self._sql("DELETE FROM fhir_identifiers WHERE type = ? AND id = ?", res["resourceType"], res["id"])
        rows = [(r["resourceType"], r["id"], json.dumps(r)) for r, update in writes if not update]
        idents = []
        for res, _ in writes:
            given = res.get("identifier")
            idents += [(res["resourceType"], i["system"], i["value"], res["id"])
                       for i in ([given] if isinstance(given, dict) else given or ()) if i.get("system") and i.get("value")]
        for table, data, width in (("fhir_resources", rows, 3), ("fhir_identifiers", idents, 4)):
            for lo in range(0, len(data), 200):  # multi-row INSERTs: one statement per 200 rows
                chunk = data[lo:lo + 200]
                if chunk:
                    marks = ", ".join("(" + ", ".join("?" * width) + ")" for _ in chunk)
                    self._sql(f"INSERT INTO {table} VALUES {marks}", *(v for row in chunk for v in row))

    def _new_id(self) -> str:
        self.next_id += 1
        return f"srv-{self.next_id}"

    # -- the transaction -----------------------------------------------------
    def transaction(self, bundle: dict) -> list[dict]:
        """Process one transaction Bundle atomically; returns one response per entry (status, location).

        Raises:
            TransactionError: the Bundle failed; nothing was stored.
        """
        if bundle.get("resourceType") != "Bundle" or bundle.get("type") != "transaction":
            raise TransactionError(400, "not a transaction Bundle")
        self._sql("BEGIN")
        try:
            out = self._process(bundle.get("entry") or [])
        except BaseException:
            self._sql("ROLLBACK")
            raise
        self._sql("COMMIT")
        return out

    def _process(self, entries: list[dict]) -> list[dict]:
        # 1. every search the Bundle needs (conditional creates/updates, conditional references), at once
        searches: dict[int, tuple[str, str, str]] = {}
        for i, e in enumerate(entries):
            req, res = e.get("request") or {}, e.get("resource")
            method, url = req.get("method"), req.get("url", "")
            if not isinstance(res, dict) or res.get("resourceType") != url.split("?")[0]:
                raise TransactionError(400, f"entry {i}: request.url {url!r} does not name the resource's type")
            if method == "POST" and "?" not in url:
                if req.get("ifNoneExist"):
                    searches[i] = (res["resourceType"], *_search(req["ifNoneExist"]))
            elif method == "PUT" and "?" in url:
                searches[i] = (res["resourceType"], *_search(url.split("?", 1)[1]))
            else:
                raise TransactionError(400, f"entry {i}: {method} {url!r} is not supported by this store")
        conditional_refs = {ref: (ref.split("?")[0], *_search(ref.split("?", 1)[1]))
                            for e in entries for ref in _references(e["resource"], []) if "?" in ref}
        found = self._lookup(set(searches.values()) | set(conditional_refs.values()))
        # 2. identities: a match is used (POST: nothing created; PUT: updated), else the server assigns an id
        targets: dict[str, str] = {}  # fullUrl -> Type/id
        writes: list[tuple[int, dict, bool]] = []
        responses: list[dict] = []
        for i, e in enumerate(entries):
            rtype, conditional = e["resource"]["resourceType"], e["request"]["method"] == "PUT"
            matches = found[searches[i]] if i in searches else []
            if len(matches) > 1:
                raise TransactionError(412, f"entry {i}: {'conditional update' if conditional else 'ifNoneExist'} "
                                            f"matches {len(matches)} resources")
            rid = matches[0] if matches else self._new_id()
            responses.append({"status": "201 Created" if not matches else "200 OK", "location": f"{rtype}/{rid}"})
            if e.get("fullUrl"):
                targets[e["fullUrl"]] = f"{rtype}/{rid}"
            if conditional or not matches:
                writes.append((i, {**e["resource"], "id": rid}, bool(matches)))
        for ref, key in conditional_refs.items():
            if len(found[key]) != 1:
                raise TransactionError(412, f"conditional reference {ref!r} matches {len(found[key])} resources "
                                            "(needs exactly one)")
            targets[ref] = f"{key[0]}/{found[key][0]}"
        # 3. references rewritten, then referential integrity, then the writes
        resolved = [(i, _rewrite(res, targets, i), update) for i, res, update in writes]
        made = {f"{res['resourceType']}/{res['id']}" for _, res, _ in resolved}
        named = {ref: i for i, res, _ in resolved for ref in _references(res, [])}
        missing = set(named) - made - self._stored(set(named) - made)
        if missing:
            ref = min(missing)
            raise TransactionError(409, f"entry {named[ref]}: reference {ref!r} names no stored resource")
        self._store([(res, update) for _, res, update in resolved])
        return responses

    # -- reading back ----------------------------------------------------------
    def counts(self) -> dict[str, int]:
        """Resources stored, by type."""
        return dict(sorted(self._sql("SELECT type, count(*) FROM fhir_resources GROUP BY type")))

    def dangling(self) -> list[str]:
        """References of stored resources that name no stored resource (empty when integrity holds)."""
        stored = {f"{t}/{i}" for t, i in self._sql("SELECT type, id FROM fhir_resources")}
        bad = []

        def walk(x: Any) -> None:
            if isinstance(x, dict):
                if isinstance(x.get("reference"), str) and x["reference"] not in stored:
                    bad.append(x["reference"])
                for v in x.values():
                    walk(v)
            elif isinstance(x, list):
                for v in x:
                    walk(v)

        for (body,) in self._sql("SELECT body FROM fhir_resources"):
            walk(json.loads(body))
        return bad
