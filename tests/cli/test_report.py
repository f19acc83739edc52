"""``report`` through the real CLI on a small hand-built store, every figure checked against hand arithmetic.

Built-in policy: Mon–Fri 09:00–17:00 Europe/London; November 2026 is GMT, so local = UTC.
A working day is 8h = 480 working minutes.

- complaint: acknowledge 1wd, respond 5wd, update 5wd, resolve 20wd
- email/letter: acknowledge 1wd, respond 5wd, resolve 10wd
- phone/chat: respond 4wh, resolve 10wd

The store (report for November, run on Thu 2026-12-03 10:00):

#1 complaint, email, priya, Acme, "delivery", received Mon 26 Oct 10:00: outside the period,
   but escalated Mon 2 Nov 10:00 (ISO week 45), which counts as a November escalation.
#2 enquiry, email, priya, Acme, received Mon 16 Nov 10:00 (W47): ack Mon 11:00, update Tue 17 10:00,
   resolved Wed 18 12:00, rated 5.
#3 complaint, letter, priya, Acme, "billing", received Tue 17 Nov 09:00 (W47): ack Thu 19 10:00 (late: due
   Wed 18 17:00), update Fri 20 09:00, escalated Fri 20 10:00, resolved Thu 26 12:00, rated 2.
#4 request, phone, sam, Beta, received Mon 23 Nov 10:00 (W48): update 15:00 (late: respond due 14:00),
   extended Mon 23 16:00; still open (resolve due Mon 7 Dec 17:00: pending).
#5 complaint, email, sam, Beta, "billing", received Wed 25 Nov 14:00 (W48): nothing done; acknowledge
   (due Thu 26 17:00), respond and update (due Wed 2 Dec 17:00) are overdue at the report, resolve pending.
#6 compliment, chat, priya, Acme, 'friendly & helpful <staff>', received Thu 26 Nov 11:00 (W48):
   resolved 12:00 (meets respond, due 15:00), rated 4.

Working minutes from receipt:
- to acknowledge: #2 60 (10→11); #3 1020 (Tue 8h + Wed 8h + Thu 1h = 17h)
- to respond: #2 480 (Mon 10–17 7h + Tue 9–10 1h); #3 1440 (Tue, Wed, Thu = 24h); #4 300 (10–15);
  #6 60 (11–12)
- to resolve: #2 1080 (7h + 8h + Wed 9–12 3h = 18h); #3 3540 (Tue 17–Fri 20 32h + Mon 23–Wed 25 24h +
  Thu 9–12 3h = 59h); #6 60

Percentiles interpolate linearly between closest ranks: rank = (n − 1) × p / 100.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import create_engine, text
from typer.testing import Result

from helpers import Cli, at, ok
from helpers import refused as refused_with
from supportcli.core.reporting import percentile

REPORT_NOW = "2026-12-03T10:00:00+00:00"
NOVEMBER = ("--since", "2026-11-01", "--until", "2026-12-01")


def run(cli: Cli, now: str, *args: str) -> str:
    return ok(cli(*args, env=at(now))).stdout


@pytest.fixture
def store(cli: Cli, store_copy: Callable[..., None]) -> Cli:
    """The CLI on a fresh copy of the store of the module docstring (built once per backend)."""
    store_copy("report", build_store)
    return cli


def build_store(cli: Cli) -> Cli:
    """The store described in the module docstring, built through the CLI."""
    run(cli, "2026-10-26T10:00:00+00:00", "log", "Parcel lost", "--kind", "complaint", "--owner", "priya",
        "--org", "Acme", "--category", "delivery", "-q")  # fmt: skip
    run(cli, "2026-11-02T10:00:00+00:00", "escalate", "1", "--reason", "Customer unhappy")

    run(cli, "2026-11-16T10:00:00+00:00", "log", "Printer jammed", "--owner", "priya", "--org", "Acme", "-q")
    run(cli, "2026-11-16T11:00:00+00:00", "ack", "2")
    run(cli, "2026-11-17T10:00:00+00:00", "update", "2", "-m", "Try a new drum")
    run(cli, "2026-11-18T12:00:00+00:00", "resolve", "2", "-m", "Drum replaced")
    run(cli, "2026-11-18T13:00:00+00:00", "feedback", "2", "--rating", "5")

    run(cli, "2026-11-17T09:00:00+00:00", "log", "Charged twice", "--kind", "complaint", "--channel", "letter",
        "--owner", "priya", "--org", "Acme", "--category", "billing", "-q")  # fmt: skip
    run(cli, "2026-11-19T10:00:00+00:00", "ack", "3")
    run(cli, "2026-11-20T09:00:00+00:00", "update", "3", "-m", "Refund proposed")
    run(cli, "2026-11-20T10:00:00+00:00", "escalate", "3", "--reason", "Refund needs a manager")
    run(cli, "2026-11-26T12:00:00+00:00", "resolve", "3", "-m", "Refunded")
    run(cli, "2026-11-26T13:00:00+00:00", "feedback", "3", "--rating", "2")

    run(cli, "2026-11-23T10:00:00+00:00", "log", "New starter account", "--kind", "request", "--channel", "phone",
        "--owner", "sam", "--org", "Beta", "-q")  # fmt: skip
    run(cli, "2026-11-23T15:00:00+00:00", "update", "4", "-m", "Account ordered")
    run(cli, "2026-11-23T16:00:00+00:00", "extend", "4", "--until", "2026-12-18", "--reason", "Supplier delay")

    run(cli, "2026-11-25T14:00:00+00:00", "log", "Wrong invoice", "--kind", "complaint", "--owner", "sam",
        "--org", "Beta", "--category", "billing", "-q")  # fmt: skip

    run(cli, "2026-11-26T11:00:00+00:00", "log", "Thank you", "--kind", "compliment", "--channel", "chat",
        "--owner", "priya", "--org", "Acme", "--category", "friendly & helpful <staff>", "-q")  # fmt: skip
    run(cli, "2026-11-26T12:00:00+00:00", "resolve", "6", "-m", "Passed on to the team")
    run(cli, "2026-11-26T12:30:00+00:00", "feedback", "6", "--rating", "4")
    return cli


def report_json(cli: Cli, *args: str) -> dict[str, Any]:
    return json.loads(run(cli, REPORT_NOW, "report", *args, "--json"))


def sla(group: dict[str, Any]) -> dict[str, tuple[int, int, int, float | None]]:
    """Per target: (met, breached, pending, attainment %)."""
    return {t["target"]: (t["met"], t["breached"], t["pending"], t["attainment_pct"]) for t in group["sla"]}


def times(group: dict[str, Any]) -> dict[str, tuple[int, float | None, float | None]]:
    """Per measure: (count, median, 90th percentile), in working minutes."""
    return {
        name: (m["count"], m["median_working_minutes"], m["p90_working_minutes"])
        for name, m in group["working_time"].items()
    }


def by_key(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {group["key"]: group for group in report["groups"]}


# -- figures --------------------------------------------------------------------------------------------------------


def test_totals_for_november(store: Cli) -> None:
    report = report_json(store, *NOVEMBER)
    assert report["period"] == {
        "since": "2026-11-01T00:00:00+00:00",
        "until": "2026-12-01T00:00:00+00:00",
        "timezone": "Europe/London",
    }
    assert (report["by"], report["groups"]) == (None, [])
    total = report["totals"]
    # received #2–#6 (not #1: October); resolved #2, #3, #6; open #4, #5
    assert (total["received"], total["resolved"], total["open"]) == (5, 3, 2)
    assert (total["complaints"], total["compliments"]) == (2, 1)  # #3, #5; #6
    # escalations made in November: #1 (Mon 2 Nov, an October ticket) and #3; extension: #4
    assert (total["escalations"], total["extensions"]) == (2, 1)
    assert sla(total) == {
        # #2 met; #3 met late; #5 pending past its due time (Thu 26 17:00) → 1 / (1 + 2) = 33.3%
        "acknowledge": (1, 2, 0, 33.3),
        # #2, #3, #6 met; #4 late (15:00 > 14:00), #5 overdue (Wed 2 Dec 17:00) → 3 / 5 = 60%
        "respond": (3, 2, 0, 60.0),
        # #3 restarted Fri 20 → due Fri 27 17:00, met at resolve Thu 26; #5 overdue → 1 / 2 = 50%
        "update": (1, 1, 0, 50.0),
        # #2, #3, #6 met; #4 (due Mon 7 Dec) and #5 (due Wed 23 Dec) pending → 3 / 3 = 100%
        "resolve": (3, 0, 2, 100.0),
    }
    acknowledge = next(t for t in total["sla"] if t["target"] == "acknowledge")
    assert (acknowledge["met_pct"], acknowledge["breached_pct"], acknowledge["pending_pct"]) == (33.3, 66.7, 0.0)
    resolve = next(t for t in total["sla"] if t["target"] == "resolve")
    assert (resolve["total"], resolve["met_pct"], resolve["pending_pct"]) == (5, 60.0, 40.0)
    assert times(total) == {
        # 60, 1020: median (60 + 1020) / 2 = 540; p90 rank 0.9 → 60 + 0.9 × 960 = 924
        "acknowledge": (2, 540, 924),
        # 60, 300, 480, 1440: median (300 + 480) / 2 = 390; p90 rank 2.7 → 480 + 0.7 × 960 = 1152
        "respond": (4, 390, 1152),
        # 60, 1080, 3540: median 1080; p90 rank 1.8 → 1080 + 0.8 × 2460 = 3048
        "resolve": (3, 1080, 3048),
    }
    # ratings 5, 2, 4: mean 11 / 3 = 3.67
    assert total["csat"] == {"count": 3, "mean": 3.67, "distribution": {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1}}
    # complaints received in November: #3 and #5 are billing (#1's "delivery" was received in October)
    assert report["complaint_categories"] == [{"category": "billing", "count": 2}]
    assert report["compliments"] == {
        "count": 1,
        "categories": [{"category": "friendly & helpful <staff>", "count": 1}],
    }


def _met_working_seconds(store_url: str, value: int | None = None, *, write: bool = False) -> list[int | None]:
    """The stored working times of the met targets (after setting them all to ``value`` when ``write``)."""
    engine = create_engine(store_url)
    try:
        with engine.begin() as connection:
            if write:
                connection.execute(text("UPDATE targets SET met_working_seconds = :value"), {"value": value})
            rows = connection.execute(
                text("SELECT met_working_seconds FROM targets WHERE met_at IS NOT NULL ORDER BY id")
            )
            return [seconds for (seconds,) in rows]
    finally:
        engine.dispose()


def test_report_reads_the_stored_working_times_and_they_equal_those_worked_out(store: Cli, store_url: str) -> None:
    # Paused time and a close while waiting: #7 waits Tue 24 13:00 → Wed 25 10:00 (4h + 1h paused), resolved
    # Wed 12:00; #8 waits from Mon 30 Nov 10:00 and is closed waiting on Tue 1 Dec 10:00 (its targets met then).
    run(store, "2026-11-24T10:00:00+00:00", "log", "Lost card", "--channel", "letter", "--owner", "sam", "-q")
    run(store, "2026-11-24T13:00:00+00:00", "wait", "7")
    run(store, "2026-11-25T10:00:00+00:00", "resume", "7")
    run(store, "2026-11-25T12:00:00+00:00", "resolve", "7", "-m", "New card sent")
    run(store, "2026-11-30T09:30:00+00:00", "log", "Address change", "--owner", "sam", "-q")
    run(store, "2026-11-30T10:00:00+00:00", "wait", "8")
    run(store, "2026-12-01T10:00:00+00:00", "close", "8")
    stored = _met_working_seconds(store_url)
    assert stored and None not in stored  # every met target keeps its working time when it is met
    # #7: Tue 10–17 7h + Wed 9–12 3h = 10h, less the 5h paused = 300 working minutes to resolve
    assert times(report_json(store, "--since", "2026-11-24", "--until", "2026-11-25")["totals"])["resolve"] == (
        1,
        300,
        300,
    )
    reports = [
        report_json(store, "--since", "2026-10-01", "--until", "2026-12-03", *by)
        for by in ([], ["--by", "week"], ["--by", "owner"])
    ]
    assert any(times(report["totals"])["respond"][0] for report in reports), "control: working times were reported"
    _met_working_seconds(store_url, None, write=True)
    assert reports == [
        report_json(store, "--since", "2026-10-01", "--until", "2026-12-03", *by)
        for by in ([], ["--by", "week"], ["--by", "owner"])
    ]
    # And the report does read the stored column: a wrong stored value shows.
    _met_working_seconds(store_url, 0, write=True)
    assert times(report_json(store, "--since", "2026-11-24", "--until", "2026-11-25")["totals"])["resolve"] == (1, 0, 0)


def test_a_target_this_version_does_not_know_is_tallied_under_its_own_name(store: Cli, store_url: str) -> None:
    # A target name from elsewhere (an import from a newer version, say), holding the comma the report's
    # joined outcome codes are split on: #5's overdue update target becomes "legal, review".
    before = [report_json(store, *NOVEMBER, *by) for by in ([], ["--by", "owner"])]
    engine = create_engine(store_url)
    try:
        with engine.begin() as connection:
            renamed = connection.execute(
                text("UPDATE targets SET name = 'legal, review' WHERE ticket_id = 5 AND name = 'update'")
            )
            assert renamed.rowcount == 1
    finally:
        engine.dispose()
    after = [report_json(store, *NOVEMBER, *by) for by in ([], ["--by", "owner"])]
    for old, new in [(before[0]["totals"], after[0]["totals"]), (by_key(before[1])["sam"], by_key(after[1])["sam"])]:
        assert sla(new)["legal, review"] == (0, 1, 0, 0.0)  # overdue at the report
        met, breached, pending, _ = sla(old)["update"]
        left = (met, breached - 1, pending)
        assert (sla(new)["update"][:3] if "update" in sla(new) else (0, 0, 0)) == left  # sam's only one was #5's
        assert [t["target"] for t in new["sla"]][-1] == "legal, review"  # names not known are shown last
        assert {k: v for k, v in sla(new).items() if k not in ("update", "legal, review")} == {
            k: v for k, v in sla(old).items() if k != "update"
        }
        assert {k: v for k, v in new.items() if k != "sla"} == {k: v for k, v in old.items() if k != "sla"}
    assert by_key(after[1])["priya"] == by_key(before[1])["priya"]


def test_a_period_holding_every_ticket_reports_what_the_same_tickets_filtered_report(store: Cli) -> None:
    # A period holding every ticket of the store reads the tables straight through (no cohort condition, the
    # targets without their join when not grouped); every ticket is Acme's or Beta's, so asking for both
    # organisations is the same cohort by the filtered queries.
    whole = ("--since", "2026-10-01", "--until", "2026-12-03")
    for by in ([], ["--by", "week"], ["--by", "owner"], ["--by", "category"]):
        straight = report_json(store, *whole, *by)
        filtered = report_json(store, *whole, "--org", "Acme", "--org", "Beta", *by)
        assert straight["totals"]["received"] == 6
        assert straight["totals"]["sla"], "control: targets were tallied"
        assert straight["orgs"] != filtered["orgs"]
        assert {k: v for k, v in straight.items() if k != "orgs"} == {k: v for k, v in filtered.items() if k != "orgs"}


def test_default_period_is_the_last_full_month(store: Cli) -> None:
    default = report_json(store)
    assert default["period"]["since"] == "2026-11-01T00:00:00+00:00"
    assert default["period"]["until"] == "2026-12-01T00:00:00+00:00"
    assert default["totals"] == report_json(store, *NOVEMBER)["totals"]


def test_since_alone_runs_to_now(store: Cli) -> None:
    report = report_json(store, "--since", "2026-11-23")
    assert report["period"]["until"] == REPORT_NOW
    # #4, #5, #6; #4's extension (Mon 23 16:00); no escalation after Mon 23
    total = report["totals"]
    assert (total["received"], total["resolved"], total["open"]) == (3, 1, 2)
    assert (total["escalations"], total["extensions"]) == (0, 1)


def test_until_alone_covers_the_month_before(store: Cli) -> None:
    report = report_json(store, "--until", "2026-11-23")
    assert (report["period"]["since"], report["period"]["until"]) == (
        "2026-10-23T00:00:00+01:00",  # local midnight: 23 October is still summer time
        "2026-11-23T00:00:00+00:00",
    )
    # #1 (26 Oct), #2 and #3; escalations of #1 (2 Nov) and #3 (20 Nov)
    assert (report["totals"]["received"], report["totals"]["escalations"]) == (3, 2)


def test_grouped_by_owner(store: Cli) -> None:
    report = report_json(store, *NOVEMBER, "--by", "owner")
    assert report["by"] == "owner"
    groups = by_key(report)
    assert list(groups) == ["priya", "sam"]
    priya, sam = groups["priya"], groups["sam"]
    # priya: #2, #3, #6 all resolved; escalations #1 and #3
    assert (priya["received"], priya["resolved"], priya["open"]) == (3, 3, 0)
    assert (priya["escalations"], priya["extensions"]) == (2, 0)
    assert sla(priya) == {
        "acknowledge": (1, 1, 0, 50.0),  # #2 met, #3 late → 1 / 2
        "respond": (3, 0, 0, 100.0),
        "update": (1, 0, 0, 100.0),
        "resolve": (3, 0, 0, 100.0),
    }
    assert times(priya) == {
        "acknowledge": (2, 540, 924),  # 60, 1020 (as the totals)
        # 60, 480, 1440: median 480; p90 rank 1.8 → 480 + 0.8 × 960 = 1248
        "respond": (3, 480, 1248),
        "resolve": (3, 1080, 3048),  # 60, 1080, 3540 (as the totals)
    }
    assert priya["csat"] == {"count": 3, "mean": 3.67, "distribution": {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1}}
    # sam: #4, #5 both open; #4's extension
    assert (sam["received"], sam["resolved"], sam["open"]) == (2, 0, 2)
    assert (sam["escalations"], sam["extensions"]) == (0, 1)
    assert sla(sam) == {
        "acknowledge": (0, 1, 0, 0.0),  # #5 overdue
        "respond": (0, 2, 0, 0.0),  # #4 late, #5 overdue
        "update": (0, 1, 0, 0.0),  # #5 overdue
        "resolve": (0, 0, 2, None),  # nothing decided yet
    }
    assert times(sam) == {
        "acknowledge": (0, None, None),
        "respond": (1, 300, 300),  # #4: 10:00 → 15:00
        "resolve": (0, None, None),
    }
    assert sam["csat"] == {"count": 0, "mean": None, "distribution": {str(r): 0 for r in range(1, 6)}}
    # the groups add up to the totals
    assert report["totals"]["received"] == priya["received"] + sam["received"]
    assert report["totals"]["escalations"] == priya["escalations"] + sam["escalations"]


def test_grouped_by_iso_week(store: Cli) -> None:
    report = report_json(store, *NOVEMBER, "--by", "week")
    groups = by_key(report)
    # Sun 1 Nov is in W44; Mon 30 Nov starts W49; every week is listed, quiet ones too
    assert list(groups) == ["2026-W44", "2026-W45", "2026-W46", "2026-W47", "2026-W48", "2026-W49"]
    volumes = {
        key: (g["received"], g["resolved"], g["open"], g["escalations"], g["extensions"]) for key, g in groups.items()
    }
    assert volumes == {
        "2026-W44": (0, 0, 0, 0, 0),
        "2026-W45": (0, 0, 0, 1, 0),  # #1 escalated Mon 2 Nov: counted in the week it happened
        "2026-W46": (0, 0, 0, 0, 0),
        "2026-W47": (2, 2, 0, 1, 0),  # #2, #3 received; #3 escalated Fri 20
        "2026-W48": (3, 1, 2, 0, 1),  # #4, #5, #6 received; #4 extended Mon 23
        "2026-W49": (0, 0, 0, 0, 0),
    }
    assert sla(groups["2026-W47"]) == {
        "acknowledge": (1, 1, 0, 50.0),
        "respond": (2, 0, 0, 100.0),
        "update": (1, 0, 0, 100.0),
        "resolve": (2, 0, 0, 100.0),
    }
    assert sla(groups["2026-W48"]) == {
        "acknowledge": (0, 1, 0, 0.0),  # #5
        "respond": (1, 2, 0, 33.3),  # #6 met; #4 late, #5 overdue → 1 / 3
        "update": (0, 1, 0, 0.0),
        "resolve": (1, 0, 2, 100.0),
    }
    # W47 respond: 480, 1440 → median 960; p90 rank 0.9 → 480 + 0.9 × 960 = 1344
    assert times(groups["2026-W47"])["respond"] == (2, 960, 1344)
    # W48 respond: 60, 300 → median 180; p90 rank 0.9 → 60 + 0.9 × 240 = 276
    assert times(groups["2026-W48"])["respond"] == (2, 180, 276)


def test_org_filter(store: Cli) -> None:
    report = report_json(store, *NOVEMBER, "--org", "Beta", "--by", "kind")
    total = report["totals"]
    assert report["orgs"] == ["Beta"]
    # #4 and #5 only; Acme's escalations (#1, #3) are not Beta's
    assert (total["received"], total["open"], total["escalations"], total["extensions"]) == (2, 2, 0, 1)
    assert list(by_key(report)) == ["request", "complaint"]  # the kinds' own order
    assert report["complaint_categories"] == [{"category": "billing", "count": 1}]
    assert report["compliments"] == {"count": 0, "categories": []}


def test_json_structure(store: Cli) -> None:
    report = report_json(store, *NOVEMBER, "--by", "channel")
    assert set(report) == {
        "period",
        "generated_at",
        "orgs",
        "by",
        "totals",
        "groups",
        "complaint_categories",
        "compliments",
    }
    assert report["generated_at"] == REPORT_NOW
    assert [g["key"] for g in report["groups"]] == ["phone", "chat", "email", "letter"]
    for group in [report["totals"], *report["groups"]]:
        assert set(group) == {
            "key",
            "received",
            "resolved",
            "open",
            "complaints",
            "compliments",
            "escalations",
            "extensions",
            "sla",
            "working_time",
            "csat",
        }
        assert set(group["working_time"]) == {"acknowledge", "respond", "resolve"}
        for target in group["sla"]:
            assert target["met"] + target["breached"] + target["pending"] == target["total"]
    assert report["totals"]["key"] == "all"


# -- terminal -------------------------------------------------------------------------------------------------------


def test_terminal_tables_with_bars_fit_80_columns(store: Cli) -> None:
    result = ok(
        store(
            "report",
            *NOVEMBER,
            "--by",
            "owner",
            env=at(REPORT_NOW, SUPPORTCLI_TERMINAL="1", NO_COLOR="1", COLUMNS="80"),
        )
    )
    out = result.stdout
    assert "\x1b[" not in out
    assert out.startswith("Tickets received 2026-11-01 to 2026-11-30 (Europe/London), by owner\n")
    assert max(len(line) for line in out.splitlines()) <= 80
    for title in ("Volumes", "Service levels", "Working time", "Customer satisfaction", "Top complaint categories"):
        assert title in out
    assert "Compliments: 1" in out
    assert "█" in out
    assert "33.3%" in out  # acknowledge on time, all owners
    assert "60.0%" in out  # respond
    lines = out.splitlines()
    # volume bars are shares of all 5 received, 10 cells wide: priya 3 → 6 cells, sam 2 → 4 cells
    volumes = out[out.index("Volumes") : out.index("Service levels")].splitlines()
    assert next(line for line in volumes if line.startswith("priya")).split()[2] == "██████"
    assert next(line for line in volumes if line.startswith("sam")).split()[2] == "████"
    assert next(line for line in volumes if line.startswith("All")).split()[2] == "██████████"
    # medians as working time: acknowledge 540 min = 1d 1h (a day = 8h), resolve 1080 min = 2d 2h
    acknowledge = next(line for line in lines if line.startswith("All") and "to acknowledge" in line)
    assert "1d 1h" in acknowledge
    resolve = next(line for line in lines if line.startswith("All") and "to resolve" in line)
    assert "2d 2h" in resolve
    assert "friendly & helpful <staff>" in out


def test_an_empty_period_is_success(store: Cli, tmp_path: Path) -> None:
    period = ("--since", "2026-06-01", "--until", "2026-07-01")
    out = run(store, REPORT_NOW, "report", *period)
    assert "Nothing was received, escalated or extended in this period." in out
    report = report_json(store, *period, "--by", "owner")
    assert report["groups"] == []
    assert (report["totals"]["received"], report["totals"]["sla"]) == (0, [])
    assert report["totals"]["csat"]["mean"] is None
    html_file = tmp_path / "empty.html"
    run(store, REPORT_NOW, "report", *period, "--format", "html", "-o", str(html_file))
    check_well_formed(html_file.read_text(encoding="utf-8"))


def test_an_empty_store_is_success(cli: Cli) -> None:
    assert json.loads(run(cli, REPORT_NOW, "report", "--json"))["totals"]["received"] == 0


# -- HTML -----------------------------------------------------------------------------------------------------------

VOID_ELEMENTS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class WellFormed(HTMLParser):
    """Checks every non-void element is closed, in order; collects tags, attributes and text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []
        self.text: list[str] = []
        self.declarations: list[str] = []

    def handle_decl(self, decl: str) -> None:
        self.declarations.append(decl)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.extend(attrs)
        if tag not in VOID_ELEMENTS:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.extend(attrs)

    def handle_endtag(self, tag: str) -> None:
        assert tag not in VOID_ELEMENTS, f"</{tag}> closes a void element"
        assert self.open, f"</{tag}> closes nothing"
        expected = self.open.pop()
        assert tag == expected, f"</{tag}> closes <{expected}>"

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def check_well_formed(document: str) -> WellFormed:
    parser = WellFormed()
    parser.feed(document)
    parser.close()
    assert parser.open == [], f"never closed: {parser.open}"
    assert parser.declarations == ["DOCTYPE html"]
    assert parser.tags[:3] == ["html", "head", "meta"]
    assert "script" not in parser.tags
    assert not any(name in ("src", "href") or name.startswith("on") for name, _ in parser.attributes)
    assert "http://" not in document and "https://" not in document
    assert "url(" not in document and "@import" not in document
    return parser


def test_html_report_is_self_contained_valid_and_has_the_figures(store: Cli, tmp_path: Path) -> None:
    html_file = tmp_path / "november.html"
    result = ok(
        store("report", *NOVEMBER, "--by", "owner", "--format", "html", "-o", str(html_file), env=at(REPORT_NOW))
    )
    assert result.stdout == ""
    assert str(html_file) in result.stderr
    document = html_file.read_text(encoding="utf-8")
    parser = check_well_formed(document)
    assert "svg" in parser.tags and "rect" in parser.tags
    text = " ".join(" ".join(parser.text).split())
    for figure in (
        "Tickets received 2026-11-01 to 2026-11-30 (Europe/London), by owner",
        "33.3%",  # acknowledge on time
        "60.0%",  # respond on time
        "50.0%",  # update on time
        "100.0%",  # resolve on time
        "1 (33.3%)",  # acknowledge met, as a count and a share of all 3
        "2 (66.7%)",  # acknowledge breached
        "540 working min",  # acknowledge median
        "924 working min",  # acknowledge p90
        "390 working min",  # respond median
        "1152 working min",  # respond p90
        "1080 working min",  # resolve median
        "3048 working min",  # resolve p90
        "3.67",  # CSAT mean
        "billing",
        "friendly & helpful <staff>",  # the text, once unescaped by the parser
        "Compliments: 1",
    ):
        assert figure in text, figure
    # customer text is escaped in the markup
    assert "friendly &amp; helpful &lt;staff&gt;" in document
    assert "<staff>" not in document


def test_html_to_stdout_without_output_file(store: Cli) -> None:
    document = run(store, REPORT_NOW, "report", *NOVEMBER, "--format", "html")
    assert document.startswith("<!DOCTYPE html>")
    check_well_formed(document)


def test_json_to_a_file(store: Cli, tmp_path: Path) -> None:
    json_file = tmp_path / "november.json"
    assert run(store, REPORT_NOW, "report", *NOVEMBER, "--json", "-o", str(json_file)) == ""
    assert json.loads(json_file.read_text(encoding="utf-8"))["totals"]["received"] == 5


# -- refusals -------------------------------------------------------------------------------------------------------


def refused(result: Result, *fragments: str) -> str:
    """Refused as invalid input (exit 2): see helpers.refused."""
    return refused_with(result, 2, *fragments)


def test_bad_grouping_lists_the_allowed_ones(cli: Cli) -> None:
    refused(
        cli("report", "--by", "colour", env=at(REPORT_NOW)),
        "unknown --by 'colour'",
        "owner, channel, kind, org, category, priority, week",
    )


def test_until_before_since_is_refused(cli: Cli) -> None:
    refused(cli("report", "--since", "2026-11-10", "--until", "2026-11-01", env=at(REPORT_NOW)), "--until", "--since")


def test_bad_format_and_misplaced_output_are_refused(cli: Cli, tmp_path: Path) -> None:
    refused(cli("report", "--format", "pdf", env=at(REPORT_NOW)), "table, json, html")
    refused(cli("report", "-o", str(tmp_path / "r.txt"), env=at(REPORT_NOW)), "--output")
    refused(cli("report", "--json", "--format", "html", env=at(REPORT_NOW)), "--json")
    refused(cli("report", "--since", "someday", env=at(REPORT_NOW)), "someday")
    refused(
        cli("report", "--format", "html", "-o", str(tmp_path / "no" / "dir.html"), env=at(REPORT_NOW)), "cannot write"
    )


# -- the arithmetic -------------------------------------------------------------------------------------------------


@given(st.lists(st.integers(min_value=0, max_value=10**7), min_size=2, max_size=60))
def test_percentiles_match_the_standard_library(values: list[int]) -> None:
    deciles = statistics.quantiles(values, n=10, method="inclusive")
    assert percentile(values, 50) == pytest.approx(statistics.median(values))
    assert percentile(values, 90) == pytest.approx(deciles[8])
    assert percentile(values, 10) == pytest.approx(deciles[0])
    assert percentile(values[:1], 90) == values[0]
    assert percentile([], 50) is None
