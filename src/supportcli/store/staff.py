"""The staff directory: who is on the team, at which tier, and who covers for whom while away (docs/tickets.md: owners and cover).

Each write function runs inside one write transaction (``Store.write``). Names
are the keys people type (``--as``, ``assign``), so they are matched exactly.
"""

from __future__ import annotations

import re
from datetime import datetime
from difflib import get_close_matches

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from supportcli.errors import InvalidInput, NotFound
from supportcli.store.models import Staff

# A chain of covers longer than this is a mistake in the rota, not a plan; stop and use who we reached.
MAX_COVER_STEPS = 5

# A refused name lists the whole directory when nothing is near and it has at most this many people.
LISTED_NAMES = 10

# Loose on purpose: the mail server is the judge of an address; this only catches typos like a missing @.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")


def is_away(member: Staff, now: datetime) -> bool:
    """True while an absence recorded for ``member`` has not yet ended at ``now``."""
    return member.away_until is not None and member.away_until > now


def _find(session: Session, name: str) -> Staff | None:
    return session.exec(select(Staff).where(Staff.name == name)).first()


def _unknown(session: Session, name: str, role: str = "") -> str:
    """What is wrong with a name the directory lacks, with the nearest names for a typo ("did you mean priya?")
    or, in a small directory with nothing near, everyone's."""
    names = sorted(session.exec(select(Staff.name)))
    near = get_close_matches(name, names, n=3)
    if near:
        hint = f" (did you mean {' or '.join(near)}?)"
    else:
        hint = f" (staff: {', '.join(names)})" if 0 < len(names) <= LISTED_NAMES else ""
    return (f"{role} {name!r} is not a staff member" if role else f"no staff member {name}") + hint


def get_staff(session: Session, name: str) -> Staff:
    """A staff member by name, or NotFound (exit 3) naming the nearest names."""
    member = _find(session, name)
    if member is None:
        raise NotFound(_unknown(session, name))
    return member


def unknown_staff_name(session: Session, name: str, role: str = "owner") -> str | None:
    """Why ``name`` cannot be written as an owner or a cover, or None when it can: any name while the
    directory is empty (a team that keeps no directory types free-form names), else only a staff member's.

    ``policy check`` warns with it; ``check_staff_name`` refuses with it.
    """
    if _find(session, name) is not None or session.exec(select(Staff.id).limit(1)).first() is None:
        return None
    return _unknown(session, name, role)


def check_staff_name(session: Session, name: str, role: str = "owner") -> str:
    """Refuse (NotFound, exit 3) a name written as an owner or a cover (``log --owner``, ``assign``, ``staff
    away --cover``, a policy rule's ``owner``) that is not in a non-empty directory; return the name.

    The one place that decides (docs/tickets.md, "Owners and cover"). The acting user (``--as``, the login
    name) is never checked, so cron runs and ``mail-in`` work under any system account, and neither are the
    names list filters look for.
    """
    problem = unknown_staff_name(session, name, role)
    if problem is not None:
        raise NotFound(problem)
    return name


def email_of(session: Session, name: str) -> str | None:
    """A staff member's e-mail address for notices, or None when they are not in the directory."""
    member = _find(session, name)
    return member.email or None if member is not None else None


def add_staff(session: Session, name: str, email: str, tier: int) -> Staff:
    """Add someone to the directory; names are unique."""
    name, email = name.strip(), email.strip()
    if not name:
        raise InvalidInput("the staff member's name is empty")
    if not _EMAIL.fullmatch(email):
        raise InvalidInput(f"bad e-mail address {email!r} (expected something like name@example.com)")
    if tier < 0:
        raise InvalidInput(f"bad tier {tier} (0 = first tier)")
    if _find(session, name) is not None:
        raise InvalidInput(f"staff member {name} already exists")
    member = Staff(name=name, email=email, tier=tier)
    session.add(member)
    try:
        session.flush()
    except IntegrityError as exc:  # another writer added the same name (databases without BEGIN IMMEDIATE)
        raise InvalidInput(f"staff member {name} already exists") from exc
    return member


def list_staff(session: Session) -> list[Staff]:
    """Everyone in the directory, lowest tier first, then by name."""
    return list(session.exec(select(Staff).order_by(col(Staff.tier), col(Staff.name))))


def staff_at_tier(session: Session, tier: int) -> list[Staff]:
    """The people at one tier (0 = first), by name: who hears about an escalation to it."""
    return list(session.exec(select(Staff).where(Staff.tier == tier).order_by(col(Staff.name))))


def set_away(session: Session, name: str, until: datetime, cover: str, now: datetime) -> Staff:
    """Record an absence until ``until`` with a colleague who covers it; replaces any earlier absence."""
    member = get_staff(session, name)
    if cover == member.name:
        raise InvalidInput(f"{name} cannot cover for themselves; name a colleague with --cover")
    check_staff_name(session, cover, "cover")
    if until <= now:
        raise InvalidInput("--until must be in the future")
    member.away_until, member.cover = until, cover
    session.add(member)
    return member


def set_back(session: Session, name: str) -> Staff:
    """End an absence now: the person handles their own tickets again."""
    member = get_staff(session, name)
    member.away_until, member.cover = None, None
    session.add(member)
    return member


def responsible_for(session: Session, owner: str | None, now: datetime) -> str | None:
    """Who handles an owner's tickets at ``now``: the owner, or while they are away their cover (and so on).

    The chain of covers is followed at most ``MAX_COVER_STEPS`` steps and never
    revisits anyone, so a rota where two people cover for each other still
    gives an answer. A name not in the directory is returned unchanged.
    """
    if owner is None:
        return None
    current = owner
    seen = {owner}
    for _ in range(MAX_COVER_STEPS):
        member = _find(session, current)
        if member is None or not is_away(member, now) or not member.cover or member.cover in seen:
            break
        current = member.cover
        seen.add(current)
    return current


def absence_of(session: Session, owner: str | None, now: datetime) -> tuple[datetime, str | None] | None:
    """While ``owner`` is away at ``now``: until when, and who handles their tickets (``responsible_for``; None
    when nobody covers). None when there is no owner or they are not away: what ``show`` says beside an owner."""
    member = _find(session, owner) if owner is not None else None
    if member is None or member.away_until is None or not is_away(member, now):
        return None
    handler = responsible_for(session, owner, now)
    return member.away_until, handler if handler != owner else None


def covered_by(session: Session, name: str, now: datetime) -> list[str]:
    """The absent colleagues whose tickets ``name`` handles at ``now`` as their cover (directly, or further
    along a chain of covers, as ``responsible_for`` follows it), by name: what ``--mine`` adds to one's own."""
    away = session.exec(
        select(Staff.name).where(col(Staff.away_until) > now, col(Staff.cover).is_not(None)).order_by(col(Staff.name))
    )
    return [owner for owner in away if owner != name and responsible_for(session, owner, now) == name]


def handled_by(session: Session, name: str, now: datetime) -> list[str]:
    """The owners whose tickets ``name`` handles at ``now``: their own, then those they cover (``--mine``)."""
    return [name, *covered_by(session, name, now)]
