"""Test audio made by the project: benchmarks/synth_audio.py speaks a written session with
two espeak-ng voices (installed by `make setup`)."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def bench_module(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def spoken(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("faster_whisper")
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (make setup installs it)")
    out = tmp_path_factory.mktemp("spoken")
    bench_module("synth_audio").render(out)
    return out


@pytest.fixture(scope="session")
def truth(spoken: Path) -> list[dict[str, Any]]:
    return json.loads((spoken / "truth.json").read_text())


@pytest.fixture(scope="session")
def scoring() -> Any:
    return bench_module("audio_scoring")
