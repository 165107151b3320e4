"""gunicorn's settings for the web process: the Dockerfile, docker-compose.yml, make bench.

gunicorn reads this file from the working directory by itself; the images name it too.
Each choice was measured with `make bench` (docs/performance.md):

- gthread workers, 3 processes of 4 threads: they signed 66-69 signatures/s at 8 clients
  where sync workers signed 47-50, and a long CSV download no longer holds a process.
- The application is loaded once in the master, then forked: the workers share its pages
  (67-70 MiB of their own each instead of 83-86). `gc.freeze()` before forking keeps the
  collector from writing into every shared object, which would copy its page.
"""

import gc
import os

workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
worker_class = "gthread"
threads = 4
preload_app = True
accesslog = "-"
# Confirmation and "manage my signature" links never reach the access log.
logger_class = "alliance.redaction.GunicornLogger"


def pre_fork(server, worker):
    gc.freeze()
