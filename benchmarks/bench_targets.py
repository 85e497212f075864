"""The coding targets, per model, in one run: public dev data, corpus v2, speed and memory.

    python benchmarks/bench_targets.py [--model LABEL=DIR ...] [--data ../shared/data]
                                       [--boot 1000] [--json benchmarks/results/targets.json]

Without ``--model`` it measures the bundled models (``default`` and ``fast``). Each model
runs in its own process, so its peak memory is its own. Evaluation data is read from
``../shared/data`` (never copied; sections skip with a message when it is absent).

Sections, each against the issue's target:

* ``epitome`` — macro-F1 of each empathy mechanism (none/weak/strong) over every dev pair;
  the model was never trained on EPITOME (transfer).
* ``annomi`` — therapist behaviour collapsed to AnnoMI's 4 classes, open/closed among gold
  questions, simple/complex among gold reflections, over all 93 dev transcripts.
* ``false_alarms`` — the full pipeline (coding, context rules, episodes) on AnnoMI's
  high-quality sessions: share of client turns with any effective ``W_*``/``C_*`` marker and
  of therapist turns with any ``F_*``. No gold exists; good MI sessions should show few.
* ``quality`` — ROC AUC (high vs low MI quality) of the session quality total and of each
  indicator, with a stratified bootstrap 95 % CI; two trivial baselines in the same run.
* ``corpus`` — corpus v2 held-out test sessions (the fixed hash split): per-code P/R/F1 and
  macro-F1 over the binary codes, empathy and behaviour macro-F1.
* ``speed`` — a bare encode of 600 distinct utterances vs coding them as one session with
  the same (fresh) encoder, utterances/s over all AnnoMI turns, peak RSS.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
from bench_coding import (  # type: ignore[import-not-found]
    MECHANISMS,
    annomi_examples,
    annomi_scores,
    read_annomi,
    read_epitome,
)
from bench_mi_quality import auc_ci, load_sessions  # type: ignore[import-not-found]

from attunement.analysis.base import PipelineContext
from attunement.analysis.pipeline import analyze, available, build_pipeline
from attunement.coding.build_default import split_of
from attunement.coding.card import default_model_dir, fast_model_dir, load_model
from attunement.coding.data import LEVELS, read_examples
from attunement.coding.encoders import load_encoder
from attunement.coding.features import Item
from attunement.coding.labels import compare, gold_from_examples
from attunement.coding.metrics import multiclass_scores
from attunement.coding.predict import Predictor
from attunement.coding.scorer import predict_examples
from attunement.model import Role, Session, Speaker, Utterance

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus" / "v2" / "sessions"
TARGETS = {
    "epitome": {"E_EMOTIONAL_REACTION": 0.60, "E_INTERPRETATION": 0.50, "E_EXPLORATION": 0.60},
    "annomi": {
        "behaviour_4": 0.72,
        "question_open_closed": 0.80,
        "reflection_simple_complex": 0.60,
    },
    "false_alarms": {"client_with_marker": 0.08, "therapist_with_failure": 0.03},
    "quality": {"auc": 0.80},
    "corpus": {"codes_macro_f1": 0.70},
    "speed": {"fast_utt_per_s": 2000, "session_600_seconds": 8.0},
}


def _epitome(data: Path, pred: Predictor) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for code in MECHANISMS:
        ex = read_epitome(data, code)
        probs = pred.predict([e.item for e in ex])
        if code not in probs:
            out[code] = None
            continue
        gold = [LEVELS.index(e.empathy[code]) for e in ex]
        guess = [int(np.argmax(r)) for r in probs[code]]
        out[code] = multiclass_scores(gold, guess, list(LEVELS))["macro_f1"]
    return out


def _pipeline_runs(data: Path, model_dir: Path, boot: int) -> dict[str, Any]:
    """False alarms (high-quality sessions) and quality AUC (all), one pipeline pass."""
    csv_path = data / "annomi" / "annomi_dev.csv"
    sessions = load_sessions(csv_path)
    ctx = PipelineContext(model_dir=model_dir)
    pipeline = build_pipeline(available(), ctx)
    rows: list[dict[str, Any]] = []
    c_all = c_flag = t_all = t_flag = 0
    for quality, s in sessions:
        s = analyze(s, pipeline=pipeline)
        m = s.metrics.get("attunement", {})
        ind = m.get("indicators", {})
        therapist = [u for u in s.utterances if u.role is Role.THERAPIST]
        words = [len(u.text.split()) for u in therapist]
        total = sum(len(u.text.split()) for u in s.utterances) or 1
        rows.append(
            {
                "high": quality == "high",
                "score": m.get("score"),
                **{f"i_{k}": v.get("value") for k, v in ind.items()},
                "base_neg_therapist_word_share": -sum(words) / total,
                "base_neg_turn_length": -float(np.mean(words)) if words else None,
            }
        )
        if quality == "high":
            for u in s.utterances:
                eff = {c for c, a in u.effective().items() if a.probability >= 0.5}
                if u.role is Role.CLIENT:
                    c_all += 1
                    c_flag += any(c.startswith(("W_", "C_")) for c in eff)
                elif u.role is Role.THERAPIST:
                    t_all += 1
                    t_flag += any(c.startswith("F_") for c in eff)
    #: lower is better for these, so they are negated before the AUC (fixed in advance)
    negate = {"i_failures", "i_unrepaired"}
    auc: dict[str, Any] = {}
    for key in [k for k in rows[0] if k != "high"]:
        pairs = [(r["high"], r[key]) for r in rows if r.get(key) is not None]
        if len({h for h, _ in pairs}) < 2:
            auc[key] = None
            continue
        y = np.asarray([h for h, _ in pairs], dtype=int)
        x = np.asarray([v for _, v in pairs], dtype=float) * (-1 if key in negate else 1)
        a, lo, hi = auc_ci(y, x, boot)
        auc[key] = {"auc": a, "ci": [lo, hi], "n": len(pairs)}
    return {
        "false_alarms": {
            "sessions": sum(r["high"] for r in rows),
            "client_turns": c_all,
            "client_with_marker": c_flag / c_all if c_all else None,
            "therapist_turns": t_all,
            "therapist_with_failure": t_flag / t_all if t_all else None,
        },
        "quality": {"sessions": len(rows), "auc": auc},
    }


def _corpus(pred: Predictor) -> dict[str, Any]:
    ex = [e for e in read_examples(CORPUS) if split_of(e.group) == "test"]
    rep = compare(gold_from_examples(ex), predict_examples(pred, ex))
    return {
        "test_sessions": len({e.group for e in ex}),
        "test_turns": len(ex),
        "codes_macro_f1": rep.get("codes_macro_f1"),
        "per_code": {
            c: {k: r[k] for k in ("precision", "recall", "f1", "support")}
            for c, r in rep["codes"].items()
        },
        "empathy_macro_f1": {c: r["macro_f1"] for c, r in rep["empathy"].items()},
        "behaviour_macro_f1": rep.get("behaviour", {}).get("macro_f1"),
    }


def _speed(data: Path, model_dir: Path) -> dict[str, Any]:
    from attunement.analysis.coding import CodingAnalyzer

    card = load_model(model_dir).card
    texts: list[str] = []
    annomi = data / "annomi" / "annomi_dev.csv"
    if annomi.exists():
        seen: set[str] = set()
        for rows in read_annomi(data).values():
            for r in rows:
                t = r["utterance_text"].strip()
                if t and t not in seen:
                    seen.add(t)
                    texts.append(t)
    else:
        ex = read_examples(CORPUS)
        texts = sorted({e.item.text for e in ex})
    n600 = texts[:600]
    # bare encode with a fresh encoder (load_encoder is cached, so build new instances)
    encoder_name = card.encoders[0].load
    load_encoder.cache_clear()
    bare = load_encoder(encoder_name)
    t0 = time.perf_counter()
    bare.encode(n600)
    t_bare = time.perf_counter() - t0
    load_encoder.cache_clear()
    t0 = time.perf_counter()
    pred = Predictor(load_model(model_dir), [load_encoder(encoder_name)])
    analyzer = CodingAnalyzer(pred)
    t_load = time.perf_counter() - t0
    session = Session(
        id="speed",
        speakers=[Speaker(id="T", role=Role.THERAPIST), Speaker(id="C", role=Role.CLIENT)],
        utterances=[
            Utterance(
                id=f"u{i + 1:04d}",
                index=i,
                speaker="T" if i % 2 == 0 else "C",
                role=Role.THERAPIST if i % 2 == 0 else Role.CLIENT,
                text=t,
            )
            for i, t in enumerate(n600)
        ],
    )
    t0 = time.perf_counter()
    analyzer(session)
    t_600 = time.perf_counter() - t0
    rest = texts[600:4600]
    t0 = time.perf_counter()
    pred.predict([Item("therapist", t, []) for t in rest])
    t_rest = time.perf_counter() - t0
    return {
        "encoder": encoder_name,
        "load_seconds": t_load,
        "bare_encode_600_seconds": t_bare,
        "session_600_seconds": t_600,
        "session_over_bare_encode": t_600 / t_bare if t_bare else None,
        "utt_per_s": len(rest) / t_rest if t_rest else None,
        "utt_per_s_n": len(rest),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def measure(model_dir: Path, data: Path, boot: int, sections: set[str]) -> dict[str, Any]:
    model = load_model(model_dir)
    pred = Predictor(model, [load_encoder(s.load) for s in model.card.encoders])
    have_data = (data / "annomi").is_dir() and (data / "epitome").is_dir()
    out: dict[str, Any] = {
        "encoders": [s.load for s in model.card.encoders],
        "training": model.card.training.get("data", ""),
    }
    t0 = time.perf_counter()
    if have_data and "epitome" in sections:
        out["epitome"] = _epitome(data, pred)
    if have_data and "annomi" in sections:
        ex = annomi_examples(read_annomi(data))
        out["annomi"] = annomi_scores(model, pred.encoders, [e for e in ex if e.behaviour])
    if have_data and sections & {"false_alarms", "quality"}:
        out.update(_pipeline_runs(data, model_dir, boot))
    if "corpus" in sections and CORPUS.is_dir():
        out["corpus"] = _corpus(pred)
    if "speed" in sections:
        out["speed"] = _speed(data, model_dir)
    out["seconds"] = time.perf_counter() - t0
    if not have_data:
        out["note"] = f"evaluation data not found at {data}: public-data sections skipped"
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--model", action="append", default=[], help="LABEL=DIR (repeatable)")
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--boot", type=int, default=1000)
    ap.add_argument("--sections", default="epitome,annomi,false_alarms,quality,corpus,speed")
    ap.add_argument("--json", type=Path, default=None, help="write (merge) results here")
    ap.add_argument("--child", nargs=2, metavar=("DIR", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    sections = {s for s in args.sections.split(",") if s}
    if args.child:
        res = measure(Path(args.child[0]), args.data, args.boot, sections)
        Path(args.child[1]).write_text(json.dumps(res))
        return 0
    specs = args.model or [f"default={default_model_dir()}", f"fast={fast_model_dir()}"]
    results: dict[str, Any] = {}
    for spec in specs:
        label, _, folder = spec.partition("=")
        if not (Path(folder) / "model.json").exists():
            print(f"{label}: no model at {folder}, skipped", flush=True)
            continue
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "r.json"
            cmd = [sys.executable, __file__, "--child", folder, str(out), "--data", str(args.data)]
            cmd += ["--boot", str(args.boot), "--sections", args.sections]
            rc = subprocess.call(cmd)
            if rc != 0 or not out.exists():
                print(f"{label}: measurement failed (exit {rc})", flush=True)
                continue
            results[label] = json.loads(out.read_text())
        print(json.dumps({label: results[label]}, indent=1, default=float), flush=True)
    doc = {
        "machine": (
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        ),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "python benchmarks/bench_targets.py " + " ".join(argv or sys.argv[1:]),
        "targets": TARGETS,
        "models": results,
    }
    if args.json:
        old = json.loads(args.json.read_text()) if args.json.exists() else {}
        models = dict(old.get("models", {}))
        for label, res in results.items():  # a rerun of some sections keeps the others
            models[label] = {**models.get(label, {}), **res}
        merged = {**old, **doc, "models": models}
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(merged, indent=1, default=float) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
