"""Recall and precision of `attune deid` per identifier type, and its speed.

    python benchmarks/bench_deid.py --json benchmarks/results/deid.json
    python benchmarks/render_docs.py

The sets in benchmarks/data/deid/ are invented session excerpts written for this project
by separate writer agents (not from the examples, tests or evaluation data), with every
identifier marked inline as ``[[TYPE:text]]``; speaker labels that are names count as
identifiers too. ``test_*.jsonl`` is held out: the recognizers were developed on
``dev.jsonl`` only. Scoring, per gold identifier:

- *recall* — no letter or digit of it is left in the output (caught by spans of any type;
  what matters for sharing is that nothing leaks);
- *typed recall* — caught, and by a span of the same type;
- *precision* — share of replaced spans that overlap a gold identifier.

Configurations: ``presidio-only`` (Presidio's pattern recognizers alone, the library's
offline baseline: no names without a spaCy model), ``default`` (`attune deid`) and
``with-presidio`` (`attune deid --presidio`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "benchmarks" / "data" / "deid"
MODES = ("presidio-only", "default", "with-presidio")
MARK = re.compile(r"\[\[([A-Z]+):(.+?)\]\]")


def strip_marks(text: str) -> tuple[str, list[tuple[int, int, str]]]:
    out, gold, pos = [], [], 0
    length = 0
    for m in MARK.finditer(text):
        before = text[pos : m.start()]
        out.append(before)
        length += len(before)
        gold.append((length, length + len(m.group(2)), m.group(1)))
        out.append(m.group(2))
        length += len(m.group(2))
        pos = m.end()
    out.append(text[pos:])
    return "".join(out), gold


def load(paths: list[Path]) -> dict[str, list[dict[str, Any]]]:
    """Client key → excerpts (labels and texts stripped, gold spans)."""
    clients: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            rec = json.loads(line)
            turns = []
            for label, text in rec["turns"]:
                lb, lgold = strip_marks(label)
                tx, tgold = strip_marks(text)
                turns.append((lb, lgold, tx, tgold))
            clients[f"{path.stem}:{rec['client']}"].append({"id": rec["id"], "turns": turns})
    return clients


def _covered(text: str, start: int, end: int, spans: list[Any]) -> tuple[bool, str | None]:
    """Is every letter and digit of the identifier replaced? A trailing possessive "'s"
    ("Kinsella's" → "[ORGANIZATION_1]'s") identifies nobody and may stay."""
    if text[start:end].lower().replace("’", "'").endswith("'s"):
        end -= 2
    chars = [i for i in range(start, end) if text[i].isalnum()]
    kinds = []
    for i in chars:
        hit = next((s for s in spans if s.start <= i < s.end), None)
        if hit is None:
            return False, None
        kinds.append(hit.type)
    return True, Counter(kinds).most_common(1)[0][0] if kinds else None


def run(clients: dict[str, list[dict[str, Any]]], mode: str) -> dict[str, Any]:
    from attunement.deid.engine import _presidio_spans, resolve
    from attunement.deid.group import find_group

    gold_n: Counter[str] = Counter()
    caught: Counter[str] = Counter()
    typed: Counter[str] = Counter()
    pred_n: Counter[str] = Counter()
    pred_ok: Counter[str] = Counter()
    labels_n = labels_caught = 0
    misses: list[tuple[str, str]] = []
    false_pos: list[tuple[str, str]] = []
    n_texts = 0
    t0 = time.perf_counter()
    for excerpts in clients.values():
        turns = [t for e in excerpts for t in e["turns"]]
        labels = sorted({t[0] for t in turns})
        texts = [t[2] for t in turns]
        n_texts += len(texts)
        if mode == "presidio-only":
            spans = [resolve(_presidio_spans(x)) for x in texts]
            lab = {lb: [] for lb in labels}
        else:
            spans, lspans = find_group(texts, labels, use_presidio=(mode == "with-presidio"))
            lab = {lb: [s] if s else [] for lb, s in zip(labels, lspans, strict=True)}
        for (lb, lgold, tx, tgold), sp in zip(turns, spans, strict=True):
            for text, gold, pred in ((lb, lgold, lab[lb]), (tx, tgold, sp)):
                for start, end, kind in gold:
                    gold_n[kind] += 1
                    ok, got = _covered(text, start, end, pred)
                    if text is lb:
                        labels_n += 1
                        labels_caught += ok
                    if ok:
                        caught[kind] += 1
                        typed[kind] += got == kind
                    else:
                        misses.append((kind, text[start:end]))
                for s in pred:
                    pred_n[s.type] += 1
                    if any(s.start < e and s.end > b for b, e, _ in gold):
                        pred_ok[s.type] += 1
                    else:
                        false_pos.append((s.type, text[s.start : s.end]))
    seconds = time.perf_counter() - t0
    types = sorted(set(gold_n) | set(pred_n), key=lambda k: -gold_n[k])
    per = {
        k: {
            "gold": gold_n[k],
            "recall": caught[k] / gold_n[k] if gold_n[k] else None,
            "typed_recall": typed[k] / gold_n[k] if gold_n[k] else None,
            "predicted": pred_n[k],
            "precision": pred_ok[k] / pred_n[k] if pred_n[k] else None,
        }
        for k in types
    }
    total_gold, total_pred = sum(gold_n.values()), sum(pred_n.values())
    return {
        "per_type": per,
        "all": {
            "gold": total_gold,
            "recall": sum(caught.values()) / total_gold,
            "typed_recall": sum(typed.values()) / total_gold,
            "predicted": total_pred,
            "precision": sum(pred_ok.values()) / total_pred if total_pred else None,
        },
        "person_labels": {
            "gold": labels_n,
            "recall": labels_caught / labels_n if labels_n else None,
        },
        "person_in_talk": {
            "gold": gold_n["PERSON"] - labels_n,
            "recall": (caught["PERSON"] - labels_caught) / (gold_n["PERSON"] - labels_n)
            if gold_n["PERSON"] > labels_n
            else None,
        },
        "texts": n_texts,
        "seconds": seconds,
        "texts_per_s": n_texts / seconds,
        "_misses": misses,
        "_false_positives": false_pos,
    }


def agreement(first: list[Path], second: Path) -> dict[str, Any]:
    """How far a second, blind coder's marks agree with the set's: per type, the
    positive agreement 2·matched / (first + second), a mark matching one of the same type
    that overlaps it (and for "any", of any type)."""
    ref: dict[str, Any] = {}
    for path in first:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                rec = json.loads(line)
                ref[rec["id"]] = rec
    n_a: Counter[str] = Counter()
    n_b: Counter[str] = Counter()
    both: Counter[str] = Counter()
    excerpts = 0
    for line in second.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        rec = json.loads(line)
        excerpts += 1
        for (la, ta), (lb, tb) in zip(ref[rec["id"]]["turns"], rec["turns"], strict=True):
            for a_text, b_text in ((la, lb), (ta, tb)):
                _, ga = strip_marks(a_text)
                _, gb = strip_marks(b_text)
                for _, _, k in ga:
                    n_a[k] += 1
                    n_a["any"] += 1
                for _, _, k in gb:
                    n_b[k] += 1
                    n_b["any"] += 1
                for s1, e1, k1 in ga:
                    hits = [k2 for s2, e2, k2 in gb if s1 < e2 and s2 < e1]
                    both["any"] += bool(hits)
                    both[k1] += k1 in hits
    kinds = sorted(set(n_a) | set(n_b), key=lambda k: (k != "any", -n_a[k]))
    return {
        "excerpts": excerpts,
        "per_type": {
            k: {
                "first": n_a[k],
                "second": n_b[k],
                "agreement": 2 * both[k] / (n_a[k] + n_b[k]) if n_a[k] + n_b[k] else None,
            }
            for k in kinds
        },
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", choices=["dev", "dev2", "test"], default="test")
    ap.add_argument("--json", type=Path, help="write the results here")
    ap.add_argument(
        "--show-errors", action="store_true", help="print misses and false positives (dev set only)"
    )
    args = ap.parse_args(argv)
    paths = (
        sorted(DATA.glob("test_*.jsonl")) if args.set == "test" else [DATA / f"{args.set}.jsonl"]
    )
    clients = load(paths)
    t0 = time.perf_counter()
    from attunement.deid.engine import presidio
    from attunement.deid.lexicon import gazetteers, lists

    lists()
    gazetteers()
    t_lex = time.perf_counter() - t0
    presidio()
    t_presidio = time.perf_counter() - t0 - t_lex
    run(clients, "default")  # warm the caches (word frequencies) so speeds compare
    results = {m: run(clients, m) for m in MODES}
    for mode, r in results.items():
        a = r["all"]
        print(
            f"{mode:13s} recall {a['recall']:.3f} typed {a['typed_recall']:.3f} "
            f"precision {a['precision'] or 0:.3f}  {r['texts_per_s']:.0f} texts/s; "
            f"names in talk {r['person_in_talk']['recall'] or 0:.3f} "
            f"(n={r['person_in_talk']['gold']}), speaker labels "
            f"{r['person_labels']['recall'] or 0:.3f} (n={r['person_labels']['gold']})"
        )
        for k, v in r["per_type"].items():
            rec = "-" if v["recall"] is None else f"{v['recall']:.3f}"
            pre = "-" if v["precision"] is None else f"{v['precision']:.3f}"
            print(
                f"   {k:13s} gold {v['gold']:4d} recall {rec} precision {pre} "
                f"(predicted {v['predicted']})"
            )
    second = DATA / "second_coder.jsonl"
    agree = agreement(paths, second) if args.set == "test" and second.exists() else None
    if agree:
        print(
            f"second coder, {agree['excerpts']} excerpts: "
            + ", ".join(
                f"{k} {v['agreement']:.2f}"
                for k, v in agree["per_type"].items()
                if v["agreement"] is not None
            )
        )
    if args.show_errors:
        if args.set == "test":
            print("errors are shown for the dev set only", file=sys.stderr)
            return 2
        r = results["default"]
        for kind, text in r["_misses"]:
            print("MISS", kind, repr(text))
        for kind, text in r["_false_positives"]:
            print("FP  ", kind, repr(text))
    if args.json:
        doc = {
            "date": dt.date.today().isoformat(),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores",
            "command": "python benchmarks/bench_deid.py --json benchmarks/results/deid.json",
            "set": args.set,
            "files": [p.name for p in paths],
            "clients": len(clients),
            "excerpts": sum(len(v) for v in clients.values()),
            "load_s": {"lists_and_gazetteers": t_lex, "presidio": t_presidio},
            "second_coder": agree,
            "runs": {
                m: {k: v for k, v in r.items() if not k.startswith("_")} for m, r in results.items()
            },
        }
        args.json.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
