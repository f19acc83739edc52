"""Checks on the repository itself: generated files current, code style clean."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
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
