import codecs

import pytest

from attunement.errors import TranscriptError
from attunement.io import read_session_bytes
from attunement.io.decode import decode_bytes

SAMPLE = "Therapist: Cómo estás — really?\nClient: Bien… I’m okay.\n"


@pytest.mark.parametrize(
    "data",
    [
        SAMPLE.encode("utf-8"),
        codecs.BOM_UTF8 + SAMPLE.encode("utf-8"),
        SAMPLE.encode("utf-16"),  # with BOM
        SAMPLE.encode("utf-16-le"),
        SAMPLE.encode("utf-16-be"),
        SAMPLE.encode("cp1252"),
    ],
    ids=["utf8", "utf8-bom", "utf16-bom", "utf16-le", "utf16-be", "cp1252"],
)
def test_encodings_decode_to_the_same_session(data: bytes) -> None:
    s = read_session_bytes(data, "enc.txt")
    assert [u.text for u in s.utterances] == ["Cómo estás — really?", "Bien… I’m okay."]


def test_crlf_and_cr_newlines_are_normalized() -> None:
    assert decode_bytes(b"a\r\nb\rc\n", "x") == "a\nb\nc\n"


@pytest.mark.parametrize("data", [b"", b"  \n\n\t", codecs.BOM_UTF8, "\n".encode("utf-16")])
def test_empty_files_are_errors(data: bytes) -> None:
    with pytest.raises(TranscriptError, match=r"empty\.txt: file is empty"):
        read_session_bytes(data, "empty.txt")


def test_binary_is_refused() -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" + bytes(range(256))
    with pytest.raises(TranscriptError, match="looks binary"):
        read_session_bytes(png, "photo.txt")


def test_undecodable_bytes_are_an_unknown_encoding() -> None:
    # 0x81 and 0x8d are undefined in cp1252 and invalid as UTF-8 here
    with pytest.raises(TranscriptError, match="unknown text encoding"):
        read_session_bytes(b"T: caf\x81\x8d\nC: ok\n", "x.txt")
