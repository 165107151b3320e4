"""The web worker class (core/gunicorn_worker.py) on a real gunicorn: a process whose
threads are all busy leaves new connections to an idle sibling, and none is lost."""

import http.client
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.smtp_sink import free_port

ROOT = Path(__file__).resolve().parents[2]
WORKER = "core.gunicorn_worker.ThreadWorkerAcceptingWhenFree"


def application(environ, start_response):
    """Answers with its process id after sleeping the seconds given in the query string."""
    time.sleep(float(environ.get("QUERY_STRING") or 0))
    body = str(os.getpid()).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


@pytest.fixture
def gunicorn():
    """Two processes of one thread each: any second request in flight shows where it went."""
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and test module
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "tests.core.test_gunicorn_worker:application",
            *("--worker-class", WORKER, "--workers", "2", "--threads", "1"),
            *("--bind", f"127.0.0.1:{port}", "--keep-alive", "5"),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    pids = set()
    while len(pids) < 2:  # both processes up and answering
        assert process.poll() is None, process.stderr.read().decode()
        assert time.monotonic() < deadline, "gunicorn did not start"
        try:
            pids.add(_get(_connection(port), "0"))
        except OSError:
            time.sleep(0.05)
    yield port
    process.terminate()
    process.wait(timeout=30)


def _connection(port: int) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", port, timeout=10)


def _get(connection: http.client.HTTPConnection, seconds: str) -> int:
    connection.request("GET", f"/?{seconds}")
    response = connection.getresponse()
    assert response.status == 200
    return int(response.read())


def test_a_busy_process_leaves_a_new_connection_to_its_idle_sibling(gunicorn):
    # The stock gthread worker lets whichever process wakes first accept it: half the time
    # the busy one, where the request would wait behind the slow one.
    for _round in range(5):
        slow_answer = []
        slow = threading.Thread(
            target=lambda: slow_answer.append(_get(_connection(gunicorn), "0.6"))  # noqa: B023
        )
        slow.start()
        time.sleep(0.2)  # the slow request is in its process's only thread
        quick = _get(_connection(gunicorn), "0")
        slow.join()
        assert quick != slow_answer[0]  # answered by the other process, not queued


def test_connections_beyond_every_thread_wait_and_are_all_served_kept_alive(gunicorn):
    connections = [_connection(gunicorn) for _ in range(5)]
    first, second = {}, {}

    def ask(number: int) -> None:
        first[number] = _get(connections[number], "0.3")
        second[number] = _get(connections[number], "0")  # the same connection, kept alive

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=15)
    assert sorted(first) == list(range(5))
    assert second == first  # each connection stayed with the process that accepted it
    assert len(set(first.values())) == 2
    for connection in connections:
        connection.close()
