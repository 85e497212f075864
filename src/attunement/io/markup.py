"""Markup that caption and document formats put around words: VTT/SRT tags, ASS
override blocks, HTML entities. Removed so analyzers see only what was said."""

from __future__ import annotations

import html
import re

_TAG = re.compile(r"</?[A-Za-z][\w.\-]*(?:\s[^<>\n]{0,200})?>|<\d{1,3}:\d{2}[\d:.,]*>")
_ASS = re.compile(r"\{\\[^{}\n]{0,100}\}")


def strip_tags(text: str) -> str:
    """Remove '<i>', '<v Name>', '<00:00:01.000>', '{\\an8}' and similar."""
    if "<" in text:
        text = _TAG.sub("", text)
    if "{" in text:
        text = _ASS.sub("", text)
    return text


def caption_text(text: str) -> str:
    """Cue payload → plain text: tags removed, entities ('&amp;') decoded."""
    text = strip_tags(text)
    return html.unescape(text) if "&" in text else text


def collapse_space(text: str) -> str:
    """Runs of whitespace (newlines, tabs, NBSP) → one space; ends trimmed."""
    return " ".join(text.split())
