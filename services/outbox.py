"""A durable local spool for help requests and handoffs while the database is unreachable.

One JSON object per line, flushed and fsynced before the caller is told "stored". `replay` re-applies
records in order through the normal use-cases; their idempotency keys / conversation ids make a
record that already reached the database harmless to apply again. Applied records are removed;
records the database rejects for good are moved to `<path>.failed` so they cannot block the rest.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Protocol

from services.errors import ServiceError, ServiceUnavailable

log = logging.getLogger(__name__)
KINDS = ("help", "handoff")


class SpoolTarget(Protocol):
    def apply_spooled(self, kind: str, payload: dict[str, Any]) -> None: ...


class Outbox:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.failed_path = self.path.with_name(self.path.name + ".failed")
        self._lock_path = self.path.with_name(self.path.name + ".lock")
        self._thread_lock = threading.RLock()

    @contextmanager
    def _locked(self) -> Iterator[None]:
        # flock covers other processes (gateway, action server); the RLock covers our threads.
        with self._thread_lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self._lock_path, "a") as lock_file:
                fcntl.flock(lock_file, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(lock_file, fcntl.LOCK_UN)

    def append(self, kind: str, payload: dict[str, Any]) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown outbox record kind {kind!r}")
        line = json.dumps({"kind": kind, "payload": payload}, ensure_ascii=False, sort_keys=True) + "\n"
        with self._locked():
            new_file = not self.path.exists()
            with open(self.path, "a", encoding="utf-8") as spool:
                spool.write(line)
                spool.flush()
                os.fsync(spool.fileno())
            if new_file:
                _fsync_dir(self.path.parent)

    def pending(self) -> list[dict[str, Any]]:
        with self._locked():
            return [record for record, _ in self._read()]

    def __len__(self) -> int:
        return len(self.pending())

    def _read(self) -> list[tuple[dict[str, Any], str]]:
        if not self.path.exists():
            return []
        records = []
        with open(self.path, encoding="utf-8") as spool:
            for line in spool:
                if not line.strip():
                    continue
                try:
                    records.append((json.loads(line), line))
                except json.JSONDecodeError:
                    # A line torn by a crash mid-write; keep it for a human, never drop it silently.
                    records.append(({"kind": "corrupt", "payload": {}}, line))
        return records

    def replay(self, services: SpoolTarget) -> int:
        """Apply what is spooled; returns how many records reached the database."""
        with self._locked():
            records = self._read()
            applied = 0
            remaining: list[str] = []
            failed: list[str] = []
            for index, (record, line) in enumerate(records):
                try:
                    if record.get("kind") not in KINDS:
                        raise ValueError("unreadable outbox record")
                    services.apply_spooled(record["kind"], record["payload"])
                    applied += 1
                except ServiceUnavailable:
                    remaining = [raw for _, raw in records[index:]]  # still down: keep order, retry later
                    break
                except (ServiceError, ValueError, TypeError, KeyError) as exc:
                    log.error("outbox record moved to %s: %s", self.failed_path, type(exc).__name__)
                    failed.append(line)
            if failed:
                with open(self.failed_path, "a", encoding="utf-8") as dead:
                    dead.writelines(failed)
                    dead.flush()
                    os.fsync(dead.fileno())
            if records:
                self._rewrite(remaining)
            return applied

    def _rewrite(self, lines: list[str]) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as spool:
            spool.writelines(lines)
            spool.flush()
            os.fsync(spool.fileno())
        os.replace(tmp, self.path)
        _fsync_dir(self.path.parent)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
