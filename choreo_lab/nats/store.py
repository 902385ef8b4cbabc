"""A service's own database: one SQLite file holding its state, its outbox and its counters.

    state     (key, value)                     one row per top-level key of the state dict
    outbox    (id, message_id, subject, body)  events committed but not yet confirmed by the broker
    counters  (name, value)                    commits, handled, messages (the last message number)

A batch of handled messages is committed in ONE transaction: the new state, the events the
handlers returned (into the outbox) and the counters. Only then does the relay publish the
outbox rows and the worker ack the messages. A kill -9 before the commit keeps nothing (the
messages come again); after it, the relay publishes the rows on restart, under message ids
the broker has seen if they went out before, so it drops them as duplicates.

State values are stored with pickle: exact for every value a service may keep (tuples stay
tuples, sets stay sets). WAL mode with synchronous=NORMAL survives a killed process; only a
power cut could lose the last commits.
"""

from __future__ import annotations

import pickle
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY, message_id TEXT NOT NULL UNIQUE,
                                   subject TEXT NOT NULL, body BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""
COUNTERS = ("commits", "handled", "messages")


@dataclass(frozen=True)
class OutboxRow:
    """One event waiting for the broker's confirmation."""

    id: int
    message_id: str
    subject: str
    body: bytes


def connect(path: str | Path) -> sqlite3.Connection:
    connection = sqlite3.connect(str(path), isolation_level=None, timeout=30)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    return connection


class ServiceStore:
    """The worker's side of the database: the live state, and transactions around batches.

    Instances of one service share the file; `begin()` takes SQLite's write lock and reloads
    the state if another instance committed since, so their batches never interleave.
    """

    def __init__(self, path: str | Path, initial_state: dict[str, Any]) -> None:
        self.db = connect(path)
        self.db.executescript(SCHEMA)
        self.db.execute("BEGIN IMMEDIATE")
        if self.db.execute("SELECT count(*) FROM counters").fetchone()[0] == 0:
            self._write_state(initial_state, {})
            self.db.executemany("INSERT INTO counters VALUES (?, 0)", [(c,) for c in COUNTERS])
        self.db.execute("COMMIT")
        self.state: dict[str, Any] = {}
        self._stored: dict[str, bytes] = {}  # what the state rows hold: the last commit
        self._commits = -1

    def begin(self) -> None:
        """Start a transaction holding the write lock, with the state as last committed."""
        self.db.execute("BEGIN IMMEDIATE")
        commits = self._counter("commits")
        if commits != self._commits:
            self._stored = dict(self.db.execute("SELECT key, value FROM state"))
            self.state = {key: pickle.loads(value) for key, value in self._stored.items()}
            self._commits = commits

    def next_message_numbers(self, count: int) -> range:
        """Numbers for `count` new messages (inside the transaction: unique across instances)."""
        last = self._counter("messages")
        self.db.execute("UPDATE counters SET value = ? WHERE name = 'messages'", (last + count,))
        return range(last + 1, last + count + 1)

    def commit(self, outbox: list[tuple[str, str, bytes]], handled: int) -> list[OutboxRow]:
        """Write the live state, the outgoing messages and the counters; COMMIT. Returns the rows.

        Raises (and rolls back) if the state cannot be stored; the state rows are unchanged then.
        """
        try:
            self._stored = self._write_state(self.state, self._stored)
            rows = []
            for message_id, subject, body in outbox:
                cursor = self.db.execute(
                    "INSERT INTO outbox (message_id, subject, body) VALUES (?, ?, ?)",
                    (message_id, subject, body))
                rows.append(OutboxRow(cursor.lastrowid or 0, message_id, subject, body))
            self.db.execute("UPDATE counters SET value = value + 1 WHERE name = 'commits'")
            self.db.execute("UPDATE counters SET value = value + ? WHERE name = 'handled'",
                            (handled,))
            self.db.execute("COMMIT")
        except BaseException:
            self.rollback()
            raise
        self._commits += 1
        return rows

    def rollback(self) -> None:
        """Undo the transaction; the live state is read back from the file at the next `begin()`."""
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")
        self._commits = -1  # read the state again at the next begin()

    def _write_state(self, state: dict[str, Any], stored: dict[str, bytes]) -> dict[str, bytes]:
        """Store each top-level key whose value changed; drop keys that are gone."""
        written = {}
        for key, value in state.items():
            data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
            written[key] = data
            if stored.get(key) != data:
                self.db.execute("INSERT OR REPLACE INTO state VALUES (?, ?)", (key, data))
        for key in stored.keys() - state.keys():
            self.db.execute("DELETE FROM state WHERE key = ?", (key,))
        return written

    def unsent(self) -> list[OutboxRow]:
        """Outbox rows not yet confirmed by the broker, oldest first."""
        return [OutboxRow(*row) for row in self.db.execute(
            "SELECT id, message_id, subject, body FROM outbox ORDER BY id")]

    def sent(self, rows: list[OutboxRow]) -> None:
        """The broker confirmed these rows: they leave the outbox (one transaction)."""
        with self.db:  # without it, each DELETE would be a transaction of its own
            self.db.execute("BEGIN")
            self.db.executemany("DELETE FROM outbox WHERE id = ?", [(row.id,) for row in rows])

    def _counter(self, name: str) -> int:
        return self.db.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()[0]

    def close(self) -> None:
        self.db.close()


def read_state(path: str | Path) -> dict[str, Any]:
    """A service's committed state, read from its database by another process."""
    with _reader(path) as db:
        rows = db.execute("SELECT key, value FROM state")
        return {key: pickle.loads(value) for key, value in rows}


def read_counters(path: str | Path) -> dict[str, int]:
    """commits, handled, messages, and `outbox`: rows waiting for the broker."""
    with _reader(path) as db:
        counters = dict(db.execute("SELECT name, value FROM counters"))
        counters["outbox"] = db.execute("SELECT count(*) FROM outbox").fetchone()[0]
        return counters


def _reader(path: str | Path) -> closing[sqlite3.Connection]:
    """A short-lived connection for reading, closed on leaving the `with` block."""
    return closing(sqlite3.connect(str(path), timeout=30))
