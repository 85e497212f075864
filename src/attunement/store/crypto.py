"""Encryption at rest: AES-256-GCM with keys that never enter the database.

Every encrypted value is one self-describing blob::

    b"A1" | key id (8 ASCII hex chars) | nonce (12 bytes) | ciphertext + GCM tag

The key id is the first 8 hex digits of SHA-256 of the key, so a blob names the key that
sealed it and :func:`attunement.store.rotate.rotate_key` can re-seal old rows. The
associated data binds a blob to its column (``"clients.pseudonym"``): a ciphertext copied
into another column fails authentication instead of being shown in the wrong place.

Keys come from, in this order: ``ATTUNEMENT_KEY`` (one base64 key, for containers) or a
key file (``ATTUNEMENT_KEY_FILE``, default ``attunement.key`` beside the database) with
one base64 key per line, the last line being the key new data is sealed with. A missing
key file is created with mode 0600 on first run.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
import tempfile
from collections.abc import Mapping
from pathlib import Path

from attunement.errors import AttunementError

MAGIC = b"A1"
KEY_ID_LEN = 8
NONCE_LEN = 12
KEY_LEN = 32
HEADER_LEN = len(MAGIC) + KEY_ID_LEN + NONCE_LEN


class CryptoError(AttunementError):
    """A key is missing, malformed, or a stored value cannot be decrypted."""


def key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:KEY_ID_LEN]


def new_key() -> bytes:
    return secrets.token_bytes(KEY_LEN)


def _decode_key(text: str, where: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise CryptoError("not a base64 key", where=where) from None
    if len(key) != KEY_LEN:
        raise CryptoError(f"a key must be {KEY_LEN} bytes, found {len(key)}", where=where)
    return key


class Keyring:
    """The keys this process may decrypt with, and the one it encrypts with."""

    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise CryptoError("no encryption key configured")
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._aead: Mapping[str, AESGCM] = {key_id(k): AESGCM(k) for k in keys}
        self.current_id = key_id(keys[-1])

    @property
    def ids(self) -> list[str]:
        return list(self._aead)

    def encrypt(self, plaintext: bytes, context: str) -> bytes:
        nonce = secrets.token_bytes(NONCE_LEN)
        sealed = self._aead[self.current_id].encrypt(nonce, plaintext, context.encode())
        return MAGIC + self.current_id.encode("ascii") + nonce + sealed

    def decrypt(self, blob: bytes, context: str) -> bytes:
        from cryptography.exceptions import InvalidTag

        if len(blob) < HEADER_LEN + 16 or blob[: len(MAGIC)] != MAGIC:
            raise CryptoError("stored value is not an encrypted blob", where=context)
        kid = blob[len(MAGIC) : len(MAGIC) + KEY_ID_LEN].decode("ascii", "replace")
        aead = self._aead.get(kid)
        if aead is None:
            raise CryptoError(f"stored value needs key {kid}, which is not loaded", where=context)
        nonce = blob[len(MAGIC) + KEY_ID_LEN : HEADER_LEN]
        try:
            return aead.decrypt(nonce, blob[HEADER_LEN:], context.encode())
        except InvalidTag:
            raise CryptoError("stored value failed authentication", where=context) from None

    def encrypt_text(self, text: str, context: str) -> bytes:
        return self.encrypt(text.encode("utf-8"), context)

    def decrypt_text(self, blob: bytes, context: str) -> str:
        return self.decrypt(blob, context).decode("utf-8")

    @staticmethod
    def blob_key_id(blob: bytes) -> str:
        return blob[len(MAGIC) : len(MAGIC) + KEY_ID_LEN].decode("ascii", "replace")


def read_key_file(path: Path) -> list[bytes]:
    where = path.name
    try:
        lines = path.read_text(encoding="ascii").splitlines()
    except OSError as exc:
        raise CryptoError(f"cannot read key file ({exc.strerror})", where=where) from None
    except UnicodeDecodeError:
        raise CryptoError("key file is not ASCII base64", where=where) from None
    keys = [
        _decode_key(line, f"{where}, line {i}")
        for i, line in enumerate(lines, 1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not keys:
        raise CryptoError("key file holds no key", where=where)
    return keys


def write_key_file(path: Path, keys: list[bytes]) -> None:
    """Write atomically (temp file in the same folder, 0600, then rename)."""
    text = "# attunement encryption keys: last line encrypts, all lines decrypt\n" + "".join(
        base64.b64encode(k).decode("ascii") + "\n" for k in keys
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".key-", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_keyring(key_file: Path | None, env: Mapping[str, str] | None = None) -> Keyring:
    """``ATTUNEMENT_KEY`` if set, else the key file (created with a new key if absent)."""
    env = os.environ if env is None else env
    if env.get("ATTUNEMENT_KEY"):
        return Keyring([_decode_key(env["ATTUNEMENT_KEY"], "ATTUNEMENT_KEY")])
    if key_file is None:
        raise CryptoError("no key: set ATTUNEMENT_KEY or ATTUNEMENT_KEY_FILE")
    if not key_file.exists():
        write_key_file(key_file, [new_key()])
    return Keyring(read_key_file(key_file))
