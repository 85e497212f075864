"""Linear heads on a frozen encoder vs a fine-tuned transformer, on the same corpus v2 split.

    python benchmarks/bench_finetune_v2.py [--linear DIR] [--epochs 2] [--train-layers 3]
                                           [--data ../shared/data] [--json OUT]

The fine-tuned model is `attune train --finetune` (all-MiniLM-L6-v2, top layers updated,
one head per task, input = the two previous turns with role tags + the utterance) trained
on the corpus v2 train and validation sessions of the fixed hash split; the linear model
(default: the bundled ``default`` model, trained on the same sessions) is scored beside it
with the same code, on the same held-out test sessions, and on the public dev data
(EPITOME mechanisms, AnnoMI behaviour in 4 classes) when present. The fine-tuned model
lives in a temporary folder and is deleted.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_coding import (  # type: ignore[import-not-found]
    BEH4,
    MECHANISMS,
    OURS_TO_4,
    annomi_examples,
    read_annomi,
    read_epitome,
)

from attunement.coding.build_default import split_of
from attunement.coding.card import default_model_dir
from attunement.coding.corpus_format import format_session, read_files
from attunement.coding.data import LEVELS, examples_from_sessions
from attunement.coding.labels import compare, gold_from_examples
from attunement.coding.metrics import multiclass_scores
from attunement.coding.scorer import HeadScorer, load_scorer, predict_examples

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus" / "v2" / "sessions"


def score(scorer: HeadScorer, test: list[Any], data: Path) -> dict[str, Any]:
    t0 = time.perf_counter()
    rep = compare(gold_from_examples(test), predict_examples(scorer, test))
    out: dict[str, Any] = {
        "corpus_codes_macro_f1": rep.get("codes_macro_f1"),
        "corpus_behaviour_macro_f1": rep.get("behaviour", {}).get("macro_f1"),
        "corpus_empathy_macro_f1": {c: r["macro_f1"] for c, r in rep["empathy"].items()},
    }
    if (data / "epitome").is_dir():
        for code in MECHANISMS:
            ex = read_epitome(data, code)
            pred = predict_examples(scorer, ex)
            gold = [LEVELS.index(e.empathy[code]) for e in ex]
            guess = [LEVELS.index(p.empathy.get(code, "none")) for p in pred]
            out[f"epitome_{code}"] = multiclass_scores(gold, guess, list(LEVELS))["macro_f1"]
    if (data / "annomi").is_dir():
        ex = [e for e in annomi_examples(read_annomi(data)) if e.behaviour]
        pred = predict_examples(scorer, ex)
        gold4 = [BEH4.index(OURS_TO_4[e.behaviour]) for e in ex]
        guess4 = [BEH4.index(OURS_TO_4.get(p.behaviour or "other", "other")) for p in pred]
        out["annomi_behaviour_4"] = multiclass_scores(gold4, guess4, BEH4)["macro_f1"]
    out["scoring_seconds"] = time.perf_counter() - t0
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--linear", type=Path, default=default_model_dir())
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--train-layers", type=int, default=3)
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    from attunement.coding.finetune_apply import finetune_from_path

    sessions = read_files(CORPUS.glob("*.txt"))
    fit = [s for s in sessions if split_of(s.id) != "test"]
    test = examples_from_sessions([s for s in sessions if split_of(s.id) == "test"])
    result: dict[str, Any] = {"train_sessions": len(fit), "test_turns": len(test)}
    result["linear"] = score(load_scorer(args.linear), test, args.data)
    print(json.dumps({"linear": result["linear"]}, indent=1), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        train_file = Path(tmp) / "train.txt"
        train_file.write_text("".join(format_session(s) for s in fit), encoding="utf-8")
        t0 = time.perf_counter()
        finetune_from_path(
            train_file, Path(tmp) / "ft", epochs=args.epochs, train_layers=args.train_layers
        )
        result["finetune_train_seconds"] = time.perf_counter() - t0
        result["finetuned"] = score(load_scorer(Path(tmp) / "ft"), test, args.data)
    result["command"] = "python benchmarks/bench_finetune_v2.py " + " ".join(argv or sys.argv[1:])
    print(json.dumps(result, indent=1), flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
