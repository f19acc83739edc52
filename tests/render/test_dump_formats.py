"""Reading a dump's lines: orjson parses them, and whatever it refuses is read as Python's json reads it."""

from __future__ import annotations

import io
import json
import math

import pytest

from supportcli.errors import InvalidInput
from supportcli.render.dump_formats import read_json, read_ndjson


def test_ndjson_lines_read_as_json_reads_them_even_where_orjson_refuses() -> None:
    """NaN, integers past 64 bits and lone surrogates are JSON to Python (an older export may hold them)."""
    lines = [
        '{"type": "meta", "v": 1}\n',
        "\n",
        '{"type": "x", "nan": NaN, "big": 123456789012345678901234567890, "lone": "\\ud800"}\n',
    ]
    records = list(read_ndjson(lines))
    assert [(where, kind) for where, kind, _ in records] == [("line 1", "meta"), ("line 3", "x")]
    odd = records[1][2]
    assert math.isnan(odd["nan"]) and odd["big"] == 123456789012345678901234567890 and odd["lone"] == "\ud800"


@pytest.mark.parametrize("line", ['{"type": ', '{"type": "x",}', "[1, 2", '{"type": "x"} extra'])
def test_a_broken_line_gets_jsons_own_message(line: str) -> None:
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(line)
    with pytest.raises(InvalidInput) as raised:
        list(read_ndjson(["", '{"type": "meta"}\n', line]))
    assert str(raised.value) == f"line 3: not JSON ({expected.value.msg})"


def test_a_json_dump_is_read_with_the_same_fallback() -> None:
    document = '{"meta": {"format": "supportcli-export", "n": NaN}, "tickets": [{"id": 1}]}'
    records = list(read_json(io.StringIO(document)))
    assert records[0][0] == "meta" and math.isnan(records[0][2]["n"])
    assert records[1] == ("tickets[0]", "ticket", {"id": 1})
