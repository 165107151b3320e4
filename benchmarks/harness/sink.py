"""An SMTP sink in a process of its own, so it takes no CPU from the load generator.

    .venv/bin/python benchmarks/harness/sink.py PORT LOG

Each message received appends "<unix time>\t<To>" to LOG; the harness counts the lines.
"""

import signal
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.smtp_sink import SinkHandler, SmtpSink


class LoggingHandler(SinkHandler):
    """Keeps nothing in memory: one line per message, written at once."""

    def __init__(self, log):
        super().__init__()
        self.log = log

    async def handle_DATA(self, server, session, envelope):
        for recipient in envelope.rcpt_tos:
            self.log.write(f"{time.time():.6f}\t{recipient}\n")
        self.log.flush()
        return "250 OK"


def main() -> None:
    port, log_path = int(sys.argv[1]), Path(sys.argv[2])
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    with log_path.open("a") as log, SmtpSink(port=port, handler=LoggingHandler(log)):
        stopped.wait()


if __name__ == "__main__":
    main()
