"""SQLite history: events, metrics time series and each replica's last `/stats` totals.

Kept under the state directory so history survives replica and operator restarts.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from cortex_tui.local.oplog import Faults
from cortex_tui.types import Decision, Event, MetricsPoint

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    t REAL NOT NULL, api TEXT NOT NULL, kind TEXT NOT NULL, message TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_api_t ON events (api, t);
CREATE TABLE IF NOT EXISTS points (
    t REAL NOT NULL, api TEXT NOT NULL, requested INTEGER, ready INTEGER, rate REAL,
    latency REAL, c2 INTEGER, c4 INTEGER, c5 INTEGER, cpu REAL, gpu REAL);
CREATE INDEX IF NOT EXISTS points_api_t ON points (api, t);
CREATE TABLE IF NOT EXISTS decisions (t REAL NOT NULL, api TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS decisions_api_t ON decisions (api, t);
CREATE TABLE IF NOT EXISTS replica_stats (
    api TEXT NOT NULL, replica TEXT NOT NULL, stats TEXT NOT NULL, t REAL NOT NULL,
    PRIMARY KEY (api, replica));
"""

MAX_POINTS_AGE = 24 * 3600.0
WRITES = "history writes"  # how failed writes are named in the operator's log


# Columns added since the first release: a history file written by an older version gets them.
ADDED_COLUMNS = {"points": (("gpu", "REAL"),)}


def _add_missing_columns(db: sqlite3.Connection) -> None:
    for table, columns in ADDED_COLUMNS.items():
        have = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        for name, kind in columns:
            if name not in have:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")


class History:
    """Writes that fail (a full or read-only disk) are counted by `faults`, never raised:
    history is worth less than the operator that keeps the APIs running."""

    def __init__(self, path: Path, faults: Faults) -> None:
        self.path = path
        self.faults = faults
        self._lock = threading.Lock()
        self._db, self._inode = self._open()

    def _open(self) -> tuple[sqlite3.Connection, int | None]:
        """The database file; when it cannot be opened (read-only or full disk), one in
        memory, so the operator runs without its history rather than not at all."""
        try:
            db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)
            _add_missing_columns(db)
            return db, self.path.stat().st_ino
        except (sqlite3.Error, OSError) as exc:
            self.faults.failed(WRITES, exc)
            db = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
            db.executescript(SCHEMA)
            return db, None

    def recreate_if_deleted(self) -> bool:
        """True when the file was deleted or replaced since it was opened (writes would go to
        a file nobody can read): it is opened again, new and empty."""
        if self._inode is None:
            return False
        try:
            if self.path.stat().st_ino == self._inode:
                return False
        except OSError:
            pass
        with self._lock:
            self._db.close()
            self._db, self._inode = self._open()
        return True

    def _write(self, *statements: tuple[str, tuple[Any, ...]]) -> None:
        with self._lock:
            try:
                for sql, params in statements:
                    self._db.execute(sql, params)
            except sqlite3.Error as exc:
                self.faults.failed(WRITES, exc)
                return
        self.faults.ok(WRITES)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def event(self, api: str, kind: str, message: str) -> None:
        self._write(("INSERT INTO events VALUES (?, ?, ?, ?)", (time.time(), api, kind, message)))

    def events(self, api: str | None, since: float | None) -> list[Event]:
        query = "SELECT t, api, kind, message FROM events WHERE t >= ?"
        params: list[Any] = [since or 0.0]
        if api is not None:
            query += " AND api = ?"
            params.append(api)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY t", params).fetchall()
        return [Event(t, a, k, m) for t, a, k, m in rows]  # type: ignore[arg-type]

    def add_point(self, api: str, p: MetricsPoint) -> None:
        self._write(
            ("INSERT INTO points (t, api, requested, ready, rate, latency, c2, c4, c5, cpu, gpu) "
             "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
             (p.t, api, p.requested, p.ready, p.request_rate, p.latency_ms,
              p.code_2xx, p.code_4xx, p.code_5xx, p.cpu_utilization, p.gpu_utilization)),
            ("DELETE FROM points WHERE t < ?", (p.t - MAX_POINTS_AGE,)),
        )

    def points(self, api: str, since: float | None) -> list[MetricsPoint]:
        with self._lock:
            rows = self._db.execute(
                "SELECT t, requested, ready, rate, latency, c2, c4, c5, cpu, gpu FROM points "
                "WHERE api = ? AND t >= ? ORDER BY t",
                (api, since or 0.0),
            ).fetchall()
        return [MetricsPoint(*row) for row in rows]

    def add_decision(self, api: str, decision: Decision) -> None:
        """Every autoscaler sync, with its inputs and the rules that acted (kept 24 h)."""
        self._write(("INSERT INTO decisions VALUES (?, ?, ?)",
                     (decision.t, api, json.dumps(decision.to_json()))),
                    ("DELETE FROM decisions WHERE t < ?", (decision.t - MAX_POINTS_AGE,)))

    def decisions(self, api: str, since: float | None) -> list[Decision]:
        with self._lock:
            rows = self._db.execute(
                "SELECT data FROM decisions WHERE api = ? AND t >= ? ORDER BY t",
                (api, since or 0.0),
            ).fetchall()
        return [Decision.from_json(json.loads(r[0])) for r in rows]

    def last_decision(self, api: str) -> Decision | None:
        with self._lock:
            row = self._db.execute(
                "SELECT data FROM decisions WHERE api = ? ORDER BY t DESC LIMIT 1", (api,)
            ).fetchone()
        return Decision.from_json(json.loads(row[0])) if row else None

    def save_replica_stats(self, api: str, replica: str, stats: dict[str, Any]) -> None:
        self._write(("INSERT OR REPLACE INTO replica_stats VALUES (?, ?, ?, ?)",
                     (api, replica, json.dumps(stats), time.time())))

    def replica_stats(self, api: str) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT stats FROM replica_stats WHERE api = ?", (api,)
            ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def forget_api(self, api: str) -> None:
        """A deleted API starts from zero if it is deployed again (events are kept)."""
        self._write(("DELETE FROM points WHERE api = ?", (api,)),
                    ("DELETE FROM replica_stats WHERE api = ?", (api,)),
                    ("DELETE FROM decisions WHERE api = ?", (api,)))
