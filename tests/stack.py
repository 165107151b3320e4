"""The production-like stack as separate processes on loopback, for fault tests and the soak.

A Redis server of its own (never the shared one: faults stop it), gunicorn web
servers, Celery workers and beat, all pointed at one PostgreSQL database and
an SMTP sink. Each piece can be killed and started again.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.parse import urlencode

import redis

from tests.smtp_sink import free_port

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def wait_until(predicate, timeout: float, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    return None


def _port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


class Service:
    """One process of the stack, started and stopped (or killed) on demand."""

    def __init__(self, name: str, command: list[str], env: dict, port: int | None, logs: Path):
        self.name, self.command, self.env, self.port = name, command, env, port
        self.log_path = logs / f"{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self, ready_timeout: float = 30) -> "Service":
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - our own commands
            self.command, env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
        )
        if self.port and not wait_until(lambda: _port_open(self.port), ready_timeout):
            raise RuntimeError(f"{self.name} did not listen on {self.port}: see {self.log_path}")
        return self

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=30)

    def stop(self, grace: float = 10) -> None:
        """SIGTERM, so it closes its database connections; SIGKILL if it lingers."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.kill()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class Stack:
    """Redis, web servers, workers and beat around one database and one SMTP sink."""

    def __init__(self, *, database_url: str, smtp_port: int, extra_env: dict | None = None):
        self.dir = Path(tempfile.mkdtemp(prefix="alliance-stack-"))
        self.redis_port = free_port()
        self.redis_url = f"redis://127.0.0.1:{self.redis_port}/0"
        self.redis = Service(
            "redis",
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
            ],
            dict(os.environ),
            self.redis_port,
            self.dir,
        )
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO"))},
            "DEBUG": "1",
            "SECRET_KEY": "stack-secret-key-for-tests-and-soak-only-0123456789",
            "DATABASE_URL": database_url,
            "REDIS_URL": self.redis_url,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
            "EMAIL_TIMEOUT": "30",
            "VAR_DIR": str(self.dir / "var"),
            # Signers arrive with their own X-Forwarded-For, as behind a load balancer.
            "TRUSTED_PROXY_COUNT": "1",
            "STAFF_REQUIRE_2FA": "0",
            **(extra_env or {}),
        }
        self.webs: list[Service] = []
        self.workers: list[Service] = []
        self.beat: Service | None = None

    def start(self, *, webs: int = 1, workers: int = 1, beat: bool = True) -> "Stack":
        self.redis.start()
        for number in range(webs):
            self.add_web(number)
        for number in range(workers):
            self.add_worker(number)
        if beat:
            self.beat = Service(
                "beat",
                [
                    str(BIN / "celery"),
                    "-A",
                    "alliance",
                    "beat",
                    "--loglevel=WARNING",
                    f"--schedule={self.dir / 'beat-schedule'}",
                ],
                self.env,
                None,
                self.dir,
            ).start()
        return self

    def add_web(self, number: int) -> Service:
        port = free_port()
        web = Service(
            f"web{number}",
            [
                str(BIN / "gunicorn"),
                "alliance.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--timeout",
                "60",
                "--logger-class",
                "core.redaction.GunicornLogger",
                "--access-logfile",
                "-",
            ],
            self.env,
            port,
            self.dir,
        ).start()
        self.webs.append(web)
        return web

    def add_worker(self, number: int) -> Service:
        worker = Service(
            f"worker{number}",
            [
                str(BIN / "celery"),
                "-A",
                "alliance",
                "worker",
                "--pool=threads",
                "--concurrency=4",
                "--loglevel=WARNING",
                "-n",
                f"worker{number}@%h",
            ],
            self.env,
            None,
            self.dir,
        ).start()
        self.workers.append(worker)
        return worker

    def wait_for_workers(self, timeout: float = 30) -> bool:
        """True once every running worker answers a ping over the broker."""
        command = [str(BIN / "celery"), "-A", "alliance", "inspect", "ping", "--timeout=2"]

        def answered():
            result = subprocess.run(  # noqa: S603 - our own command
                command, env=self.env, cwd=ROOT, capture_output=True, text=True, check=False
            )
            running = sum(worker.running for worker in self.workers)
            return result.stdout.count("pong") >= running

        return bool(wait_until(answered, timeout, interval=1))

    def redis_client(self) -> redis.Redis:
        return redis.Redis.from_url(self.redis_url, socket_connect_timeout=1)

    def stop(self) -> None:
        for service in [*self.webs, *self.workers, self.beat, self.redis]:
            if service is not None:
                service.stop()
        if os.environ.get("STACK_KEEP_LOGS"):
            print(f"stack logs kept in {self.dir}")
            return
        shutil.rmtree(self.dir, ignore_errors=True)


class Browser:
    """A visitor over plain HTTP: keeps cookies, reads the CSRF token, follows nothing."""

    CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
    STARTED = re.compile(r'name="started" value="([^"]+)"')

    def __init__(self, base_url: str, ip: str = "10.0.0.1"):
        self.base_url = base_url
        self.ip = ip
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(CookieJar()), _NoRedirect()
        )

    def request(self, path: str, data: dict | None = None, timeout: float = 30):
        """(status, body) of one request; a redirect is an answer, not followed."""
        body = urlencode(data, doseq=True).encode() if data is not None else None
        request = urllib.request.Request(  # noqa: S310 - loopback URLs we build
            self.base_url + path,
            data=body,
            headers={"X-Forwarded-For": self.ip, "Referer": self.base_url + path},
        )
        try:
            with self.opener.open(request, timeout=timeout) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")

    def sign(self, slug: str, fields: dict) -> int:
        """Load the form, then post it with its CSRF token and start stamp; the status."""
        status, page = self.request(f"/declarations/{slug}/signer/")
        if status != 200:
            return status
        data = {
            "csrfmiddlewaretoken": self.CSRF.search(page).group(1),
            "started": self.STARTED.search(page).group(1),
            **fields,
        }
        time.sleep(0.6)  # a script posting back at once is kept aside as suspect
        status, _body = self.request(f"/declarations/{slug}/signer/", data)
        return status

    def confirm(self, path: str) -> int:
        status, page = self.request(path)
        if status != 200:
            return status
        token = self.CSRF.search(page).group(1)
        status, _body = self.request(path, {"csrfmiddlewaretoken": token})
        return status


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None

    def http_error_302(self, req, fp, code, msg, headers):
        return fp

    http_error_301 = http_error_303 = http_error_307 = http_error_302
