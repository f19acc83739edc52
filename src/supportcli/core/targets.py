"""The kinds of service-level target, declared once: what meets each, whether it recurs, what reports and
the cron run do with it.

Everything that names a target kind derives from ``TARGET_KINDS``: the keys a policy rule may set, the
order targets are shown in, which targets an action meets, what ``report`` measures, what escalates.
A new kind is one entry here (and, if it starts on something new, that code in ``store.tickets``).
Released migrations spell the kinds in their SQL on purpose and do not follow this table.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TargetKind:
    """One kind of target and the rules that apply to it.

    ``met_by`` names the ticket actions (``ack``, ``update``, ``resolve``) that meet it while it is pending;
    ``recurring`` kinds start again after they are met or restarted (their duration must be longer than
    zero); ``measured_by_reports`` kinds get their median working time from receipt in ``report``;
    ``escalates_on_breach`` kinds move a ticket up a tier when they are breached under a rule that says
    ``escalate_on_breach``.
    """

    name: str
    met_by: frozenset[str]
    recurring: bool
    measured_by_reports: bool
    escalates_on_breach: bool
    description: str


ACKNOWLEDGE = TargetKind(
    "acknowledge",
    met_by=frozenset({"ack", "update", "resolve"}),
    recurring=False,
    measured_by_reports=True,
    escalates_on_breach=False,
    description="receipt acknowledged: met by ack, or by anything later (a customer-facing update, the resolution)",
)
RESPOND = TargetKind(
    "respond",
    met_by=frozenset({"update", "resolve"}),
    recurring=False,
    measured_by_reports=True,
    escalates_on_breach=False,
    description="the first customer-facing update (the proposed resolution)",
)
UPDATE = TargetKind(
    "update",
    met_by=frozenset({"resolve"}),
    recurring=True,
    measured_by_reports=False,
    escalates_on_breach=False,
    description="keep the customer in the loop: each customer-facing update restarts it, due again after its "
    "duration (or at the time agreed with the customer); resolving meets it",
)
RESOLVE = TargetKind(
    "resolve",
    met_by=frozenset({"resolve"}),
    recurring=False,
    measured_by_reports=True,
    escalates_on_breach=True,
    description="resolved: met by resolve; reopening makes it pending again with its first due time",
)

# In the order targets are shown and usually fall due; of targets due together the earlier one comes first.
TARGET_KINDS: tuple[TargetKind, ...] = (ACKNOWLEDGE, RESPOND, UPDATE, RESOLVE)
TARGET_NAMES: tuple[str, ...] = tuple(kind.name for kind in TARGET_KINDS)
_BY_NAME = {kind.name: kind for kind in TARGET_KINDS}


def target_kind(name: str) -> TargetKind:
    """The kind of a target by name.

    A name this version does not know (a dump from another version may carry one) gets a kind that no
    action meets, that reports do not measure and whose breach escalates nothing.
    """
    known = _BY_NAME.get(name)
    if known is not None:
        return known
    return TargetKind(name, frozenset(), False, False, False, "a target this version does not know")


def display_order(name: str) -> tuple[int, str]:
    """A sort key for target names: the order of ``TARGET_KINDS``, names this version does not know last and
    in alphabetical order among themselves (so a listing of several is the same from run to run)."""
    return (TARGET_NAMES.index(name) if name in _BY_NAME else len(TARGET_NAMES)), name


def targets_met_by(action: str) -> frozenset[str]:
    """The names of the targets a ticket action meets while they are pending."""
    return frozenset(kind.name for kind in TARGET_KINDS if action in kind.met_by)
