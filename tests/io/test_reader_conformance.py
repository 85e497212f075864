"""One shared check run against every registered reader (like sklearn's check_estimator)."""

from pathlib import Path

import docx
import pytest

from attunement.errors import TranscriptError
from attunement.io import READERS, Reader, ReadOptions, Source, read_session_bytes

FIXTURES = Path(__file__).parent / "fixtures"
OWN_FIXTURE = {
    "text": "labelled.txt",
    "vtt": "zoom.vtt",
    "srt": "session.srt",
    "csv": "labels.csv",
    "json": "simple.json",
}
GARBAGE = [
    b"\x00\x01\x02\x03binary\xff\xfe\x00",
    b"lorem ipsum dolor sit amet\nconsectetur adipiscing\n",
    b"PK\x03\x04not really a zip",
]


def _own_bytes(reader: Reader, tmp_path: Path) -> bytes:
    if reader.name == "docx":
        document = docx.Document()
        for line in ("Therapist: How are you?", "Client: Fine.", "Therapist: Fine?"):
            document.add_paragraph(line)
        path = tmp_path / "own.docx"
        document.save(str(path))
        return path.read_bytes()
    return (FIXTURES / OWN_FIXTURE[reader.name]).read_bytes()


def test_every_reader_is_checked() -> None:
    assert set(READERS) == set(OWN_FIXTURE) | {"docx"}


@pytest.mark.parametrize("name", sorted(READERS))
def test_reader_contract(name: str, tmp_path: Path) -> None:
    reader = READERS[name]
    assert reader.name == name
    assert reader.extensions and all(e == e.lower() and "." not in e for e in reader.extensions)

    own = Source(_own_bytes(reader, tmp_path), f"own.{reader.extensions[0]}")
    scores = {other.name: other.sniff(own) for other in READERS.values()}
    assert all(0.0 <= s <= 1.0 for s in scores.values())
    assert max(scores, key=lambda n: scores[n]) == name  # its own content wins

    parsed = reader.read(own, ReadOptions())
    assert parsed.turns or parsed.session is not None
    session = read_session_bytes(own.data, "renamed.dat")
    assert session.format == name
    assert len({s.role for s in session.speakers}) == 2

    for data in GARBAGE:
        junk = Source(data, f"junk.{reader.extensions[0]}")
        assert 0.0 <= reader.sniff(junk) <= 1.0
        with pytest.raises(TranscriptError):
            reader.read(junk, ReadOptions())
        with pytest.raises(TranscriptError):
            read_session_bytes(data, "junk.dat", fmt=name)
