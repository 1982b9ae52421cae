"""Production mode refuses to start half-configured and passes `check --deploy` when complete.

Each case runs `manage.py` in a subprocess: settings are read once, at import.
"""

import pytest

from tests.production.prodenv import REQUIRED, manage, production_env


def test_a_complete_production_configuration_passes_check_deploy(tmp_path):
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("name", REQUIRED)
def test_production_refuses_to_start_without_each_required_variable(tmp_path, name):
    env = production_env(tmp_path)
    del env[name]
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"{name} is not set" in result.stderr
    others = [other for other in REQUIRED if other != name]
    assert not any(f"{other} is not set" in result.stderr for other in others)


@pytest.mark.parametrize("name", ["SECRET_KEY", "ALLOWED_HOSTS"])
def test_an_empty_value_counts_as_missing(tmp_path, name):
    result = manage("check", env=production_env(tmp_path, **{name: ""}))
    assert result.returncode != 0
    assert f"{name} is not set" in result.stderr


def test_a_malformed_encryption_key_is_refused_at_start(tmp_path):
    result = manage("check", env=production_env(tmp_path, TOKEN_ENCRYPTION_KEYS="not-a-fernet-key"))
    assert result.returncode != 0
    assert "TOKEN_ENCRYPTION_KEYS holds a value that is not a Fernet key" in result.stderr


def test_secrets_can_come_from_files_as_docker_secrets_do(tmp_path):
    env = production_env(tmp_path)
    secret_file = tmp_path / "secret_key"
    secret_file.write_text(env.pop("SECRET_KEY") + "\n")
    env["SECRET_KEY_FILE"] = str(secret_file)
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stderr


def test_a_weak_secret_key_fails_check_deploy(tmp_path):
    """The CI step relies on --fail-level WARNING turning Django's warnings into failure."""
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env=production_env(tmp_path, SECRET_KEY="short"),
    )
    assert result.returncode != 0
    assert "security.W009" in result.stderr


def test_production_settings_are_hardened(tmp_path):
    script = (
        "from django.conf import settings as s; "
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, "
        "s.SECURE_HSTS_SECONDS >= 31536000, s.X_FRAME_OPTIONS, s.LOG_FORMAT, s.SANDBOX_ENABLED, "
        "s.STORAGES['staticfiles']['BACKEND'].rsplit('.', 1)[1])"
    )
    result = manage("shell", "-c", script, env=production_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].split() == [
        "False",
        "True",
        "True",
        "True",
        "True",
        "DENY",
        "json",
        "False",
        "CompressedManifestStaticFilesStorage",
    ]
