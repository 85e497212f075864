"""The readers this package knows, by name. Order matters only for ties in detection."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from attunement.io.base import Reader
from attunement.io.csv_ import CsvReader
from attunement.io.docx import DocxReader
from attunement.io.json_ import JsonReader
from attunement.io.srt import SrtReader
from attunement.io.text import TextReader
from attunement.io.vtt import VttReader

READERS: Mapping[str, Reader] = MappingProxyType(
    {
        r.name: r
        for r in (DocxReader(), JsonReader(), VttReader(), SrtReader(), CsvReader(), TextReader())
    }
)
