"""Views follow their schema file on a store that has them already (the files say IF NOT EXISTS).

apply.py records the digest of each view's CREATE statement in `clew_schema_views` when it
applies it. At start-up, a view that exists with another digest (its file was edited), or with
none (a store from before the record), is brought in line with its statement, after every
other statement of every file has run:

- a plain view: `CREATE OR REPLACE VIEW` (atomic);
- a materialized view writing TO the table it writes to now: `ALTER TABLE ... MODIFY QUERY`
  (atomic: each insert runs the old query or the new one, none runs neither; rows already in
  the target stay as the old query made them);
- a materialized view whose TO table changed: `DROP VIEW` then its CREATE. Rows that another
  process inserts into the view's source between the two do not reach the new target.

A materialized view without TO keeps its rows in an inner table that a DROP would lose: the
applier refuses to replace one (SchemaError); clew's views all write TO a table.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass

from clew.collector.errors import SchemaError
from clew.common.store import Store

log = logging.getLogger(__name__)

RECORD = "clew_schema_views"
RECORD_DDL = """CREATE TABLE IF NOT EXISTS clew_schema_views (
    Name String,
    Digest String,
    Applied DateTime64(3) DEFAULT now64(3)
) ENGINE = ReplacingMergeTree(Applied)
ORDER BY Name"""
RECORDED = "SELECT Name, argMax(Digest, Applied) FROM clew_schema_views GROUP BY Name"
RECORD_NEW = (
    "INSERT INTO clew_schema_views (Name, Digest) SELECT pair.1, pair.2"
    " FROM (SELECT arrayJoin(arrayZip({names:Array(String)}, {digests:Array(String)})) AS pair)"
)
EXISTING = (
    "SELECT name, create_table_query FROM system.tables"
    " WHERE database = currentDatabase() AND engine IN ('View', 'MaterializedView')"
)
_VIEW = re.compile(
    r"^CREATE\s+(?P<materialized>MATERIALIZED\s+)?VIEW\s+(?:IF\s+NOT\s+EXISTS\s+)?(?P<name>\w+)"
    r"(?:\s+ON\s+CLUSTER\s+(?P<cluster>\w+))?(?:\s+TO\s+(?P<target>\w+))?.*?"
    r"\bAS\s+(?P<select>(?:SELECT|WITH)\b.*)$",
    re.IGNORECASE | re.DOTALL,
)
# The TO table in ClickHouse's own text of a view: `... VIEW db.name TO db.target (...) AS ...`.
_STORED_TARGET = re.compile(r"\sTO\s+(?:(?:`[^`]*`|\w+)\.)?`?(\w+)`?")


@dataclass(frozen=True)
class View:
    """A statement that creates a view, and what replacing it takes."""

    statement: str
    name: str
    materialized: bool
    cluster: str | None
    target: str | None
    select: str

    @property
    def digest(self) -> str:
        """The statement's digest, blind to whitespace and line breaks."""
        return hashlib.sha256(" ".join(self.statement.split()).encode()).hexdigest()[:32]

    def replacement(self, stored_target: str | None) -> list[str]:
        """The statements that make the existing view this one."""
        on = f" ON CLUSTER {self.cluster}" if self.cluster else ""
        if not self.materialized:
            return [f"CREATE OR REPLACE VIEW {self.name}{on} AS {self.select}"]
        if self.target is None:
            raise SchemaError(f"materialized view {self.name} has no TO table: not replaced")
        if stored_target == self.target:
            return [f"ALTER TABLE {self.name}{on} MODIFY QUERY {self.select}"]
        return [f"DROP VIEW IF EXISTS {self.name}{on} SYNC", self.statement]


def view(statement: str) -> View | None:
    """The view `statement` creates, None when it creates none."""
    found = _VIEW.match(statement.strip())
    if found is None:
        return None
    return View(
        statement=statement,
        name=found["name"],
        materialized=bool(found["materialized"]),
        cluster=found["cluster"],
        target=found["target"],
        select=found["select"].strip(),
    )


def apply(store: Store, statements: Iterable[str], record_ddl: Iterable[str]) -> None:
    """Run `statements` in order; then replace the existing views whose statement changed.

    Replacements come last, so an edited view may read a column that a later file adds.
    """
    for ddl in record_ddl:
        store.command(ddl)
    recorded = {str(name): str(digest) for name, digest in store.query(RECORDED).rows}
    existing = {str(name): _stored_target(str(text)) for name, text in store.query(EXISTING).rows}
    applied: dict[str, str] = {}
    changed: list[View] = []
    for statement in statements:
        created = view(statement)
        if created is None or created.name not in existing:
            store.command(statement)
            if created is not None:
                applied[created.name] = created.digest
        elif recorded.get(created.name) != created.digest:
            changed.append(created)
    for stale in changed:
        for sql in stale.replacement(existing[stale.name]):
            store.command(sql)
        log.info("event=view_replaced name=%s digest=%s", stale.name, stale.digest)
        applied[stale.name] = stale.digest
    if applied:
        names = list(applied)
        store.command(RECORD_NEW, {"names": names, "digests": [applied[n] for n in names]})


def _stored_target(create_query: str) -> str | None:
    header = create_query.split(" AS ", 1)[0]
    found = _STORED_TARGET.search(header)
    return found.group(1) if found else None
