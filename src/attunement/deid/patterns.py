"""Identifiers with a shape: e-mail, web address, phone, street address, postcode, record
number, age, date — written or read out ("oh seven seven …", "dana at gmail dot com").

Each finder takes one utterance's text and yields :class:`Span` s. Presidio's own
pattern recognizers (phone numbers via ``phonenumbers``, dates, SSN, NHS, IBAN, card
numbers) run beside these in :mod:`attunement.deid.engine`; these cover what talk adds.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

from attunement.deid.lexicon import lists

#: identifier types, in the order reports list them
TYPES = (
    "PERSON", "LOCATION", "ORGANIZATION", "DATE", "AGE",
    "PHONE", "EMAIL", "ADDRESS", "URL", "ID",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int
    type: str
    score: float
    source: str


def _alt(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))


_EMAIL = re.compile(r"\b[\w.+%-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}\b", re.I)
_URL = re.compile(
    r"\b(?:https?://|www\.)[^\s<>\"']+|\b[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|co\.uk|org\.uk"
    r"|io|me|info|biz|uk|us|ie|au|nz|ca|in|ng|za|de|fr|app|dev|blog|art)(?:/[^\s<>\"']*)?\b",
    re.I,
)
_HANDLE = re.compile(r"(?<![\w@])@[A-Za-z0-9_](?:[A-Za-z0-9_.]*[A-Za-z0-9_])?")
_PHONE = re.compile(
    r"(?<![\w+])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{2,5}\)[\s.-]?)?\d{2,5}(?:[\s.-]\d{2,5}){1,4}"
    r"(?![\w])"
)
_UK_POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}\b", re.I)
_PLATE = re.compile(r"\b[A-Z]{2}\d{2}\s?[A-Z]{3}\b")
#: letters and digits joined by dashes: "CM-004512", "INV-HR-7730", "F-GLA-2291-04"
_CODE = re.compile(r"\b[A-Z]{1,5}(?:-[A-Z0-9]{1,8})*-\d{3,}(?:-[A-Z0-9]{1,8})*\b")
_STATE_ZIP = re.compile(
    r"\b(?P<s>A[LKZR]|C[AOT]|D[EC]|FL|GA|HI|I[DLNA]|K[SY]|LA|M[EDAINSOT]|N[EVHJMYCD]|O[HKR]"
    r"|PA|RI|S[CD]|T[NX]|UT|V[TA]|W[AVIY])\s+(?P<z>\d{5}(?:-\d{4})?)\b"
)
_TLD = r"(?:com|net|org|co|uk|ie|io|edu|gov|au|nz|ca|in|ng|za|me|info|de|fr|ac)"
_SPOKEN_DOMAIN = re.compile(rf"\b[a-z0-9]+(?:\s+dot\s+{_TLD}\b)+", re.I)
_SPOKEN_AT = re.compile(rf"\s+at\s+[a-z0-9]+(?:\s+[a-z0-9]+)?(?:\s+dot\s+{_TLD}\b)+", re.I)
#: words a spoken address never starts with (it starts after them)
_LEFT_STOP = frozenset(
    [
        "is",
        "it's",
        "its",
        "my",
        "me",
        "email",
        "e-mail",
        "address",
        "on",
        "at",
        "to",
        "the",
        "a",
        "and",
        "or",
        "website",
        "site",
        "page",
        "called",
        "it",
        "was",
        "send",
        "write",
        "find",
        "search",
        "look",
        "go",
        "check",
    ]
)
_YEAR = re.compile(r"^(?:19|20)\d\d$")


@cache
def _compiled() -> dict[str, re.Pattern[str]]:
    lx = lists()
    num = _alt(lx.numbers.words)
    spoken_num = rf"(?:{num})(?:[\s-](?:{num}))?"
    age_before = _alt(lx.ages.before)
    not_after = _alt(lx.ages.not_after)
    street = _alt(lx.suffixes.street)
    unit = _alt(lx.suffixes.unit)
    months = (
        "january|february|march|april|may|june|july|august|september|october|november"
        "|december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec"
    )
    ordinal = _alt(lx.numbers.ordinals)
    ordinal = rf"(?:(?:twenty|thirty)[\s-])?(?:{ordinal})"
    day = rf"(?:\d{{1,2}}(?:st|nd|rd|th)?|{ordinal})"
    digit = _alt(lx.numbers.digits)
    return {
        "age_before": re.compile(
            rf"(?:\b(?:{age_before})|\b(?!(?:it|that|what|there|here|let|who|where|how)['’]s)"
            rf"[a-z]+['’]s)(?:,?\s+(?:um|uh|er|erm|like|only|just|nearly|almost|about|"
            rf"turning|now|\w+['’]s),?)*\s+"
            rf"(?P<n>\d{{1,3}}|{spoken_num})\b(?!\s*(?:{not_after})\b)(?![-:.,]?\d)",
            re.I,
        ),
        "age_after": re.compile(
            rf"\b(?P<n>\d{{1,3}}|{spoken_num})(?:\s*-\s*|\s+)(?:years?|yrs?)(?:\s*-\s*|\s+)old\b"
            rf"|\b(?P<m>\d{{1,3}}|{spoken_num})\s*-?\s*(?:yo|y/o)\b",
            re.I,
        ),
        "address": re.compile(
            rf"(?:\b(?:{unit})\.?\s*\d+[a-z]?,?\s+)?\b\d{{1,5}}[a-z]?,?\s+(?:[A-Za-z][\w'’-]*\s+){{1,3}}(?:{street})\b\.?"
            rf"(?:,?\s+(?:{unit})\.?\s*\d+[a-z]?)?",
            re.I,
        ),
        "unit": re.compile(rf"\b(?:{unit})\.?\s*\d+[a-z]?\b", re.I),
        "date": re.compile(
            rf"\b(?:(?:the\s+)?{day}\s+(?:of\s+)?(?:{months})\b(?:,?\s+(?:19|20)\d\d\b)?"
            rf"|(?:{months})\.?\s+(?:the\s+)?{day}\b(?:,?\s+(?:19|20)\d\d\b)?"
            rf"|(?:{months})\.?\s+(?:of\s+)?(?:19|20)\d\d\b"
            r"|\d{1,2}[/.-]\d{1,2}(?:[/.-](?:19|20)?\d\d)?\b"
            r"|(?:19|20)\d\d-\d\d-\d\d\b"
            rf"|(?<=\bon\s)the\s+(?:{ordinal}|\d{{1,2}}(?:st|nd|rd|th))\b"
            r"|(?:christmas(?:\s+eve|\s+day)?|new\s+year'?s(?:\s+eve|\s+day)?|easter"
            r"|thanksgiving|boxing\s+day|halloween)\s+(?:19|20)\d\d\b)",
            re.I,
        ),
        "spoken_digits": re.compile(
            rf"\b(?:(?:{digit})[\s,-]+){{6,}}(?:{digit})\b|\b(?:\d[\s-]?){{7,}}\d\b", re.I
        ),
        "id_before": re.compile(
            rf"\b(?:{_alt(lx.ids.before)})(?:\s+(?:number|no\.?|num|code|id))?"
            r"(?:\s+(?:is|was|are|'s))?\s*[:#,]?\s*"
            r"(?P<v>(?=[A-Z0-9 -]{0,12}\d)[A-Z0-9][A-Z0-9-]{2,}"
            r"(?:\s(?=[A-Z]*\d)[A-Z0-9]{2,5}){0,3})\b",
            re.I,
        ),
    }


def _group_span(m: re.Match[str], kind: str, score: float, source: str) -> Span:
    name = next((g for g in ("n", "m", "v") if m.groupdict().get(g)), None)
    if name is None:
        return Span(m.start(), m.end(), kind, score, source)
    return Span(m.start(name), m.end(name), kind, score, source)


def _extend_left(text: str, start: int, most: int = 5) -> int:
    """Start of a read-out address: the words before ``start`` up to a stop word."""
    words = list(re.finditer(r"[\w.'-]+", text[:start]))
    for taken, m in enumerate(reversed(words)):
        if m.group().lower() in _LEFT_STOP or taken >= most:
            break
        if text[m.end() : start].strip(" "):  # punctuation between: stop
            break
        start = m.start()
    return start


def find_patterns(text: str) -> Iterator[Span]:
    """Every shaped identifier in one utterance."""
    c = _compiled()
    for m in _EMAIL.finditer(text):
        yield Span(m.start(), m.end(), "EMAIL", 0.95, "email")
    for m in _SPOKEN_AT.finditer(text):
        yield Span(_extend_left(text, m.start()), m.end(), "EMAIL", 0.7, "spoken-email")
    for m in _SPOKEN_DOMAIN.finditer(text):
        if not re.search(r"\bat\s+$", text[: m.start()], re.I):
            yield Span(_extend_left(text, m.start(), 3), m.end(), "URL", 0.6, "spoken-url")
    for m in _CODE.finditer(text):
        yield Span(m.start(), m.end(), "ID", 0.6, "code")
    for m in _STATE_ZIP.finditer(text):
        yield Span(m.start("s"), m.end("s"), "LOCATION", 0.6, "us-state")
        yield Span(m.start("z"), m.end("z"), "ADDRESS", 0.7, "zip")
    for m in _URL.finditer(text):
        if "@" not in text[max(0, m.start() - 1) : m.start()]:
            yield Span(m.start(), m.end(), "URL", 0.7, "url")
    for m in _HANDLE.finditer(text):
        yield Span(m.start(), m.end(), "URL", 0.7, "handle")
    for m in _PHONE.finditer(text):
        digits = sum(ch.isdigit() for ch in m.group())
        if 7 <= digits <= 15 and not _YEAR.match(m.group()):
            yield Span(m.start(), m.end(), "PHONE", 0.6, "phone")
    for m in c["spoken_digits"].finditer(text):
        yield Span(m.start(), m.end(), "PHONE", 0.5, "spoken-phone")
    for m in _UK_POSTCODE.finditer(text):
        if any(ch.isdigit() for ch in m.group()) and (m.group().isupper() or " " in m.group()):
            yield Span(m.start(), m.end(), "ADDRESS", 0.7, "postcode")
    for m in c["address"].finditer(text):
        yield Span(m.start(), m.end(), "ADDRESS", 0.7, "street")
    for m in c["id_before"].finditer(text):
        span = _group_span(m, "ID", 0.75, "id-cue")
        value = text[span.start : span.end]
        head = value.split(" ", 1)[0]
        if not any(ch.isdigit() for ch in head) and not head.isupper():
            continue  # "invoice dated 3/11": a word, not a code
        yield span
    for m in _PLATE.finditer(text):
        yield Span(m.start(), m.end(), "ID", 0.5, "plate")
    for m in c["date"].finditer(text):
        yield Span(m.start(), m.end(), "DATE", 0.6, "date")
    for key in ("age_before", "age_after"):
        for m in c[key].finditer(text):
            yield _group_span(m, "AGE", 0.6, key)
