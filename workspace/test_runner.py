"""``manage.py test`` runs the pytest suite (``settings.TEST_RUNNER``).

The suite is written for pytest (pytest-django fixtures, markers,
``conftest.py``); Django's own ``DiscoverRunner`` finds almost none of it. As
the pytest-django documentation suggests, this runner hands the command over
to ``pytest.main`` in the same process, so ``python manage.py test`` and
``make test`` (``python -m pytest``) run the same tests with the same
configuration (``pytest.ini``), on SQLite by default and on PostgreSQL when
``DATABASE_URL`` is set.

What a Django user types keeps working:

=====================================  =====================================
``manage.py test``                     the whole suite (``testpaths``)
``manage.py test chat``                an app (a directory)
``manage.py test chat.tests.test_api`` a module; ``...test_api.Class.test`` a test
``manage.py test chat/tests/x.py``     a file (``::node`` ids too)
``-k EXPRESSION``                      pytest's ``-k`` (repeatable: and-ed)
``--failfast``                         stop at the first failure (``-x``)
``-v 0/1/2/3``                         ``-q`` / default / ``-v`` / ``-vv``
``--keepdb``                           ``--reuse-db``
``--pdb``                              ``--pdb``
=====================================  =====================================

The exit status is pytest's: the command exits 1 when any test fails (or
nothing could be collected for a label).
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings


def label_to_pytest(label: str, base_dir: Path | None = None) -> str:
    """A Django test label as a pytest argument.

    Paths (absolute, relative to the current directory or to the project)
    and pytest node ids pass through; a dotted name is resolved against the
    project: the longest prefix that is a package directory or a module
    file, the rest as ``::Class::test`` (``app.tests.test_x.Case.test_y``)."""
    base = Path(base_dir or settings.BASE_DIR)
    path_part, sep, node = label.partition("::")
    for candidate in (Path(path_part), base / path_part):
        if candidate.exists():
            return str(candidate.resolve()) + sep + node
    if "/" in label or os.sep in label or label.endswith(".py"):
        return label  # a missing path: pytest reports it
    parts = label.split(".")
    for cut in range(len(parts), 0, -1):
        head = base.joinpath(*parts[:cut])
        rest = parts[cut:]
        if head.with_suffix(".py").is_file():
            return "::".join([str(head.with_suffix(".py")), *rest])
        if head.is_dir() and not rest:
            return str(head)
    return label  # unknown: pytest says "file or directory not found"


class PytestTestRunner:
    """Runs the tests with pytest (pytest-django documents this shape)."""

    def __init__(
        self,
        verbosity: int = 1,
        failfast: bool = False,
        keepdb: bool = False,
        pytest_k: list[str] | None = None,
        pdb: bool = False,
        **kwargs,
    ):
        self.verbosity = verbosity
        self.failfast = failfast
        self.keepdb = keepdb
        self.patterns = pytest_k or []
        self.pdb = pdb

    @classmethod
    def add_arguments(cls, parser):
        parser.add_argument(
            "-k",
            action="append",
            dest="pytest_k",
            metavar="EXPRESSION",
            help="Only run tests matching the pytest -k expression (repeatable: all must match).",
        )
        parser.add_argument("--failfast", action="store_true", help="Stop at the first failure (pytest --exitfirst).")
        parser.add_argument("--keepdb", action="store_true", help="Reuse the test database (pytest-django --reuse-db).")
        parser.add_argument("--pdb", action="store_true", help="Drop into the debugger on a failure.")

    def pytest_args(self, test_labels) -> list[str]:
        argv: list[str] = ["--rootdir", str(settings.BASE_DIR), "-c", str(Path(settings.BASE_DIR) / "pytest.ini")]
        if self.verbosity == 0:
            argv.append("--quiet")
        elif self.verbosity == 2:
            argv.append("--verbose")
        elif self.verbosity >= 3:
            argv.append("-vv")
        if self.failfast:
            argv.append("--exitfirst")
        if self.keepdb:
            argv.append("--reuse-db")
        if self.pdb:
            argv.append("--pdb")
        if self.patterns:
            argv += ["-k", " and ".join(f"({p})" for p in self.patterns)]
        labels = [label_to_pytest(label) for label in test_labels or ()]
        # No label: pytest.ini's testpaths, exactly what `make test` runs.
        argv += labels or [str(Path(settings.BASE_DIR) / p) for p in _testpaths()]
        return argv

    def run_tests(self, test_labels, **kwargs) -> int:
        import pytest

        return int(pytest.main(self.pytest_args(test_labels)))


def _testpaths() -> list[str]:
    import configparser

    parser = configparser.ConfigParser()
    parser.read(Path(settings.BASE_DIR) / "pytest.ini")
    return parser.get("pytest", "testpaths", fallback=".").split()
