"""Language style matching: tokenizer rules, the formula, rolling and exchange LSM."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attunement.analysis import lexicons
from attunement.analysis.lexicons import LSM_CATEGORIES, tokenize
from attunement.analysis.lsm import FunctionWordCounter, LanguageStyleMatching, lsm_pair
from attunement.errors import SchemaError
from attunement.model import Role, Session, Speaker, Utterance

T, C = Role.THERAPIST, Role.CLIENT
IDX = {c: i for i, c in enumerate(LSM_CATEGORIES)}


def _session(
    lines: list[tuple[str, Role, str]], speakers: dict[str, Role] | None = None
) -> Session:
    spk = speakers or {"T": T, "C": C}
    return Session(
        id="s",
        speakers=[Speaker(id=k, role=v) for k, v in spk.items()],
        utterances=[
            Utterance(id=f"u{i + 1:04d}", index=i, speaker=s, role=r, text=t)
            for i, (s, r, t) in enumerate(lines)
        ],
    )


def _cats(counter: FunctionWordCounter, token: str) -> set[str]:
    return {LSM_CATEGORIES[i] for i in counter.categories(token)}


def test_tokenizer_keeps_contractions_and_unicode_words() -> None:
    assert tokenize("Café? I don\u2019t know, y'all; mom's 3rd_try") == [
        "café",
        "i",
        "don't",
        "know",
        "y'all",
        "mom's",
        "3rd",
        "try",
    ]


_WORDS = [
    "i",
    "you",
    "the",
    "a",
    "and",
    "but",
    "in",
    "of",
    "don't",
    "is",
    "very",
    "not",
    "all",
    "some",
    "it",
    "cat",
    "house",
    "ran",
    "i'm",
    "it's",
]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.booleans(), st.lists(st.sampled_from(_WORDS), max_size=12)), max_size=20)
)
def test_lsm_values_stay_in_range(turns: list[tuple[bool, list[str]]]) -> None:
    s = LanguageStyleMatching(window=4)(
        _session([("T", T, " ".join(w)) if t else ("C", C, " ".join(w)) for t, w in turns])
    )
    m = s.metrics["lsm"]
    values = [m["session"], m["rolling"]["min"], m["exchange"]["mean"], *m["per_category"].values()]
    values += [u.features.get("lsm_rolling") for u in s.utterances]
    assert all(v is None or 0.0 <= v <= 1.0 for v in values)


def test_contraction_rule() -> None:
    c = FunctionWordCounter()
    assert _cats(c, "don't") == {"negations", "auxiliary_verbs"}
    assert _cats(c, "can't") == {"negations", "auxiliary_verbs"}
    assert _cats(c, "i'm") == {"personal_pronouns", "auxiliary_verbs"}
    assert _cats(c, "they'll") == {"personal_pronouns", "auxiliary_verbs"}
    assert _cats(c, "it's") == {"impersonal_pronouns", "auxiliary_verbs"}
    assert _cats(c, "mom's") == set()  # possessive
    assert _cats(c, "the") == {"articles"}
    counts, words = c.count(["I don\u2019t know, it\u2019s the cat\u2019s."])
    assert words[0] == 6
    assert counts[0, IDX["negations"]] == 1 and counts[0, IDX["auxiliary_verbs"]] == 2


def test_formula_matches_hand_computation() -> None:
    a = np.zeros(9)
    b = np.zeros(9)
    a[IDX["articles"]], b[IDX["articles"]] = 2, 1  # 20 % vs 10 %
    a[IDX["negations"]] = 1  # 10 % vs 0 %
    score, per = lsm_pair(a, 10, b, 10)
    art = 1 - 10 / (30 + 0.0001)
    neg = 1 - 10 / (10 + 0.0001)
    assert per["articles"] == round(art, 3)
    assert per["negations"] == round(neg, 3)
    assert score == pytest.approx((art + neg + 7 * 1.0) / 9)  # both-zero categories score 1
    assert lsm_pair(a, 0, b, 10) == (None, {})


def test_identical_style_scores_one_and_different_style_lower() -> None:
    same = _session(
        [("T", T, "I think that we can do it."), ("C", C, "I think that we can do it.")]
    )
    m = LanguageStyleMatching()(same).metrics["lsm"]
    assert m["session"] == 1.0
    diff = _session(
        [
            ("T", T, "The plan is on the table with the notes and the list."),
            ("C", C, "I don't, I never, no, not me, I can't."),
        ]
    )
    assert LanguageStyleMatching()(diff).metrics["lsm"]["session"] < 0.5


def test_rolling_window_and_exchange_features() -> None:
    lines = [
        ("T", T, "Hello."),
        ("T", T, "What brings you in today?"),
        ("C", C, "I am not sure, it is hard to say."),
        ("T", T, "It is hard to say what it is."),
        ("C", C, "Yes, and I keep losing sleep over it."),
        ("T", T, "Sleep has been hard for you."),
    ]
    s = LanguageStyleMatching(window=2)(_session(lines))
    feats = [u.features.get("lsm_rolling") for u in s.utterances]
    assert feats[0] is None and feats[1] is None  # no client in the window yet
    assert all(f is not None and 0.0 <= f <= 1.0 for f in feats[2:])
    # utterance 4's window is utterances 3-4: compare with a direct pair computation
    counter = FunctionWordCounter()
    counts, words = counter.count([t for *_, t in lines])
    expected, _ = lsm_pair(counts[3], words[3], counts[2], words[2])
    assert feats[3] == pytest.approx(expected, abs=1e-4)
    # the exchange LSM sits on the therapist reply
    assert "lsm_exchange" in s.utterances[3].features
    assert "lsm_exchange" not in s.utterances[2].features
    m = s.metrics["lsm"]
    assert m["exchange"]["n"] == 2
    assert m["rolling"]["n"] == 4
    assert m["rolling"]["min"] <= m["rolling"]["mean"] <= m["rolling"]["max"]
    assert 1 <= len(m["headline"]) <= 5


def test_multi_party_reports_each_client() -> None:
    s = _session(
        [
            ("T", T, "What is it like at home for you both?"),
            ("A", C, "It is like a war at home, to be honest."),
            ("B", C, "No. Never. Not at all."),
        ],
        speakers={"T": T, "A": C, "B": C},
    )
    per = LanguageStyleMatching()(s).metrics["lsm"]["per_client"]
    assert set(per) == {"A", "B"}
    assert per["A"] > per["B"]


def test_single_role_session_is_unavailable_not_an_error() -> None:
    s = LanguageStyleMatching()(_session([("T", T, "Welcome back."), ("T", T, "Take a seat.")]))
    m = s.metrics["lsm"]
    assert m["session"] is None and m["headline"]["LSM (session)"] == "n/a"
    assert all("lsm_rolling" not in u.features for u in s.utterances)


def test_rerun_is_idempotent() -> None:
    a = LanguageStyleMatching()
    s = a(_session([("T", T, "How are you?"), ("C", C, "I am fine, I guess.")]))
    first = s.model_dump_json()
    assert a(s).model_dump_json() == first


def test_bad_word_list_is_a_schema_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lexicons, "_load_toml", lambda name: {"categories": {"articles": ["a"]}})
    with pytest.raises(SchemaError, match=r"function_words\.toml"):
        lexicons._validated(lexicons.FunctionWords, "function_words.toml")
