"""Profile the sandbox where it runs: inside the gunicorn workers of `sandbox_serve`.

With SANDBOX_PROFILE_DIR set, `sandbox_serve` wraps the WSGI application in
`ProfiledApplication`: every request a worker serves runs under cProfile (one profiler
per thread, since cProfile follows one thread; timed by the thread's CPU clock, so
time spent waiting for the database or a lock does not count), and the worker writes
the sum to `<dir>/sandbox-<pid>.prof` when it exits. Gunicorn's own HTTP parsing and socket
work stay outside the profile; the process CPU times show what they add.

Read the result with `print_profile(dir)` (the throughput benchmark's --profile does).
"""

from __future__ import annotations

import atexit
import cProfile
import io
import os
import pstats
import threading
import time
from pathlib import Path


class ProfiledApplication:
    """A WSGI application that records a cProfile of each call of `application`."""

    def __init__(self, application, directory: str) -> None:
        self.application = application
        self.directory = Path(directory)
        self._local = threading.local()
        self._profilers: list[cProfile.Profile] = []
        self._lock = threading.Lock()
        atexit.register(self.dump)

    def __call__(self, environ, start_response):
        profiler = self._profiler()
        profiler.enable()
        try:
            return self.application(environ, start_response)
        finally:
            profiler.disable()

    def _profiler(self) -> cProfile.Profile:
        profiler = getattr(self._local, "profiler", None)
        if profiler is None:
            profiler = self._local.profiler = cProfile.Profile(time.thread_time)
            with self._lock:
                self._profilers.append(profiler)
        return profiler

    def dump(self) -> None:
        """Write this process's profile (every thread's, summed); nothing if it served none."""
        with self._lock:
            profilers = [profiler for profiler in self._profilers if profiler.getstats()]
        if not profilers:
            return
        stats = pstats.Stats(profilers[0])
        for profiler in profilers[1:]:
            stats.add(profiler)
        self.directory.mkdir(parents=True, exist_ok=True)
        stats.dump_stats(self.directory / f"sandbox-{os.getpid()}.prof")


def wrap(application):
    """`application`, profiled when SANDBOX_PROFILE_DIR says where to write."""
    directory = os.environ.get("SANDBOX_PROFILE_DIR")
    return ProfiledApplication(application, directory) if directory else application


def print_profile(directory: str, *, top: int = 30) -> str:
    """The workers' profiles summed: the `top` functions by cumulative and by own time."""
    files = sorted(str(path) for path in Path(directory).glob("sandbox-*.prof"))
    if not files:
        return f"no profile written under {directory}"
    out = io.StringIO()
    stats = pstats.Stats(*files, stream=out).strip_dirs()
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()
