"""The codebook as validated data: identifiers, families, labels, descriptions.

Loaded from ``attunement/data/codebook.toml`` (or a user's file with the same shape) and
checked at load so a typo in an identifier fails loudly, naming the file and entry.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from attunement.errors import SchemaError

Family = Literal[
    "withdrawal",
    "confrontation",
    "client_flag",
    "empathy",
    "resolution",
    "failure",
    "behaviour",
]
CLIENT_FAMILIES: tuple[Family, ...] = ("withdrawal", "confrontation", "client_flag")
THERAPIST_FAMILIES: tuple[Family, ...] = ("empathy", "resolution", "failure", "behaviour")


class CodeDef(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$")
    family: Family
    label: str
    description: str

    @property
    def role(self) -> str:
        return "client" if self.family in CLIENT_FAMILIES else "therapist"


class Codebook(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str
    empathy_levels: tuple[str, ...]
    code: tuple[CodeDef, ...]

    @field_validator("code")
    @classmethod
    def _unique(cls, codes: tuple[CodeDef, ...]) -> tuple[CodeDef, ...]:
        seen: set[str] = set()
        for c in codes:
            if c.id in seen:
                raise ValueError(f"duplicate code id {c.id!r}")
            seen.add(c.id)
        return codes

    def get(self, code_id: str) -> CodeDef:
        for c in self.code:
            if c.id == code_id:
                return c
        raise SchemaError(f"unknown code {code_id!r}", where="codebook")

    def ids(self, *families: Family) -> list[str]:
        """Code ids in file order, optionally only from the given families."""
        return [c.id for c in self.code if not families or c.family in families]

    def family_of(self, code_id: str) -> Family:
        return self.get(code_id).family


def load_codebook(path: Path | None = None) -> Codebook:
    """Load and validate a codebook file (the bundled one when ``path`` is None)."""
    if path is None:
        return default_codebook()
    return _parse(path.read_bytes(), str(path))


@cache
def default_codebook() -> Codebook:
    data = resources.files("attunement").joinpath("data/codebook.toml").read_bytes()
    return _parse(data, "attunement/data/codebook.toml")


def _parse(data: bytes, where: str) -> Codebook:
    from attunement.safeparse import load_toml, validate

    raw = load_toml(data, where)  # no key or character of the file is quoted
    codebook: Codebook = validate(Codebook, raw, where)
    return codebook
