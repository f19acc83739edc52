"""The team's policy (SPEC §4): parse and validate the TOML, and pick a ticket's rule.

Validation collects every problem with the key and line it concerns, so a
team lead fixes a file in one pass; nothing is applied unless it is clean.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from importlib.resources import files
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from supportcli.core.calendar import WEEKDAYS, CalendarSpec, DayRule, OpeningHours
from supportcli.core.durations import Duration, parse_duration
from supportcli.core.tickets import CHANNELS, KINDS, PRIORITIES
from supportcli.errors import InvalidInput

TARGET_NAMES = ("acknowledge", "respond", "resolve", "update")
MATCH_KEYS = {"kind": KINDS, "channel": CHANNELS, "priority": PRIORITIES, "org": None}
DEFAULT_TIERS = ("Support", "Customer Success Manager", "Director")


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a policy file."""

    key: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{where}{self.key}: {self.message}"


class PolicyError(InvalidInput):
    """A policy file with problems; ``problems`` lists every one of them."""

    def __init__(self, source_name: str, problems: list[Problem]) -> None:
        self.problems = problems
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        super().__init__(f"{source_name}: {count}: " + "; ".join(str(p) for p in problems))


@dataclass(frozen=True)
class TargetRule:
    """One ``[[targets]]`` entry: which tickets it matches and their service levels."""

    number: int
    match: dict[str, frozenset[str]]
    targets: dict[str, Duration]
    escalate_on_breach: bool = False
    owner: str | None = None

    def matches(self, fields: dict[str, str | None]) -> bool:
        """True when every match key accepts the ticket's value (an empty match accepts all)."""
        return all(fields.get(key) in allowed for key, allowed in self.match.items())

    def shadows(self, later: TargetRule) -> bool:
        """True when every ticket ``later`` matches is already taken by this rule."""
        return all(key in later.match and later.match[key] <= allowed for key, allowed in self.match.items())

    def describe_match(self) -> str:
        """The match as a short human phrase, e.g. ``kind=complaint``."""
        if not self.match:
            return "everything"
        return ", ".join(f"{key}={'|'.join(sorted(values))}" for key, values in self.match.items())


@dataclass(frozen=True)
class Automation:
    """What the cron run does by itself."""

    auto_close_waiting_after: Duration | None = None
    warn_before: Duration | None = None
    reopen_on_reply: bool = True


@dataclass(frozen=True)
class CustomerMail:
    """Which customer-facing mails are sent (SPEC §8)."""

    acknowledge: bool = False
    update: bool = False
    resolve: bool = False
    feedback_request: bool = False
    templates: str | None = None


@dataclass(frozen=True)
class Policy:
    """A validated policy: calendar, escalation tiers, target rules, automation."""

    name: str
    tiers: tuple[str, ...]
    calendar: CalendarSpec
    rules: tuple[TargetRule, ...]
    automation: Automation = field(default_factory=Automation)
    retention_resolved_for: Duration | None = None
    notify: dict[str, str] = field(default_factory=dict)
    customer_mail: CustomerMail = field(default_factory=CustomerMail)
    description: str = ""

    def rule_for(self, kind: str, channel: str, priority: str, org: str | None) -> TargetRule | None:
        """The first rule that matches a ticket (SPEC §4), or None when none does."""
        fields = {"kind": kind, "channel": channel, "priority": priority, "org": org}
        return next((rule for rule in self.rules if rule.matches(fields)), None)


def default_policy_source() -> str:
    """The TOML of the built-in policy, used until a team sets its own."""
    return files("supportcli.core").joinpath("default_policy.toml").read_text(encoding="utf-8")


def default_policy_with_region(country: str | None, subdivision: str | None) -> str:
    """The built-in policy's TOML with another country/subdivision for public holidays (``init``)."""
    source = default_policy_source()
    if country is not None:
        source = re.sub(r'(?m)^country = ".*"$', f"country = {_toml_string(country.upper())}", source)
        if subdivision is None:
            source = re.sub(r'(?m)^subdivision = ".*"\n', "", source)
    if subdivision is not None:
        source = re.sub(r'(?m)^subdivision = ".*"$', f"subdivision = {_toml_string(subdivision.upper())}", source)
    return source


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def load_policy(source: str, source_name: str = "policy") -> Policy:
    """Parse and validate a policy document; raise PolicyError listing every problem."""
    try:
        document = tomllib.loads(source)
    except tomllib.TOMLDecodeError as exc:
        line = _line_of_decode_error(str(exc), source)
        raise PolicyError(source_name, [Problem("toml", f"not valid TOML: {exc}", line)]) from exc
    checker = _Checker(_KeyLines(source))
    policy = checker.policy(document)
    if checker.problems or policy is None:
        raise PolicyError(source_name, sorted(checker.problems, key=lambda p: p.line or 0))
    return policy


def policy_warnings(policy: Policy) -> list[str]:
    """Things that are valid but probably not meant, shown by ``policy check``."""
    warnings = []
    if not any(not rule.match for rule in policy.rules):
        warnings.append("no catch-all rule (match = {}): tickets that match no rule get no targets")
    if any(rule.escalate_on_breach for rule in policy.rules) and len(policy.tiers) < 2:
        warnings.append("escalate_on_breach is set but there is only one tier to escalate to")
    mail = policy.customer_mail
    mail_on = any((mail.acknowledge, mail.update, mail.resolve, mail.feedback_request))
    if mail_on and not policy.notify.get("email_from"):
        warnings.append(
            "customer_mail is on but notify.email_from is empty: no customer mail is sent until it names "
            "the address customers reply to"
        )
    return warnings


def _line_of_decode_error(message: str, source: str) -> int | None:
    found = re.search(r"line (\d+)", message)
    if found:
        return int(found.group(1))
    return max(1, len(source.splitlines())) if "end of document" in message else None


class _KeyLines:
    """Finds the line of a dotted key (``targets[2].resolve``) by scanning the TOML text.

    tomllib does not report positions, and a message with a line number is
    what a person editing the file needs; a light scan of tables and keys is
    enough for the shapes a policy file takes.
    """

    _TABLE = re.compile(r"^\s*\[\s*([A-Za-z0-9_.\-]+)\s*\]\s*(#.*)?$")
    _ARRAY = re.compile(r"^\s*\[\[\s*([A-Za-z0-9_.\-]+)\s*\]\]\s*(#.*)?$")
    _KEY = re.compile(r"^\s*([A-Za-z0-9_\-]+)\s*=")

    def __init__(self, source: str) -> None:
        self.lines: dict[str, int] = {}
        prefix, counts = "", dict[str, int]()
        for number, text in enumerate(source.splitlines(), start=1):
            if found := self._ARRAY.match(text):
                name = found.group(1)
                counts[name] = counts.get(name, 0) + 1
                prefix = f"{name}[{counts[name]}]"
                self.lines.setdefault(prefix, number)
            elif found := self._TABLE.match(text):
                prefix = found.group(1)
                self.lines.setdefault(prefix, number)
            elif found := self._KEY.match(text):
                key = f"{prefix}.{found.group(1)}" if prefix else found.group(1)
                self.lines.setdefault(key, number)

    def find(self, key: str) -> int | None:
        """The line of the key, or of its nearest enclosing key that has one."""
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key.rsplit(".", 1)[0] if "." in key else ""
        return None


class _Checker:
    """Walks a parsed policy document, building the Policy and collecting problems."""

    def __init__(self, key_lines: _KeyLines) -> None:
        self.key_lines = key_lines
        self.problems: list[Problem] = []

    def problem(self, key: str, message: str) -> None:
        self.problems.append(Problem(key, message, self.key_lines.find(key)))

    def unknown_keys(self, table: dict[str, Any], allowed: set[str] | tuple[str, ...], prefix: str) -> None:
        for key in table:
            if key not in allowed:
                where = f"{prefix}.{key}" if prefix else key
                self.problem(where, f"unknown key (allowed: {', '.join(sorted(allowed))})")

    def table(self, document: dict[str, Any], key: str) -> dict[str, Any]:
        value = document.get(key, {})
        if not isinstance(value, dict):
            self.problem(key, "must be a table")
            return {}
        return value

    def string(self, table: dict[str, Any], key: str, prefix: str, default: str | None = None) -> str | None:
        value = table.get(key, default)
        if value is not None and not isinstance(value, str):
            self.problem(f"{prefix}.{key}" if prefix else key, "must be a string")
            return default
        return value

    def boolean(self, table: dict[str, Any], key: str, prefix: str, default: bool) -> bool:
        value = table.get(key, default)
        if not isinstance(value, bool):
            self.problem(f"{prefix}.{key}", "must be true or false")
            return default
        return value

    def duration(self, table: dict[str, Any], key: str, prefix: str) -> Duration | None:
        if key not in table:
            return None
        try:
            return parse_duration(table[key])
        except InvalidInput as exc:
            self.problem(f"{prefix}.{key}", str(exc))
            return None

    # -- sections -------------------------------------------------------------

    def policy(self, document: dict[str, Any]) -> Policy | None:
        self.unknown_keys(
            document,
            {
                "name",
                "description",
                "tiers",
                "calendar",
                "targets",
                "automation",
                "retention",
                "notify",
                "customer_mail",
            },
            "",
        )
        name = self.string(document, "name", "", "Unnamed policy") or "Unnamed policy"
        description = self.string(document, "description", "", "") or ""
        tiers = self.tiers(document.get("tiers", list(DEFAULT_TIERS)))
        calendar = self.calendar(self.table(document, "calendar"))
        rules = self.rules(document.get("targets", []))
        automation = self.automation(self.table(document, "automation"))
        retention = self.table(document, "retention")
        self.unknown_keys(retention, {"resolved_for"}, "retention")
        resolved_for = self.duration(retention, "resolved_for", "retention")
        if resolved_for is not None and resolved_for.is_working_time:
            self.problem("retention.resolved_for", "use calendar time (e.g. 2y, 730d), not working time")
        notify = self.notify(self.table(document, "notify"))
        customer_mail = self.customer_mail(self.table(document, "customer_mail"))
        if calendar is None:
            return None
        return Policy(
            name=name,
            tiers=tiers,
            calendar=calendar,
            rules=tuple(rules),
            automation=automation,
            retention_resolved_for=resolved_for,
            notify=notify,
            customer_mail=customer_mail,
            description=description,
        )

    def tiers(self, value: Any) -> tuple[str, ...]:
        if not isinstance(value, list) or not value or not all(isinstance(t, str) and t.strip() for t in value):
            self.problem("tiers", "must be a non-empty list of tier names, lowest first")
            return DEFAULT_TIERS
        if len({t.casefold() for t in value}) != len(value):
            self.problem("tiers", "tier names must be unique")
        return tuple(value)

    def calendar(self, table: dict[str, Any]) -> CalendarSpec | None:
        prefix = "calendar"
        self.unknown_keys(
            table, {"timezone", "country", "subdivision", "workdays", "hours", "day_rule", "closures"}, prefix
        )
        ok = True
        timezone = self.string(table, "timezone", prefix, "Europe/London") or "Europe/London"
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            self.problem("calendar.timezone", f"unknown timezone {timezone!r} (use an IANA name like Europe/London)")
            ok = False
        country, subdivision = self.region(table)
        hours = self.hours(table)
        closures = self.closures(table.get("closures", []))
        rule_text = self.string(table, "day_rule", prefix, DayRule.CLOSE_OF_BUSINESS.value)
        try:
            day_rule = DayRule(rule_text)
        except ValueError:
            self.problem("calendar.day_rule", f"unknown day rule {rule_text!r} (use close-of-business or elapsed)")
            day_rule, ok = DayRule.CLOSE_OF_BUSINESS, False
        if hours is None or not ok:
            return None
        return CalendarSpec(timezone, hours, country, subdivision, closures, day_rule)

    def region(self, table: dict[str, Any]) -> tuple[str | None, str | None]:
        from supportcli.core.calendar_cache import supported_subdivisions

        country = self.string(table, "country", "calendar", "GB")
        if country in ("", "none"):
            return None, None
        default_subdivision = "ENG" if country == "GB" else None
        subdivision = self.string(table, "subdivision", "calendar", default_subdivision)
        known = supported_subdivisions(country) if country else None
        if known is None:
            self.problem(
                "calendar.country",
                f"unknown country {country!r} (an ISO 3166 code the holidays package knows, e.g. GB)",
            )
            return None, None
        if subdivision and subdivision not in known:
            allowed = ", ".join(known) or "none"
            self.problem(
                "calendar.subdivision", f"unknown subdivision {subdivision!r} of {country} (allowed: {allowed})"
            )
            return country, None
        return country, subdivision or None

    def hours(self, table: dict[str, Any]) -> tuple[tuple[int, OpeningHours], ...] | None:
        workdays_value = table.get("workdays")
        workdays = self.workdays(workdays_value if workdays_value is not None else list(WEEKDAYS[:5]))
        hours_value = table.get("hours", "09:00-17:00")
        if isinstance(hours_value, str):
            opening = self.opening(hours_value, "calendar.hours")
            if opening is None or workdays is None:
                return None
            return tuple((day, opening) for day in workdays)
        if not isinstance(hours_value, dict):
            self.problem("calendar.hours", 'must be "HH:MM-HH:MM" or a table of weekday = "HH:MM-HH:MM"')
            return None
        per_day: dict[int, OpeningHours] = {}
        for name, text in hours_value.items():
            if name not in WEEKDAYS:
                self.problem(f"calendar.hours.{name}", f"unknown weekday (use {', '.join(WEEKDAYS)})")
                continue
            opening = self.opening(text, f"calendar.hours.{name}")
            if opening is not None:
                per_day[WEEKDAYS.index(name)] = opening
        if workdays is None:
            return None
        if workdays_value is not None:
            for day in workdays:
                if day not in per_day:
                    self.problem(
                        "calendar.workdays", f"{WEEKDAYS[day]} is a workday but calendar.hours gives no hours for it"
                    )
            per_day = {day: opening for day, opening in per_day.items() if day in workdays}
        if not per_day:
            self.problem("calendar.hours", "no working hours on any day")
            return None
        return tuple(sorted(per_day.items()))

    def workdays(self, value: Any) -> tuple[int, ...] | None:
        if not isinstance(value, list) or not value:
            self.problem("calendar.workdays", f"must be a non-empty list of weekdays ({', '.join(WEEKDAYS)})")
            return None
        days = []
        for name in value:
            if name not in WEEKDAYS:
                self.problem("calendar.workdays", f"unknown weekday {name!r} (use {', '.join(WEEKDAYS)})")
                return None
            days.append(WEEKDAYS.index(name))
        if len(set(days)) != len(days):
            self.problem("calendar.workdays", "a weekday is listed twice")
        return tuple(sorted(set(days)))

    def opening(self, text: Any, key: str) -> OpeningHours | None:
        found = (
            re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", text) if isinstance(text, str) else None
        )
        if not found:
            self.problem(key, f'bad hours {text!r} (use "HH:MM-HH:MM", e.g. "09:00-17:00")')
            return None
        oh, om, ch, cm = (int(part) for part in found.groups())
        opens, closes = oh * 60 + om, ch * 60 + cm
        if oh > 23 or ch > 24 or om > 59 or cm > 59 or closes > 1440:
            self.problem(key, f"bad hours {text!r}: not a time of day")
            return None
        if closes <= opens:
            self.problem(key, f"bad hours {text!r}: closing must be after opening")
            return None
        return OpeningHours(opens, closes)

    def closures(self, value: Any) -> frozenset[date]:
        if not isinstance(value, list):
            self.problem("calendar.closures", 'must be a list of dates ("2026-12-29" or "2026-12-29..2026-12-31")')
            return frozenset()
        days: set[date] = set()
        for item in value:
            days |= self.closure(item)
        return frozenset(days)

    def closure(self, item: Any) -> set[date]:
        from datetime import timedelta

        if isinstance(item, date):
            return {item}
        try:
            if isinstance(item, str) and ".." in item:
                first, last = (date.fromisoformat(part.strip()) for part in item.split("..", 1))
                if last < first:
                    raise ValueError
                return {first + timedelta(days=i) for i in range((last - first).days + 1)}
            if isinstance(item, str):
                return {date.fromisoformat(item.strip())}
        except ValueError:
            pass
        self.problem("calendar.closures", f'bad closure {item!r} (use "YYYY-MM-DD" or "YYYY-MM-DD..YYYY-MM-DD")')
        return set()

    def rules(self, value: Any) -> list[TargetRule]:
        if not isinstance(value, list) or not all(isinstance(entry, dict) for entry in value):
            self.problem("targets", "must be an array of tables ([[targets]])")
            return []
        rules = [rule for number, entry in enumerate(value, start=1) if (rule := self.rule(number, entry))]
        for index, later in enumerate(rules):
            for earlier in rules[:index]:
                if earlier.shadows(later):
                    self.problem(
                        f"targets[{later.number}]",
                        f"overlaps rule targets[{earlier.number}] ({earlier.describe_match()}), "
                        "which matches every ticket this one does, so it can never apply",
                    )
                    break
        return rules

    def rule(self, number: int, entry: dict[str, Any]) -> TargetRule | None:
        prefix = f"targets[{number}]"
        self.unknown_keys(entry, {"match", *TARGET_NAMES, "escalate_on_breach", "owner"}, prefix)
        match = self.match(entry.get("match", {}), prefix)
        targets = {}
        for name in TARGET_NAMES:
            duration = self.duration(entry, name, prefix)
            if duration is not None:
                targets[name] = duration
        if not any(name in entry for name in TARGET_NAMES):
            self.problem(prefix, f"empty rule: sets none of {', '.join(TARGET_NAMES)}")
        if "update" in targets and targets["update"].amount == 0:
            self.problem(f"{prefix}.update", "a recurring update target must be longer than zero")
        escalate = self.boolean(entry, "escalate_on_breach", prefix, False)
        owner = self.string(entry, "owner", prefix)
        if match is None:
            return None
        return TargetRule(number, match, targets, escalate, owner or None)

    def match(self, value: Any, prefix: str) -> dict[str, frozenset[str]] | None:
        if not isinstance(value, dict):
            self.problem(f"{prefix}.match", 'must be an inline table, e.g. { kind = "complaint" }')
            return None
        result: dict[str, frozenset[str]] = {}
        for key, raw in value.items():
            where = f"{prefix}.match.{key}"
            if key not in MATCH_KEYS:
                self.problem(where, f"unknown match key (allowed: {', '.join(MATCH_KEYS)})")
                continue
            values = [raw] if isinstance(raw, str) else raw
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                self.problem(where, "must be a value or a list of values")
                continue
            if not values:
                self.problem(where, "empty list: this rule would match nothing")
                continue
            allowed = MATCH_KEYS[key]
            for item in values:
                if allowed is not None and item not in allowed:
                    self.problem(where, f"unknown {key} {item!r} (allowed: {', '.join(allowed)})")
            result[key] = frozenset(values)
        return result

    def automation(self, table: dict[str, Any]) -> Automation:
        self.unknown_keys(table, {"auto_close_waiting_after", "warn_before", "reopen_on_reply"}, "automation")
        return Automation(
            auto_close_waiting_after=self.duration(table, "auto_close_waiting_after", "automation"),
            warn_before=self.duration(table, "warn_before", "automation"),
            reopen_on_reply=self.boolean(table, "reopen_on_reply", "automation", True),
        )

    def notify(self, table: dict[str, Any]) -> dict[str, str]:
        self.unknown_keys(table, {"email_from", "team_email", "webhook_url"}, "notify")
        result = {}
        for key in ("email_from", "team_email", "webhook_url"):
            value = self.string(table, key, "notify", "") or ""
            if value and key != "webhook_url" and not re.fullmatch(r"[^@\s]+@[^@\s]+", value):
                self.problem(f"notify.{key}", f"not an e-mail address: {value!r}")
            if value and key == "webhook_url" and not re.match(r"https?://", value):
                self.problem("notify.webhook_url", f"must be an http:// or https:// URL, not {value!r}")
            result[key] = value
        return result

    def customer_mail(self, table: dict[str, Any]) -> CustomerMail:
        flags = ("acknowledge", "update", "resolve", "feedback_request")
        self.unknown_keys(table, {*flags, "templates"}, "customer_mail")
        values = {flag: self.boolean(table, flag, "customer_mail", False) for flag in flags}
        return CustomerMail(**values, templates=self.string(table, "templates", "customer_mail"))
