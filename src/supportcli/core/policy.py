"""The team's policy (docs/policy.md): parse and validate the TOML, and pick a ticket's rule.

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
from supportcli.core.targets import TARGET_KINDS
from supportcli.core.tickets import CHANNELS, KINDS, PRIORITIES
from supportcli.errors import InvalidInput

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
    """Which customer-facing mails are sent (README "E-mail in and out")."""

    acknowledge: bool = False
    update: bool = False
    resolve: bool = False
    feedback_request: bool = False
    templates: str | None = None


@dataclass(frozen=True)
class Notify:
    """Where notices go: the address mail comes from, the team's address, a webhook ("" when unset)."""

    email_from: str = ""
    team_email: str = ""
    webhook_url: str = ""


@dataclass(frozen=True)
class Policy:
    """A validated policy: calendar, escalation tiers, target rules, automation."""

    name: str
    tiers: tuple[str, ...]
    calendar: CalendarSpec
    rules: tuple[TargetRule, ...]
    automation: Automation = field(default_factory=Automation)
    retention_resolved_for: Duration | None = None
    notify: Notify = field(default_factory=Notify)
    customer_mail: CustomerMail = field(default_factory=CustomerMail)
    description: str = ""

    def rule_for(self, kind: str, channel: str, priority: str, org: str | None) -> TargetRule | None:
        """The first rule that matches a ticket (docs/policy.md), or None when none does."""
        fields = {"kind": kind, "channel": channel, "priority": priority, "org": org}
        return next((rule for rule in self.rules if rule.matches(fields)), None)


# -- the schema: every key of every section, declared once ----------------------------------------------------


@dataclass(frozen=True)
class Field:
    """One key a policy section may have.

    ``reader`` names the ``_Checker.read_<reader>`` method that checks the value and returns what the policy
    keeps (after noting any problem, the default's reading); ``default`` is what an absent key is read as,
    written as it would be in the file (an absent section is read as an empty table).
    """

    key: str
    reader: str
    default: Any
    help: str


def _fields(*fields: Field) -> dict[str, Field]:
    return {entry.key: entry for entry in fields}


POLICY_FIELDS = _fields(
    Field("name", "text", "Unnamed policy", "what the team calls these rules"),
    Field("description", "string", "", "a line or two on what they are for"),
    Field("tiers", "tiers", list(DEFAULT_TIERS), "the escalation levels, lowest first"),
    Field("calendar", "calendar", {}, "working time: timezone, opening hours, public holidays, closures"),
    Field("targets", "rules", [], "the [[targets]] rules; the first that matches a ticket gives its targets"),
    Field("automation", "automation", {}, "what the cron run does by itself"),
    Field("retention", "retention", {}, "how long personal data is kept"),
    Field("notify", "notify", {}, "where notices go"),
    Field("customer_mail", "customer_mail", {}, "which mails customers are sent"),
)
CALENDAR_FIELDS = _fields(
    Field("timezone", "timezone", "Europe/London", "an IANA timezone"),
    Field("country", "string", "GB", 'public holidays of this ISO 3166 country ("" or "none": none)'),
    Field("subdivision", "string", None, "and of this region of it (ENG when the country is GB)"),
    Field("workdays", "workdays", list(WEEKDAYS[:5]), "the weekdays the team works"),
    Field("hours", "hours", "09:00-17:00", '"HH:MM-HH:MM", or a table of weekday = "HH:MM-HH:MM"'),
    Field("closures", "closures", [], 'days closed besides public holidays ("YYYY-MM-DD" or "A..B")'),
    Field("day_rule", "day_rule", DayRule.CLOSE_OF_BUSINESS.value, "how working days are counted"),
)
# A rule's targets in the order policy files list them: the one-off ones in the order they fall due, then
# the recurring ones (``policy show`` and the empty-rule message follow it).
RULE_TARGETS = tuple(kind for kind in TARGET_KINDS if not kind.recurring) + tuple(
    kind for kind in TARGET_KINDS if kind.recurring
)
_ESCALATING = " or ".join(kind.name for kind in TARGET_KINDS if kind.escalates_on_breach)
RULE_FIELDS = _fields(
    Field("match", "match", {}, "which tickets: keys kind, channel, priority, org; a value or a list"),
    *(Field(kind.name, "duration", None, kind.description) for kind in RULE_TARGETS),
    Field("escalate_on_breach", "boolean", False, f"a breach of {_ESCALATING} moves the ticket up one tier"),
    Field("owner", "text", None, "the owner of tickets this rule matches, unless one is given"),
)
AUTOMATION_FIELDS = _fields(
    Field("auto_close_waiting_after", "duration", None, "close a ticket waiting this long for the customer"),
    Field("warn_before", "duration", None, "a due-soon notice this long before a target falls due"),
    Field("reopen_on_reply", "boolean", True, "a customer's mail on a resolved ticket reopens it"),
)
RETENTION_FIELDS = _fields(
    Field("resolved_for", "calendar_duration", None, "anonymise personal data this long after resolution"),
)
NOTIFY_FIELDS = _fields(
    Field("email_from", "email", "", "the address notices and customer mail come from"),
    Field("team_email", "email", "", "the team's address, sent every notice"),
    Field("webhook_url", "url", "", "an http(s) URL that receives every notice as JSON"),
)
CUSTOMER_MAIL_FIELDS = _fields(
    Field("acknowledge", "boolean", False, "mail the customer the acknowledgement"),
    Field("update", "boolean", False, "mail the customer each customer-facing update"),
    Field("resolve", "boolean", False, "mail the customer the resolution"),
    Field("feedback_request", "boolean", False, "ask the customer for a rating after resolution"),
    Field("templates", "string", None, "a directory of edited templates"),
)


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
    except RecursionError:
        # tomllib reads nested arrays and tables recursively: thousands of levels exhaust the stack.
        raise InvalidInput(f"{source_name}: not valid TOML: arrays or tables nested too deeply") from None
    checker = _Checker(_KeyLines(source))
    policy = checker.policy(document)
    if checker.problems or policy is None:
        raise PolicyError(source_name, sorted(checker.problems, key=lambda p: p.line or 0))
    return policy


def refuse_empty(policy: Policy, source_name: str) -> None:
    """Refuse a policy that sets no target at all (an empty file is valid TOML and a valid policy): stored,
    no ticket would ever fall due, which is almost never meant (docs/policy.md; ``--allow-empty`` when it is)."""
    if not any(rule.targets for rule in policy.rules):
        raise InvalidInput(
            f"{source_name}: the policy sets no targets at all ([[targets]] rules with due times), so no ticket "
            "would ever fall due; give --allow-empty if that is meant"
        )


def policy_warnings(policy: Policy) -> list[str]:
    """Things that are valid but probably not meant, shown by ``policy check``."""
    warnings = []
    if not any(not rule.match for rule in policy.rules):
        warnings.append("no catch-all rule (match = {}): tickets that match no rule get no targets")
    if any(rule.escalate_on_breach for rule in policy.rules) and len(policy.tiers) < 2:
        warnings.append("escalate_on_breach is set but there is only one tier to escalate to")
    mail = policy.customer_mail
    mail_on = any((mail.acknowledge, mail.update, mail.resolve, mail.feedback_request))
    if mail_on and not policy.notify.email_from:
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

    def unknown_keys(self, table: dict[str, Any], fields: dict[str, Field], prefix: str) -> None:
        for key in table:
            if key not in fields:
                self.problem(_where(prefix, key), f"unknown key (allowed: {', '.join(sorted(fields))})")

    def read(self, table: dict[str, Any], entry: Field, prefix: str) -> Any:
        """One field of a section, read by its reader (an absent key as its default)."""
        reader = getattr(self, f"read_{entry.reader}")
        return reader(table.get(entry.key, entry.default), _where(prefix, entry.key), entry.default)

    def section(self, table: dict[str, Any], fields: dict[str, Field], prefix: str) -> dict[str, Any]:
        """Every field of a section by key, in the order they are declared, after its unknown keys."""
        self.unknown_keys(table, fields, prefix)
        return {key: self.read(table, entry, prefix) for key, entry in fields.items()}

    def as_table(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.problem(where, "must be a table")
            return {}
        return value

    # -- readers of values ------------------------------------------------------

    def read_string(self, value: Any, where: str, default: str | None) -> str | None:
        if value is not None and not isinstance(value, str):
            self.problem(where, "must be a string")
            return default
        return value

    def read_text(self, value: Any, where: str, default: str | None) -> str | None:
        """A string where an empty one means the default."""
        return self.read_string(value, where, default) or default

    def read_boolean(self, value: Any, where: str, default: bool) -> bool:
        if not isinstance(value, bool):
            self.problem(where, "must be true or false")
            return default
        return value

    def read_duration(self, value: Any, where: str, default: None) -> Duration | None:
        if value is None:
            return None
        try:
            return parse_duration(value)
        except InvalidInput as exc:
            self.problem(where, str(exc))
            return None

    def read_calendar_duration(self, value: Any, where: str, default: None) -> Duration | None:
        duration = self.read_duration(value, where, default)
        if duration is not None and duration.is_working_time:
            self.problem(where, "use calendar time (e.g. 2y, 730d), not working time")
        return duration

    def read_email(self, value: Any, where: str, default: str) -> str:
        address = self.read_string(value, where, default) or ""
        if address and not re.fullmatch(r"[^@\s]+@[^@\s]+", address):
            self.problem(where, f"not an e-mail address: {address!r}")
        return address

    def read_url(self, value: Any, where: str, default: str) -> str:
        url = self.read_string(value, where, default) or ""
        if url and not re.match(r"https?://", url):
            self.problem(where, f"must be an http:// or https:// URL, not {url!r}")
        return url

    # -- sections -------------------------------------------------------------

    def policy(self, document: dict[str, Any]) -> Policy | None:
        values = self.section(document, POLICY_FIELDS, "")
        if values["calendar"] is None:
            return None
        return Policy(
            name=values["name"],
            tiers=values["tiers"],
            calendar=values["calendar"],
            rules=tuple(values["targets"]),
            automation=values["automation"],
            retention_resolved_for=values["retention"],
            notify=values["notify"],
            customer_mail=values["customer_mail"],
            description=values["description"],
        )

    def read_tiers(self, value: Any, where: str, default: list[str]) -> tuple[str, ...]:
        if not isinstance(value, list) or not value or not all(isinstance(t, str) and t.strip() for t in value):
            self.problem(where, "must be a non-empty list of tier names, lowest first")
            return tuple(default)
        if len({t.casefold() for t in value}) != len(value):
            self.problem(where, "tier names must be unique")
        return tuple(value)

    def read_automation(self, value: Any, where: str, default: dict[str, Any]) -> Automation:
        return Automation(**self.section(self.as_table(value, where), AUTOMATION_FIELDS, where))

    def read_retention(self, value: Any, where: str, default: dict[str, Any]) -> Duration | None:
        retention = self.section(self.as_table(value, where), RETENTION_FIELDS, where)
        resolved_for: Duration | None = retention["resolved_for"]
        return resolved_for

    def read_notify(self, value: Any, where: str, default: dict[str, Any]) -> Notify:
        return Notify(**self.section(self.as_table(value, where), NOTIFY_FIELDS, where))

    def read_customer_mail(self, value: Any, where: str, default: dict[str, Any]) -> CustomerMail:
        return CustomerMail(**self.section(self.as_table(value, where), CUSTOMER_MAIL_FIELDS, where))

    # -- the calendar -------------------------------------------------------------

    def read_calendar(self, value: Any, where: str, default: dict[str, Any]) -> CalendarSpec | None:
        """The calendar; its fields depend on each other (subdivision on country, hours on workdays)."""
        table = self.as_table(value, where)
        self.unknown_keys(table, CALENDAR_FIELDS, where)
        timezone = self.read(table, CALENDAR_FIELDS["timezone"], where)
        country, subdivision = self.region(table, where)
        workdays = self.read(table, CALENDAR_FIELDS["workdays"], where)
        hours = self.opening_hours(workdays, "workdays" in table, self.read(table, CALENDAR_FIELDS["hours"], where))
        closures = self.read(table, CALENDAR_FIELDS["closures"], where)
        day_rule = self.read(table, CALENDAR_FIELDS["day_rule"], where)
        if timezone is None or hours is None or day_rule is None:
            return None
        return CalendarSpec(timezone, hours, country, subdivision, closures, day_rule)

    def read_timezone(self, value: Any, where: str, default: str) -> str | None:
        timezone = self.read_text(value, where, default) or default
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            self.problem(where, f"unknown timezone {timezone!r} (use an IANA name like Europe/London)")
            return None
        return timezone

    def read_day_rule(self, value: Any, where: str, default: str) -> DayRule | None:
        rule_text = self.read_string(value, where, default)
        try:
            return DayRule(rule_text or "")  # no text is no rule either
        except ValueError:
            self.problem(where, f"unknown day rule {rule_text!r} (use close-of-business or elapsed)")
            return None

    def region(self, table: dict[str, Any], prefix: str) -> tuple[str | None, str | None]:
        from supportcli.core.calendar_cache import supported_subdivisions

        country = self.read(table, CALENDAR_FIELDS["country"], prefix)
        if country in ("", "none"):
            return None, None
        subdivision = self.read(table, CALENDAR_FIELDS["subdivision"], prefix)
        if subdivision is None and country == "GB":
            subdivision = "ENG"
        known = supported_subdivisions(country) if country else None
        if known is None:
            self.problem(
                _where(prefix, "country"),
                f"unknown country {country!r} (an ISO 3166 code the holidays package knows, e.g. GB)",
            )
            return None, None
        if subdivision and subdivision not in known:
            allowed = ", ".join(known) or "none"
            self.problem(
                _where(prefix, "subdivision"), f"unknown subdivision {subdivision!r} of {country} (allowed: {allowed})"
            )
            return country, None
        return country, subdivision or None

    def opening_hours(
        self,
        workdays: tuple[int, ...] | None,
        workdays_given: bool,
        hours: OpeningHours | dict[int, OpeningHours] | None,
    ) -> tuple[tuple[int, OpeningHours], ...] | None:
        """Each workday's opening hours: the same every day, or per weekday (then they must agree)."""
        if workdays is None or hours is None:
            return None
        if isinstance(hours, OpeningHours):
            return tuple((day, hours) for day in workdays)
        per_day = hours
        if workdays_given:
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

    def read_hours(self, value: Any, where: str, default: str) -> OpeningHours | dict[int, OpeningHours] | None:
        """One opening for every workday, or openings by weekday (None when unusable)."""
        if isinstance(value, str):
            return self.opening(value, where)
        if not isinstance(value, dict):
            self.problem(where, 'must be "HH:MM-HH:MM" or a table of weekday = "HH:MM-HH:MM"')
            return None
        per_day: dict[int, OpeningHours] = {}
        for name, text in value.items():
            if name not in WEEKDAYS:
                self.problem(f"{where}.{name}", f"unknown weekday (use {', '.join(WEEKDAYS)})")
                continue
            opening = self.opening(text, f"{where}.{name}")
            if opening is not None:
                per_day[WEEKDAYS.index(name)] = opening
        return per_day

    def read_workdays(self, value: Any, where: str, default: list[str]) -> tuple[int, ...] | None:
        if not isinstance(value, list) or not value:
            self.problem(where, f"must be a non-empty list of weekdays ({', '.join(WEEKDAYS)})")
            return None
        days = []
        for name in value:
            if name not in WEEKDAYS:
                self.problem(where, f"unknown weekday {name!r} (use {', '.join(WEEKDAYS)})")
                return None
            days.append(WEEKDAYS.index(name))
        if len(set(days)) != len(days):
            self.problem(where, "a weekday is listed twice")
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

    def read_closures(self, value: Any, where: str, default: list[str]) -> frozenset[date]:
        if not isinstance(value, list):
            self.problem(where, 'must be a list of dates ("2026-12-29" or "2026-12-29..2026-12-31")')
            return frozenset()
        days: set[date] = set()
        for item in value:
            days |= self.closure(item, where)
        return frozenset(days)

    def closure(self, item: Any, where: str) -> set[date]:
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
        self.problem(where, f'bad closure {item!r} (use "YYYY-MM-DD" or "YYYY-MM-DD..YYYY-MM-DD")')
        return set()

    # -- the [[targets]] rules ------------------------------------------------------

    def read_rules(self, value: Any, where: str, default: list[Any]) -> list[TargetRule]:
        if not isinstance(value, list) or not all(isinstance(entry, dict) for entry in value):
            self.problem(where, "must be an array of tables ([[targets]])")
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
        self.unknown_keys(entry, RULE_FIELDS, prefix)
        match = self.read(entry, RULE_FIELDS["match"], prefix)
        targets = {}
        for kind in RULE_TARGETS:
            duration = self.read(entry, RULE_FIELDS[kind.name], prefix)
            if duration is not None:
                targets[kind.name] = duration
        if not any(kind.name in entry for kind in RULE_TARGETS):
            self.problem(prefix, f"empty rule: sets none of {', '.join(kind.name for kind in RULE_TARGETS)}")
        for kind in RULE_TARGETS:
            if kind.recurring and kind.name in targets and targets[kind.name].amount == 0:
                self.problem(f"{prefix}.{kind.name}", f"a recurring {kind.name} target must be longer than zero")
        escalate = self.read(entry, RULE_FIELDS["escalate_on_breach"], prefix)
        owner = self.read(entry, RULE_FIELDS["owner"], prefix)
        if match is None:
            return None
        return TargetRule(number, match, targets, escalate, owner)

    def read_match(self, value: Any, where: str, default: dict[str, Any]) -> dict[str, frozenset[str]] | None:
        if not isinstance(value, dict):
            self.problem(where, 'must be an inline table, e.g. { kind = "complaint" }')
            return None
        result: dict[str, frozenset[str]] = {}
        for key, raw in value.items():
            key_where = f"{where}.{key}"
            if key not in MATCH_KEYS:
                self.problem(key_where, f"unknown match key (allowed: {', '.join(MATCH_KEYS)})")
                continue
            values = [raw] if isinstance(raw, str) else raw
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                self.problem(key_where, "must be a value or a list of values")
                continue
            if not values:
                self.problem(key_where, "empty list: this rule would match nothing")
                continue
            allowed = MATCH_KEYS[key]
            for item in values:
                if allowed is not None and item not in allowed:
                    self.problem(key_where, f"unknown {key} {item!r} (allowed: {', '.join(allowed)})")
            result[key] = frozenset(values)
        return result


def _where(prefix: str, key: str) -> str:
    """A key's dotted name in messages: ``calendar.timezone``, or ``name`` at the top level."""
    return f"{prefix}.{key}" if prefix else key
