"""Inside the benchmark's Celery worker: counts its SQL statements, and profiles its tasks.

Loaded only by the benchmarks (`celery worker --include tests.benchmarks.worker_probe`,
see `bench_jobs.start_worker`); the app itself knows nothing of it.

- WORKER_PROBE_FILE: every statement the worker's threads send to the database is
  counted (Django's `execute_wrapper`, installed on each thread's connection as it is
  made), by verb and table; the counts go to this file as JSON after each task and at
  shutdown, so the benchmark can take the difference over one phase.
- WORKER_PROFILE_FILE: each task runs under cProfile timed by its thread's CPU clock
  (one profiler per thread: cProfile follows one thread), so the profile shows where
  CPU goes, not where the worker waits; the sum is written there at shutdown.
"""

from __future__ import annotations

import cProfile
import json
import os
import re
import threading
import time
from collections import Counter
from pathlib import Path

from celery import signals
from django.db.backends.signals import connection_created
from django.dispatch import receiver

PROBE_FILE = os.environ.get("WORKER_PROBE_FILE", "")
PROFILE_FILE = os.environ.get("WORKER_PROFILE_FILE", "")
TABLE = re.compile(r'\b(?:FROM|INTO|UPDATE)\s+"?(\w+)', re.I)

_lock = threading.Lock()
_statements: Counter[str] = Counter()
_tasks = {"started": 0, "finished": 0}
_local = threading.local()
_profilers: list[cProfile.Profile] = []


def statement_kind(sql: str) -> str:
    """'UPDATE jobs_jobitem', 'SELECT jobs_batchjob', … (the first word and table)."""
    verb = sql.split(None, 1)[0].upper() if sql.strip() else ""
    table = TABLE.search(sql)
    return f"{verb} {table.group(1)}" if table else verb


def _count(execute, sql, params, many, context):
    with _lock:
        _statements[statement_kind(sql)] += 1
    return execute(sql, params, many, context)


@receiver(connection_created)
def _install_counter(sender, connection, **kwargs) -> None:
    if PROBE_FILE and _count not in connection.execute_wrappers:
        connection.execute_wrappers.append(_count)


def snapshot() -> dict:
    with _lock:
        return {"statements": dict(_statements), "tasks": dict(_tasks), "at": time.time()}


def _write(path: str, text: str) -> None:
    partial = Path(f"{path}.{os.getpid()}.{threading.get_ident()}")
    partial.write_text(text)
    partial.replace(path)


@signals.task_prerun.connect
def _task_started(**kwargs) -> None:
    with _lock:
        _tasks["started"] += 1
    if PROFILE_FILE:
        profiler = getattr(_local, "profiler", None)
        if profiler is None:
            profiler = _local.profiler = cProfile.Profile(time.thread_time)
            with _lock:
                _profilers.append(profiler)
        profiler.enable()


@signals.task_postrun.connect
def _task_finished(**kwargs) -> None:
    if PROFILE_FILE:
        _local.profiler.disable()
    with _lock:
        _tasks["finished"] += 1
    if PROBE_FILE:
        _write(PROBE_FILE, json.dumps(snapshot()))


@signals.worker_shutdown.connect
def _worker_stopping(**kwargs) -> None:
    if PROBE_FILE:
        _write(PROBE_FILE, json.dumps(snapshot()))
    if PROFILE_FILE and _profilers:
        import pstats

        merged = pstats.Stats(_profilers[0])
        for profiler in _profilers[1:]:
            merged.add(profiler)
        merged.dump_stats(PROFILE_FILE)
