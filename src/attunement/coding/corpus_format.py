"""Reader for the project's whole-session corpus (corpus v2, ``corpus/v2/sessions/*.txt``).

One file holds several invented sessions. Every turn is coded, with all codes that apply
or none, so base rates look like real therapy. The format is plain text so the people who
write and review the corpus can read it::

    === session: a1-007
    setting: individual CBT; 45-year-old bus driver; insomnia after a night-shift change
    approach: CBT
    register: disfluent
    variety: Scottish English
    speakers: T=therapist; C=client
    ---
    T | qo | 001 | - | So how did the sleep diary go this week?
    C | W_MINIMAL | Fine.
    T | rc | 110 | - | Fine, and yet you look tired today.
    C | - | yeah I- I didn't really fill it in

A therapist line is ``SPEAKER | behaviour | ER IP EX | codes | text``: behaviour is one of
``rs rc qo qc in ad ot`` (reflection simple/complex, question open/closed, information,
advice, other), the three digits are the EPITOME levels (0 none, 1 weak, 2 strong) of
emotional reaction, interpretation and exploration, codes are ``R_*``/``F_*`` joined by
commas or ``-``. A client line is ``SPEAKER | codes | text`` with ``W_*``, ``C_*``,
``TERMINATION_RISK``, ``BOUNDARY_PRESSURE``. Errors name the file and line, never the text.

Run ``python -m attunement.coding.corpus_format FILE...`` to check files and print counts.
This module is standard library only.
"""

from __future__ import annotations

import sys
import tomllib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

BEHAVIOURS = {
    "rs": "reflection_simple",
    "rc": "reflection_complex",
    "qo": "question_open",
    "qc": "question_closed",
    "in": "information",
    "ad": "advice",
    "ot": "other",
}
LEVELS = ("none", "weak", "strong")


def _codebook_ids(*families: str) -> list[str]:
    """Code ids of the given families, in codebook order, read from ``data/codebook.toml``.

    Read with ``tomllib`` (standard library) so writers can run this checker with any
    Python 3.11 before the package is installed; the codebook stays the one source.
    """
    path = Path(__file__).resolve().parents[1] / "data" / "codebook.toml"
    codes = tomllib.loads(path.read_text(encoding="utf-8"))["code"]
    return [c["id"] for c in codes if c["family"] in families]


EMPATHY = tuple(_codebook_ids("empathy"))
CLIENT_CODES = _codebook_ids("withdrawal", "confrontation", "client_flag")
THERAPIST_CODES = _codebook_ids("resolution", "failure")
HEADER_KEYS = ("setting", "approach", "register", "variety", "speakers")
REGISTERS = ("clean", "disfluent", "asr", "chat", "peer")
MAX_TEXT = 2000


class CorpusFormatError(ValueError):
    """A corpus file does not follow the format; the message names file and line."""


@dataclass(frozen=True)
class Turn:
    speaker: str
    role: str  # "therapist" | "client"
    text: str
    codes: tuple[str, ...] = ()
    behaviour: str | None = None  # therapist only
    empathy: dict[str, str] = field(default_factory=dict)  # therapist only
    line: int = 0


@dataclass(frozen=True)
class CorpusSession:
    id: str
    source: str  # file name
    header: dict[str, str]
    turns: tuple[Turn, ...]


def _fail(where: str, what: str) -> CorpusFormatError:
    return CorpusFormatError(f"{where}: {what}")


def _codes(cell: str, allowed: Sequence[str], where: str) -> tuple[str, ...]:
    cell = cell.strip()
    if cell in ("", "-"):
        return ()
    out = []
    for raw in cell.split(","):
        code = raw.strip()
        if code not in allowed:
            # Identifiers only: a code cell that is not an identifier is not quoted.
            shown = repr(code) if code.replace("_", "").isalnum() and len(code) <= 24 else "cell"
            raise _fail(where, f"unknown code {shown} for this role")
        if code in out:
            raise _fail(where, "code listed twice")
        out.append(code)
    return tuple(out)


def _speakers(value: str, where: str) -> dict[str, str]:
    roles: dict[str, str] = {}
    for part in value.split(";"):
        if not part.strip():
            continue
        name, eq, desc = part.partition("=")
        name, words = name.strip(), desc.lower().replace("(", " ").replace(")", " ").split()
        role = (
            "therapist"
            if "therapist" in words or "counsellor" in words or "counselor" in words
            else "client"
            if "client" in words
            else ""
        )
        if not eq or not name.isalnum() or not role:
            raise _fail(where, "speakers must be like 'T=therapist; C=client'")
        roles[name] = role
    if "therapist" not in roles.values() or "client" not in roles.values():
        raise _fail(where, "speakers need at least one therapist and one client")
    return roles


def _turn(line: str, roles: dict[str, str], where: str, lineno: int) -> Turn:
    speaker, sep, rest = line.partition("|")
    speaker = speaker.strip()
    if not sep or speaker not in roles:
        raise _fail(where, "turn must start with a speaker from the 'speakers' header and '|'")
    role = roles[speaker]
    if role == "therapist":
        cells = rest.split("|", 3)
        if len(cells) != 4:
            raise _fail(where, "therapist turn needs 5 fields: speaker|behaviour|ERIPEX|codes|text")
        beh, emp, codes, text = (c.strip() for c in cells)
        if beh not in BEHAVIOURS:
            raise _fail(where, "behaviour must be one of " + " ".join(BEHAVIOURS))
        if len(emp) != 3 or any(ch not in "012" for ch in emp):
            raise _fail(where, "empathy must be three digits 0-2 (ER IP EX)")
        empathy = {code: LEVELS[int(ch)] for code, ch in zip(EMPATHY, emp, strict=True)}
        turn_codes = _codes(codes, THERAPIST_CODES, where)
        behaviour: str | None = BEHAVIOURS[beh]
    else:
        cells = rest.split("|", 1)
        if len(cells) != 2:
            raise _fail(where, "client turn needs 3 fields: speaker|codes|text")
        codes, text = (c.strip() for c in cells)
        turn_codes = _codes(codes, CLIENT_CODES, where)
        behaviour, empathy = None, {}
    if not text:
        raise _fail(where, "empty text")
    if len(text) > MAX_TEXT:
        raise _fail(where, f"text longer than {MAX_TEXT} characters")
    return Turn(speaker, role, text, turn_codes, behaviour, empathy, lineno)


def parse_text(text: str, source: str) -> list[CorpusSession]:
    """Parse one corpus file's text; raise :class:`CorpusFormatError` at the first problem."""
    sessions: list[CorpusSession] = []
    sid: str | None = None
    header: dict[str, str] = {}
    turns: list[Turn] = []
    roles: dict[str, str] | None = None

    def close(where: str) -> None:
        if sid is None:
            return
        if roles is None:
            raise _fail(where, f"session {sid!r} has no '---' line after its header")
        if len(turns) < 10:
            raise _fail(where, f"session {sid!r} has fewer than 10 turns")
        sessions.append(CorpusSession(sid, source, dict(header), tuple(turns)))

    for lineno, raw in enumerate(text.splitlines(), start=1):
        where = f"{source}: line {lineno}"
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("=== session:"):
            close(where)
            sid = line.split(":", 1)[1].strip()
            if not sid or not all(ch.isalnum() or ch in "-_" for ch in sid):
                raise _fail(where, "session id must be letters, digits, '-' or '_'")
            header, turns, roles = {}, [], None
            continue
        if sid is None:
            raise _fail(where, "text before the first '=== session:' line")
        if roles is None:
            if line == "---":
                missing = [k for k in HEADER_KEYS if k not in header]
                if missing:
                    raise _fail(where, "header lacks " + ", ".join(missing))
                if header["register"] not in REGISTERS:
                    raise _fail(where, "register must be one of " + " ".join(REGISTERS))
                roles = _speakers(header["speakers"], where)
                continue
            key, colon, value = line.partition(":")
            if not colon or key.strip() not in HEADER_KEYS:
                raise _fail(where, "header line must be one of " + ", ".join(HEADER_KEYS))
            header[key.strip()] = value.strip()
            continue
        turns.append(_turn(line, roles, where, lineno))
    close(f"{source}: end")
    ids = Counter(s.id for s in sessions)
    dup = [k for k, n in ids.items() if n > 1]
    if dup:
        raise _fail(source, f"session id {dup[0]!r} used twice")
    return sessions


def read_files(paths: Iterable[Path]) -> list[CorpusSession]:
    """Read several corpus files; session ids must be unique across them."""
    out: list[CorpusSession] = []
    seen: set[str] = set()
    for path in sorted(paths):
        for s in parse_text(path.read_text(encoding="utf-8"), path.name):
            if s.id in seen:
                raise _fail(path.name, f"session id {s.id!r} also used in another file")
            seen.add(s.id)
            out.append(s)
    return out


def format_session(s: CorpusSession, blind: bool = False) -> str:
    """The session in the file format (``parse_text(format_session(s))`` gives it back).

    ``blind`` writes ``?`` for every code, for a second coder to fill in.
    """
    short = {v: k for k, v in BEHAVIOURS.items()}
    lines = [f"=== session: {s.id}", *(f"{k}: {v}" for k, v in s.header.items()), "---"]
    for t in s.turns:
        codes = ",".join(t.codes) or "-"
        if blind:
            cells = "?? | ??? | ?" if t.role == "therapist" else "?"
            lines.append(f"{t.speaker} | {cells} | {t.text}")
        elif t.role == "therapist":
            emp = "".join(str(LEVELS.index(t.empathy[e])) for e in EMPATHY)
            lines.append(
                f"{t.speaker} | {short[t.behaviour or 'other']} | {emp} | {codes} | {t.text}"
            )
        else:
            lines.append(f"{t.speaker} | {codes} | {t.text}")
    return "\n".join(lines) + "\n"


def summary(sessions: Sequence[CorpusSession]) -> str:
    """Counts per role and code, as a plain-text table."""
    n_turns = sum(len(s.turns) for s in sessions)
    roles = Counter(t.role for s in sessions for t in s.turns)
    codes = Counter(c for s in sessions for t in s.turns for c in t.codes)
    beh = Counter(t.behaviour for s in sessions for t in s.turns if t.behaviour)
    emp = Counter(
        f"{k}={v}" for s in sessions for t in s.turns for k, v in t.empathy.items() if v != "none"
    )
    uncoded = Counter(t.role for s in sessions for t in s.turns if not t.codes)
    lines = [
        f"sessions {len(sessions)}  turns {n_turns}  "
        f"therapist {roles['therapist']}  client {roles['client']}",
        f"turns with no R/F/marker code: therapist {uncoded['therapist']}  "
        f"client {uncoded['client']}",
    ]
    for name, counter in (("codes", codes), ("behaviour", beh), ("empathy", emp)):
        lines.append(f"{name}: " + ", ".join(f"{k} {v}" for k, v in sorted(counter.items())))
    return "\n".join(lines)


def main(argv: Sequence[str]) -> int:
    if not argv:
        print("usage: python -m attunement.coding.corpus_format FILE...", file=sys.stderr)
        return 2
    try:
        sessions = read_files(Path(a) for a in argv)
    except (CorpusFormatError, OSError, UnicodeDecodeError) as exc:
        msg = (
            str(exc) if isinstance(exc, CorpusFormatError) else f"cannot read: {type(exc).__name__}"
        )
        print(f"error: {msg}", file=sys.stderr)
        return 2
    print(summary(sessions))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
