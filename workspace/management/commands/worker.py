"""``manage.py worker`` (``make worker``): run background jobs and enqueue the
periodic ones when due (workspace/jobs.py, docs/operations.md "Jobs").

One job at a time per process; run several processes for more. SIGTERM or
Ctrl-C lets the running job finish its current step and stops (a second one
stops at once). A worker killed outright (SIGKILL, power loss) loses nothing:
each job keeps its progress in the database and is taken over by the next
periodic run (docs/lifecycle.md).
"""

import signal
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.utils.crypto import get_random_string

from workspace.jobs import enqueue_due_periodic, run_one_job


class Command(BaseCommand):
    help = "Run background jobs (and enqueue the periodic ones) until stopped."

    def add_arguments(self, parser):
        parser.add_argument(
            "--interval",
            type=float,
            default=None,
            help="Seconds to wait when the queue is empty (default: JOBS_POLL_INTERVAL).",
        )
        parser.add_argument("--batch", action="store_true", help="Run what is ready, then exit.")
        parser.add_argument("--no-periodic", action="store_true", help="Do not enqueue periodic jobs.")
        parser.add_argument("--worker-id", default=None, help="Unique id of this worker (default: random).")

    def handle(self, *args, interval, batch, no_periodic, worker_id, **options):
        interval = settings.JOBS_POLL_INTERVAL if interval is None else interval
        worker_id = worker_id or get_random_string(32)
        self.running = True

        def stop(signum, frame):
            if not self.running:
                sys.exit(1)
            self.running = False

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        if options["verbosity"]:
            self.stdout.write(f"worker {worker_id} started")
        while self.running:
            close_old_connections()
            if not no_periodic:
                for path in enqueue_due_periodic():
                    if options["verbosity"] > 1:
                        self.stdout.write(f"enqueued periodic job {path}")
            ran = run_one_job(worker_id=worker_id)
            if not ran:
                if batch:
                    break
                time.sleep(interval)
