"""The production-like stack of `make bench`, on loopback.

gunicorn serves alliance.wsgi as the Dockerfile does (gunicorn.conf.py, access log,
DEBUG=0, static files by WhiteNoise after collectstatic into a temporary
folder), behind an imagined TLS proxy: TRUSTED_PROXY_COUNT=1, the clients send
X-Forwarded-Proto/-For, and SECURE_SSL_REDIRECT=0 as in docker-compose.yml (the
proxy redirects; HSTS and secure cookies stay on). A Celery worker and beat run
as in docker-compose.yml; emails go to an SMTP sink in its own process. The
data live in a scratch PostgreSQL database and a dedicated Redis database, both
emptied at the start and at the end. A second gunicorn serves the bare view.
"""

import os
import secrets
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import redis
from django.conf import settings  # lazy: bench.py configures Django before measuring

from tests.smtp_sink import free_port
from tests.stack import Service

from . import procs

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SERVER = "postgres://postgres@127.0.0.1:5432"
REDIS_SERVER = "redis://127.0.0.1:6379"


class BenchStack:
    def __init__(self, *, workers: int, database: str, redis_db: int, logs: Path):
        self.workers = workers
        self.database = database
        self.dir = Path(tempfile.mkdtemp(prefix="alliance-bench-"))
        self.logs = logs
        shutil.rmtree(logs, ignore_errors=True)
        logs.mkdir(parents=True)
        self.port, self.bare_port, self.smtp_port = free_port(), free_port(), free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.bare_url = f"http://127.0.0.1:{self.bare_port}/"
        self.sink_log = self.dir / "mail.log"
        self.redis_url = f"{REDIS_SERVER}/{redis_db}"
        inherited = {
            k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "PYTEST", "BARE"))
        }
        self.env = {
            **inherited,
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SITE_URL": f"https://127.0.0.1:{self.port}",
            "DATABASE_URL": f"{SERVER}/{database}",
            "REDIS_URL": self.redis_url,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "EMAIL_URL": f"smtp://127.0.0.1:{self.smtp_port}",
            "VAR_DIR": str(self.dir / "var"),
            "TRUSTED_PROXY_COUNT": "1",
            "SECURE_SSL_REDIRECT": "0",
            "PYTHONUNBUFFERED": "1",
        }
        self.web = self.bare = self.worker = self.beat = self.sink = None

    # The data

    def use_in_this_process(self) -> None:
        """Set Django up in this process with the stack's settings (database, Redis)."""
        os.environ.update(self.env)
        os.environ["DJANGO_SETTINGS_MODULE"] = "alliance.settings"
        import django  # noqa: PLC0415 - the settings are read at setup, from the above

        django.setup()

    def load(self, signatures: int) -> None:
        """A fresh database with the referential and `signatures` published demonstration
        signatures, analysed as the weeks they took to arrive would have."""
        self.create_database()
        self.manage("migrate", "--no-input")
        self.manage("collectstatic", "--no-input")  # the manifest DEBUG=0 reads
        self.manage("import_territories")
        self.manage("seed_demo", "--signatures", str(signatures))
        self.analyze()

    def create_database(self) -> None:
        with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{self.database}"')
        redis.Redis.from_url(self.redis_url).flushdb()

    def drop_database(self) -> None:
        with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        redis.Redis.from_url(self.redis_url).flushdb()

    def tasks_waiting(self) -> int:
        """Messages queued or taken but not yet done (acks come after the task: acks_late)."""
        client = redis.Redis.from_url(self.redis_url)
        try:
            queued = sum(client.llen(queue.name) for queue in settings.CELERY_TASK_QUEUES)
            return queued + client.hlen("unacked")
        finally:
            client.close()

    def analyze(self) -> float:
        """VACUUM ANALYZE after a bulk load, as autovacuum would have done in the weeks the
        rows took to arrive: without it the planner thinks the tables are empty."""
        started = time.perf_counter()
        with psycopg.connect(f"{SERVER}/{self.database}", autocommit=True) as database:
            database.execute("VACUUM ANALYZE")
        return time.perf_counter() - started

    def manage(self, *args: str) -> float:
        """Run a management command with the stack's settings; its duration in seconds."""
        started = time.perf_counter()
        with (self.logs / "manage.log").open("ab") as log:
            subprocess.run(  # noqa: S603 - our own command
                [sys.executable, "manage.py", *args],
                env=self.env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                check=True,
            )
        return time.perf_counter() - started

    # The processes

    def start(self) -> None:
        self.sink = self._service(
            "sink",
            [
                sys.executable,
                str(ROOT / "benchmarks/harness/sink.py"),
                str(self.smtp_port),
                str(self.sink_log),
            ],
            self.smtp_port,
        )
        self.web = self._service("web", self._gunicorn("alliance.wsgi:application"), self.port)
        self.start_worker()
        self.beat = self._service(
            "beat",
            [
                str(BIN / "celery"),
                "-A",
                "alliance",
                "beat",
                "--loglevel=INFO",
                f"--schedule={self.dir / 'beat-schedule'}",
            ],
        )

    def start_worker(self) -> None:
        """One worker as docker-compose.yml runs it: prefork, two processes."""
        self.worker = self._service(
            "worker",
            [
                str(BIN / "celery"),
                "-A",
                "alliance",
                "worker",
                "--loglevel=INFO",
                f"--concurrency={os.environ.get('BENCH_WORKER_CONCURRENCY', '2')}",
            ],
        )

    def serve_bare(self, middleware: str) -> None:
        """The bare view, with "none" or Django's "default" middleware, on bare_port."""
        if self.bare:
            self.bare.stop()
        # Named here: gunicorn.conf.py's worker class imports the alliance package, whose
        # Celery app would otherwise make alliance.settings the default.
        env = {
            **self.env,
            "BARE_MIDDLEWARE": middleware,
            "DJANGO_SETTINGS_MODULE": "benchmarks.bare.settings",
        }
        self.bare = self._service(
            f"bare-{middleware}",
            self._gunicorn("benchmarks.bare.wsgi:application", port=self.bare_port),
            self.bare_port,
            env=env,
        )

    def stop(self) -> None:
        for service in (self.web, self.bare, self.worker, self.beat, self.sink):
            if service:
                service.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def web_workers(self) -> list[int]:
        return procs.children(self.web.process.pid)

    def bare_workers(self) -> list[int]:
        return procs.children(self.bare.process.pid)

    def helper_pids(self) -> list[int]:
        """The worker (and its pool), beat and the sink: ours, though not the web server."""
        pids = []
        for service in (self.worker, self.beat, self.sink):
            if service and service.running:
                pids += [service.process.pid, *procs.children(service.process.pid)]
        return pids

    def emails_received(self) -> list[tuple[float, str]]:
        if not self.sink_log.exists():
            return []
        lines = self.sink_log.read_text().splitlines()
        return [(float(at), to) for at, to in (line.split("\t") for line in lines)]

    def _gunicorn(self, app: str, port: int | None = None) -> list[str]:
        """The production configuration (gunicorn.conf.py), the same for the bare view but
        for the access log's redacting logger, which needs the project.

        BENCH_SERVER=granian serves both with granian's WSGI interface instead, as many
        processes and threads, with its access log (an experiment, docs/performance.md)."""
        if os.environ.get("BENCH_SERVER") == "granian":
            return [
                str(BIN / "granian"),
                *("--interface", "wsgi", "--workers", str(self.workers)),
                *("--blocking-threads", "4", "--host", "127.0.0.1"),
                *("--port", str(port or self.port), "--access-log", app),
            ]
        return [
            str(BIN / "gunicorn"),
            app,
            "--config",
            str(ROOT / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{port or self.port}",
            "--workers",
            str(self.workers),
            "--timeout",
            "120",
            # gunicorn 27 opens a control socket in ~/.gunicorn by default: one per machine.
            "--no-control-socket",
            *([] if port is None else ["--logger-class", "gunicorn.glogging.Logger"]),
            # Another configuration to compare, e.g. BENCH_GUNICORN_ARGS="--worker-class sync".
            *shlex.split(os.environ.get("BENCH_GUNICORN_ARGS", "")),
        ]

    def _service(self, name, command, port=None, env=None) -> Service:
        return Service(name, command, env or self.env, port, self.logs).start(ready_timeout=60)
