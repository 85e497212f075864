"""What the de-identifier finds in single utterances and in one client's talk.

Sentences here are written for these tests (not taken from the evaluation sets in
benchmarks/data/deid/, which measure the engine; see benchmarks/bench_deid.py).
"""

from __future__ import annotations

import pytest

pytest.importorskip("nicknames")

from attunement.deid import find_group, replace_group
from attunement.deid.engine import find
from attunement.deid.lexicon import DeidLists, lists


def _found(text: str, known: frozenset[str] = frozenset()) -> dict[str, str]:
    return {text[s.start : s.end]: s.type for s in find(text, known)}


@pytest.mark.parametrize(
    ("text", "value", "kind"),
    [
        (
            "You can write to me at olu.bankole77@examplemail.com any time.",
            "olu.bankole77@examplemail.com",
            "EMAIL",
        ),
        (
            "it's tamsin underscore r at fastpost dot co dot uk",
            "tamsin underscore r at fastpost dot co dot uk",
            "EMAIL",
        ),
        ("My mobile is 07911 123456 if the line drops.", "07911 123456", "PHONE"),
        ("call the office on (312) 555-0177 tomorrow", "(312) 555-0177", "PHONE"),
        (
            "the number is oh two oh seven nine four six oh double one eight",
            "oh two oh seven nine four six oh double one eight",
            "PHONE",
        ),
        ("We moved to 27 Birchfield Avenue last spring.", "27 Birchfield Avenue", "ADDRESS"),
        ("the flat's postcode is M14 5RT I think", "M14 5RT", "ADDRESS"),
        ("Her funeral was on the 9th of November.", "the 9th of November", "DATE"),
        ("it was february the second", "february the second", "DATE"),
        ("We got married in August 2011.", "August 2011", "DATE"),
        ("My son's eleven and he won't talk to me.", "eleven", "AGE"),
        ("I left home when I was seventeen.", "seventeen", "AGE"),
        ("a 43-year-old man shouldn't feel like this", "43", "AGE"),
        ("the claim reference is QX-88213-B for the insurer", "QX-88213-B", "ID"),
        ("my patient number is 5512 0934", "5512 0934", "ID"),
        ("she posts as @lunar.moth.studio on there", "@lunar.moth.studio", "URL"),
        ("it's all on www.riversidegrief.org now", "www.riversidegrief.org", "URL"),
    ],
)
def test_shaped_identifiers(text: str, value: str, kind: str) -> None:
    assert _found(text).get(value) == kind


@pytest.mark.parametrize(
    "text",
    [
        "I'm 5 minutes away, sorry.",
        "We did it 3 times on Monday.",
        "I take 50 mg of sertraline in the morning.",
        "It was in June, I think, or maybe July.",
        "Back in 2019 things were easier.",
        "Honestly I hope I will get there.",
        "Mum said God would sort it out.",
        "We watched a lot of Netflix over Christmas.",
    ],
)
def test_ordinary_talk_is_left_alone(text: str) -> None:
    assert _found(text) == {}


def test_names_in_running_text() -> None:
    found = _found("So I rang Tadeusz and then Imogen Fairweather picked me up.")
    assert found["Tadeusz"] == "PERSON"
    assert found["Imogen Fairweather"] == "PERSON"


def test_a_name_that_is_a_word_needs_a_capital_or_a_cue() -> None:
    assert _found("I asked Will whether he'd come.")["Will"] == "PERSON"
    assert "will" not in _found("I will ask him whether he'd come.")
    assert _found("my sister Hope never calls")["Hope"] == "PERSON"
    assert "hope" not in _found("I hope she calls")


def test_places_organisations_and_titles() -> None:
    found = _found(
        "After Dr Achterberg left Northgate Infirmary I moved to Glasgow "
        "and started at Pellow Brothers Ltd."
    )
    assert found["Achterberg"] == "PERSON"  # the title stays
    assert found["Northgate Infirmary"] == "LOCATION"
    assert found["Glasgow"] == "LOCATION"
    assert found["Pellow Brothers Ltd"] == "ORGANIZATION"


def test_lower_case_speech_recognition_output() -> None:
    found = _found("so me and my cousin ifeoma went down to brighton")
    assert found.get("ifeoma") == "PERSON"
    assert found.get("brighton") == "LOCATION"


def test_names_found_once_are_found_again_in_the_clients_other_talk() -> None:
    texts = [
        "Yesterday Zbigniew came round with the kids.",
        "zbigniew says it's my fault",  # lower case, no cue
        "Zbigniew. Always Zbigniew.",  # sentence starts
    ]
    spans, _ = find_group(texts)
    for text, found in zip(texts, spans, strict=True):
        values = {text[s.start : s.end].lower() for s in found if s.type == "PERSON"}
        assert values == {"zbigniew"}, text


def test_placeholders_are_consistent_and_nicknames_join_their_full_name() -> None:
    texts = [
        "Margaret phoned me twice on Sunday.",
        "I told Maggie I needed space, and Peggy's not even her name!",
        "Then Theo Brandvold turned up, Theo of all people.",
        "Brandvold never listens.",
    ]
    out, _, done = replace_group(texts)
    person = {d.placeholder for d in done if d.type == "PERSON" and d.text_index in (0, 1)}
    assert len(person) == 1  # Margaret, Maggie, Peggy: one person
    theo = {d.placeholder for d in done if d.text_index in (2, 3) and d.type == "PERSON"}
    assert len(theo) == 1 and not theo & person
    assert all(name not in " ".join(out) for name in ("Margaret", "Maggie", "Theo", "Brandvold"))


def test_speaker_labels_that_are_names_are_replaced_and_roles_are_kept() -> None:
    texts = ["Hello Rukhsana, come in.", "Thanks, Dr Veldman."]
    out, labels, _ = replace_group(texts, ["Dr. Veldman", "Rukhsana", "Therapist"])
    assert labels[0].startswith("Dr. [PERSON_")
    assert labels[1].startswith("[PERSON_")
    assert labels[2] == "Therapist"
    assert "Rukhsana" not in out[0] and "Veldman" not in out[1]
    # the same person in a label and in the talk gets the same placeholder
    assert labels[1] in out[0]


def test_word_lists_are_validated() -> None:
    raw = lists().model_dump()
    raw["person_cues"]["titles"].append("Dr")  # upper case is refused
    with pytest.raises(ValueError, match="lower case"):
        DeidLists.model_validate(raw)


def test_titles_with_a_full_stop_keep_the_name_cue() -> None:
    found = _found("Then Mrs. Quennell rang, and later Prof. Oyelaran-Fitz.")
    assert found["Quennell"] == "PERSON"
    assert found["Oyelaran-Fitz"] == "PERSON"


@pytest.mark.parametrize(
    ("label", "name"),
    [
        ("Client (Rowan)", "Rowan"),
        ("Therapist (Dr. Okonjo)", "Okonjo"),
        ("Ruth (T)", "Ruth"),
        ("Dana's partner", "Dana"),
        ("Client B", None),
        ("Therapist", None),
        ("Dr.", None),
    ],
)
def test_the_name_in_a_speaker_label(label: str, name: str | None) -> None:
    from attunement.deid.group import label_span

    span = label_span(label)
    assert (label[span.start : span.end] if span else None) == name


@pytest.mark.parametrize(
    "text",
    [
        "a." * 10_000,
        "A." * 10_000,
        "a-" * 10_000,
        ", um" * 5_000,
        " dot com" * 3_000,
        "Ab " * 7_000,
        ("x" * 50 + "@") * 400,
        " " * 20_000 + "at x dot com",
        "my dad's, um, like, just, um, like, um, just, um, like, um, seventy" * 100,
    ],
)
def test_adversarial_text_runs_in_linear_time(text: str) -> None:
    import time

    t0 = time.perf_counter()
    find(text)
    assert time.perf_counter() - t0 < 2.0
