"""Checks on the repository itself: generated files current, code style and types clean, README's two commands."""

from __future__ import annotations

import importlib.util
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_completion_scripts_are_current() -> None:
    spec = importlib.util.spec_from_file_location("generate", ROOT / "completions" / "generate.py")
    assert spec is not None and spec.loader is not None
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    for shell in generate.SHELLS:
        checked_in = (ROOT / "completions" / f"supportcli.{shell}").read_text(encoding="utf-8")
        assert checked_in == generate.completion_script(shell), f"run: python completions/generate.py ({shell})"
        assert "_SUPPORTCLI_COMPLETE" in checked_in


def _ruff() -> str:
    found = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if found is None:
        pytest.skip("ruff is not installed (it comes with the test extra)")
    return found


def test_ruff_check_is_clean() -> None:
    result = subprocess.run(
        [_ruff(), "check", "src", "tests", "benchmarks", "completions"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean() -> None:
    result = subprocess.run(
        [_ruff(), "format", "--check", "src", "tests", "benchmarks", "completions"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_finds_no_errors_in_src() -> None:
    """The type checker, as pyproject.toml's ``[tool.mypy]`` configures it (strict), over src/supportcli.

    Its cache (.mypy_cache, ignored by git) makes a run after the first take about a second; it reads only
    the installed packages, never the network.
    """
    if importlib.util.find_spec("mypy") is None:
        pytest.skip("mypy is not installed (it comes with the test extra)")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", "pyproject.toml", "--cache-dir", ".mypy_cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("Success: no issues found")


def test_every_type_ignore_names_its_error_and_says_why() -> None:
    """An ignore is for a library's stubs that are wrong: it names the error code, and the line above says why."""
    offending = []
    for path in sorted((ROOT / "src").rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines, start=1):
            if "type: ignore" not in line:
                continue
            named = re.search(r"# type: ignore\[[a-z-]+(, [a-z-]+)*\]", line)
            explained = number > 1 and lines[number - 2].strip().startswith("#")
            if not (named and explained):
                offending.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offending, "\n".join(offending)


def test_help_imports_neither_the_database_layer_nor_holidays() -> None:
    """`--help` and shell completion must stay fast: heavy imports happen only where they are needed."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "supportcli", "--help"], capture_output=True, text=True, check=True
    )
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
    heavy = {
        name for name in imported if name.split(".")[0] in {"sqlmodel", "sqlalchemy", "holidays", "numpy", "email"}
    }
    assert heavy == set()
    assert "Usage: supportcli" in result.stdout


def _two_commands() -> tuple[str, str]:
    """README's install-and-run command and its test command (the first and last sh blocks of "The two commands")."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## The two commands\n", 1)[1].split("\n## ", 1)[0]
    blocks = [block.strip() for block in re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL)]
    return blocks[0], blocks[-1]


def test_ci_runs_exactly_the_readme_test_command_in_parallel() -> None:
    _, test_command = _two_commands()
    ci = [line for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines() if line.strip()]
    assert ci[-1] == test_command
    pytest_args = shlex.split(test_command.rsplit("&&", 1)[1])
    assert pytest_args[:3] == [".venv/bin/python", "-m", "pytest"]
    assert "-n" in pytest_args  # pytest-xdist: the suite takes minutes on one core
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    assert any(requirement.startswith("pytest-xdist") for requirement in extras["test"])


def test_the_readme_install_command_never_installs_into_the_system_python() -> None:
    """PEP 668: a current Debian or Ubuntu refuses `pip install` outside a virtual environment, so every pip
    and supportcli the first command runs is the one of the venv it creates first."""
    install, _ = _two_commands()
    steps = [shlex.split(step) for step in install.split("&&")]
    assert steps[0][:3] == ["python3", "-m", "venv"]
    venv = steps[0][3]
    assert [step[0] for step in steps[1:]] == [f"{venv}/bin/pip", f"{venv}/bin/supportcli"]
    assert steps[1][1:] == ["install", "."]
    assert steps[2][1:] == ["calendar", "due", "2026-12-23 12:00", "2wd"]


def test_code_cites_only_documents_in_the_repository() -> None:
    """Comments and help texts cite README sections or docs/, never the product documents kept outside the
    repository ("SPEC §", the seed policies by number, the tracker's issue numbers)."""
    cited = re.compile(r"SPEC §|seed 00\d|issue #\d")
    offending = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sorted((ROOT / "src").rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if cited.search(line)
    ]
    assert not offending, "\n".join(offending)
