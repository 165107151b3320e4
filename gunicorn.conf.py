"""gunicorn's settings for the web process: the Dockerfile, docker-compose.yml, make bench.

gunicorn reads this file from the working directory by itself; the images name it too.
Each choice was measured with `make bench` (docs/performance.md):

- gthread workers, 3 processes of 4 threads: they signed 66-69 signatures/s at 8 clients
  where sync workers signed 47-50, and a long CSV download no longer holds a process.
  Each process accepts a connection only while one of its threads is free
  (core/gunicorn_worker.py), so that one process does not take them all.
- The application is loaded once in the master, then forked: the workers share its pages
  (67-70 MiB of their own each instead of 83-86). `gc.freeze()` before forking keeps the
  collector from writing into every shared object, which would copy its page.
- A fixed malloc threshold for returning large blocks to the system (below).
"""

import ctypes
import ctypes.util
import gc
import os

workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
worker_class = "core.gunicorn_worker.ThreadWorkerAcceptingWhenFree"
threads = 4
preload_app = True
accesslog = "-"
# Confirmation and "manage my signature" links never reach the access log.
logger_class = "core.redaction.GunicornLogger"


def pre_fork(server, worker):
    gc.freeze()


M_MMAP_THRESHOLD = -3  # glibc's malloc.h


def _return_large_blocks_to_the_system() -> None:
    """glibc serves blocks above a threshold (128 KiB) with their own mapping, given back
    when freed, but raises that threshold to the size of each such block freed: after
    one whole-list CSV (5 MB) every later one came from the heap and stayed there, and
    a worker grew by 20-35 MiB for good. Setting the threshold keeps it fixed. Other C
    libraries (musl, macOS) have no mallopt and are left alone."""
    libc = ctypes.util.find_library("c")
    mallopt = getattr(ctypes.CDLL(libc), "mallopt", None) if libc else None
    if mallopt is not None:
        mallopt(M_MMAP_THRESHOLD, 128 * 1024)


_return_large_blocks_to_the_system()
