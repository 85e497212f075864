"""Nothing but the project's own errors may come out of the readers, whatever the input.

The strategies live in ``tests/fuzz_strategies.py`` (shared with the pipeline fuzz tests
and ``benchmarks/fuzz.py``); the canary they plant must never show in an error message.
"""

import io
import zipfile
from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attunement.errors import AttunementError
from attunement.io import READERS, ReadOptions, Source, read_session_bytes
from fuzz_strategies import CANARY_MARK, names, structured

FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


def refused_cleanly(call: Callable[[], object]) -> None:
    """Run ``call``; an AttunementError is fine as long as it does not quote the input."""
    try:
        call()
    except AttunementError as exc:
        assert CANARY_MARK not in str(exc).lower(), f"{type(exc).__name__} quotes the input"


@FUZZ
@given(data=st.binary(max_size=400), name=names)
def test_read_session_bytes_arbitrary_bytes(data: bytes, name: str) -> None:
    refused_cleanly(lambda: read_session_bytes(data, name))


@FUZZ
@given(text=structured, name=names, encoding=st.sampled_from(["utf-8", "utf-16", "cp1252"]))
def test_read_session_bytes_structured_text(text: str, name: str, encoding: str) -> None:
    data = text.encode(encoding, errors="replace")
    refused_cleanly(lambda: read_session_bytes(data, name))


@FUZZ
@given(text=structured, reader=st.sampled_from(sorted(READERS)))
def test_each_reader_with_structured_text(text: str, reader: str) -> None:
    source = Source(text.encode("utf-8", errors="replace"), "fuzz")
    score = READERS[reader].sniff(source)
    assert 0.0 <= score <= 1.0
    refused_cleanly(lambda: READERS[reader].read(source, ReadOptions()))
    refused_cleanly(lambda: read_session_bytes(source.data, "fuzz", fmt=reader, therapist=["T"]))


@FUZZ
@given(data=st.binary(max_size=300), reader=st.sampled_from(sorted(READERS)))
def test_each_reader_with_arbitrary_bytes(data: bytes, reader: str) -> None:
    source = Source(data, "fuzz")
    assert 0.0 <= READERS[reader].sniff(source) <= 1.0
    refused_cleanly(lambda: READERS[reader].read(source, ReadOptions()))


@FUZZ
@given(xml=structured, extra=st.binary(max_size=60))
def test_docx_reader_with_damaged_word_documents(xml: str, extra: bytes) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", extra)
        archive.writestr("word/document.xml", "<w:document>" + xml)
    refused_cleanly(lambda: read_session_bytes(buffer.getvalue(), "x.docx"))
