"""``python manage.py test`` runs the pytest suite (workspace/test_runner.py)
and its exit status says whether a test failed."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.conf import settings
from django.test.utils import get_runner

from workspace.test_runner import PytestTestRunner, label_to_pytest

BASE = Path(settings.BASE_DIR)


def manage_test(*args, cwd):
    """``manage.py test ARGS`` in a subprocess (bounded)."""
    return subprocess.run(
        [sys.executable, str(BASE / "manage.py"), "test", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.fixture
def tiny_suite(tmp_path):
    """A tiny test directory outside the project, with its own conftest."""
    (tmp_path / "conftest.py").write_text("# a conftest of its own: nothing from the project's is needed\n")
    (tmp_path / "test_tiny.py").write_text(
        textwrap.dedent(
            """
            def test_passes():
                assert 1 + 1 == 2

            def test_fails_on_purpose():
                assert 1 + 1 == 3, "deliberately failing"

            def test_also_passes():
                assert True
            """
        )
    )
    return tmp_path


def test_the_setting_points_at_the_pytest_runner():
    assert get_runner(settings) is PytestTestRunner


def test_a_failing_test_makes_manage_py_test_exit_non_zero(tiny_suite):
    result = manage_test(str(tiny_suite / "test_tiny.py"), cwd=tiny_suite)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 failed, 2 passed" in result.stdout
    assert "deliberately failing" in result.stdout


def test_a_passing_label_exits_zero_and_k_filters(tiny_suite):
    result = manage_test(str(tiny_suite / "test_tiny.py"), "-k", "passes", "-v", "2", cwd=tiny_suite)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed, 1 deselected" in result.stdout
    assert "::test_also_passes PASSED" in result.stdout  # -v 2 is pytest's --verbose


def test_failfast_stops_at_the_first_failure(tiny_suite):
    result = manage_test(str(tiny_suite), "--failfast", cwd=tiny_suite)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 failed, 1 passed" in result.stdout  # test_also_passes never ran


def test_an_unknown_label_fails():
    result = manage_test("no_such_app.tests", cwd=BASE)
    assert result.returncode != 0


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("chat", "chat"),
        ("chat.tests", "chat/tests"),
        ("chat.tests.test_models", "chat/tests/test_models.py"),
        ("chat.tests.test_models.test_blank", "chat/tests/test_models.py::test_blank"),
        ("chat.tests.test_models.Case.test_x", "chat/tests/test_models.py::Case::test_x"),
        ("chat/tests/test_models.py", "chat/tests/test_models.py"),
        ("chat/tests/test_models.py::test_blank", "chat/tests/test_models.py::test_blank"),
    ],
)
def test_django_labels_become_pytest_arguments(label, expected):
    assert label_to_pytest(label) == str(BASE / expected)


def test_options_map_to_pytest_options():
    runner = PytestTestRunner(verbosity=0, failfast=True, keepdb=True, pytest_k=["api", "not slow"])
    argv = runner.pytest_args(["chat"])
    assert argv[-1] == str(BASE / "chat")
    for option in ("--quiet", "--exitfirst", "--reuse-db"):
        assert option in argv
    assert argv[argv.index("-k") + 1] == "(api) and (not slow)"
    assert "--verbose" in PytestTestRunner(verbosity=2).pytest_args([])
    assert "-vv" in PytestTestRunner(verbosity=3).pytest_args([])


def test_without_labels_it_runs_what_make_test_runs():
    """No label: pytest.ini's testpaths, exactly the suite of ``make test``."""
    argv = PytestTestRunner().pytest_args([])
    assert argv[-5:] == [str(BASE / p) for p in ("companies", "chat", "meetings", "workspace", "loadtest")]
    assert argv[:4] == ["--rootdir", str(BASE), "-c", str(BASE / "pytest.ini")]
