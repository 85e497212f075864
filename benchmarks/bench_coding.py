"""Coding accuracy and speed on public evaluation data (EPITOME dev, AnnoMI dev).

    python benchmarks/bench_coding.py [--data ../shared/data] [--quick|--all|--shipped-only]
                                      [--json OUT]

Reads the data from ``../shared/data`` relative to the repository (evaluation only; it is
never copied, and no model trained here is saved) and skips cleanly when it is absent.

* Speed: utterances/s of the full coding analyzer (shipped model) vs. a bare encode of the
  same texts with the same encoder (fresh encoders, no memo hits), peak RSS.
* EPITOME: per mechanism macro-F1 over none/weak/strong: majority class, the shipped
  model as is (transfer; seeker post as context), and in-domain training with the
  `attune train` pipeline on a seeded 80% split (by seeker post), tested on the other 20%.
* AnnoMI: therapist behaviour (4 classes), client talk type (3), question open/closed,
  reflection simple/complex; split by transcript (seeded 80/20). The floor is a frozen
  MiniLM utterance embedding + logistic regression, trained in the same run.
* False alarms (``--false-alarms`` runs only this): a proxy for over-flagging on real
  sessions. Over the AnnoMI *high-quality* MI sessions (good practice, few ruptures) it
  reports, per shipped model, the share of client utterances with any ``W_*``/``C_*``
  marker and of therapist utterances with any ``F_*`` failure, plus the flags per bundled
  example session (which need no external data). No gold exists for these: lower is not
  always better, but a good MI session should show few.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import platform
import resource
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from attunement.analysis.coding import CodingAnalyzer
from attunement.coding.card import CodingModel, TfidfSpec, default_model_dir, load_model
from attunement.coding.data import LEVELS, Example
from attunement.coding.encoders import (
    Encoder,
    StaticEncoder,
    load_encoder,
    static_encoder_path,
)
from attunement.coding.features import Item
from attunement.coding.metrics import multiclass_scores
from attunement.coding.predict import Predictor
from attunement.coding.train import TrainConfig, fit_model, split_groups
from attunement.model import Role, Session, Speaker, Utterance

REPO = Path(__file__).resolve().parents[1]
TFIDF = TfidfSpec(max_features=2000, ngram_max=2, min_df=2)
MECHANISMS = {
    "E_EMOTIONAL_REACTION": "emotional-reactions",
    "E_INTERPRETATION": "interpretations",
    "E_EXPLORATION": "explorations",
}
#: (label, encoders, context, lexical, tfidf, C grid)
GRID = (0.001, 0.004, 0.016)
#: (label, encoders, context, lexical, tfidf, C grid); the baseline is fitted separately
RECIPES: list[tuple[str, tuple[str, ...], tuple[str, ...], bool, bool, tuple[float, ...]]] = [
    ("static + context + lexical", ("static",), ("prev",), True, False, GRID),
    ("MiniLM + context + lexical", ("minilm",), ("prev",), True, False, GRID),
    ("static+MiniLM + context + lexical", ("static", "minilm"), ("prev",), True, False, GRID),
]
BASELINE = "baseline: frozen MiniLM + LR (sklearn defaults)"
BEH4 = ["reflection", "question", "therapist_input", "other"]
OURS_TO_4 = {
    "reflection_simple": "reflection",
    "reflection_complex": "reflection",
    "question_open": "question",
    "question_closed": "question",
    "information": "therapist_input",
    "advice": "therapist_input",
    "other": "other",
}


def _config(recipe: tuple[Any, ...], seed: int = 0) -> TrainConfig:
    _, encs, ctx, lex, tfidf, grid = recipe
    return TrainConfig(
        name="bench",
        encoders=encs,
        context=ctx,
        lexical=lex,
        tfidf=TFIDF if tfidf else None,
        seed=seed,
        valid_fraction=0.2,
        min_support=8,
        c_grid=grid,
    )


def _encoders(names: Sequence[str]) -> list[Encoder]:
    return [load_encoder(n) for n in names]


# --- data -------------------------------------------------------------------------------
def read_epitome(folder: Path, code: str) -> list[Example]:
    path = folder / "epitome" / f"{MECHANISMS[code]}_dev.csv"
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return [
        Example(
            id=r["rp_id"],
            group=r["sp_id"],
            item=Item("therapist", r["response_post"], [("client", r["seeker_post"])]),
            codes=None,
            empathy={code: LEVELS[int(r["level"])]},
            behaviour=None,
            where=f"{path.name}:{i}",
        )
        for i, r in enumerate(rows)
    ]


def read_annomi(folder: Path) -> dict[str, list[dict[str, str]]]:
    """Transcript id → utterances in order (first annotator's row per utterance)."""
    with open(folder / "annomi" / "annomi_dev.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    seen: set[tuple[str, str]] = set()
    out: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        key = (r["transcript_id"], r["utterance_id"])
        if key in seen:
            continue
        seen.add(key)
        out.setdefault(r["transcript_id"], []).append(r)
    for v in out.values():
        v.sort(key=lambda r: int(r["utterance_id"]))
    return out


def _our_behaviour(r: dict[str, str]) -> str:
    main = r["main_therapist_behaviour"]
    if main == "reflection":
        return "reflection_complex" if r["reflection_subtype"] == "complex" else "reflection_simple"
    if main == "question":
        return "question_closed" if r["question_subtype"] == "closed" else "question_open"
    if main == "therapist_input":
        return "information" if r["therapist_input_subtype"] == "information" else "advice"
    return "other"


def annomi_examples(transcripts: dict[str, list[dict[str, str]]]) -> list[Example]:
    """Therapist rows coded with our 7 behaviours (from AnnoMI subtypes), client rows with talk."""
    ex: list[Example] = []
    for tid, rows in transcripts.items():
        hist: list[tuple[str, str]] = []
        for r in rows:
            role = "therapist" if r["interlocutor"] == "therapist" else "client"
            item = Item(role, r["utterance_text"], list(hist[-3:]))
            hist.append((role, r["utterance_text"]))
            beh, codes = None, None
            if role == "therapist" and r["main_therapist_behaviour"] in BEH4:
                beh = _our_behaviour(r)
            if role == "client" and r["client_talk_type"] in ("change", "neutral", "sustain"):
                t = r["client_talk_type"]
                codes = (
                    {"CHANGE_TALK"}
                    if t == "change"
                    else {"SUSTAIN_TALK"}
                    if t == "sustain"
                    else set()
                )
            ex.append(
                Example(
                    id=f"{tid}:{r['utterance_id']}",
                    group=tid,
                    item=item,
                    codes=codes,
                    empathy={},
                    behaviour=beh,
                    where=tid,
                )
            )
    return ex


# --- scoring helpers ----------------------------------------------------------------------
def _probs(model: CodingModel, encs: list[Encoder], ex: Sequence[Example]) -> dict[str, np.ndarray]:
    return Predictor(model, encs).predict([e.item for e in ex])


def _macro(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> float:
    idx = {lab: i for i, lab in enumerate(labels)}
    return float(
        multiclass_scores([idx[g] for g in gold], [idx[p] for p in pred], labels)["macro_f1"]
    )


def annomi_scores(
    model: CodingModel, encs: list[Encoder], test: Sequence[Example]
) -> dict[str, float]:
    probs = _probs(model, encs, test)
    out: dict[str, float] = {}
    card = model.card
    if any(h.name == "behaviour" for h in card.heads):
        h = card.head("behaviour")
        p = probs["behaviour"]
        rows = [i for i, e in enumerate(test) if e.behaviour]
        gold4 = [OURS_TO_4[test[i].behaviour or ""] for i in rows]
        pred4 = [OURS_TO_4[h.labels[int(np.argmax(p[i]))]] for i in rows]
        out["behaviour_4"] = _macro(gold4, pred4, BEH4)
        for a, b, name in (
            ("question_open", "question_closed", "question_open_closed"),
            ("reflection_simple", "reflection_complex", "reflection_simple_complex"),
        ):
            if a in h.labels and b in h.labels:
                sub = [i for i in rows if test[i].behaviour in (a, b)]
                ia, ib = h.labels.index(a), h.labels.index(b)
                pred = [a if p[i, ia] >= p[i, ib] else b for i in sub]
                out[name] = _macro([test[i].behaviour or "" for i in sub], pred, [a, b])
    if any(h.name == "client_codes" for h in card.heads):
        h = card.head("client_codes")
        if {"CHANGE_TALK", "SUSTAIN_TALK"} <= set(h.labels):
            p = probs["client_codes"]
            ic, is_ = h.labels.index("CHANGE_TALK"), h.labels.index("SUSTAIN_TALK")
            rows = [i for i, e in enumerate(test) if e.codes is not None]
            gold = [
                "change"
                if "CHANGE_TALK" in (test[i].codes or ())
                else "sustain"
                if "SUSTAIN_TALK" in (test[i].codes or ())
                else "neutral"
                for i in rows
            ]
            pred = []
            for i in rows:
                pc, ps = p[i, ic], p[i, is_]
                pred.append("neutral" if max(pc, ps) < 0.5 else "change" if pc >= ps else "sustain")
            out["talk_type_3"] = _macro(gold, pred, ["change", "neutral", "sustain"])
    return out


def baseline(train_x: np.ndarray, train_y: Sequence[str], test_x: np.ndarray) -> list[str]:
    """The floor: frozen MiniLM utterance embedding + plain logistic regression."""
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(max_iter=3000, random_state=0).fit(train_x, list(train_y))
    return [str(p) for p in clf.predict(test_x)]


def _minilm(ex: Sequence[Example]) -> np.ndarray:
    return load_encoder("minilm").encode([e.item.text for e in ex])


def _annomi_session(tid: str, rows: list[dict[str, str]]) -> Session:
    """One AnnoMI transcript as a two-speaker Session (rows already in order)."""
    utts = [
        Utterance(
            id=f"u{i + 1:04d}",
            index=i,
            role=Role(r["interlocutor"]),
            speaker=r["interlocutor"],
            text=r["utterance_text"],
        )
        for i, r in enumerate(rows)
    ]
    speakers = [
        Speaker(id="therapist", role=Role.THERAPIST),
        Speaker(id="client", role=Role.CLIENT),
    ]
    return Session(id=tid, utterances=utts, speakers=speakers)


# --- sections -------------------------------------------------------------------------------
def bench_speed(transcripts: dict[str, list[dict[str, str]]], model_dir: Path) -> dict[str, Any]:
    sessions = [_annomi_session(tid, rows) for tid, rows in transcripts.items()]
    texts = [u.text for s in sessions for u in s.utterances]
    model = load_model(model_dir)
    spec = model.card.encoders[0]
    if len(model.card.encoders) != 1 or spec.load != "static":
        return {"skipped": "speed section measures the static shipped model only"}
    bare = StaticEncoder(static_encoder_path())
    t0 = time.perf_counter()
    bare.encode(texts)
    t_bare = time.perf_counter() - t0
    analyzer = CodingAnalyzer(Predictor(model, [StaticEncoder(static_encoder_path())]))
    t0 = time.perf_counter()
    for s in sessions:
        analyzer(s)
    t_pipe = time.perf_counter() - t0
    return {
        "utterances": len(texts),
        "sessions": len(sessions),
        "bare_encode_utt_per_s": len(texts) / t_bare,
        "coding_pipeline_utt_per_s": len(texts) / t_pipe,
        "pipeline_time_over_encode": t_pipe / t_bare,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def bench_epitome(folder: Path, shipped: CodingModel | None, recipes: list[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for code in MECHANISMS:
        ex = read_epitome(folder, code)
        test_mask = split_groups([e.group for e in ex], 0.2, seed=0)
        train = [e for e, m in zip(ex, test_mask, strict=True) if not m]
        test = [e for e, m in zip(ex, test_mask, strict=True) if m]
        gold = [e.empathy[code] for e in test]
        majority = Counter(e.empathy[code] for e in train).most_common(1)[0][0]
        res: dict[str, Any] = {
            "n_train": len(train),
            "n_test": len(test),
            "majority": _macro(gold, [majority] * len(gold), LEVELS),
        }
        if shipped is not None and any(h.name == code for h in shipped.card.heads):
            encs = _encoders([s.load for s in shipped.card.encoders])
            p = _probs(shipped, encs, ex)[code]
            res["shipped_transfer_all"] = _macro(
                [e.empathy[code] for e in ex], [LEVELS[int(np.argmax(r))] for r in p], LEVELS
            )
            res["shipped_transfer_test"] = _macro(
                gold,
                [LEVELS[int(np.argmax(r))] for r, m in zip(p, test_mask, strict=True) if m],
                LEVELS,
            )
        if recipes:
            res[BASELINE] = _macro(
                gold,
                baseline(_minilm(train), [e.empathy[code] for e in train], _minilm(test)),
                LEVELS,
            )
        for recipe in recipes:
            model = fit_model(train, _config(recipe), encoders=_encoders(recipe[1])).model
            p = _probs(model, _encoders(recipe[1]), test)[code]
            res[recipe[0]] = _macro(gold, [LEVELS[int(np.argmax(r))] for r in p], LEVELS)
        out[code] = res
        logging.info("EPITOME %s done", code)
    return out


def _talk(e: Example) -> str:
    c = e.codes or set()
    return "change" if "CHANGE_TALK" in c else "sustain" if "SUSTAIN_TALK" in c else "neutral"


def _annomi_baseline(train7: list[Example], test7: list[Example]) -> dict[str, float]:
    tr_t = [e for e in train7 if e.behaviour]
    te_t = [e for e in test7 if e.behaviour]
    pred = baseline(_minilm(tr_t), [OURS_TO_4[e.behaviour or ""] for e in tr_t], _minilm(te_t))
    res = {"behaviour_4": _macro([OURS_TO_4[e.behaviour or ""] for e in te_t], pred, BEH4)}
    tr_c = [e for e in train7 if e.codes is not None]
    te_c = [e for e in test7 if e.codes is not None]
    pred = baseline(_minilm(tr_c), [_talk(e) for e in tr_c], _minilm(te_c))
    res["talk_type_3"] = _macro([_talk(e) for e in te_c], pred, ["change", "neutral", "sustain"])
    return res


def bench_annomi(
    transcripts: dict[str, list[dict[str, str]]], shipped: CodingModel | None, recipes: list[Any]
) -> dict[str, Any]:
    tids = sorted(transcripts, key=int)
    test_ids = {t for t, m in zip(tids, split_groups(tids, 0.2, seed=0), strict=True) if m}
    ex7 = annomi_examples(transcripts)
    train7 = [e for e in ex7 if e.group not in test_ids]
    test7 = [e for e in ex7 if e.group in test_ids]
    out: dict[str, Any] = {
        "split": f"transcripts: {len(tids) - len(test_ids)} train / {len(test_ids)} test (seed 0)",
        "n_test_utterances": len(test7),
    }
    if recipes:
        out[BASELINE] = _annomi_baseline(train7, test7)
    if shipped is not None:
        encs = _encoders([s.load for s in shipped.card.encoders])
        out["shipped, test transcripts"] = annomi_scores(shipped, encs, test7)
        out["shipped, all 93 transcripts"] = annomi_scores(shipped, encs, ex7)
    for recipe in recipes:
        encs = _encoders(recipe[1])
        # one model with our 7 behaviour classes, collapsed to AnnoMI's 4 for scoring
        m7 = fit_model(train7, _config(recipe), encoders=encs).model
        out[recipe[0]] = annomi_scores(m7, encs, test7)
        logging.info("AnnoMI %s done", recipe[0])
    return out


def _flag_rates(analyzer: CodingAnalyzer, sessions: Sequence[Session]) -> dict[str, Any]:
    """Client turns with any W_*/C_* marker, therapist turns with any F_*, over sessions."""
    tag = analyzer.tag
    client = therapist = c_flag = t_flag = 0
    per_code: Counter[str] = Counter()
    for s in sessions:
        analyzer(s)
        for u in s.utterances:
            codes = {a.code for a in u.annotations if a.source == tag}
            if u.role is Role.CLIENT:
                client += 1
                markers = {c for c in codes if c.startswith(("W_", "C_"))}
                c_flag += bool(markers)
                per_code.update(markers)
            elif u.role is Role.THERAPIST:
                therapist += 1
                fails = {c for c in codes if c.startswith("F_")}
                t_flag += bool(fails)
                per_code.update(fails)
    return {
        "client_turns": client,
        "client_with_marker": round(c_flag / client, 3) if client else None,
        "therapist_turns": therapist,
        "therapist_with_failure": round(t_flag / therapist, 3) if therapist else None,
        "codes": dict(per_code.most_common()),
    }


def _annomi_sessions(transcripts: dict[str, list[dict[str, str]]], quality: str) -> list[Session]:
    out = []
    for tid, rows in transcripts.items():
        if rows[0].get("mi_quality") != quality:
            continue
        out.append(_annomi_session(tid, rows))
    return out


def bench_false_alarms(folder: Path, model_dirs: Sequence[Path]) -> dict[str, Any]:
    """Over-flagging proxy per model: AnnoMI high-quality sessions and the bundled examples.

    AnnoMI has no rupture or failure codes, so these are rates of flags, not errors; the
    high-quality MI sessions are mostly ordinary, collaborative talk, so a high share of
    flagged turns points to false alarms. Skips the AnnoMI part with a message when the
    data is absent.
    """
    from attunement.io import read_session

    examples_dir = REPO / "src" / "attunement" / "examples" / "sessions"
    example_files = sorted(
        p
        for p in examples_dir.rglob("*")
        if p.is_file() and p.suffix != ".md" and not p.name.startswith(("responses.", "client."))
    )
    annomi_csv = folder / "annomi" / "annomi_dev.csv"
    transcripts = read_annomi(folder) if annomi_csv.exists() else None
    if transcripts is None:
        print(f"false alarms: AnnoMI not found at {annomi_csv}, skipping that part")
    out: dict[str, Any] = {}
    for model_dir in model_dirs:
        if not (model_dir / "model.json").exists():
            print(f"false alarms: no model at {model_dir}, skipped")
            continue
        model = load_model(model_dir)
        analyzer = CodingAnalyzer(
            Predictor(model, _encoders([s.load for s in model.card.encoders]))
        )
        res: dict[str, Any] = {}
        if transcripts is not None:
            high = _annomi_sessions(transcripts, "high")
            res["annomi_high"] = {"sessions": len(high), **_flag_rates(analyzer, high)}
        per_example = {}
        for path in example_files:
            rates = _flag_rates(analyzer, [read_session(path)])
            per_example[str(path.relative_to(examples_dir))] = rates
        res["examples"] = per_example
        out[model_dir.name] = res
        line = f"{model_dir.name}: "
        if "annomi_high" in res:
            a = res["annomi_high"]
            line += (
                f"AnnoMI high ({a['sessions']} sessions): client turns with W_/C_ marker "
                f"{a['client_with_marker']:.1%} of {a['client_turns']}, therapist turns with "
                f"F_ {a['therapist_with_failure']:.1%} of {a['therapist_turns']}"
            )
        print(line, flush=True)
        for name, r in per_example.items():
            print(
                f"  {name:42s} client marked {r['client_with_marker']:.0%} "
                f"of {r['client_turns']}, therapist F_ {r['therapist_with_failure']:.0%} "
                f"of {r['therapist_turns']}  {r['codes']}",
                flush=True,
            )
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="coding benchmark")
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--model", type=Path, default=default_model_dir())
    ap.add_argument("--quick", action="store_true", help="only the baseline and best recipe")
    ap.add_argument("--all", action="store_true", help="also the static+MiniLM recipe (slow)")
    ap.add_argument(
        "--shipped-only", action="store_true", help="baseline and shipped model, no training"
    )
    ap.add_argument(
        "--false-alarms",
        action="store_true",
        help="only the over-flagging proxy (AnnoMI high-quality sessions, bundled examples)",
    )
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.false_alarms:
        models = (
            [args.model, args.model.parent / "fast"]
            if args.model == default_model_dir()
            else [args.model]
        )
        fa = bench_false_alarms(args.data, models)
        if args.json:
            args.json.write_text(json.dumps({"false_alarms": fa}, indent=2))
        return 0
    if not (args.data / "annomi").is_dir() or not (args.data / "epitome").is_dir():
        print(f"skipped: evaluation data not found at {args.data}")
        return 0
    recipes = (
        []
        if args.shipped_only
        else [RECIPES[1]]
        if args.quick
        else RECIPES
        if args.all
        else RECIPES[:2]
    )
    shipped = load_model(args.model) if (args.model / "model.json").exists() else None
    t0 = time.perf_counter()
    transcripts = read_annomi(args.data)
    result: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "shipped_model": shipped.card.name if shipped else None,
    }
    if shipped is not None:
        result["speed"] = bench_speed(transcripts, args.model)
        print(json.dumps({"speed": result["speed"]}, indent=2), flush=True)
    result["epitome"] = bench_epitome(args.data, shipped, recipes)
    print(json.dumps({"epitome": result["epitome"]}, indent=2), flush=True)
    result["annomi"] = bench_annomi(transcripts, shipped, recipes)
    print(json.dumps({"annomi": result["annomi"]}, indent=2), flush=True)
    result["seconds"] = round(time.perf_counter() - t0, 1)
    print(f"total {result['seconds']} s")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
