"""docker/ without a Docker engine: everything compose.yaml and the Dockerfile name exists,
runs, and is wired as the README promises (healthchecks, one beat, shared database and
broker, secrets only from docker/.env).
"""

from __future__ import annotations

import importlib.util
import re
import secrets
import shlex
import sys
from pathlib import Path

import pytest
import yaml
from cryptography.fernet import Fernet
from django.core.management import get_commands

from tests.production.prodenv import REQUIRED, ROOT, manage, production_env

DOCKER = ROOT / "docker"
COMPOSE = yaml.safe_load((DOCKER / "compose.yaml").read_text())
SERVICES: dict[str, dict] = COMPOSE["services"]
APP_SERVICES = {name: s for name, s in SERVICES.items() if "build" in s}
DOCKERFILE = (DOCKER / "Dockerfile").read_text()
BIN = Path(sys.executable).parent


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined."""
    joined = re.sub(r"\\\n", " ", DOCKERFILE)
    rows = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            instruction, _, rest = line.partition(" ")
            rows.append((instruction.upper(), rest.strip()))
    return rows


def commands() -> list[tuple[str, list[str]]]:
    """Every command compose or the Dockerfile would run in our image: (where, argv)."""
    found = []
    for name, service in APP_SERVICES.items():
        found.append((f"{name}.command", service["command"]))
        test = service.get("healthcheck", {}).get("test")
        if test:
            argv = shlex.split(test[1]) if test[0] == "CMD-SHELL" else test[1:]
            found.append((f"{name}.healthcheck", argv))
    for instruction, rest in dockerfile_instructions():
        if instruction in {"CMD", "HEALTHCHECK"}:
            argv = yaml.safe_load(rest[rest.index("[") :])
            found.append((f"Dockerfile {instruction}", argv))
    return found


# -- compose.yaml -----------------------------------------------------------------------------


def test_the_stack_has_every_role():
    assert {"postgres", "redis", "migrate", "web", "worker", "beat", "sandbox"} <= set(SERVICES)
    assert SERVICES["sandbox"]["profiles"] == ["sandbox"]
    assert SERVICES["rabbitmq"]["profiles"] == ["rabbitmq"]
    for always_on in ("postgres", "redis", "migrate", "web", "worker", "beat"):
        assert "profiles" not in SERVICES[always_on], always_on


def test_app_services_build_the_dockerfile_from_the_repository_root():
    for name, service in APP_SERVICES.items():
        context = (DOCKER / service["build"]["context"]).resolve()
        assert context == ROOT, name
        assert (context / service["build"]["dockerfile"]).is_file(), name


@pytest.mark.parametrize("where,argv", commands(), ids=[where for where, _ in commands()])
def test_every_command_names_something_that_exists(where, argv):
    program, *args = argv
    if program == "python" and args[0] == "manage.py":
        assert (ROOT / "manage.py").is_file()
        assert args[1] in get_commands(), f"{where}: no management command {args[1]}"
    elif program == "python" and args[0] == "-m":
        assert importlib.util.find_spec(args[1]), f"{where}: no module {args[1]}"
    elif program == "gunicorn":
        assert (BIN / "gunicorn").exists(), "gunicorn is not installed (production extra)"
        module, _, attribute = args[0].partition(":")
        assert importlib.util.find_spec(module) and attribute == "application", where
    elif program == "celery":
        assert (BIN / "celery").exists()
        assert args[:2] == ["-A", "partnerapp"], where
        assert args[2] in {"worker", "beat", "inspect"}, where
        from partnerapp.celery import app

        assert app.main == "partnerapp"
    else:
        pytest.fail(f"{where}: unexpected program {program!r}")


def test_workers_consume_the_queue_the_app_publishes_to(tmp_path):
    """The -Q name must be the production default of CELERY_TASK_DEFAULT_QUEUE."""
    env = production_env(tmp_path)
    env.pop("CELERY_TASK_DEFAULT_QUEUE", None)  # this test session sets its own
    script = "from django.conf import settings; print(settings.CELERY_TASK_DEFAULT_QUEUE)"
    shown = manage("shell", "-c", script, env=env)
    assert shown.returncode == 0, shown.stderr
    argv = SERVICES["worker"]["command"]
    assert argv[argv.index("-Q") + 1] == shown.stdout.splitlines()[-1]


def test_healthchecks_where_something_can_answer():
    for name in ("postgres", "redis", "rabbitmq", "web", "worker", "sandbox"):
        check = SERVICES[name]["healthcheck"]
        assert check["test"][0] in {"CMD", "CMD-SHELL"}, name
    web = SERVICES["web"]["healthcheck"]["test"]
    assert web[1:4] == ["python", "-m", "partnerapp.health.probe"]
    assert "healthcheck" not in SERVICES["beat"]  # nothing to probe; see the comment there


def test_beat_runs_as_exactly_one_instance():
    beat = SERVICES["beat"]
    assert beat["deploy"]["replicas"] == 1
    assert beat["container_name"]  # compose refuses to scale a service with a fixed name
    assert "container_name" not in SERVICES["worker"]  # workers do scale


def test_app_services_wait_for_the_schema_and_share_one_database_and_broker():
    for name, service in APP_SERVICES.items():
        env = service["environment"]
        assert env["DATABASE_URL"].startswith("postgres://"), name
        assert "@postgres:5432/partnerapp" in env["DATABASE_URL"], name
        assert env["CELERY_BROKER_URL"].startswith("${CELERY_BROKER_URL:-redis://redis:6379/"), name
        if name != "migrate":
            assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert APP_SERVICES["migrate"]["restart"] == "no"
    for dependency in APP_SERVICES["migrate"]["depends_on"]:
        assert SERVICES[dependency]["healthcheck"], dependency


def test_every_depends_on_names_a_service():
    for name, service in SERVICES.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in SERVICES, f"{name} depends on unknown {dependency}"


# -- the image ------------------------------------------------------------------------------


def test_every_file_the_dockerfile_copies_exists_and_is_not_docker_ignored():
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    copies = [rest for instruction, rest in dockerfile_instructions() if instruction == "COPY"]
    assert copies
    for rest in copies:
        if rest.startswith("--from="):
            continue
        *sources, _destination = rest.split()
        for source in sources:
            assert (ROOT / source).exists(), source
            assert source.split("/")[0] not in ignored, source


def test_secrets_and_state_stay_out_of_the_image_and_out_of_git():
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "var", "docker/.env"} <= set(ignored)
    assert "/docker/.env" in (ROOT / ".gitignore").read_text().split()


def test_the_image_runs_as_a_non_root_user():
    instructions = dockerfile_instructions()
    users = [rest for instruction, rest in instructions if instruction == "USER"]
    assert users and users[-1] not in {"root", "0"}
    names = [instruction for instruction, _ in instructions]
    assert names.index("USER") < names.index("CMD")


def test_the_image_is_slim_and_installs_from_pyproject_with_the_production_extra():
    stages = [rest for instruction, rest in dockerfile_instructions() if instruction == "FROM"]
    assert all("-slim" in stage for stage in stages)
    assert 'pip install ".[production]"' in DOCKERFILE
    import tomllib

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert any(
        dep.startswith("gunicorn")
        for dep in pyproject["project"]["optional-dependencies"]["production"]
    )


def test_the_collectstatic_build_step_succeeds_with_its_placeholders(tmp_path):
    """Runs the Dockerfile's collectstatic RUN line as written (settings, placeholders)."""
    run = next(rest for instruction, rest in dockerfile_instructions() if "collectstatic" in rest)
    words = shlex.split(run.split("&&")[0])
    placeholders = dict(word.split("=", 1) for word in words if "=" in word and word[0].isupper())
    assert set(REQUIRED) <= set(placeholders)
    env = production_env(tmp_path, **placeholders)
    result = manage(*words[words.index("manage.py") + 1 :], env=env)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "staticfiles" / "staticfiles.json").is_file()


# -- docker/env.example -------------------------------------------------------------------------


def env_example() -> dict[str, str]:
    values = {}
    for line in (DOCKER / "env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def test_env_example_names_every_variable_compose_substitutes():
    substituted = set(re.findall(r"\$\{([A-Z_]+)", (DOCKER / "compose.yaml").read_text()))
    assert substituted, "compose.yaml substitutes nothing?"
    assert substituted <= set(env_example())


def test_env_example_names_every_required_production_variable():
    assert set(REQUIRED) <= set(env_example())
    assert env_example()["PARTNERAPP_ENV"] == "production"


def test_env_example_once_filled_in_passes_check_deploy(tmp_path):
    """Fill the empty values as its comments say; then production starts cleanly."""
    fills = {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    }
    values = {k: v or fills.get(k) or secrets.token_urlsafe(12) for k, v in env_example().items()}
    env = production_env(tmp_path, **values)
    env["DATABASE_URL"] = "postgres://partnerapp:secret@postgres:5432/partnerapp"
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stderr
