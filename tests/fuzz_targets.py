"""Fuzz cases and the checks every case must pass, shared by the tests and the benchmark.

``make_case(kind, seed)`` builds one input deterministically; ``run_case(case, root)``
writes it under ``root``, runs it (a library call or the ``attune`` CLI in-process) and
returns an :class:`Outcome`. A case *fails* when

* anything but an :class:`~attunement.errors.AttunementError` escapes a library call, or
  the CLI exits with anything but 0 or 2 (``crash``);
* an error message (or stderr) contains the planted canary (``leak``);
* the command failed and left a file in the output folder, or any run left a temp file
  (``leftover``);
* terminal or Markdown output carries raw control characters (``control``).

``Outcome.detail`` names the exception type and the file:line it came from — never input.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import random
import re
import signal
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from attunement.errors import AttunementError
from fuzz_folders import (
    Tree,
    client_folder,
    codebook_map,
    evaluation_pair,
    training_data,
)
from fuzz_strategies import CANARY_MARK, session_json, transcript

KINDS = ("read", "analyze", "client", "examples", "train", "evaluate")
#: raw C0/C1 controls (tab and newline allowed) must not reach a terminal or Markdown
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
FAILURES = ("crash", "leak", "leftover", "control", "hang")


class FuzzTimeout(BaseException):
    """Raised by the alarm when one input runs past its time limit."""


@dataclass
class Case:
    kind: str
    seed: int
    tree: Tree = field(default_factory=Tree)
    argv: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class Outcome:
    status: str  # ok | refused | crash | leak | leftover | control | hang
    detail: str = ""

    @property
    def failed(self) -> bool:
        return self.status in FAILURES


def make_case(kind: str, seed: int) -> Case:
    rng = random.Random(f"{kind}:{seed}")
    case = Case(kind, seed)
    if kind == "read":
        name, data = ("x.json", session_json(rng)) if rng.random() < 0.3 else transcript(rng)
        case.params = {
            "name": name,
            "fmt": rng.choice([None] * 8 + ["text", "vtt", "srt", "csv", "json", "docx"]),
            "therapist": rng.choice([None, None, ["T"], ["Client"], ["nobody"]]),
            "max_bytes": rng.choice([50 * 1024 * 1024] * 9 + [2_000]),
        }
        case.tree.files["in/" + name] = data
    elif kind == "analyze":
        name, data = ("x.json", session_json(rng)) if rng.random() < 0.6 else transcript(rng)
        case.tree.files["in/" + name] = data
        case.argv = ["analyze", "{root}/in/" + name, "--fast"]
        case.argv += ["--json", "{root}/out", "--html", "{root}/out", "--markdown", "{root}/out"]
        if rng.random() < 0.15:
            case.argv += ["--therapist", rng.choice(["T", "Client", "nobody"])]
    elif kind == "client":
        case.tree = client_folder(rng)
        case.argv = ["client", "{root}/in", "--json", "{root}/out/c.json"]
        case.argv += ["--html", "{root}/out/c.html", "--fhir", "{root}/out/c.fhir.json"]
        if rng.random() < 0.2:
            case.argv.append("--no-transcripts")
    elif kind in ("examples", "train"):
        name, data = training_data(rng)
        case.tree.files["in/" + name] = data
        case.params = {"data": "in/" + name}
        if rng.random() < 0.3:
            case.tree.files["in/map.toml"] = codebook_map(rng)
            case.params["codebook"] = "in/map.toml"
        case.argv = ["train", "--data", "{root}/in/" + name, "--out", "{root}/out/model"]
        case.argv += ["--encoder", "static", "--min-support", "1", "--json"]
        if "codebook" in case.params:
            case.argv += ["--codebook", "{root}/in/map.toml"]
    elif kind == "evaluate":
        if rng.random() < 0.5:
            case.tree = evaluation_pair(rng)
            case.argv = ["evaluate", "--gold", "{root}/in/gold.json"]
            case.argv += ["--pred", "{root}/in/pred.json", "--json"]
        else:
            name, data = training_data(rng)
            case.tree.files["in/" + name] = data
            case.argv = ["evaluate", "--gold", "{root}/in/" + name, "--model", "{fast}", "--json"]
    else:
        raise ValueError(kind)
    return case


# --- running ----------------------------------------------------------------------------
@contextlib.contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise :class:`FuzzTimeout` in the main thread after ``seconds`` (None: no limit)."""
    if not seconds:
        yield
        return

    def _alarm(signum: int, frame: object) -> None:
        raise FuzzTimeout

    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def where_from(exc: BaseException) -> str:
    """'Type at attunement/x.py:12 (func)': the innermost project frame, else the last."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "/attunement/" in f.filename.replace("\\", "/")]
    frame = (ours or frames or [None])[-1]
    if frame is None:
        return type(exc).__name__
    path = frame.filename.replace("\\", "/")
    short = path[path.rfind("/attunement/") + 1 :] if "/attunement/" in path else Path(path).name
    return f"{type(exc).__name__} at {short}:{frame.lineno} ({frame.name})"


def _site(frames: list[traceback.FrameSummary]) -> str:
    """'attunement/x.py:12 (func)' of the project frame that built an error."""
    for frame in reversed(frames):
        path = frame.filename.replace("\\", "/")
        if "/attunement/" in path and not path.endswith("/errors.py") and frame.name != "error":
            return f"{path[path.rfind('/attunement/') + 1 :]}:{frame.lineno} ({frame.name})"
    return "unknown site"


@contextlib.contextmanager
def leak_sites() -> Iterator[list[str]]:
    """Record where an AttunementError whose message holds the canary was created."""
    sites: list[str] = []
    original = AttunementError.__init__

    def init(self: AttunementError, message: str, *, where: str | None = None) -> None:
        original(self, message, where=where)
        if CANARY_MARK in str(self).lower():
            sites.append(_site(traceback.extract_stack()[:-1]))

    AttunementError.__init__ = init  # type: ignore[method-assign]
    try:
        yield sites
    finally:
        AttunementError.__init__ = original  # type: ignore[method-assign]


def write_tree(tree: Tree, root: Path) -> None:
    for rel, data in tree.files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    for rel, target in tree.links.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        os.symlink(target, path)
    (root / "in").mkdir(exist_ok=True)
    (root / "out").mkdir(exist_ok=True)


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def _temp_left(root: Path) -> list[str]:
    return [p.name for p in _files(root) if p.name.startswith(".") or p.suffix == ".tmp"]


_PIPELINE: list[Any] = []


def _pipeline() -> list[Any]:
    if not _PIPELINE:
        from attunement.analysis.base import PipelineContext
        from attunement.analysis.pipeline import available, build_pipeline
        from attunement.coding.card import fast_model_dir

        ctx = PipelineContext(encoder_name="static", model_dir=fast_model_dir())
        _PIPELINE.extend(build_pipeline(available(), ctx))
    return _PIPELINE


def _library(case: Case, root: Path) -> Outcome:
    """A library call: only AttunementError may come out, and it must not quote input."""
    from attunement.analysis.pipeline import analyze
    from attunement.coding.data import load_codebook_map, read_examples
    from attunement.io import read_session_bytes
    from attunement.report import get_writer

    p = case.params
    try:
        if case.kind == "read":
            data = (root / "in" / p["name"]).read_bytes()
            session = read_session_bytes(
                data, p["name"], fmt=p["fmt"], therapist=p["therapist"], max_bytes=p["max_bytes"]
            )
            session = analyze(session, pipeline=_pipeline())
            for writer in ("json", "html", "markdown", "terminal"):
                text = get_writer(writer).render(session)
                if writer in ("markdown", "terminal") and CONTROL.search(text):
                    return Outcome("control", f"{writer} writer output")
        else:
            codebook = root / p["codebook"] if "codebook" in p else None
            read_examples(root / p["data"], load_codebook_map(codebook))
    except AttunementError as exc:
        if CANARY_MARK in str(exc).lower():
            return Outcome("leak", f"{type(exc).__name__} message ({case.kind})")
        return Outcome("refused")
    except FuzzTimeout:
        raise
    except Exception as exc:
        return Outcome("crash", where_from(exc))
    return Outcome("ok")


@contextlib.contextmanager
def fast_client_pipeline() -> Iterator[None]:
    """`attune client` analyzes transcripts with the default (e5) model, seconds per
    session on a loaded machine; for fuzzing input handling the fast model does as well."""
    from attunement.analysis import base
    from attunement.coding.card import fast_model_dir

    original = base.PipelineContext
    base.PipelineContext = functools.partial(  # type: ignore[misc]
        original, encoder_name="static", model_dir=fast_model_dir()
    )
    try:
        yield
    finally:
        base.PipelineContext = original  # type: ignore[misc]


def _cli(case: Case, root: Path) -> Outcome:
    """The ``attune`` CLI in-process: exit 0 or 2, a clean stderr, nothing left on error."""
    from attunement.cli.main import main
    from attunement.coding.card import fast_model_dir

    argv = [a.format(root=root, fast=fast_model_dir()) for a in case.argv]
    out, err = io.StringIO(), io.StringIO()
    before = set(_files(root / "out"))
    old = os.environ.get("ATTUNEMENT_DEBUG")
    os.environ["ATTUNEMENT_DEBUG"] = "1"  # unexpected errors propagate with their traceback
    try:
        with (
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
            fast_client_pipeline(),
        ):
            code = main(argv)
    except FuzzTimeout:
        raise
    except Exception as exc:
        return Outcome("crash", where_from(exc))
    finally:
        if old is None:
            os.environ.pop("ATTUNEMENT_DEBUG", None)
        else:
            os.environ["ATTUNEMENT_DEBUG"] = old
    stderr = err.getvalue()
    if code not in (0, 2):
        return Outcome("crash", f"exit code {code} ({case.kind})")
    if "internal error" in stderr:
        return Outcome("crash", f"internal error reported on stderr ({case.kind})")
    if CANARY_MARK in stderr.lower():
        return Outcome("leak", f"stderr of attune {case.kind} (exit {code})")
    temps = _temp_left(root)
    if temps:
        return Outcome("leftover", f"temp file left by attune {case.kind}")
    outputs = [p for p in _files(root / "out") if p not in before]
    if code == 2:
        if outputs:
            return Outcome("leftover", f"attune {case.kind} failed but wrote {outputs[0].name}")
        return Outcome("refused")
    if CONTROL.search(out.getvalue()):
        return Outcome("control", f"terminal output of attune {case.kind}")
    for path in outputs:
        if path.suffix == ".md" and CONTROL.search(path.read_text(encoding="utf-8")):
            return Outcome("control", "markdown report")
    return Outcome("ok")


def run_case(case: Case, root: Path, seconds: float | None = None) -> Outcome:
    """Write the case's files under ``root`` (an empty folder) and run it."""
    write_tree(case.tree, root)
    library = case.kind in ("read", "examples")
    try:
        with time_limit(seconds), leak_sites() as sites:
            outcome = _library(case, root) if library else _cli(case, root)
        if outcome.status == "leak":
            outcome.detail += f" from {sites[-1] if sites else 'a message built elsewhere'}"
        return outcome
    except FuzzTimeout:
        return Outcome("hang", f"over {seconds} s ({case.kind})")
