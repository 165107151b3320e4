"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives.

Used by the tests' `smtp_sink` fixture and by the benchmarks. It can refuse
the next messages with a 4xx, or answer slowly, to test retries and a worker
killed mid-conversation.
"""

import asyncio
import email
import email.policy
import importlib.metadata
import importlib.util
import socket
import sys
import threading
import time


def _import_aiosmtpd():
    """Import aiosmtpd, which takes its `public` decorator from atpublic.

    atpublic's module is called `public`, the name of our app, which comes
    first on sys.path: load atpublic under that name just while aiosmtpd is
    imported (it binds the decorator then), and put our app back.
    """
    if "aiosmtpd.controller" in sys.modules:
        return sys.modules["aiosmtpd.controller"]
    path = importlib.metadata.distribution("atpublic").locate_file("public/__init__.py")
    spec = importlib.util.spec_from_file_location(
        "public", path, submodule_search_locations=[str(path.parent)]
    )
    ours = {name: sys.modules.pop(name) for name in list(sys.modules) if name == "public"}
    try:
        atpublic = importlib.util.module_from_spec(spec)
        sys.modules["public"] = atpublic
        spec.loader.exec_module(atpublic)
        return importlib.import_module("aiosmtpd.controller")
    finally:
        for name in [n for n in sys.modules if n == "public" or n.startswith("public._")]:
            del sys.modules[name]
        sys.modules.update(ours)


class SinkHandler:
    """Keeps messages; can refuse the next few, or wait before accepting."""

    def __init__(self):
        self.messages = []
        self.refuse_next = 0
        self.refusal = "451 4.3.0 Temporary failure, try again later"
        self.delay_seconds = 0.0
        self.data_started = threading.Event()  # set when a DATA command arrives
        self.arrivals = []  # (time.monotonic(), To address) of each message kept
        self.sessions = set()  # one per SMTP connection that sent a message
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        self.data_started.set()
        self.sessions.add(id(session))
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
            transport = getattr(server, "transport", None)
            if transport is None or transport.is_closing():
                # The client hung up before our answer (a killed worker): it never
                # learnt the message was taken, so it is not counted as delivered.
                return "421 4.4.2 Connection lost"
        with self._lock:
            if self.refuse_next:
                self.refuse_next -= 1
                return self.refusal
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            self.messages.append(message)
            self.arrivals.append((time.monotonic(), message["To"]))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpSink:
    """Start and stop an aiosmtpd server in a thread of this process."""

    def __init__(self, port: int | None = None, handler: SinkHandler | None = None):
        self.port = port or free_port()
        self.handler = handler or SinkHandler()
        controller = _import_aiosmtpd()
        self._controller = controller.Controller(
            self.handler, hostname="127.0.0.1", port=self.port
        )

    def __enter__(self) -> "SmtpSink":
        self._controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self._controller.stop()
