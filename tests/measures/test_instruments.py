"""Instrument definitions: bundled files load, wording and codes are exact, bad files fail."""

from pathlib import Path

import pytest

from attunement.errors import SchemaError
from attunement.measures.instruments import (
    bundled_instruments,
    get_instrument,
    instrument_set,
    load_instrument,
)

MINIMAL = """
id = "{id}"
name = "Mini"
title = "Mini scale"
version = "1"
higher_is = "worse"
license = "test fixture"
[[options]]
value = 0
label = "no"
[[options]]
value = 1
label = "yes"
[[items]]
id = "a"
text = "Item a"
[[items]]
id = "b"
text = "Item b"
[scoring]
method = "sum"
[missing]
rule = "refuse"
max_missing = 0
"""


def test_bundled_instruments_are_the_ones_we_ship() -> None:
    # four questionnaires with their wording, two score-only shells (tests/measures/
    # test_score_shells.py)
    assert set(bundled_instruments()) == {
        "phq9",
        "gad7",
        "alliance_check",
        "rupture_check",
        "srs",
        "ors",
    }


def test_phq9_wording_options_and_codes() -> None:
    phq = get_instrument("phq9")
    assert len(phq.items) == 9
    assert phq.items[0].text == "Little interest or pleasure in doing things"
    assert phq.items[8].text == (
        "Thoughts that you would be better off dead or of hurting yourself in some way"
    )
    assert [o.label for o in phq.options] == [
        "Not at all",
        "Several days",
        "More than half the days",
        "Nearly every day",
    ]
    assert [o.value for o in phq.options] == [0, 1, 2, 3]
    assert phq.codes is not None
    assert (phq.codes.panel, phq.codes.total) == ("44249-1", "44261-6")
    assert phq.score_range == (0.0, 27.0)
    assert phq.cutoff is not None and phq.cutoff.value == 10
    assert [b.label for b in phq.bands] == [
        "minimal",
        "mild",
        "moderate",
        "moderately severe",
        "severe",
    ]


def test_gad7_wording_and_codes() -> None:
    gad = get_instrument("gad7")
    assert len(gad.items) == 7
    assert gad.items[1].text == "Not being able to stop or control worrying"
    assert gad.codes is not None
    assert (gad.codes.panel, gad.codes.total) == ("69737-5", "70274-6")
    assert gad.score_range == (0.0, 21.0)


def test_every_instrument_has_license_and_references() -> None:
    for inst in bundled_instruments().values():
        assert inst.license.strip()
        assert inst.references


def test_rupture_check_has_free_text_note_not_scored() -> None:
    rc = get_instrument("rupture_check")
    note = rc.item("note")
    assert note.type == "text" and not note.scored and note.optional
    assert [i.id for i in rc.scored_items] == ["tension"]


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda s: s.replace('higher_is = "worse"', 'higher_is = "sideways"'), "higher_is"),
        (lambda s: s.replace('id = "b"', 'id = "a"'), "duplicate item id"),
        (lambda s: s.replace("max_missing = 0", "max_missing = 5"), "missing.max_missing"),
        (
            lambda s: s + '[scoring.subscales]\nfirst = ["a", "zz"]\n',
            "scoring.subscales: subscale 1",
        ),
        (lambda s: s.replace('label = "no"', "colour = 1"), "options.0"),
        (
            lambda s: (
                s + "[[bands]]\nmin = 0\nmax = 1\nlabel = 'x'\n"
                "[[bands]]\nmin = 1\nmax = 2\nlabel = 'y'\n"
            ),
            "bands",
        ),
    ],
)
def test_malformed_definition_names_file_and_field(tmp_path: Path, edit, field: str) -> None:
    path = tmp_path / "mini.toml"
    path.write_text(edit(MINIMAL.format(id="mini")), encoding="utf-8")
    with pytest.raises(SchemaError) as err:
        load_instrument(path)
    assert "mini.toml" in str(err.value)
    assert field in str(err.value)


def test_not_toml_is_a_schema_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("id = = 3", encoding="utf-8")
    with pytest.raises(SchemaError, match=r"broken\.toml"):
        load_instrument(path)


def test_clinic_folder_adds_an_instrument(tmp_path: Path) -> None:
    (tmp_path / "mini.toml").write_text(MINIMAL.format(id="mini"), encoding="utf-8")
    found = instrument_set([tmp_path])
    assert "mini" in found and "phq9" in found


def test_unknown_instrument_lists_known_ones() -> None:
    with pytest.raises(SchemaError, match="phq9"):
        get_instrument("oq45")
