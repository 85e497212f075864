"""The shared parser for untrusted JSON/TOML and the one rule for quoting input."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from attunement.errors import NOT_SHOWN, MeasureError, safe_ident
from attunement.safeparse import (
    MAX_DEPTH,
    ParseProblem,
    load_json,
    load_toml,
    parse_json,
    parse_toml,
    validation_problem,
    value_depth,
)

CANARY = "CANARY_7f3a"


class Inner(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["a", "b"]
    scores: dict[str, int] = {}


class Outer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[Inner] = []


def test_value_depth_counts_containers_only() -> None:
    assert value_depth(3) == 0
    assert value_depth({"a": [1, {"b": []}]}) == 4
    assert value_depth([[[]]], limit=1) == 2  # stops counting past the limit


def test_nesting_at_the_limit_is_read_and_one_more_is_refused() -> None:
    assert value_depth(parse_json("[" * MAX_DEPTH + "]" * MAX_DEPTH)) == MAX_DEPTH
    with pytest.raises(ParseProblem, match="nested more than"):
        parse_json("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))
    with pytest.raises(ParseProblem, match="nested more than"):
        parse_toml("x = " + "[" * 5000 + "]" * 5000)
    dotted = ".".join(["k"] * (MAX_DEPTH + 1)) + " = 1"  # no brackets, still deep
    with pytest.raises(ParseProblem, match="nested more than"):
        parse_toml(dotted)


def test_syntax_errors_give_the_position_not_the_text() -> None:
    with pytest.raises(MeasureError) as err:
        load_json('{"a": 1,\n "b": ' + CANARY + "}", "r.json", MeasureError)
    assert str(err.value).startswith("r.json, line 2: not valid JSON (") and CANARY not in str(
        err.value
    )
    with pytest.raises(Exception) as err2:
        load_toml(f'"{CANARY}" = 1\n"{CANARY}" = 2\n', "c.toml")
    assert str(err2.value) == "c.toml, line 2: not valid TOML (column 18)"
    with pytest.raises(ParseProblem, match="not UTF-8"):
        parse_json(b'{"a": "\xff"}')


def test_validation_problem_names_fields_never_input_keys_or_tags() -> None:
    cases = [
        ({"items": [{"kind": "a", CANARY: 1}]}, "unknown field in items.0"),
        ({"items": [{"kind": CANARY}]}, "field items.0.kind: Input should be 'a' or 'b'"),
        ({"items": [{"kind": "a", "scores": {CANARY: "x"}}]}, "field items.0.scores.?:"),
    ]
    for raw, expected in cases:
        with pytest.raises(ValidationError) as err:
            Outer.model_validate(raw)
        text = validation_problem(err.value, Outer)
        assert text.startswith(expected) and CANARY not in text


def test_safe_ident_quotes_only_code_style_identifiers() -> None:
    assert safe_ident("W_MINIMAL") == "'W_MINIMAL'"
    assert safe_ident("WITHDRAW-MIN") == "'WITHDRAW-MIN'"
    for value in (CANARY, "really X", "Maria", "A" * 41, "", 3):
        assert safe_ident(value) == NOT_SHOWN


def test_lone_surrogate_escapes_become_replacement_characters() -> None:
    value = parse_json('{"a\\ud800": ["x\\udfffy", "\\ud83d\\ude00"]}')
    assert value == {"a\ufffd": ["x\ufffdy", "\U0001f600"]}
    "".join(value["a\ufffd"]).encode("utf-8")  # writable as UTF-8 now


def test_a_hostile_codebook_file_is_a_schema_error_without_its_content(tmp_path: Path) -> None:
    from attunement.errors import SchemaError
    from attunement.model import load_codebook

    canary = "CANARY_cb91"
    cases = {
        "syntax": f"[code.{canary}\n",
        "unknown key": f'[code.W_MINIMAL]\n{canary} = "x"\n',
        "deep": "x = " + "[" * 200 + "]" * 200 + "\n",
        "huge int": f"x = {'9' * 5000}\n",
    }
    for name, text in cases.items():
        path = tmp_path / f"{name}.toml"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(SchemaError) as info:
            load_codebook(path)
        assert canary not in str(info.value), name
        assert path.name in str(info.value)
