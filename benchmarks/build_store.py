"""Build a realistic supportcli store fast, for the command benchmarks.

Run: ``.venv/bin/python benchmarks/build_store.py --tickets 100000 --out /tmp/bench.db [--seed 2026]``

The store is created with ``open_store`` (real schema, real default policy as version 1), then
filled with SQLAlchemy Core ``insert(...)`` executemany in batches, each batch in one write
transaction. Secondary indexes are dropped while filling and recreated at the end (the same
``CREATE INDEX`` statements the schema made), which is several times faster than keeping them up
to date row by row; nothing else differs from a store filled one ``log`` at a time.

The mix, over the two years before "now" (default 2026-11-23T10:00:00+00:00, the instant the
timing runs pass as SUPPORTCLI_NOW):

- kinds 62 % enquiry, 25 % request, ~8 % complaint, 5 % compliment; channels mostly e-mail and
  phone; priorities mostly normal; 12 staff (added to the staff table) own the tickets;
- ~90 % resolved or closed: acknowledgement, first response and resolution times drawn as
  fractions of each target's working time (mostly inside it, some late), and every target's
  state is ``met_state(due, met)`` of those times, as ``ack``/``update``/``resolve`` would record;
- ~8 % open and not breached: received recently, due times from the real engine
  (``plan_targets`` with the default policy's ``rule_for``); targets already due were met;
  a tenth of them wait on the customer (targets paused, no next due time);
- ~2 % open and breached: at least one pending target due before now;
- with ``--backlog SHARE`` (e.g. 0.05), that share of the tickets (taken from the resolved and closed ones) is
  a migrated backlog: open tickets a team brought over from its old system, received 1–9 months ago, every
  target long past due and most still pending (most were acknowledged there, a few had a first response),
  so ``overdue`` lists thousands of rows (about 12,800 at 100k with 0.05);
- one ``logged`` event per ticket, plus ``acknowledged``/``updated``/``waiting``/``escalated``/
  ``resolved``/``closed``/``feedback`` events for what happened to it;
- ``tickets.next_target`` and ``next_due_at`` name the pending target due first and its due time,
  NULL when none (what ``due`` and ``list`` read), as ``core.tickets.next_pending`` decides.

Nothing here writes automation marks or notices: to the cron run every breach is new (its worst
case). ``benchmarks/commands.py`` produces the steady state by running the real ``overdue
--notify`` once on a copy.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import event, insert

from supportcli.core.calendar import WorkingCalendar, calendar_for
from supportcli.core.policy import Policy, TargetRule, default_policy_source
from supportcli.core.targets import targets_met_by
from supportcli.core.tickets import next_pending, plan_targets
from supportcli.locations import sqlite_location
from supportcli.store import models, policies, search
from supportcli.store.database import open_store
from supportcli.store.lookups import phone_key

DEFAULT_NOW = "2026-11-23T10:00:00+00:00"
BATCH = 10_000  # tickets per write transaction
DAY = 86_400
SPAN_DAYS = 700  # received over the last ~2 years (inside the default 2-year retention)
BACKLOG_DAYS = (30, 270)  # a migrated backlog's tickets were received this many days before now

KINDS = (("enquiry", 62), ("request", 25), ("complaint", 8), ("compliment", 5))
CHANNELS = (
    ("email", 45),
    ("phone", 30),
    ("chat", 8),
    ("web-form", 7),
    ("letter", 4),
    ("portal", 3),
    ("social", 2),
    ("voicemail", 1),
)
PRIORITIES = (("normal", 80), ("high", 10), ("low", 7), ("urgent", 3))
STAFF = (
    ("priya", 0),
    ("tom", 0),
    ("aisha", 0),
    ("ben", 0),
    ("chloe", 0),
    ("dev", 0),
    ("emma", 0),
    ("farid", 0),
    ("grace", 0),
    ("harry", 1),
    ("isla", 1),
    ("jonas", 2),
)
TIER_NAMES = ("Support", "Customer Success Manager", "Director")
CATEGORIES = ("billing", "delivery", "account", "product-fault", "service", "refund", "website", "data-protection")
SUBJECTS = {
    "enquiry": (
        "Question about my invoice",
        "When will my order arrive",
        "How do I change my address",
        "Opening hours over the holidays",
        "Can I add a second user to my account",
        "Which plan includes phone support",
    ),
    "request": (
        "Please send a copy of my contract",
        "Cancel my subscription",
        "Change the direct debit date",
        "Reset my password",
        "Send a replacement card",
    ),
    "complaint": (
        "Invoice sent to old address",
        "Charged twice this month",
        "Engineer did not turn up",
        "Rude response on the phone",
        "Refund still not received",
        "Parcel left in the rain",
    ),
    "compliment": ("Thank you for the quick help", "Great service from your team"),
}
FIRST_NAMES = ("Alex", "Sam", "Jo", "Chris", "Pat", "Morgan", "Jamie", "Robin", "Kim", "Lee", "Nadia", "Omar")
LAST_NAMES = ("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Patel", "Khan", "Evans", "Walker")
UPDATE_TEXTS = (
    "Replied with the details the customer asked for.",
    "Called the customer back and explained the next steps.",
    "Sent the proposed resolution by e-mail.",
)
RESOLVE_TEXTS = (
    "Answered; the customer confirmed.",
    "Refund issued and confirmed by e-mail.",
    "Corrected the address and resent the invoice.",
    "Replacement sent; tracking number given.",
)


def weighted(pairs: tuple[tuple[str, int], ...]) -> tuple[list[str], list[int]]:
    return [name for name, _ in pairs], [weight for _, weight in pairs]


@dataclass
class Sim:
    """One target being played through a ticket's life (epoch seconds)."""

    name: str
    duration: str
    started: int
    due: int
    met: int | None = None
    state: str = "pending"
    paused_at: int | None = None


class Builder:
    """Draws tickets and turns them into table rows."""

    def __init__(self, policy: Policy, calendar: WorkingCalendar, now: datetime, seed: int) -> None:
        self.policy, self.cal, self.now_dt = policy, calendar, now
        self.now = int(now.timestamp())
        self.rng = random.Random(seed)
        self.rules: dict[tuple[str, str, str], TargetRule | None] = {}
        self.kinds, self.kind_weights = weighted(KINDS)
        self.channels, self.channel_weights = weighted(CHANNELS)
        self.priorities, self.priority_weights = weighted(PRIORITIES)
        self.orgs = [f"Org {n:03d}" for n in range(1, 201)]
        self.first_staff = [name for name, tier in STAFF if tier == 0]
        self.now_pos = calendar.position(self.now)
        self.day_seconds = calendar.day_length_seconds
        # Duration objects by text, from the policy's own rules (so "5wd" parses the same way).
        self.durations = {str(d): d for rule in policy.rules for d in rule.targets.values()}

    # -- drawing ------------------------------------------------------------------------

    def rule(self, kind: str, channel: str, priority: str) -> TargetRule | None:
        key = (kind, channel, priority)
        if key not in self.rules:
            self.rules[key] = self.policy.rule_for(kind, channel, priority, None)
        return self.rules[key]

    def plan(self, rule: TargetRule | None, received: int) -> list[Sim]:
        """The real engine's targets for a ticket received at ``received``."""
        planned = plan_targets(rule, self.cal, datetime.fromtimestamp(received, UTC))
        return [Sim(p.name, str(p.duration), int(p.started_at.timestamp()), int(p.due_at.timestamp())) for p in planned]

    def received_between(self, first: int, last: int) -> int:
        """Mostly inside opening hours (80 %), the rest at any hour."""
        rng = self.rng
        if rng.random() < 0.8:
            low, high = self.cal.position(first), self.cal.position(last)
            return int(self.cal.instant_at(rng.uniform(low, high)))
        return rng.randrange(first, last)

    def draw(self, group: str) -> tuple[str, str, str, str, int]:
        """Phase 1: group, kind, channel, priority and receipt time of one ticket."""
        rng = self.rng
        kind = rng.choices(self.kinds, self.kind_weights)[0]
        channel = rng.choices(self.channels, self.channel_weights)[0]
        priority = rng.choices(self.priorities, self.priority_weights)[0]
        rule = self.rule(kind, channel, priority)
        if group == "done":
            return group, kind, channel, priority, self.received_between(self.now - SPAN_DAYS * DAY, self.now - 2 * DAY)
        for _ in range(200):
            if group == "open":  # every pending target still in the future, except what can be met by now
                received = int(self.cal.instant_at(rng.uniform(self.now_pos - 20 * self.day_seconds, self.now_pos)))
                received = min(received, self.now - 60)
                targets = self.plan(rule, received)
                if all(t.due > self.now for t in targets if t.name in ("resolve", "update")):
                    return group, kind, channel, priority, received
            elif group == "backlog":  # migrated from an old system: every target long past due
                received = self.received_between(self.now - BACKLOG_DAYS[1] * DAY, self.now - BACKLOG_DAYS[0] * DAY)
                targets = self.plan(rule, received)
                if targets and max(t.due for t in targets) < self.now:
                    return group, kind, channel, priority, received
            else:  # breached: something already past due
                low = self.now_pos - 45 * self.day_seconds
                received = int(self.cal.instant_at(rng.uniform(low, self.now_pos - 1.2 * self.day_seconds)))
                targets = self.plan(rule, received)
                if targets and min(t.due for t in targets) < self.now:
                    return group, kind, channel, priority, received
        raise RuntimeError(f"could not draw a {group} {kind}/{channel} ticket")

    def at_fraction(self, target: Sim, fraction: float) -> int:
        """The instant a given fraction of a target's working time has passed."""
        start = self.cal.position(target.started)
        length = max(self.cal.position(target.due) - start, 60)
        return int(self.cal.instant_at(start + fraction * length))

    def fraction(self, on_time: float) -> float:
        rng = self.rng
        return rng.uniform(0.03, 0.95) if rng.random() < on_time else rng.uniform(1.02, 2.5)

    # -- playing a ticket's life ------------------------------------------------------------

    @staticmethod
    def meet(targets: list[Sim], action: str, at: int) -> list[str]:
        met = []
        for target in targets:
            if target.name in targets_met_by(action) and target.state in ("pending", "paused"):
                target.met, target.paused_at = at, None
                target.state = "met" if at <= target.due else "breached"
                met.append(f"{target.name} {target.state}")
        return met

    def restart_update(self, targets: list[Sim], at: int) -> None:
        """A customer-facing update restarts the ``update`` clock (store.tickets._restart_update_clock)."""
        for target in targets:
            if target.name == "update":
                target.started, target.met, target.state = at, None, "pending"
                target.due = int(self.cal.due_epoch(at, self.durations[target.duration]))

    def ticket(self, ticket_id: int, drawn: tuple[str, str, str, str, int]) -> tuple[dict, list[dict], list[dict]]:
        """Phase 2: one ticket's row, its targets' rows and its events' rows."""
        rng = self.rng
        group, kind, channel, priority, received = drawn
        rule = self.rule(kind, channel, priority)
        targets = self.plan(rule, received)
        by_name = {t.name: t for t in targets}
        owner = rng.choice(self.first_staff) if rng.random() > 0.03 else None
        actor = owner or "frontdesk"
        subject = rng.choice(SUBJECTS[kind])
        if rng.random() < 0.5:
            subject += f" (ref {rng.randint(10000, 99999)})"
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        logged = min(received + (rng.randint(0, 900) if channel in ("email", "letter", "voicemail") else 0), self.now)
        events: list[tuple[int, str, str, str, dict]] = [
            (
                logged,
                actor,
                "logged",
                subject,
                {
                    "policy_version": 1,
                    "received_at": datetime.fromtimestamp(received, UTC).isoformat(),
                    "rule": rule.number if rule else None,
                },
            )
        ]
        status, tier, rating = "new", 0, None
        resolved_at = closed_at = waiting_since = None

        def act(at: int, action: str, kind_: str, text_: str) -> None:
            met = self.meet(targets, action, at)
            data: dict = {"met": met}
            if action == "update":
                self.restart_update(targets, at)
                data["next_update"] = None
            events.append((at, owner or "frontdesk", kind_, text_, data))

        if group == "done":
            t_ack = t_upd = None
            if "acknowledge" in by_name and rng.random() < 0.92:
                t_ack = self.at_fraction(by_name["acknowledge"], self.fraction(0.94))
            if "respond" in by_name and rng.random() < 0.9:  # else the resolution is the first response
                t_upd = self.at_fraction(by_name["respond"], self.fraction(0.88))
            t_res = self.at_fraction(by_name["resolve"], self.fraction(0.88)) if "resolve" in by_name else received
            t_ack = max(t_ack, received + 30) if t_ack is not None else None
            if t_upd is not None:
                t_upd = max(t_upd, (t_ack or received) + 60)
            t_res = max(t_res, (t_upd or t_ack or received) + 60)
            latest = self.now - 3600
            if t_res > latest:  # squeeze into the past, keeping the order
                t_res = rng.randint(min(received + 180, latest), latest)
                t_upd = min(t_upd, t_res - 60) if t_upd is not None else None
                t_ack = min(t_ack, (t_upd or t_res) - 60) if t_ack is not None else None
            if t_ack is not None:
                act(t_ack, "ack", "acknowledged", "")
            if t_upd is not None:
                act(t_upd, "update", "updated", rng.choice(UPDATE_TEXTS))
            resolve = by_name.get("resolve")
            if kind == "complaint" and resolve is not None and resolve.due < t_res and rng.random() < 0.8:
                tier = 1  # the cron run escalated it when its resolve target breached
                events.append((resolve.due + 60, "supportcli", "escalated", "resolve target breached", _tiers(0, 1)))
            act(t_res, "resolve", "resolved", rng.choice(RESOLVE_TEXTS))
            status, resolved_at = "resolved", t_res
            if t_res + 5 * DAY < self.now and rng.random() < 0.85:
                closed_at = min(t_res + rng.randint(5 * DAY, 9 * DAY), self.now - 60)
                status = "closed"
                events.append((closed_at, actor, "closed", "", {"automatic": False, "was_waiting": False}))
            if rng.random() < 0.25:
                rating = rng.choices((5, 4, 3, 2, 1), (45, 30, 12, 6, 7))[0]
                at = min(t_res + rng.randint(3600, 3 * DAY), self.now - 60)
                events.append((at, actor, "feedback", "", {"rating": rating}))
        elif group == "open":
            t_ack = t_upd = None
            if "acknowledge" in by_name:
                ack = by_name["acknowledge"]
                if ack.due <= self.now or rng.random() < 0.5:
                    t_ack = self.at_fraction(ack, rng.uniform(0.05, 0.95))
            if "respond" in by_name:
                respond = by_name["respond"]
                if respond.due <= self.now or rng.random() < 0.4:
                    t_upd = self.at_fraction(respond, rng.uniform(0.05, 0.95))
            if t_ack is not None and (t_ack > self.now - 60 or (t_upd is not None and t_upd <= t_ack)):
                t_ack = None  # not yet, or met by the update
            if t_upd is not None and t_upd > self.now - 60:
                t_upd = None if by_name["respond"].due > self.now else self.now - 60
            if t_ack is not None:
                act(t_ack, "ack", "acknowledged", "")
                status = "acknowledged"
            if t_upd is not None:
                act(t_upd, "update", "updated", rng.choice(UPDATE_TEXTS))
                status = "in-progress"
            last = max(e[0] for e in events)
            if status != "new" and rng.random() < 0.1 and last < self.now - 3600:
                waiting_since = rng.randint(max(last + 60, self.now - 4 * DAY), self.now - 60)
                paused = []
                for target in targets:
                    if target.state == "pending" and target.due > waiting_since:
                        target.state, target.paused_at = "paused", waiting_since
                        paused.append(target.name)
                status = "waiting"
                events.append((waiting_since, actor, "waiting", "", {"paused": paused}))
        elif group == "backlog":
            # Mostly acknowledged in the old system, a few with a first response; nothing resolved.
            t_ack = t_upd = None
            if "acknowledge" in by_name and rng.random() < 0.85:
                t_ack = self.at_fraction(by_name["acknowledge"], self.fraction(0.7))
            if "respond" in by_name and rng.random() < 0.12:
                t_upd = self.at_fraction(by_name["respond"], self.fraction(0.5))
            if t_ack is not None and t_upd is not None and t_upd <= t_ack:
                t_ack = None  # met by the update
            if t_ack is not None:
                act(t_ack, "ack", "acknowledged", "")
                status = "acknowledged"
            if t_upd is not None:
                act(t_upd, "update", "updated", rng.choice(UPDATE_TEXTS))
                status = "in-progress"
        else:  # open and breached
            resolve = by_name.get("resolve")
            keep: str | None = None
            if resolve is None or resolve.due >= self.now:
                keep = rng.choice([t.name for t in targets if t.name != "resolve" and t.due < self.now])
            t_ack = t_upd = None
            if "acknowledge" in by_name and keep != "acknowledge" and rng.random() < 0.75:
                t_ack = self.at_fraction(by_name["acknowledge"], self.fraction(0.7))
            if "respond" in by_name and keep is None and rng.random() < 0.6:
                t_upd = self.at_fraction(by_name["respond"], self.fraction(0.6))
            if t_ack is not None and (t_ack > self.now - 60 or (t_upd is not None and t_upd <= t_ack)):
                t_ack = None
            if t_upd is not None and t_upd > self.now - 60:
                t_upd = None
            if t_ack is not None:
                act(t_ack, "ack", "acknowledged", "")
                status = "acknowledged"
            if t_upd is not None:
                act(t_upd, "update", "updated", rng.choice(UPDATE_TEXTS))
                status = "in-progress"

        upcoming = next_pending((t.name, t.state, t.due) for t in targets)
        events.sort(key=lambda e: e[0])
        updated = max(e[0] for e in events)
        org = rng.choice(self.orgs) if rng.random() < 0.4 else None
        tags = rng.choice(("", "", "", "", ",vip,", ",callback,", ",vip,callback,"))
        phone = f"07700 9{ticket_id % 100000:05d}" if channel in ("phone", "voicemail") else None
        ticket = {
            "id": ticket_id,
            "subject": subject,
            "body": f"{subject}. {first} {last} wrote in about this; " + "details of the case follow. " * 3,
            "kind": kind,
            "channel": channel,
            "priority": priority,
            "customer_name": f"{first} {last}",
            "customer_email": f"{first}.{last}{ticket_id}@example.com".lower(),
            "customer_phone": phone,
            "customer_phone_key": phone_key(phone),
            "org": org,
            "category": rng.choice(CATEGORIES) if rng.random() < 0.7 else None,
            "tags": tags,
            "owner": owner,
            "tier": tier,
            "status": status,
            "received_at": _dt(received),
            "logged_at": _dt(logged),
            "updated_at": _dt(updated),
            "waiting_since": _dt(waiting_since),
            "resolved_at": _dt(resolved_at),
            "closed_at": _dt(closed_at),
            "expected_by": None,
            "expected_reason": None,
            "rating": rating,
            "policy_version": 1,
            "rule_number": rule.number if rule else None,
            "next_due_at": _dt(upcoming[1]) if upcoming else None,
            "next_target": upcoming[0] if upcoming else None,
        }
        target_rows = [
            {
                "ticket_id": ticket_id,
                "name": t.name,
                "duration": t.duration,
                "started_at": _dt(t.started),
                "due_at": _dt(t.due),
                "met_at": _dt(t.met),
                "state": t.state,
                "paused_at": _dt(t.paused_at),
                "paused_working_seconds": 0,
                "source": "policy",
            }
            for t in targets
        ]
        event_rows = [
            {
                "ticket_id": ticket_id,
                "at": _dt(at),
                "actor": who,
                "kind": kind_,
                "text": text_,
                "data": json.dumps(data, default=str, sort_keys=True) if data else "",
            }
            for at, who, kind_, text_, data in events
        ]
        return ticket, target_rows, event_rows


def _tiers(previous: int, new: int) -> dict:
    return {"previous": TIER_NAMES[previous], "tier": TIER_NAMES[new]}


def _dt(epoch: int | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


def _only_columns(table, rows: list[dict]) -> list[dict]:  # type: ignore[no-untyped-def]
    """Drop keys the table does not have (the schema may gain or lose optional columns)."""
    names = set(table.c.keys())
    if rows and set(rows[0]) <= names:
        return rows
    return [{k: v for k, v in row.items() if k in names} for row in rows]


def build(
    tickets: int, out: Path, seed: int, now_text: str = DEFAULT_NOW, quiet: bool = False, backlog: float = 0.0
) -> dict:
    """Build the store at ``out`` (which must not exist); returns the counts and timings. ``backlog``: the
    share of tickets that are a migrated backlog, open and long overdue (module docstring)."""
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, flush=True))
    if out.exists():
        raise SystemExit(f"{out} exists; remove it first")
    started = time.perf_counter()
    now = datetime.fromisoformat(now_text)
    env = dict(os.environ)
    store = open_store(sqlite_location(out), env, default_policy_source, now, "bench")
    store.engine.dispose()

    @event.listens_for(store.engine, "connect")
    def _fast(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        # After the store's own settings: a throwaway file needs no fsync per batch, and a big
        # page cache makes the index builds at the end quicker. Commands later open it normally.
        dbapi_connection.execute("PRAGMA synchronous=OFF")
        dbapi_connection.execute("PRAGMA cache_size=-262144")

    with store.read() as session:
        policy = policies.parsed(policies.version_in_effect(session, now))
    calendar = calendar_for(policy.calendar, now.year)
    builder = Builder(policy, calendar, now, seed)
    rng = builder.rng

    breached_n = round(tickets * 0.02)
    open_n = round(tickets * 0.08)
    backlog_n = round(tickets * backlog)
    done_n = tickets - breached_n - open_n - backlog_n
    groups = ["breached"] * breached_n + ["open"] * open_n + ["backlog"] * backlog_n + ["done"] * done_n
    rng.shuffle(groups)
    drawn = [builder.draw(group) for group in groups]
    drawn.sort(key=lambda d: d[4])  # ids in order of receipt, as when logged one by one
    phase1 = time.perf_counter() - started
    say(f"drew {tickets:,} tickets in {phase1:.1f} s")

    ticket_table, target_table = models.Ticket.__table__, models.Target.__table__  # type: ignore[attr-defined]
    event_table, staff_table = models.Event.__table__, models.Staff.__table__  # type: ignore[attr-defined]
    with store.write() as session:
        connection = session.connection()
        indexes = connection.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            "AND tbl_name IN ('tickets', 'targets', 'events')"
        ).all()
        for name, _ in indexes:
            connection.exec_driver_sql(f'DROP INDEX "{name}"')
        staff_rows = [{"name": n, "email": f"{n}@example.com", "tier": tier} for n, tier in STAFF]
        connection.execute(insert(staff_table), _only_columns(staff_table, staff_rows))

    counts: Counter[str] = Counter()
    target_states: Counter[str] = Counter()
    breached_targets = breached_tickets = events_n = 0
    now_naive = now.astimezone(UTC)
    generate_seconds = insert_seconds = 0.0
    for start in range(0, tickets, BATCH):
        t0 = time.perf_counter()
        ticket_rows, target_rows, event_rows = [], [], []
        for offset, item in enumerate(drawn[start : start + BATCH]):
            ticket, targets, events = builder.ticket(start + offset + 1, item)
            ticket_rows.append(ticket)
            target_rows.extend(targets)
            event_rows.extend(events)
            counts[ticket["status"]] += 1
            late = sum(1 for t in targets if t["state"] == "pending" and t["due_at"] < now_naive)
            breached_targets += late
            breached_tickets += late > 0
            for t in targets:
                target_states[t["state"]] += 1
        events_n += len(event_rows)
        t1 = time.perf_counter()
        with store.write() as session:
            connection = session.connection()
            connection.execute(insert(ticket_table), _only_columns(ticket_table, ticket_rows))
            connection.execute(insert(target_table), _only_columns(target_table, target_rows))
            connection.execute(insert(event_table), _only_columns(event_table, event_rows))
        t2 = time.perf_counter()
        generate_seconds += t1 - t0
        insert_seconds += t2 - t1
        if not quiet and (start // BATCH) % 10 == 9:
            say(f"  {start + BATCH:,} tickets written ({time.perf_counter() - started:.0f} s)")
    t3 = time.perf_counter()
    with store.write() as session:
        connection = session.connection()
        for _, sql in indexes:
            connection.exec_driver_sql(sql)
    index_seconds = time.perf_counter() - t3
    t5 = time.perf_counter()
    with store.write() as session:
        # Each met target's stored working time, as every change that meets one writes it and the upgrade
        # derives it for an older store (``report`` reads it; without it, it works each one out again).
        from supportcli.store.met_durations import derive_met_working_seconds

        derive_met_working_seconds(session.connection())
    working_seconds = time.perf_counter() - t5
    t4 = time.perf_counter()
    with store.write() as session:
        search.rebuild(session.connection())  # the full-text search index, built once like the others
    search_seconds = time.perf_counter() - t4
    with store.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    total = time.perf_counter() - started
    result = {
        "tickets": tickets,
        "path": str(out),
        "now": now_text,
        "seed": seed,
        "backlog": backlog,
        "by_status": dict(sorted(counts.items())),
        "targets_by_state": dict(sorted(target_states.items())),
        "targets": sum(target_states.values()),
        "events": events_n,
        "breached_pending_targets": breached_targets,
        "tickets_with_breached_targets": breached_tickets,
        "seconds": {
            "draw": round(phase1, 1),
            "generate_rows": round(generate_seconds, 1),
            "insert": round(insert_seconds, 1),
            "indexes": round(index_seconds, 1),
            "working_times": round(working_seconds, 1),
            "search_index": round(search_seconds, 1),
            "total": round(total, 1),
        },
        "size_mb": round(out.stat().st_size / 1e6, 1),
    }
    say(
        f"built {out} in {total:.1f} s (draw {phase1:.1f}, rows {generate_seconds:.1f}, "
        f"insert {insert_seconds:.1f}, indexes {index_seconds:.1f}, working times {working_seconds:.1f}, "
        f"search index {search_seconds:.1f}); "
        f"{result['size_mb']} MB"
    )
    say(f"tickets by status: {', '.join(f'{k} {v:,}' for k, v in result['by_status'].items())}")
    say(f"targets: {result['targets']:,} ({', '.join(f'{k} {v:,}' for k, v in result['targets_by_state'].items())})")
    say(f"events: {events_n:,}")
    say(f"breached (pending, due before now): {breached_targets:,} targets on {breached_tickets:,} tickets")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000, help="how many tickets (default 100000)")
    parser.add_argument("--out", type=Path, required=True, help="the store file to create (must not exist)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--now", default=DEFAULT_NOW, help=f"the instant the store is built around ({DEFAULT_NOW})")
    parser.add_argument(
        "--backlog",
        type=float,
        default=0.0,
        metavar="SHARE",
        help="this share of the tickets (e.g. 0.05) is a migrated backlog: open, every target long past due",
    )
    parser.add_argument("--json", action="store_true", help="print the counts as JSON at the end")
    args = parser.parse_args()
    if args.tickets < 100:
        parser.error("--tickets: at least 100")
    if not 0 <= args.backlog <= 0.85:
        parser.error("--backlog: a share between 0 and 0.85 (the rest are resolved, closed or recent)")
    result = build(args.tickets, args.out, args.seed, args.now, backlog=args.backlog)
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        print()


if __name__ == "__main__":
    main()
