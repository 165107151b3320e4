"""docker-compose.yml cannot be run here (no Docker engine), so it is read and checked."""

import sys
from pathlib import Path

import yaml

from tests.processes import production_env, run

ROOT = Path(__file__).resolve().parents[1]


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_declares_the_production_topology():
    services = _compose()["services"]
    assert set(services) == {"web", "worker", "beat", "db", "redis", "pagecache", "mailpit"}
    assert "gunicorn --config gunicorn.conf.py" in services["web"]["command"]
    assert "alliance.wsgi:application" in services["web"]["command"]
    assert services["worker"]["command"].startswith("celery -A alliance worker")
    assert services["beat"]["command"].startswith("celery -A alliance beat")


def test_compose_services_have_healthchecks_and_the_app_waits_for_them():
    services = _compose()["services"]
    for name, service in services.items():
        assert "healthcheck" in service, name
    for name in ("web", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["db"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"
        assert services[name]["image"] == "alliance-des-territoires:latest"


def test_compose_environment_only_uses_documented_variables():
    documented = {
        line.lstrip("# ").split("=", 1)[0]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line and line.lstrip("# ")[:1].isupper()
    }
    environment = _compose()["services"]["web"]["environment"]
    assert set(environment) <= documented


def test_compose_keeps_data_in_named_volumes():
    compose = _compose()
    assert set(compose["volumes"]) == {"postgres-data", "redis-data", "beat-schedule"}
    assert "postgres-data:/var/lib/postgresql/data" in compose["services"]["db"]["volumes"]


def test_dockerfile_builds_assets_and_runs_unprivileged():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "npm run vendor" in dockerfile
    assert "pip install -r requirements.txt" in dockerfile
    assert "USER alliance" in dockerfile


def test_gunicorn_configuration_loads_the_application_as_the_image_runs_it():
    """The command of the Dockerfile, checked by gunicorn itself with production settings."""
    result = run(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "--print-config",
            "--config",
            "gunicorn.conf.py",
            "alliance.wsgi:application",
        ],
        **production_env(),
    )
    assert result.returncode == 0, result.stderr
    resolved = {}
    for line in result.stdout.splitlines():
        name, _equals, value = line.partition(" = ")
        resolved[name.strip()] = value.strip()
    assert resolved["worker_class"] == "core.gunicorn_worker.ThreadWorkerAcceptingWhenFree"
    assert resolved["preload_app"] == "True"
    assert resolved["logger_class"] == "core.redaction.GunicornLogger"
    assert '"--config", "gunicorn.conf.py"' in (ROOT / "Dockerfile").read_text()


def test_compose_keeps_the_page_cache_in_a_bounded_redis_of_its_own():
    """Eviction applies to a whole Redis server: the broker's must never evict a task."""
    services = _compose()["services"]
    pages = services["pagecache"]["command"]
    assert "--maxmemory-policy allkeys-lru" in pages
    assert "--maxmemory " in pages
    assert "maxmemory" not in services["redis"]["command"]
    environment = services["web"]["environment"]
    assert environment["PAGE_CACHE_URL"].startswith("redis://pagecache:")
    assert environment["REDIS_URL"].startswith("redis://redis:")
