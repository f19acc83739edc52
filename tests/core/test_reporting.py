"""Percentiles from the values at their ranks alone (``RankedDurations``) are ``percentile`` over every value."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportcli.core.reporting import GroupFigures, RankedDurations, Timing, percentile, percentile_ranks

working_times = st.lists(st.one_of(st.integers(0, 30), st.integers(0, 3_000_000)), min_size=1, max_size=300)


@given(values=working_times, p=st.one_of(st.sampled_from([0, 50, 90, 100]), st.integers(0, 100)))
def test_the_values_at_the_ranks_give_the_percentile_of_every_value(values: list[int], p: int) -> None:
    ordered = sorted(values)
    low, high, weight = percentile_ranks(len(values), p)
    assert 0 <= low <= high < len(values) and high - low <= 1 and 0 <= weight < 1
    ranked = RankedDurations(len(values), {low: ordered[low], high: ordered[high]})
    assert ranked.percentile(p) == percentile(values, p)  # exactly: the same arithmetic


def test_a_group_with_ranked_durations_reports_them_and_is_its_own_total() -> None:
    values = [60, 60, 120, 300, 3600]
    figures = GroupFigures("all")
    ranks = {rank: sorted(values)[rank] for p in (50, 90) for rank in percentile_ranks(len(values), p)[:2]}
    figures.ranked["respond"] = RankedDurations(len(values), ranks)
    expected = Timing(5, percentile(values, 50), percentile(values, 90))
    assert figures.timing("respond") == expected
    assert figures.timing("resolve") == Timing(0, None, None)
    total = GroupFigures("all")
    total.add(figures)
    assert total.timing("respond") == expected
    assert total.as_record()["working_time"] == figures.as_record()["working_time"]


def test_ranked_durations_are_not_pooled_with_other_values() -> None:
    # Percentiles of a pool need every value of it: the totals of a grouped report never come from ranks.
    ranked = GroupFigures("a")
    ranked.ranked["respond"] = RankedDurations(1, {0: 60})
    listed = GroupFigures("b")
    listed.durations["respond"] = [120]
    total = GroupFigures("all")
    total.add(listed)
    with pytest.raises(ValueError, match="cannot be pooled"):
        total.add(ranked)
