"""The file formats of a dump: JSON (one document) and NDJSON (one record a line), written and read as streams.

What the records hold is ``store.dump_schema``'s; this module only lays them out in a file and finds
them again, saying where a broken one is (``line 7``, ``tickets[3]``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import IO, TYPE_CHECKING, Any

import orjson

from supportcli.errors import InvalidInput

if TYPE_CHECKING:
    from supportcli.store.dump_schema import Located

# Python's parser gives up on JSON nested a few thousand levels deep; no export is nested more than four.
TOO_DEEP = "not a supportcli export: JSON nested too deeply"
# The sections of a JSON dump after its meta record, in order, and the type of the records each holds.
SECTIONS = {"policy_versions": "policy_version", "staff": "staff", "tickets": "ticket"}


# Records are encoded by orjson: compact (``{"id":1,"subject":"…"}``), UTF-8 as it is, keys in the record's
# order; about a third of the standard library's time (0.67 s against 1.86 s for 100k tickets). ``import``
# reads it as any JSON (docs/json.md, "Export records").
# Written in chunks of this many bytes or so, not a write per record.
CHUNK_BYTES = 1 << 20

Written = tuple[str, "dict[str, Any] | bytes"]
"""A record to write: its type and its fields, or the fields already encoded by ``orjson.dumps`` (as the
workers of a large export send them, ``store.export_workers``)."""


def write_ndjson(stream: IO[bytes], records: Iterable[Written]) -> None:
    """One JSON object per line, each with its ``type`` first: importable in one pass."""
    dumps = orjson.dumps
    prefixes: dict[str, bytes] = {}
    chunk: list[bytes] = []
    size = 0
    for kind, record in records:
        encoded = record if record.__class__ is bytes else dumps(record)
        prefix = prefixes.get(kind)
        if prefix is None:
            prefix = prefixes[kind] = dumps({"type": kind})[:-1]
        # '{"type":"ticket"' + ',"id":1,…}': the type spliced in front, not a copy of the record with it.
        line = prefix + (b"," + encoded[1:] if len(encoded) > 2 else b"}") + b"\n"
        chunk.append(line)
        size += len(line)
        if size >= CHUNK_BYTES:
            stream.write(b"".join(chunk))
            chunk, size = [], 0
    stream.write(b"".join(chunk))


def write_json(stream: IO[bytes], records: Iterable[Written]) -> None:
    """One JSON document ``{"meta", "policy_versions", "staff", "tickets"}``, one record per line, streamed."""
    dumps = orjson.dumps
    sections = tuple(SECTIONS)
    section_of = {kind: section for section, kind in SECTIONS.items()}
    opened, count = -1, 0  # the section being written and how many records it has so far
    chunk: list[bytes] = []
    size = 0

    def open_up_to(index: int) -> None:
        nonlocal opened, count
        while opened < index:
            if opened >= 0:
                chunk.append(b"\n  ]" if count else b"]")
            opened, count = opened + 1, 0
            chunk.append(b',\n  "' + sections[opened].encode() + b'": [')

    chunk.append(b"{\n")
    for kind, record in records:
        encoded = record if record.__class__ is bytes else dumps(record)
        if kind == "meta":
            chunk.append(b'  "meta": ' + encoded)
            continue
        open_up_to(sections.index(section_of[kind]))
        chunk.append((b"\n    " if count == 0 else b",\n    ") + encoded)
        count += 1
        size += len(encoded)
        if size >= CHUNK_BYTES:
            stream.write(b"".join(chunk))
            chunk, size = [], 0
    open_up_to(len(sections) - 1)
    chunk.append((b"\n  ]" if count else b"]") + b"\n}\n")
    stream.write(b"".join(chunk))


def read_ndjson(stream: Iterable[str], start: int = 1) -> Iterator[Located]:
    """Records of an NDJSON dump, one line at a time (any iterable of lines will do; the first is line ``start``)."""
    for number, line in enumerate(stream, start=start):
        if not line or line.isspace():  # what strip() would empty, without copying the line
            continue
        where = f"line {number}"
        try:
            record = _loads(line)
        except ValueError as exc:  # not JSON, or JSON Python will not read (an integer of over 4300 digits)
            reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
            raise InvalidInput(f"{where}: not JSON ({reason})") from exc
        except RecursionError as exc:
            raise InvalidInput(f"{where}: {TOO_DEEP}") from exc
        if not isinstance(record, dict) or not isinstance(record.get("type"), str):
            raise InvalidInput(f'{where}: expected an object with a "type"')
        kind = record.pop("type")
        yield where, kind, record


def read_json(stream: IO[str]) -> Iterator[Located]:
    """Records of a JSON dump (the whole document is parsed first: use NDJSON for very large stores)."""
    try:
        document = _loads(stream.read())
    except ValueError as exc:
        raise InvalidInput(f"not a JSON document ({exc})") from exc
    except RecursionError as exc:
        raise InvalidInput(TOO_DEEP) from exc
    if not isinstance(document, dict) or "meta" not in document:
        raise InvalidInput('expected a supportcli export: an object with "meta", "policy_versions", "staff", "tickets"')
    unknown = [key for key in document if key != "meta" and key not in SECTIONS]
    if unknown:
        raise InvalidInput(f"unknown section {unknown[0]!r}")
    yield "meta", "meta", document["meta"]
    for section, kind in SECTIONS.items():
        records = document.get(section, [])
        if not isinstance(records, list):
            raise InvalidInput(f"{section}: expected a list")
        for index, record in enumerate(records):
            yield f"{section}[{index}]", kind, record


def _loads(text: str) -> Any:
    """JSON text as Python values: orjson's parser (twice as fast as json's), and json's where orjson refuses.

    orjson reads strict JSON only; json also takes what a Python program may have written (NaN, integers
    past 64 bits, lone surrogates) and words each refusal its own way, so anything orjson refuses is read
    again by json: what is accepted, and every message, stays json's.
    """
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def sniff_format(first_line: str) -> str:
    """json, ndjson or csv, from the first line of a file whose name does not say."""
    stripped = first_line.strip()
    if not stripped.startswith("{"):
        return "csv"
    try:
        record = json.loads(stripped)
    except ValueError:
        return "json"
    return "ndjson" if isinstance(record, dict) and "type" in record else "json"
