"""Running partnerapp in production mode in a subprocess (settings are read at import).

`production_env()` is the environment of a correctly configured production process:
the required secrets set to valid values, everything else from this test process
except what would make it a test process.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = (
    "SECRET_KEY",
    "TOKEN_ENCRYPTION_KEYS",
    "ALLOWED_HOSTS",
    "SMARTBUSINESS_CLIENT_ID",
    "SMARTBUSINESS_CLIENT_SECRET",
)
# Knobs a developer's shell or this test session may carry that a production process wouldn't.
NOT_INHERITED = (
    *REQUIRED,
    *(f"{name}_FILE" for name in REQUIRED),
    "DJANGO_SETTINGS_MODULE",
    "DJANGO_ALLOW_ASYNC_UNSAFE",  # tests/settings.py sets it for Playwright
    "DEBUG",
    "SMARTBUSINESS_BASE_URL",
    "SANDBOX_ENABLED",
    "LOG_FORMAT",
    "LOG_LEVEL",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
)


def required_values() -> dict[str, str]:
    return {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "partnerapp.example.com",
        "SMARTBUSINESS_CLIENT_ID": "partnerapp-ci",
        "SMARTBUSINESS_CLIENT_SECRET": secrets.token_urlsafe(24),
    }


def production_env(var_dir: Path, **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    env.update(required_values())
    env.update(
        PARTNERAPP_ENV="production",
        PARTNERAPP_VAR_DIR=str(var_dir),
        DJANGO_SETTINGS_MODULE="partnerapp.settings",
        SMARTBUSINESS_BASE_URL="https://api-smartbusiness.postfinance.ch/v2",
    )
    env.update(overrides)
    return env


def manage(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
