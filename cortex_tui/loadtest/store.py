"""Saved load tests: SQLite at `$CORTEX_TUI_HOME/loadtests.sqlite`, listed per API and target."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

from cortex_tui.loadtest.run import RunRecord
from cortex_tui.settings import home

FILENAME = "loadtests.sqlite"
KEEP = 200  # runs kept per API and target; older ones are dropped

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    api TEXT NOT NULL,
    target TEXT NOT NULL,
    started REAL NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_by_api ON runs (api, target, started);
"""


class RunStore:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or home() / FILENAME

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=10)
        db.executescript(_SCHEMA)
        return db

    def save(self, record: RunRecord) -> int:
        with closing(self._connect()) as db, db:
            cursor = db.execute(
                "INSERT INTO runs (api, target, started, record) VALUES (?, ?, ?, ?)",
                (record.api, record.target, record.started, json.dumps(record.to_json())),
            )
            db.execute(
                "DELETE FROM runs WHERE api = ? AND target = ? AND id NOT IN (SELECT id FROM runs"
                " WHERE api = ? AND target = ? ORDER BY started DESC LIMIT ?)",
                (record.api, record.target, record.api, record.target, KEEP),
            )
        record.id = cursor.lastrowid
        assert record.id is not None
        return record.id

    def list(self, api: str, target: str) -> list[RunRecord]:
        """This API's runs on this target, newest first."""
        if not self.path.exists():
            return []
        with closing(self._connect()) as db:
            rows = db.execute("SELECT id, record FROM runs WHERE api = ? AND target = ? "
                              "ORDER BY started DESC", (api, target)).fetchall()
        return [RunRecord.from_json(json.loads(text), run_id) for run_id, text in rows]

    def get(self, run_id: int) -> RunRecord | None:
        if not self.path.exists():
            return None
        with closing(self._connect()) as db:
            row = db.execute("SELECT record FROM runs WHERE id = ?", (run_id,)).fetchone()
        return None if row is None else RunRecord.from_json(json.loads(row[0]), run_id)
