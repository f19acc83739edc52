"""Policy files that used to get through or crash, through the real CLI on both backends: an empty policy (no
targets at all) is refused unless --allow-empty, and a 50,000-deep TOML document is one line, exit 2."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from helpers import MON_1000, Cli, Snapshot, at, ok, refused, snapshot_of

NO_TARGETS = "the policy sets no targets at all"
TOO_DEEP = "not valid TOML: arrays or tables nested too deeply"


@pytest.fixture
def empty_policy(tmp_path: Path) -> Path:
    path = tmp_path / "empty.toml"
    path.write_text("")
    return path


@pytest.fixture
def deep_policy(tmp_path: Path) -> Path:
    path = tmp_path / "deep.toml"
    path.write_text("a = " + "[" * 50_000 + "]" * 50_000 + "\n")
    return path


def test_policy_check_says_why_an_empty_policy_is_refused(cli: Cli, empty_policy: Path) -> None:
    line = refused(cli("policy", "check", str(empty_policy), env=at(MON_1000)), 2, NO_TARGETS, "--allow-empty")
    assert line.startswith(f"supportcli: error: {empty_policy}: ")
    assert "name: Unnamed policy" in ok(cli("policy", "check", str(empty_policy), "--allow-empty")).stdout


def test_policy_set_refuses_an_empty_policy_unless_allowed(
    cli: Cli, snapshot: Callable[[], Snapshot], empty_policy: Path
) -> None:
    ok(cli("list", env=at(MON_1000)))  # the store exists, with the built-in policy
    before = snapshot()
    refused(cli("policy", "set", str(empty_policy), env=at(MON_1000)), 2, NO_TARGETS)
    refused(cli("policy", "set", "-", env=at(MON_1000), input=""), 2, "<stdin>", NO_TARGETS)
    assert snapshot() == before
    result = ok(cli("policy", "set", str(empty_policy), "--allow-empty", env=at(MON_1000)))
    assert "(Unnamed policy) set" in result.stderr


def test_init_refuses_an_empty_policy_before_making_the_store(
    cli: Cli, new_store: Callable[[], str], empty_policy: Path
) -> None:
    url = new_store()
    refused(cli("--db", url, "init", "--policy", str(empty_policy), env=at(MON_1000)), 2, NO_TARGETS)
    assert snapshot_of(url) == {}
    ok(cli("--db", url, "init", "--policy", str(empty_policy), "--allow-empty", env=at(MON_1000)))
    assert snapshot_of(url) != {}


@pytest.mark.parametrize("command", [["policy", "check"], ["policy", "set"], ["calendar", "--policy"]])
def test_deeply_nested_toml_is_one_line_exit_2(
    cli: Cli, snapshot: Callable[[], Snapshot], deep_policy: Path, command: list[str]
) -> None:
    ok(cli("list", env=at(MON_1000)))
    before = snapshot()
    refused(cli(*command, str(deep_policy), env=at(MON_1000)), 2, f"{deep_policy}: {TOO_DEEP}")
    assert snapshot() == before


def test_init_with_deeply_nested_toml_is_one_line_exit_2(
    cli: Cli, new_store: Callable[[], str], deep_policy: Path
) -> None:
    url = new_store()
    refused(cli("--db", url, "init", "--policy", str(deep_policy), env=at(MON_1000)), 2, TOO_DEEP)
    assert snapshot_of(url) == {}
