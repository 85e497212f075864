"""Helpers: copies of the example client folders, optionally cut after a session."""

import csv
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parents[2] / "src/attunement/examples/clients"


def copy_client(src: Path, dest: Path, *, upto: int | None = None, toml_edit: str = "") -> Path:
    shutil.copytree(src, dest)
    if upto is not None:
        rows = list(csv.reader((dest / "responses.csv").open(encoding="utf-8")))
        kept = [rows[0]] + [r for r in rows[1:] if int(r[0]) <= upto]
        with (dest / "responses.csv").open("w", encoding="utf-8", newline="") as fh:
            csv.writer(fh, lineterminator="\n").writerows(kept)
    if toml_edit:
        toml = dest / "client.toml"
        text = toml.read_text(encoding="utf-8")
        for line in toml_edit.strip().splitlines():
            key = line.split("=")[0].strip()
            text = "\n".join(
                line if ln.split("=")[0].strip() == key else ln for ln in text.splitlines()
            )
        toml.write_text(text + "\n", encoding="utf-8")
    return dest


@pytest.fixture
def client_copy(tmp_path: Path) -> Callable[..., Path]:
    counter = iter(range(1000))

    def make(name: str, **kw: object) -> Path:
        return copy_client(EXAMPLES / name, tmp_path / f"{name}-{next(counter)}", **kw)  # type: ignore[arg-type]

    return make
