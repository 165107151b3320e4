"""gunicorn's gthread worker, taking a new connection only while one of its threads is free.

The stock worker accepts connections until it holds `worker_connections` (1,000) of
them. On two cores the process that wakes first takes every connection waiting in
the backlog before its siblings are scheduled: in `make bench`, the eight or 32
kept-alive connections of the load generator often all landed in one process, which
then served them with one interpreter lock (about 1,600 requests/s where the three
processes gave 5,000; docs/performance.md, "the plateau"). A proxy keeping a few
connections alive to gunicorn would concentrate them the same way.

This worker accepts only while fewer requests than threads are in flight: a busy
process leaves new connections in the backlog for an idle sibling, as a sync worker
does. Connections it already holds are served as before (kept alive, queued to its
threads), and the backlog still waits when every process is busy. It relies on two
points of gunicorn's ThreadWorker (27.x, pinned in requirements.txt): the run loop
accepts while `nr_conns < worker_connections`, and every request goes through
`enqueue_req` and comes back through `finish_request`, both on the main thread.
"""

from gunicorn.workers.gthread import ThreadWorker


class ThreadWorkerAcceptingWhenFree(ThreadWorker):
    def __init__(self, *args, **kwargs):
        self.in_flight = 0
        super().__init__(*args, **kwargs)

    @property
    def worker_connections(self) -> int:
        """What gunicorn's loop compares nr_conns with: accepting stops at the configured
        cap, or as soon as every thread has a request."""
        waiting = self.nr_conns - self.in_flight  # kept alive or awaiting a first byte
        return min(self.connection_cap, waiting + self.cfg.threads)

    @worker_connections.setter
    def worker_connections(self, value: int) -> None:
        self.connection_cap = value

    def enqueue_req(self, conn):
        self.in_flight += 1
        super().enqueue_req(conn)

    def finish_request(self, conn, fs):
        self.in_flight -= 1
        super().finish_request(conn, fs)
