"""In-domain CPU fine-tuning of MiniLM vs. the frozen MiniLM + LR floor, on the same splits.

    python benchmarks/bench_finetune.py [--data ../shared/data] [--sections annomi,epitome]
        [--epochs 3] [--train-layers N] [--max-train N] [--json OUT]

Reads AnnoMI / EPITOME dev from ``../shared/data`` (evaluation only; nothing is copied)
and skips cleanly when absent. Models are trained into a temporary folder that is deleted
at the end: a model trained on these files is never shipped.

* AnnoMI: one multi-task run (therapist behaviour, 4 classes, on therapist turns; client
  talk type, 3 classes, on client turns). Utterances with several annotators keep the
  first annotator's row (file order), and transcripts are split 80/20 with
  ``attunement.coding.train.split_groups(sorted ids, 0.2, seed=0)`` — the same rule as
  ``bench_coding.py``, so the test transcripts are identical.
* EPITOME: the three files rate the same (seeker post, response) pairs, so one multi-task
  run learns all three mechanisms (seeker post = context, response = target); 80/20 split
  by seeker post with the same ``split_groups`` rule as ``bench_coding.py``.
* The validation split for early stopping is carved from the training portion only
  (10% of its groups). The frozen baseline (utterance embedding + sklearn LR) is trained
  on the whole training portion.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from attunement.coding.encoders import load_encoder
from attunement.coding.finetune import (
    FinetunedCoder,
    FinetuneExample,
    carve_validation,
    finetune,
)
from attunement.coding.metrics import multiclass_scores
from attunement.coding.train import split_groups

REPO = Path(__file__).resolve().parents[1]
BEH4 = ["reflection", "question", "therapist_input", "other"]
TALK3 = ["change", "neutral", "sustain"]
LEVELS = ["none", "weak", "strong"]
MECHANISMS = {
    "E_EMOTIONAL_REACTION": "emotional-reactions",
    "E_INTERPRETATION": "interpretations",
    "E_EXPLORATION": "explorations",
}
log = logging.getLogger("bench_finetune")


def read_annomi(folder: Path) -> dict[str, list[dict[str, str]]]:
    """Transcript id → utterances in order, first annotator's row per utterance."""
    with open(folder / "annomi" / "annomi_dev.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    seen: set[tuple[str, str]] = set()
    out: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        key = (r["transcript_id"], r["utterance_id"])
        if key not in seen:
            seen.add(key)
            out.setdefault(r["transcript_id"], []).append(r)
    for v in out.values():
        v.sort(key=lambda r: int(r["utterance_id"]))
    return out


def annomi_examples(transcripts: dict[str, list[dict[str, str]]]) -> list[FinetuneExample]:
    out: list[FinetuneExample] = []
    for tid, rows in transcripts.items():
        hist: list[tuple[str, str]] = []
        for r in rows:
            role = "therapist" if r["interlocutor"] == "therapist" else "client"
            labels: dict[str, str] = {}
            if role == "therapist" and r["main_therapist_behaviour"] in BEH4:
                labels["behaviour"] = r["main_therapist_behaviour"]
            if role == "client" and r["client_talk_type"] in TALK3:
                labels["talk_type"] = r["client_talk_type"]
            out.append(FinetuneExample(r["utterance_text"], role, tuple(hist[-3:]), labels, tid))
            hist.append((role, r["utterance_text"]))
    return [e for e in out if e.labels]


def epitome_examples(folder: Path) -> list[FinetuneExample]:
    files: dict[str, list[dict[str, str]]] = {}
    for code, name in MECHANISMS.items():
        with open(folder / "epitome" / f"{name}_dev.csv", encoding="utf-8", newline="") as fh:
            files[code] = list(csv.DictReader(fh))
    first = next(iter(files.values()))
    for rows in files.values():
        if [r["rp_id"] for r in rows] != [r["rp_id"] for r in first]:
            raise SystemExit("EPITOME files do not list the same pairs in the same order")
    return [
        FinetuneExample(
            r["response_post"],
            "therapist",
            (("client", r["seeker_post"]),),
            {code: LEVELS[int(files[code][i]["level"])] for code in MECHANISMS},
            r["sp_id"],
        )
        for i, r in enumerate(first)
    ]


def _scores(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> dict[str, float]:
    idx = {lab: i for i, lab in enumerate(labels)}
    s = multiclass_scores([idx[g] for g in gold], [idx[p] for p in pred], list(labels))
    acc = float(np.mean([g == p for g, p in zip(gold, pred, strict=True)]))
    return {"macro_f1": round(float(s["macro_f1"]), 4), "accuracy": round(acc, 4)}


def frozen_baseline(
    train: Sequence[FinetuneExample], test: Sequence[FinetuneExample], task: str, labels: list[str]
) -> dict[str, float]:
    """The floor: frozen MiniLM embedding of the target utterance + plain sklearn LR."""
    from sklearn.linear_model import LogisticRegression

    enc = load_encoder("minilm")
    tr = [e for e in train if task in e.labels]
    te = [e for e in test if task in e.labels]
    clf = LogisticRegression(max_iter=3000, random_state=0)
    clf.fit(enc.encode([e.text for e in tr]), [e.labels[task] for e in tr])
    pred = [str(p) for p in clf.predict(enc.encode([e.text for e in te]))]
    return _scores([e.labels[task] for e in te], pred, labels)


def run(
    name: str,
    examples: list[FinetuneExample],
    test_mask: np.ndarray,
    tasks: dict[str, list[str]],
    args: argparse.Namespace,
    max_length: int,
) -> dict[str, Any]:
    train_all = [e for e, m in zip(examples, test_mask, strict=True) if not m]
    test = [e for e, m in zip(examples, test_mask, strict=True) if m]
    train, valid = carve_validation(train_all, 0.1, seed=0)
    note = ""
    if args.max_train and len(train) > args.max_train:
        rng = np.random.default_rng(0)
        keep = sorted(rng.permutation(len(train))[: args.max_train].tolist())
        train = [train[i] for i in keep]
        note = f"training examples capped at {args.max_train} (seeded sample)"
    res: dict[str, Any] = {
        "groups": f"{len({e.group for e in train_all})} train / "
        f"{len({e.group for e in test})} test",
        "n_train": len(train),
        "n_valid": len(valid),
        "n_test": len(test),
        "note": note,
    }
    t0 = time.perf_counter()
    res["frozen MiniLM + LR"] = {
        t: frozen_baseline(train_all, test, t, labs) for t, labs in tasks.items()
    }
    res["baseline_seconds"] = round(time.perf_counter() - t0, 1)
    tmp = Path(tempfile.mkdtemp(prefix=f"ft-{name}-"))
    try:
        t0 = time.perf_counter()
        report = finetune(
            train,
            valid,
            tasks,
            tmp / "model",
            epochs=args.epochs,
            lr=args.lr,
            batch_size=args.batch_size,
            max_length=max_length,
            train_layers=args.train_layers,
            seed=0,
        )
        res["train_seconds"] = round(time.perf_counter() - t0, 1)
        res["epochs_run"] = report.card.epochs_run
        res["best_epoch"] = report.card.best_epoch
        res["history"] = [
            {k: v for k, v in h.items() if k != "valid"} | {"valid": h["valid"]}
            for h in report.history
        ]
        coder = FinetunedCoder.load(tmp / "model")
        t0 = time.perf_counter()
        probs = coder.predict(test)
        dt = time.perf_counter() - t0
        res["inference_utt_per_s"] = round(len(test) / dt, 1)
        ft: dict[str, Any] = {}
        for t, labs in tasks.items():
            rows = [i for i, e in enumerate(test) if t in e.labels]
            pred = [labs[int(np.argmax(probs[t][i]))] for i in rows]
            ft[t] = _scores([test[i].labels[t] for i in rows], pred, labs)
        res["fine-tuned MiniLM"] = ft
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="fine-tuning benchmark")
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--sections", default="annomi,epitome")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--train-layers", type=int, default=None, help="top layers to train")
    ap.add_argument("--max-train", type=int, default=0, help="cap training examples (0 = all)")
    ap.add_argument("--annomi-max-length", type=int, default=96)
    ap.add_argument("--epitome-max-length", type=int, default=128)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if not (args.data / "annomi").is_dir() or not (args.data / "epitome").is_dir():
        print(f"skipped: evaluation data not found at {args.data}")
        return 0
    import torch

    result: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
        f"Python {sys.version.split()[0]}, 2 torch threads",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
    }
    sections = args.sections.split(",")
    if "annomi" in sections:
        transcripts = read_annomi(args.data)
        tids = sorted(transcripts, key=int)
        test_ids = {t for t, m in zip(tids, split_groups(tids, 0.2, seed=0), strict=True) if m}
        ex = annomi_examples(transcripts)
        mask = np.asarray([e.group in test_ids for e in ex])
        tasks = {"behaviour": BEH4, "talk_type": TALK3}
        result["annomi"] = run("annomi", ex, mask, tasks, args, args.annomi_max_length)
        print(json.dumps({"annomi": result["annomi"]}, indent=2), flush=True)
    if "epitome" in sections:
        ex = epitome_examples(args.data)
        mask = split_groups([e.group for e in ex], 0.2, seed=0)
        tasks = {code: LEVELS for code in MECHANISMS}
        result["epitome"] = run("epitome", ex, mask, tasks, args, args.epitome_max_length)
        print(json.dumps({"epitome": result["epitome"]}, indent=2), flush=True)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
