"""``supportcli policy``: show, check, set and list the team's policy versions."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from supportcli.cli.context import AppContext
from supportcli.cli.output_options import JsonOption, Listing, output_options
from supportcli.errors import InvalidInput, NotFound
from supportcli.render.output import Column, human_time

if TYPE_CHECKING:
    from sqlmodel import Session

    from supportcli.core.policy import Policy
    from supportcli.store.models import PolicyVersion

AllowEmpty = Annotated[
    bool,
    typer.Option("--allow-empty", help="Accept a policy that sets no targets at all (docs/policy.md)."),
]

app = typer.Typer(
    help="Show, check and set the team's policy (calendar, targets, automation).",
    no_args_is_help=True,
)


def read_policy_file(path: str) -> tuple[str, str]:
    """The text of a policy file (``-`` for stdin) and the name to report problems under."""
    if path == "-":
        return sys.stdin.read(), "<stdin>"
    try:
        return Path(path).read_text(encoding="utf-8"), path
    except FileNotFoundError as exc:
        raise InvalidInput(f"{path}: no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path}: cannot read: {exc}") from exc


def _load(path: str) -> tuple[str, Policy]:
    from supportcli.core.policy import load_policy

    source, name = read_policy_file(path)
    return source, load_policy(source, name)


def policy_summary(policy: Policy) -> list[str]:
    """A few lines that say what a policy promises, for people."""
    from supportcli.core.calendar import WEEKDAYS

    spec = policy.calendar
    hours = ", ".join(f"{WEEKDAYS[day]} {opening}" for day, opening in spec.hours)
    region = f"{spec.country}/{spec.subdivision}" if spec.subdivision else (spec.country or "no public holidays")
    lines = [
        f"name: {policy.name}",
        f"tiers: {' → '.join(policy.tiers)}",
        f"calendar: {spec.timezone}, {hours}; holidays {region}; {len(spec.closures)} closure day(s); "
        f"day rule {spec.day_rule.value}",
    ]
    for rule in policy.rules:
        targets = ", ".join(f"{name} {duration}" for name, duration in rule.targets.items())
        extra = (" + escalate on breach" if rule.escalate_on_breach else "") + (
            f", owner {rule.owner}" if rule.owner else ""
        )
        lines.append(f"rule {rule.number} ({rule.describe_match()}): {targets}{extra}")
    return lines


@app.command("check")
def check(
    ctx: typer.Context,
    file: Annotated[str, typer.Argument(metavar="FILE", help="Policy TOML file, or - for stdin.")],
    allow_empty: AllowEmpty = False,
) -> None:
    """Validate a policy file without changing anything; every problem is listed.

    A policy with no targets at all is refused, as `policy set` refuses it, unless --allow-empty.

    Example: supportcli policy check examples/policies/004_customer_support.toml
    """
    from supportcli.core.policy import policy_warnings, refuse_empty

    obj: AppContext = ctx.obj
    _, policy = _load(file)
    if not allow_empty:
        refuse_empty(policy, file)
    obj.output.message(f"{file}: ok")
    for line in policy_summary(policy):
        obj.output.line(line)
    for warning in [*policy_warnings(policy), *_owner_warnings(obj, policy)]:
        obj.output.message(f"{file}: warning: {warning}")


def _owner_warnings(obj: AppContext, policy: Any) -> list[str]:
    """A rule whose ``owner`` is not in the staff directory (``policy set`` refuses it; see
    ``store.staff.check_staff_name``). Only an existing store is read: ``check`` creates nothing."""
    from supportcli.store.staff import unknown_staff_name

    owners = [(rule.number, rule.owner) for rule in policy.rules if rule.owner]
    location = obj.location
    if not owners or (location.sqlite_path is not None and not location.sqlite_path.exists()):
        return []
    with obj.store().read() as session:
        problems = [(number, unknown_staff_name(session, owner, "owner")) for number, owner in owners]
    return [f"rule {number}: {problem}; policy set refuses it" for number, problem in problems if problem]


@app.command("set")
def set_policy(
    ctx: typer.Context,
    file: Annotated[str, typer.Argument(metavar="FILE", help="Policy TOML file, or - for stdin.")],
    effective: Annotated[
        str | None,
        typer.Option(
            "--effective",
            metavar="WHEN",
            help="Apply to tickets received from then on (default: every ticket logged from now on).",
        ),
    ] = None,
    note: Annotated[str, typer.Option("--note", "-m", help="Why the policy changed, kept in the history.")] = "",
    allow_empty: AllowEmpty = False,
) -> None:
    """Store a new policy version; the previous versions are kept.

    A policy with no targets at all (an empty file, say) is refused unless --allow-empty.

    Examples:

      supportcli policy set team.toml

      supportcli policy set team.toml --effective 2027-01-01   # customers told 30 days ahead
    """
    from supportcli.core.timeparse import Looking, parse_when

    obj: AppContext = ctx.obj
    source, name = read_policy_file(file)
    effective_at = None
    if effective:
        from supportcli.core.policy import load_policy

        calendar = obj.calendar(load_policy(source, name))
        effective_at = parse_when(effective, obj.now().astimezone(calendar.zone), calendar, Looking.BACK)
    set_policy_source(obj, source, name, note, effective_at, allow_empty)


def checked_policy(source: str, source_name: str, allow_empty: bool = False) -> Policy:
    """A policy text parsed and validated as ``policy set`` and ``init --policy`` require, before anything is
    stored: every problem listed, and no policy without targets unless ``allow_empty``."""
    from supportcli.core.policy import load_policy, refuse_empty

    policy = load_policy(source, source_name)
    if not allow_empty:
        refuse_empty(policy, source_name)
    return policy


def set_policy_source(
    obj: AppContext,
    source: str,
    source_name: str,
    note: str,
    effective_at: datetime | None = None,
    allow_empty: bool = False,
) -> None:
    """Validate a policy text and store it as a new version (shared by ``policy set`` and ``init``).

    Without ``effective_at`` the version applies to every ticket logged from now on, whatever its received
    time; with it, to the tickets received from then on (docs/policy.md, "Versions and --effective"). A rule's
    ``owner`` must name a staff member once the directory has anyone in it (``store.staff.check_staff_name``).
    """
    from supportcli.store.policies import add_version, overshadowed_by
    from supportcli.store.staff import check_staff_name

    policy = checked_policy(source, source_name, allow_empty)
    now = obj.now()

    def store_version(session: Session) -> tuple[PolicyVersion, PolicyVersion | None]:
        for rule in policy.rules:
            if rule.owner:
                check_staff_name(session, rule.owner, f"rule {rule.number}: owner")
        row = add_version(session, policy, source, effective_at, now, obj.actor, note)
        return row, overshadowed_by(session, row)

    row, later = obj.store().run_write(store_version)
    if effective_at is None:
        obj.output.message(
            f"policy version {row.version} ({policy.name}) set: it applies to every ticket logged from now on"
        )
        return
    zone = obj.calendar(policy).zone
    obj.output.message(
        f"policy version {row.version} ({policy.name}) set: it applies to tickets received from "
        f"{human_time(effective_at.astimezone(zone))} on"
    )
    if later is not None:
        obj.output.message(
            f"note: no ticket will take version {row.version}: version {later.version}, set without --effective "
            f"at {human_time(later.effective_at.astimezone(zone))}, took effect later and applies to every ticket "
            "logged from then on"
        )


@app.command("show")
def show(
    ctx: typer.Context,
    version: Annotated[int | None, typer.Option("--version", "-v", help="Show this version instead.")] = None,
    json_output: JsonOption = False,
) -> None:
    """Print the policy in effect now (or a given version) as TOML.

    Example: supportcli policy show > team.toml
    """
    from supportcli.store.policies import get_version, parsed, version_in_effect

    obj: AppContext = ctx.obj
    with obj.store().read() as session:
        row = get_version(session, version) if version is not None else version_in_effect(session, obj.now())
    if row is None:
        raise NotFound(f"no policy version {version}")
    policy = parsed(row)
    zone = obj.calendar(policy).zone
    if json_output:
        obj.output.json(
            {
                "version": row.version,
                "name": row.name,
                "effective_at": row.effective_at.astimezone(zone),
                "set_at": row.set_at.astimezone(zone),
                "set_by": row.set_by,
                "source": row.source,
            }
        )
        return
    if obj.output.is_terminal:
        obj.output.message(
            f"# policy version {row.version}, effective {human_time(row.effective_at.astimezone(zone))}, "
            f"set by {row.set_by} at {human_time(row.set_at.astimezone(zone))}"
        )
    obj.output.stdout.write(row.source if row.source.endswith("\n") else row.source + "\n")


@app.command("history")
@output_options()
def history(ctx: typer.Context, *, listing: Listing) -> None:
    """List every policy version, oldest first: in effect now, scheduled, or superseded, and whether it applies
    to tickets logged or received from its effective time (docs/policy.md, "Versions and --effective")."""
    from supportcli.store.policies import all_versions, version_in_effect

    obj: AppContext = ctx.obj
    now = obj.now()
    with obj.store().read() as session:
        rows = all_versions(session)
        current = version_in_effect(session, now).version
    zone = obj.calendar(obj.newest_policy()).zone
    records = [
        {
            "version": row.version,
            "name": row.name,
            "effective_at": row.effective_at.astimezone(zone),
            "applies_to": row.applies_by,
            "set_at": row.set_at.astimezone(zone),
            "set_by": row.set_by,
            "state": "in effect"
            if row.version == current
            else ("scheduled" if row.effective_at > now else "superseded"),
            "note": row.note,
        }
        for row in rows
    ]
    columns = [
        Column("Version", "version", justify="right"),
        Column("Name", "name", wrap=True),
        Column("Effective", "effective_at"),
        Column("Set", "set_at"),
        Column("By", "set_by"),
        Column("State", "state"),
        Column("Applies to", "applies_to", human=lambda by: f"tickets {by}"),
        Column("Note", "note", wrap=True),
    ]
    obj.output.listing(columns, records, listing.format(obj.output))
