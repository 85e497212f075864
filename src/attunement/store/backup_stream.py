"""The backup file's container and value encoding (see :mod:`attunement.store.backup`).

    header  = b"ATTBAK01" | key id (8 ASCII hex) | salt (16 bytes)
    frame*  = length (4 bytes, big-endian; top bit set on the last frame) | ciphertext

Each frame is AES-256-GCM over at most :data:`CHUNK` bytes of the stream with a file key
derived by HKDF-SHA256 from the store's key and the salt; the nonce is the frame's number
and the associated data the header and the last-frame flag. Inside: JSON lines, with
bytes, datetimes (UTC), dates and JSON values tagged (``{"$b": …}``, ``$t``, ``$d``, ``$j``).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
import struct
from collections.abc import Iterator
from typing import IO, Any

from attunement.errors import AttunementError
from attunement.store.crypto import key_id

MAGIC = b"ATTBAK01"
SALT_LEN = 16
HEADER_LEN = len(MAGIC) + 8 + SALT_LEN
CHUNK = 1 << 20
LAST = 0x8000_0000
TAG_LEN = 16


class BackupError(AttunementError):
    """A backup cannot be written, read or restored (the message names no content)."""


# --- the encrypted container --------------------------------------------------------


def _file_key(key: bytes, salt: bytes) -> Any:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    derived = HKDF(hashes.SHA256(), 32, salt, b"attunement backup v1").derive(key)
    return AESGCM(derived)


def _nonce(n: int) -> bytes:
    return struct.pack(">Q", n) + b"\0\0\0\0"


class Sealer:
    """A write-only byte stream that seals every CHUNK bytes into a frame."""

    def __init__(self, out: IO[bytes], key: bytes) -> None:
        salt = secrets.token_bytes(SALT_LEN)
        self.header = MAGIC + key_id(key).encode("ascii") + salt
        self._aead = _file_key(key, salt)
        self._out = out
        self._buf = bytearray()
        self._n = 0
        out.write(self.header)

    def write(self, data: bytes) -> None:
        self._buf += data
        while len(self._buf) > CHUNK:
            self._frame(bytes(self._buf[:CHUNK]), last=False)
            del self._buf[:CHUNK]

    def close(self) -> None:
        self._frame(bytes(self._buf), last=True)
        self._buf.clear()

    def _frame(self, plain: bytes, *, last: bool) -> None:
        aad = self.header + (b"\1" if last else b"\0")
        sealed = self._aead.encrypt(_nonce(self._n), plain, aad)
        self._out.write(struct.pack(">I", len(sealed) | (LAST if last else 0)) + sealed)
        self._n += 1


def _read_exact(f: IO[bytes], n: int) -> bytes:
    data = f.read(n)
    if len(data) != n:
        raise BackupError("the backup file is truncated", where="backup")
    return data


def open_frames(f: IO[bytes], keys: list[bytes]) -> Iterator[bytes]:
    """The plaintext of every frame, each authenticated before it is yielded."""
    from cryptography.exceptions import InvalidTag

    header = f.read(HEADER_LEN)
    if len(header) < HEADER_LEN or not header.startswith(MAGIC):
        raise BackupError("not an Attunement backup file", where="backup")
    kid = header[len(MAGIC) : len(MAGIC) + 8].decode("ascii", "replace")
    key = next((k for k in keys if key_id(k) == kid), None)
    if key is None:
        raise BackupError(
            f"the key file does not hold the key this backup was made with ({kid})",
            where="key file",
        )
    aead = _file_key(key, header[len(MAGIC) + 8 :])
    n = 0
    while True:
        raw = f.read(4)
        if len(raw) < 4:
            raise BackupError("the backup file is truncated", where="backup")
        (length,) = struct.unpack(">I", raw)
        last = bool(length & LAST)
        length &= ~LAST
        if length < TAG_LEN or length > CHUNK + TAG_LEN:
            raise BackupError("the backup file is damaged", where="backup")
        sealed = _read_exact(f, length)
        try:
            plain = aead.decrypt(_nonce(n), sealed, header + (b"\1" if last else b"\0"))
        except InvalidTag:
            raise BackupError(
                f"the backup file failed authentication at frame {n} (changed or damaged)",
                where="backup",
            ) from None
        yield plain
        n += 1
        if last:
            if f.read(1):
                raise BackupError("the backup file has data after its end", where="backup")
            return


def json_lines(frames: Iterator[bytes]) -> Iterator[Any]:
    rest = b""
    for plain in frames:
        rest += plain
        *complete, rest = rest.split(b"\n")
        for line in complete:
            yield json.loads(line)
    if rest:
        yield json.loads(rest)


# --- values -------------------------------------------------------------------------


def _utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:  # SQLite hands back naive UTC
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def encode(value: Any) -> Any:
    if isinstance(value, bytes | memoryview | bytearray):
        return {"$b": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, dt.datetime):
        return {"$t": _utc(value).isoformat()}
    if isinstance(value, dt.date):
        return {"$d": value.isoformat()}
    if isinstance(value, dict | list):
        return {"$j": value}
    return value


def decoder(sqlite: bool) -> Any:
    def decode(value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        if "$b" in value:
            return base64.b64decode(value["$b"])
        if "$t" in value:
            t = dt.datetime.fromisoformat(value["$t"])
            return t.replace(tzinfo=None) if sqlite else t
        if "$d" in value:
            return dt.date.fromisoformat(value["$d"])
        return value["$j"]

    return decode
