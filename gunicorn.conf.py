"""gunicorn's settings: `gunicorn -w 4 -b 0.0.0.0:8000 wsgi:app` run from the checkout reads this file.

Prometheus multiprocess mode (README: Health and metrics): every worker process writes its
request counters to files in PROMETHEUS_MULTIPROC_DIR and /metrics, answered by any one of them,
sums the files of all. The variable must be set before prometheus_client is imported, so here, in
the master, before it loads the app. Set it yourself to choose the directory (a tmpfs is best); it
is emptied when the master starts, since a previous run's files would be summed in.
"""

import os
import shutil
import tempfile

_chosen = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
multiproc_dir = _chosen or tempfile.mkdtemp(prefix="intake-prometheus-")
os.environ["PROMETHEUS_MULTIPROC_DIR"] = multiproc_dir


def on_starting(server):
    if _chosen:
        shutil.rmtree(multiproc_dir, ignore_errors=True)
    os.makedirs(multiproc_dir, exist_ok=True)


def child_exit(server, worker):
    # a worker gone (crash, max_requests, reload): its counters stay counted, its live gauges go
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if not _chosen:
        shutil.rmtree(multiproc_dir, ignore_errors=True)
