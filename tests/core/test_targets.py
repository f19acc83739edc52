"""The table of target kinds: what each action meets, the display order, what reports measure, what escalates."""

from __future__ import annotations

import pytest

from supportcli.core.reporting import MEASURED_TARGETS
from supportcli.core.targets import TARGET_KINDS, TARGET_NAMES, display_order, target_kind, targets_met_by


def test_the_kinds_in_display_order() -> None:
    assert TARGET_NAMES == ("acknowledge", "respond", "update", "resolve")


@pytest.mark.parametrize(
    ("action", "met"),
    [
        ("ack", {"acknowledge"}),
        ("update", {"acknowledge", "respond"}),  # the update target itself is restarted, not met
        ("resolve", {"acknowledge", "respond", "update", "resolve"}),
        ("note", set()),
        ("wait", set()),
    ],
)
def test_what_each_action_meets(action: str, met: set[str]) -> None:
    assert targets_met_by(action) == met


def test_recurring_measured_and_escalating_kinds() -> None:
    assert [kind.name for kind in TARGET_KINDS if kind.recurring] == ["update"]
    assert MEASURED_TARGETS == ("acknowledge", "respond", "resolve")
    assert [kind.name for kind in TARGET_KINDS if kind.escalates_on_breach] == ["resolve"]


def test_names_this_version_does_not_know_sort_last_and_do_nothing() -> None:
    assert sorted(["resolve", "later", "update", "acknowledge", "respond"], key=display_order) == [
        "acknowledge",
        "respond",
        "update",
        "resolve",
        "later",
    ]
    unknown = target_kind("later")
    assert (unknown.name, unknown.met_by, unknown.recurring) == ("later", frozenset(), False)
    assert not unknown.measured_by_reports and not unknown.escalates_on_breach
    assert target_kind("resolve") is TARGET_KINDS[-1]


def test_names_this_version_does_not_know_come_last_in_alphabetical_order() -> None:
    """``report`` lists the targets of a newer version's tickets by this key: the same order every run."""
    names = ["zeta review", "resolve", "legal review", "acknowledge", "beta check"]
    for start in range(len(names)):
        rotated = names[start:] + names[:start]
        assert sorted(rotated, key=display_order) == [
            "acknowledge",
            "resolve",
            "beta check",
            "legal review",
            "zeta review",
        ]
