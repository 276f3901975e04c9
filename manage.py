#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workspace.settings")
    # Commands (migrate, seed_demo, integrity_report...) run without the lock
    # and statement timeouts of web requests; runserver serves requests and
    # the test runner tests them (workspace/db/timeouts.py).
    if sys.argv[1:2] not in (["runserver"], ["test"]):
        os.environ.setdefault("DJANGO_DB_TIMEOUTS", "off")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
