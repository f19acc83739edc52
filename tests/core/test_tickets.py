"""Ticket rules of core.tickets that listings and the store rely on."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from supportcli.core.targets import TARGET_NAMES
from supportcli.core.tickets import next_pending

MON = datetime(2026, 11, 23, 17, tzinfo=UTC)
TUE = datetime(2026, 11, 24, 17, tzinfo=UTC)


def test_the_next_target_is_the_pending_one_due_first() -> None:
    targets = [("resolve", "pending", TUE), ("acknowledge", "met", MON), ("respond", "pending", MON)]
    assert next_pending(targets) == ("respond", MON)


def test_targets_due_together_go_to_the_earlier_in_target_order_whatever_their_order() -> None:
    assert next_pending([("resolve", "pending", MON), ("acknowledge", "pending", MON)]) == ("acknowledge", MON)
    assert next_pending([("acknowledge", "pending", MON), ("resolve", "pending", MON)]) == ("acknowledge", MON)


def test_no_pending_target_with_a_due_time_means_nothing_next() -> None:
    assert next_pending([]) is None
    assert next_pending([("resolve", "paused", MON), ("respond", "breached", MON), ("update", "pending", None)]) is None


target_triples = st.lists(
    st.tuples(
        st.sampled_from(TARGET_NAMES),
        st.sampled_from(["pending", "met", "breached", "paused"]),
        st.none() | st.sampled_from([MON, TUE]),
    ),
    unique_by=lambda triple: triple[0],
)


@given(target_triples, st.randoms())
def test_the_next_target_does_not_depend_on_the_order_targets_come_in(targets: list, random) -> None:  # type: ignore[no-untyped-def]
    shuffled = list(targets)
    random.shuffle(shuffled)
    assert next_pending(shuffled) == next_pending(targets)
    pending = [(due, name) for name, state, due in targets if state == "pending" and due is not None]
    if pending:
        earliest = min(due for due, _ in pending)
        assert next_pending(targets) == (
            min((n for d, n in pending if d == earliest), key=TARGET_NAMES.index),
            earliest,
        )
