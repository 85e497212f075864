"""Nothing but the project's own errors may come out of the readers, whatever the input."""

import contextlib
import io
import zipfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attunement.errors import AttunementError
from attunement.io import READERS, ReadOptions, Source, read_session_bytes

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: pieces that steer random text into the readers' deeper branches
TOKENS = [
    "WEBVTT",
    "NOTE",
    "\n",
    "\n\n",
    "1\n",
    "00:00:01.000 --> 00:00:02.000",
    "00:00:01,000 -->",
    " --> ",
    "-->",
    "<v Dr. Lee>",
    "</v>",
    "<i>",
    "T: ",
    "C: ",
    "Therapist: ",
    "Client 2: ",
    "Maria: ",
    "Dr. Lee   0:03",
    "[00:12:03] ",
    "(12:03) ",
    "99:99",
    "speaker,text,start,codes\n",
    ",",
    ";",
    "\t",
    '"',
    "W_MINIMAL",
    "E_EXPLORATION:strong",
    "BOGUS",
    "-5",
    "1e309",
    "nan",
    '{"utterances": [',
    '{"speaker": "T", "text": "hi", "start": ',
    "]}",
    "[",
    "{",
    "}",
    '"schema_version": "attunement.session/1"',
    "&amp;",
    "{\\an8}",
    "?",
    "hello there",
]
_piece = st.sampled_from(TOKENS) | st.text(max_size=8)
_line = st.lists(_piece, min_size=1, max_size=6).map("".join)
_prefix = st.sampled_from(
    ["T: ", "C: ", "Dr. Lee: ", "Maria: ", "[00:00:0{}] Sam: ", "", "<v Ann>", "Ann: "]
)
_labelled = st.lists(st.tuples(_prefix, _line).map("".join), min_size=1, max_size=12)
_vtt = _labelled.map(
    lambda lines: (
        "WEBVTT\n\n"
        + "\n\n".join(
            f"00:00:{i:02d}.000 --> 00:00:{i + 1:02d}.500\n{x}" for i, x in enumerate(lines)
        )
    )
)
_csv = _labelled.map(
    lambda lines: (
        "speaker,text,start,codes\n" + "\n".join(line.replace(": ", ",", 1) for line in lines)
    )
)
structured = st.lists(_piece, max_size=40).map("".join) | _labelled.map("\n".join) | _vtt | _csv
names = st.sampled_from(["x.txt", "x.vtt", "x.srt", "x.csv", "x.tsv", "x.json", "x.docx", "x"])


@FUZZ
@given(data=st.binary(max_size=400), name=names)
def test_read_session_bytes_arbitrary_bytes(data: bytes, name: str) -> None:
    with contextlib.suppress(AttunementError):
        read_session_bytes(data, name)


@FUZZ
@given(text=structured, name=names, encoding=st.sampled_from(["utf-8", "utf-16", "cp1252"]))
def test_read_session_bytes_structured_text(text: str, name: str, encoding: str) -> None:
    data = text.encode(encoding, errors="replace")
    with contextlib.suppress(AttunementError):
        read_session_bytes(data, name)


@FUZZ
@given(text=structured, reader=st.sampled_from(sorted(READERS)))
def test_each_reader_with_structured_text(text: str, reader: str) -> None:
    source = Source(text.encode("utf-8", errors="replace"), "fuzz")
    score = READERS[reader].sniff(source)
    assert 0.0 <= score <= 1.0
    with contextlib.suppress(AttunementError):
        READERS[reader].read(source, ReadOptions())
    with contextlib.suppress(AttunementError):
        read_session_bytes(source.data, "fuzz", fmt=reader, therapist=["T"])


@FUZZ
@given(data=st.binary(max_size=300), reader=st.sampled_from(sorted(READERS)))
def test_each_reader_with_arbitrary_bytes(data: bytes, reader: str) -> None:
    source = Source(data, "fuzz")
    assert 0.0 <= READERS[reader].sniff(source) <= 1.0
    with contextlib.suppress(AttunementError):
        READERS[reader].read(source, ReadOptions())


@FUZZ
@given(xml=structured, extra=st.binary(max_size=60))
def test_docx_reader_with_damaged_word_documents(xml: str, extra: bytes) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", extra)
        archive.writestr("word/document.xml", "<w:document>" + xml)
    with contextlib.suppress(AttunementError):
        read_session_bytes(buffer.getvalue(), "x.docx")
