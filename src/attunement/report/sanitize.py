"""Untrusted text made safe to display: one rule set for every writer.

Transcripts, session JSON fields (``format``, ids, provenance, speaker labels, warnings)
and input file names are untrusted. Shown raw they could move the cursor, retitle or
recolour a terminal (ANSI/OSC escapes), reorder what a reader sees (bidi overrides, the
"Trojan Source" trick) or inject markup. Each sink picks its function:

* :func:`terminal_text` — terminal and stderr: every control character, escape sequence
  and bidi control is shown *visibly* as ``\\x1b``, ``\\u202e``…, so a reader sees that
  something was there; :func:`terminal_markup` also escapes rich markup (``[bold]``);
* :func:`plain_text` — documents (Markdown): escape sequences and controls are removed;
* :func:`safe_name` — output file names: controls, bidi and path separators become ``_``.

:func:`plain_text` keeps ``\\n`` and ``\\t`` unless ``keep_newlines=False``; the terminal
functions escape them too unless ``keep_newlines=True`` (a newline in a speaker label or a
warning could otherwise forge a line of the summary).
"""

from __future__ import annotations

import re

#: ANSI/ECMA-48 escape sequences: CSI (``ESC [ … final``), OSC/DCS/APC/PM/SOS strings
#: (ended by BEL or ST), and two-byte ``ESC x`` sequences; also their 8-bit C1 forms.
_ESCAPES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"  # CSI
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # strings
    r"|\x1b[ -/]*[0-~]"  # other ESC sequences (ESC c, ESC ( B, …)
)
#: bidi embeddings/overrides/isolates and marks, line/paragraph separators
_BIDI = "\u061c\u200e\u200f\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
#: C0 (without \t and \n), DEL, C1, bidi controls
_CONTROLS = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}]")
_CONTROLS_NL = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}]")
_NAME_BAD = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}/\\\\]")


_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _visible(match: re.Match[str]) -> str:
    out = []
    for ch in match.group(0):
        n = ord(ch)
        out.append(_NAMED.get(ch) or (f"\\x{n:02x}" if n < 0x100 else f"\\u{n:04x}"))
    return "".join(out)


def terminal_text(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with every escape sequence and control character written out visibly
    (``ESC[31m`` → ``\\x1b[31m``); printable text is kept, and ``\\t``/``\\n`` with
    ``keep_newlines``."""
    pattern = _CONTROLS if keep_newlines else _CONTROLS_NL
    return pattern.sub(_visible, text)


def terminal_markup(text: str, *, keep_newlines: bool = False) -> str:
    """:func:`terminal_text`, then escaped for rich so ``[bold]`` in a transcript is shown,
    not interpreted — for interpolating untrusted text into a rich markup string."""
    from rich.markup import escape

    return escape(terminal_text(text, keep_newlines=keep_newlines))


def plain_text(text: str, *, keep_newlines: bool = True) -> str:
    """``text`` with escape sequences (as a whole) and control characters removed."""
    text = _ESCAPES.sub("", text)
    pattern = _CONTROLS if keep_newlines else _CONTROLS_NL
    return pattern.sub("", text)


def safe_name(name: str) -> str:
    """A file-name component made from an untrusted name: escape sequences dropped,
    controls, bidi characters and path separators replaced by ``_``; never empty, never
    ``.``/``..`` and never hidden (a leading dot would hide the report)."""
    name = _NAME_BAD.sub("_", _ESCAPES.sub("", name))
    name = name.lstrip(".") or "_"
    return name
