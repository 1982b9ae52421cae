"""`make demo` on a fresh machine: the embedded defaults (SQLite, the filesystem broker, the
sandbox) set up from nothing, twice in a row, with no server or environment of ours."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EMBEDDED = {"DATABASE_URL", "CELERY_BROKER_URL", "PARTNERAPP_ENV", "DJANGO_SETTINGS_MODULE"}


def demo_prepare(var_dir: Path) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key not in EMBEDDED}
    env.update(PARTNERAPP_VAR_DIR=str(var_dir), PORT="8765")
    return subprocess.run(
        [sys.executable, "manage.py", "demo", "--prepare-only"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_demo_sets_itself_up_on_the_embedded_defaults_and_again(tmp_path):
    first = demo_prepare(tmp_path)
    assert first.returncode == 0, first.stderr
    assert "demo@partnerapp.example / partnerapp-demo" in first.stdout
    assert "http://127.0.0.1:8765/" in first.stdout  # the chosen PORT, not 8000
    assert list(tmp_path.glob("*.sqlite3")), "the demo's database is SQLite in the var dir"
    again = demo_prepare(tmp_path)  # a second `make demo` on the same machine
    assert again.returncode == 0, again.stderr
