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


# Lengths are bounded and matches may not start inside a longer run, so every pattern
# runs in linear time on any input (a 20,000-character run of "a." included).
_EMAIL = re.compile(
    r"(?<![\w.+%-])[\w.+%-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){0,6}\.[a-z]{2,12}\b", re.I
)
_URL = re.compile(
    r"\b(?:https?://|www\.)[^\s<>\"']{1,300}|(?<![\w.-])[\w-]{1,63}(?:\.[\w-]{1,63}){0,6}"
    r"\.(?:com|org|net|co\.uk|org\.uk|io|me|info|biz|uk|us|ie|au|nz|ca|in|ng|za|de|fr|app"
    r"|dev|blog|art)(?:/[^\s<>\"']{0,300})?\b",
    re.I,
)
_HANDLE = re.compile(r"(?<![\w@])@[A-Za-z0-9_](?:[A-Za-z0-9_.]*[A-Za-z0-9_])?")
_PHONE = re.compile(
    r"(?<![\w+])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{2,5}\)[\s.-]?)?\d{2,5}(?:[\s.-]\d{2,5}){1,4}"
    r"(?![\w])"
)
_UK_POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}\b", re.I)
_CA_POSTCODE = re.compile(r"\b[A-Z]\d[A-Z]\s?\d[A-Z]\d\b")
#: letters and digits mixed in one token ("BXRPK4471M") or slash-separated ("GFC/22/317")
_MIXED = re.compile(
    r"\b(?=[A-Z0-9]*\d[A-Z0-9]*\d)(?=[A-Z0-9]*[A-Z][A-Z0-9]*[A-Z])[A-Z0-9]{6,}\b"
    r"|\b[A-Z0-9]{2,}(?:/[A-Z0-9]{2,}){2,}\b"
)
#: an extension after a phone number
_EXTENSION = re.compile(r"\A,?\s*(?:ext\.?|extension|x)\s*(?:\d{1,5}|[a-z]+)\b", re.I)
_PLATE = re.compile(r"\b[A-Z]{2}\d{2}\s?[A-Z]{3}\b")
#: letters and digits joined by dashes: "CM-004512", "INV-HR-7730", "F-GLA-2291-04"
_CODE = re.compile(r"\b[A-Z]{1,5}(?:-[A-Z0-9]{1,8})*-\d{3,}(?:-[A-Z0-9]{1,8})*\b")
_STATE_ZIP = re.compile(
    r"\b(?P<s>A[LKZR]|C[AOT]|D[EC]|FL|GA|HI|I[DLNA]|K[SY]|LA|M[EDAINSOT]|N[EVHJMYCD]|O[HKR]"
    r"|PA|RI|S[CD]|T[NX]|UT|V[TA]|W[AVIY])\s+(?P<z>\d{5}(?:-\d{4})?)\b"
)
_TLD = r"(?:com|net|org|co|uk|ie|io|edu|gov|au|nz|ca|in|ng|za|me|info|de|fr|ac)"
_SPOKEN_DOMAIN = re.compile(rf"\b[a-z0-9]{{1,40}}(?:\s{{1,3}}dot\s{{1,3}}{_TLD}\b){{1,3}}", re.I)
_SPOKEN_AT = re.compile(
    rf"\s{{1,3}}at\s{{1,3}}[a-z0-9]{{1,40}}(?:\s{{1,3}}[a-z0-9]{{1,40}})?"
    rf"(?:\s{{1,3}}dot\s{{1,3}}{_TLD}\b){{1,3}}",
    re.I,
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
    before_street = _alt(lx.suffixes.street_before)
    spoken_unit = rf"(?:\d{{1,5}}[a-z]?|{spoken_num}(?:\s+{spoken_num})?)"
    return {
        "spoken_code": re.compile(
            rf"\b(?:(?:{digit}|[a-z]|dash|slash|\d)(?:[\s,-]+|(?=$))){{6,}}", re.I
        ),
        "street_before": re.compile(
            rf"\b(?:{before_street})\s+(?:[\w'’.-]+\s+){{0,4}}?\d{{1,4}}[a-z]?\b"
            rf"(?:\s+m\.?\s*\d+)?"
            rf"|\b(?:{before_street})\s+(?:[A-Z][\w'’-]*|y|de|del|la|el|do|da|dos)"
            rf"(?:\s+(?:[A-Z][\w'’-]*|y|de|del|la|el|do|da|dos)){{0,4}}",
            re.I,
        ),
        "unit_led": re.compile(
            rf"\b(?i:{unit})\.?\s*(?i:{spoken_unit}),?\s+(?i:(?:block|tower)\s+\w+,?\s+)?"
            rf"(?i:the\s+)?(?:[A-Z][\w'’-]*\s+){{0,2}}[A-Z][\w'’-]*"
            rf"|\b(?i:{unit})\.?\s*(?i:{spoken_unit}),?\s+(?i:(?:block|tower)\s+\w+,?\s+)?"
            rf"(?i:the\s+)?(?i:[\w'’-]+\s+){{0,2}}(?i:{street})\b",
        ),
        "spoken_address": re.compile(
            rf"\b{spoken_unit}\s+(?:[a-z][\w'’-]*\s+){{1,2}}(?:{street})\b"
            rf"|\b\d{{1,5}}\s+[A-Z][\w'’-]+,?\s+(?:{unit})\.?\s*\d+[a-z]?\b",
            re.I,
        ),
        "age_before": re.compile(
            rf"(?:\b(?:{age_before})|\b(?!(?:it|that|what|there|here|let|who|where|how)['’]s)"
            rf"[a-z]+['’]s)(?:,?\s+(?:um|uh|er|erm|like|only|just|nearly|almost|about|"
            rf"turning|now|\w+['’]s)){{0,4}},?\s+"
            rf"(?P<n>\d{{1,3}}|{spoken_num})\b(?!\s*(?:{not_after})\b)(?![-:.,]?\d)",
            re.I,
        ),
        "age_after": re.compile(
            rf"\b(?P<n>\d{{1,3}}|{spoken_num})(?:\s*-\s*|\s+)(?:years?|yrs?)(?:\s*-\s*|\s+)old\b"
            rf"|\b(?P<m>\d{{1,3}}|{spoken_num})\s*-?\s*(?:yo|y/o)\b",
            re.I,
        ),
        "address": re.compile(
            rf"(?:\b(?:{unit})\.?\s*\d+[a-z]?,?\s+)?\b\d{{1,5}}[a-z]?,?\s+"
            rf"(?:(?!(?:with|and|to|at|the|on|in|for|from|near|by|of)\b)[A-Za-z][\w'’-]*\s+){{1,3}}"
            rf"(?:{street})\b\.?"
            rf"(?:,?\s+(?:{unit})\.?\s*\d+[a-z]?)?",
            re.I,
        ),
        "unit": re.compile(rf"\b(?:{unit})\.?\s*\d+[a-z]?\b", re.I),
        "date": re.compile(
            rf"\b(?:(?:the\s+)?{day}\s+(?:of\s+)?(?:{months})\b(?:,?\s+(?:19|20)\d\d\b)?"
            rf"|(?:{months})\.?\s+(?:the\s+)?{day}\b(?:,?\s+(?:19|20)\d\d\b)?"
            rf"|(?:{months})\.?\s+(?:of\s+)?(?:19|20)\d\d\b"
            r"|(?<![\d.])\d{1,2}/\d{1,2}(?:/(?:19|20)?\d\d)?\b(?![./]\d)"
            r"|(?<![\d.])\d{1,2}([.-])\d{1,2}\1(?:19|20)?\d\d\b"
            r"|(?:19|20)\d\d-\d\d-\d\d\b"
            rf"|(?<=\b(?:on|by)\s)the\s+(?:{ordinal}|\d{{1,2}}(?:st|nd|rd|th))\b"
            rf"(?:\s+of\s+the\s+(?:{ordinal}))?"
            rf"|\b(?:{ordinal})\s+of\s+the\s+(?:{ordinal})\b"
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


@cache
def _left_stop() -> frozenset[str]:
    """Words a read-out address never starts with (it starts after them)."""
    return frozenset(lists().spoken_addresses.stop_before)


def _extend_left(text: str, start: int, most: int = 5) -> int:
    """Start of a read-out address: the words before ``start`` up to a stop word."""
    stop = _left_stop()
    offset = max(0, start - 80)
    words = [m for m in re.finditer(r"[\w.'-]+", text[offset:start])]
    for taken, m in enumerate(reversed(words)):
        if m.group().lower() in stop or taken >= most:
            break
        if text[offset + m.end() : start].strip(" "):  # punctuation between: stop
            break
        start = offset + m.start()
    return start


def _with_extension(text: str, end: int) -> int:
    """The end of a phone number with its extension ("… ext. 302", "extension nine")."""
    m = _EXTENSION.match(text[end : end + 40])
    if m is None:
        return end
    last = m.group().split()[-1].lower()
    if any(ch.isdigit() for ch in m.group()) or last in _compiled_digits():
        return end + m.end()
    return end


@cache
def _compiled_digits() -> frozenset[str]:
    return frozenset(lists().numbers.digits + lists().numbers.words)


def _spoken_code(text: str, start: int, end: int) -> Span | None:
    """A code read out letter by letter and digit by digit ("h r s dash four four one")."""
    value = text[start:end].rstrip(" ,-")
    tokens = [t for t in re.split(r"[\s,-]+", value.lower()) if t]
    digits = _compiled_digits()
    n_digits = sum(t in digits or t.isdigit() for t in tokens)
    letters = [t for t in tokens if len(t) == 1 and t.isalpha() and t not in {"o"}]
    if n_digits < 3 or len(tokens) < 6:
        return None
    if letters and all(t in {"a", "i"} for t in letters):
        return None  # "and i", "a": words, not spelled letters
    kind = "ID" if letters else "PHONE"
    return Span(start, start + len(value), kind, 0.5, "spoken-code")


def find_patterns(text: str) -> Iterator[Span]:
    """Every shaped identifier in one utterance."""
    c = _compiled()
    for m in _EMAIL.finditer(text):
        yield Span(m.start(), m.end(), "EMAIL", 0.95, "email")
    for m in _SPOKEN_AT.finditer(text):
        yield Span(_extend_left(text, m.start()), m.end(), "EMAIL", 0.7, "spoken-email")
    for m in _SPOKEN_DOMAIN.finditer(text):
        if not re.search(r"\bat\s+$", text[max(0, m.start() - 8) : m.start()], re.I):
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
            yield Span(m.start(), _with_extension(text, m.end()), "PHONE", 0.6, "phone")
    for m in c["spoken_digits"].finditer(text):
        yield Span(m.start(), _with_extension(text, m.end()), "PHONE", 0.5, "spoken-phone")
    for m in c["spoken_code"].finditer(text):
        span = _spoken_code(text, m.start(), m.end())
        if span is not None:
            yield span
    for m in _MIXED.finditer(text):
        yield Span(m.start(), m.end(), "ID", 0.55, "code")
    for m in _CA_POSTCODE.finditer(text):
        yield Span(m.start(), m.end(), "ADDRESS", 0.7, "postcode")
    for key in ("street_before", "unit_led", "spoken_address"):
        for m in c[key].finditer(text):
            yield Span(m.start(), m.end(), "ADDRESS", 0.65, key)
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
        yield Span(m.start(), m.end(), "DATE", 0.65, "date")
    for key in ("age_before", "age_after"):
        for m in c[key].finditer(text):
            yield _group_span(m, "AGE", 0.6, key)
