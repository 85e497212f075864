"""Write the generated tables of ``docs/benchmarks.md`` from the benchmarks' JSON output.

    python benchmarks/render_docs.py [--check]

Reads ``benchmarks/results/*.json`` (written by the scripts with ``--json``) and replaces
each block between ``<!-- generated:NAME -->`` and ``<!-- /generated:NAME -->`` in
``docs/benchmarks.md``. ``--check`` exits 1 when the document is out of date (a test runs
it), so a table can never drift from the numbers that produced it.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DOC = HERE.parent / "docs" / "benchmarks.md"
RESULTS = HERE / "results"


def _f(v: Any, nd: int = 3) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.{nd}f}"
    return str(v)


def _pct(v: Any) -> str:
    return "–" if v is None else f"{100 * v:.1f} %"


def _met(value: Any, target: float, lower_is_better: bool = False) -> str:
    if value is None:
        return "–"
    ok = value <= target if lower_is_better else value >= target
    return "met" if ok else "not met"


def targets_table(doc: dict[str, Any]) -> str:
    models: dict[str, Any] = doc["models"]
    t = doc["targets"]
    names = list(models)
    head = "| measure | target | " + " | ".join(names) + " |"
    sep = "|---|---|" + "---|" * len(names)
    rows = [head, sep]

    def row(label: str, target: str, cells: list[str]) -> None:
        rows.append(f"| {label} | {target} | " + " | ".join(cells) + " |")

    def get(m: dict[str, Any], *path: str) -> Any:
        cur: Any = m
        for p in path:
            if not isinstance(cur, dict) or p not in cur:
                return None
            cur = cur[p]
        return cur

    for code, goal in t["epitome"].items():
        row(
            f"EPITOME {code} macro-F1 (transfer)",
            f"≥ {goal}",
            [_f(get(models[n], "epitome", code)) for n in names],
        )
    labels = {
        "behaviour_4": "AnnoMI therapist behaviour (4) macro-F1",
        "question_open_closed": "AnnoMI question open/closed macro-F1",
        "reflection_simple_complex": "AnnoMI reflection simple/complex macro-F1",
    }
    for key, goal in t["annomi"].items():
        row(labels[key], f"≥ {goal}", [_f(get(models[n], "annomi", key)) for n in names])
    row(
        "AnnoMI high-quality: client turns with any marker",
        f"≤ {100 * t['false_alarms']['client_with_marker']:.0f} %",
        [_pct(get(models[n], "false_alarms", "client_with_marker")) for n in names],
    )
    row(
        "AnnoMI high-quality: therapist turns with any F_*",
        f"≤ {100 * t['false_alarms']['therapist_with_failure']:.0f} %",
        [_pct(get(models[n], "false_alarms", "therapist_with_failure")) for n in names],
    )

    def auc(n: str, key: str) -> str:
        a = get(models[n], "quality", "auc", key)
        if not a:
            return "–"
        return f"{a['auc']:.3f} [{a['ci'][0]:.2f}, {a['ci'][1]:.2f}] (n={a['n']})"

    row(
        "Session quality total AUC, high vs low MI [95 % CI]",
        "≥ 0.80",
        [auc(n, "score") for n in names],
    )
    row(
        "Corpus v2 held-out: macro-F1, binary codes",
        f"≥ {t['corpus']['codes_macro_f1']}",
        [_f(get(models[n], "corpus", "codes_macro_f1")) for n in names],
    )
    row(
        "Utterances/s, coding only (4,000 AnnoMI turns)",
        f"≥ {t['speed']['fast_utt_per_s']} (fast path)",
        [_f(get(models[n], "speed", "utt_per_s"), 0) for n in names],
    )
    row(
        "600-utterance session: coding seconds after load",
        f"≤ {t['speed']['session_600_seconds']} s (default)",
        [_f(get(models[n], "speed", "session_600_seconds"), 2) for n in names],
    )
    row(
        "  bare encode of the same 600 (same run)",
        "baseline",
        [_f(get(models[n], "speed", "bare_encode_600_seconds"), 2) for n in names],
    )
    row(
        "Peak RSS, MB (the model's own process)",
        "report",
        [_f(get(models[n], "speed", "peak_rss_mb"), 0) for n in names],
    )
    meta = f"Last run {doc['date']} on {doc['machine']}: `{doc['command'].strip()}`."
    return meta + "\n\n" + "\n".join(rows)


def indicators_table(doc: dict[str, Any]) -> str:
    models: dict[str, Any] = doc["models"]
    names = list(models)
    keys: list[str] = []
    for n in names:
        for k in models[n].get("quality", {}).get("auc") or {}:
            if k not in keys:
                keys.append(k)
    rows = ["| AUC high vs low [95 % CI] | " + " | ".join(names) + " |"]
    rows.append("|---|" + "---|" * len(names))
    for k in keys:
        cells = []
        for n in names:
            a = (models[n].get("quality", {}).get("auc") or {}).get(k)
            cells.append("–" if not a else f"{a['auc']:.3f} [{a['ci'][0]:.2f}, {a['ci'][1]:.2f}]")
        rows.append(f"| `{k}` | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def corpus_table(doc: dict[str, Any]) -> str:
    models: dict[str, Any] = doc["models"]
    names = [n for n in models if models[n].get("corpus")]
    if not names:
        return "(no corpus results)"
    codes: list[str] = []
    for n in names:
        for c in models[n]["corpus"]["per_code"]:
            if c not in codes:
                codes.append(c)
    rows = ["| code | support | " + " | ".join(f"{n} P / R / F1" for n in names) + " |"]
    rows.append("|---|---|" + "---|" * len(names))
    for c in codes:
        sup = next(
            (
                models[n]["corpus"]["per_code"][c]["support"]
                for n in names
                if c in models[n]["corpus"]["per_code"]
            ),
            None,
        )
        cells = []
        for n in names:
            r = models[n]["corpus"]["per_code"].get(c)
            cells.append(
                "–" if r is None else f"{r['precision']:.2f} / {r['recall']:.2f} / {r['f1']:.2f}"
            )
        rows.append(f"| `{c}` | {sup} | " + " | ".join(cells) + " |")
    extra = []
    for n in names:
        cm = models[n]["corpus"]
        emp = ", ".join(f"{k} {v:.3f}" for k, v in cm["empathy_macro_f1"].items())
        extra.append(
            f"- {n}: {cm['test_sessions']} test sessions, {cm['test_turns']} turns; "
            f"macro-F1 binary codes {_f(cm['codes_macro_f1'])}; "
            f"behaviour {_f(cm['behaviour_macro_f1'])}; empathy {emp}"
        )
    return "\n".join(rows) + "\n\n" + "\n".join(extra)


def agreement_table(doc: dict[str, Any]) -> str:
    rows = ["| code | coder A positives | coder B positives | agreement | Cohen's kappa |"]
    rows.append("|---|---|---|---|---|")
    for code, r in doc["codes"].items():
        cells = [str(r["a_pos"]), str(r["b_pos"]), _pct(r["agreement"]), _f(r["kappa"])]
        rows.append(f"| `{code}` | " + " | ".join(cells) + " |")
    meta = (
        f"{doc['turns']} turns from {doc['sessions']} sessions, coded twice; "
        f"mean kappa over codes with any positive: {_f(doc['mean_kappa'])}. "
        f"Behaviour (7 classes) kappa {_f(doc.get('behaviour_kappa'))}; empathy (3 levels) "
        + ", ".join(f"{k} {_f(v)}" for k, v in doc.get("empathy_kappa", {}).items())
        + "."
    )
    return meta + "\n\n" + "\n".join(rows)


def fuzz_table(doc: dict[str, Any]) -> str:
    statuses = ("crash", "hang", "leak", "leftover", "control")
    statuses += ("harness",) if doc["totals"].get("harness") else ()
    head = "| input kind | inputs | accepted | refused (project error) | " + " | ".join(
        f"{s}es" if s == "crash" else f"{s}s" for s in statuses
    )
    rows = [head + " | mean ms |", "|---|" + "---|" * (4 + len(statuses))]
    for kind, c in doc["per_kind"].items():
        n = sum(c.values())
        cells = [str(n), str(c["ok"]), str(c["refused"]), *(str(c.get(s, 0)) for s in statuses)]
        rows.append(
            f"| {kind} | " + " | ".join(cells) + f" | {_f(doc['mean_ms_per_kind'][kind], 0)} |"
        )
    t = doc["totals"]
    cells = [
        str(doc["inputs"]),
        str(t["ok"]),
        str(t["refused"]),
        *(str(t.get(s, 0)) for s in statuses),
    ]
    rows.append("| **all** | " + " | ".join(f"**{c}**" for c in cells) + " | |")
    meta = (
        f"Last run {doc['date']} on {doc['machine']}: `{doc['command'].strip()}` — "
        f"{doc['inputs']:,} inputs in {doc['seconds']:,.0f} s "
        f"({doc['inputs_per_second']} inputs/s, {doc['workers']} worker processes), "
        f"time limit {doc['time_limit_s']:g} s per input"
        + (
            f" ({doc['train_time_limit_s']:g} s for train), "
            if "train_time_limit_s" in doc
            else ", "
        )
        + f"address-space limit {doc['memory_limit_mb']:,} MB per worker; peak RSS of a worker "
        f"{doc['peak_rss_mb']:,.0f} MB; slowest input {doc['slowest_input_s']} s."
        + ("" if doc.get("complete", True) else " **Run stopped before the end.**")
    )
    out = meta + "\n\n" + "\n".join(rows)
    if doc["failures"]:
        lines = [
            f"- {f['count']} × {f['status']} ({f['kind']}): {f['detail']}; inputs {f['seeds']}"
            for f in doc["failures"]
        ]
        out += "\n\nFailures, by where they come from:\n\n" + "\n".join(lines)
    return out


def app_load_table(doc: dict[str, Any]) -> str:
    c = doc["config"]
    head = (
        "| backend | page | load | requests | errors | req/s | p50 ms | p95 ms | p99 ms "
        "| server CPU ms/request | machine load | p95 < 150 ms |"
    )
    rows = [head, "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for backend, b in doc["backends"].items():
        for page, modes in b["pages"].items():
            for r in modes.values():
                how = f"paced (think {r['think_s']:g} s)" if r["think_s"] else "saturated"
                target = _met(r["p95_ms"], doc["target_p95_ms"], lower_is_better=True)
                if r["errors"]:
                    target = "not met"
                cells = [
                    backend,
                    page,
                    how,
                    str(r["requests"]),
                    str(r["errors"]),
                    _f(r["rps"], 1),
                    _f(r["p50_ms"], 0),
                    _f(r["p95_ms"], 0),
                    _f(r["p99_ms"], 0),
                    _f(r["server_cpu_ms_per_request"], 1),
                    f"{r['load_avg_before']:.1f}→{r['load_avg_after']:.1f}",
                    target,
                ]
                rows.append("| " + " | ".join(cells) + " |")
    first = next(iter(doc["backends"].values()))["clinic"]
    meta = (
        f"Last run {doc['date']} on {doc['machine']}: `{doc['command'].strip()}` — "
        f"{c['users']} signed-in users over {c['therapists']} therapists, "
        f"{first['clients']} clients, {first['sessions']:,} analyzed sessions of "
        f"~{first['turns_per_transcript']} turns ({c['clients']} clients × {c['sessions']} "
        f"sessions per therapist); paced {c['seconds']:g} s and saturated "
        f"{c['saturation_seconds']:g} s per page; one server process, worker off."
    )
    return meta + "\n\n" + "\n".join(rows)


def batch_table(doc: dict[str, Any]) -> str:
    """`attune batch` throughput (issue 10) and the scale plan computed from it."""
    names = {"single": "single process (baseline)", "local": "local engine", "ray": "Ray"}
    rows = [
        "| run | workers | wall s | utterances/s | × single | steady utt/s | × single (steady) "
        "| first result s | peak RSS per worker MB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for mode, r in doc["runs"].items():
        workers = 1 if mode == "single" else doc["workers"]
        rows.append(
            f"| {names.get(mode, mode)} | {workers} | {r['wall_s']:.1f} | "
            f"{r['utterances_per_s']:,.0f} | {r['ratio_to_single']:.2f} | "
            f"{r['steady_utterances_per_s']:,.0f} | {r['steady_ratio_to_single']:.2f} | "
            f"{r['first_result_s']:.1f} | {r['peak_rss_mb_per_worker']} |"
        )
    meta = (
        f"Last run {doc['date']} on {doc['machine']} (load {doc['load_1min']} at the end, "
        f"shared with other work): `{doc['command'].strip()}` — {doc['sessions']} generated "
        f"sessions, {doc['runs']['single']['utterances']:,} utterances, {doc['model']} model. "
        "*Wall* includes "
        "building the run identity and starting the workers (Ray's own start-up, "
        f"{doc['runs'].get('ray', {}).get('ray_init_s', 0):.1f} s, is not counted); *steady* "
        "counts from the first result of every worker to the last."
    )
    out = meta + "\n\n" + "\n".join(rows)
    ray = doc["runs"].get("ray")
    if ray and ray.get("steady_utterances_per_s"):
        per_worker = ray["steady_utterances_per_s"] / doc["workers"]
        per_session, sessions = 600, 100_000
        plan = [
            "| Ray workers | hours for 100,000 sessions |",
            "|---|---|",
        ]
        for n in (2, 8, 32, 128):
            hours = (sessions * per_session / (n * per_worker) + ray["first_result_s"]) / 3600
            plan.append(f"| {n} | {hours:,.1f} |")
        out += (
            f"\n\nScale plan (on paper): a measured {per_worker:,.0f} utterances/s per Ray "
            f"worker (steady, fast model), {per_session} utterances per 60-minute session "
            "(as bench_session.py), linear in workers:\n\n" + "\n".join(plan)
        )
    return out


def deid_table(doc: dict[str, Any]) -> str:
    """`attune deid` recall and precision per identifier type (issue 10)."""
    runs = doc["runs"]
    modes = [
        ("default", "attune deid"),
        ("with-presidio", "--presidio"),
        ("presidio-only", "Presidio alone"),
    ]
    head = (
        "| type | gold | "
        + " | ".join(f"{label} recall | {label} precision" for _, label in modes)
        + " | typed recall |"
    )
    rows = [head, "|---|---|" + "---|---|" * len(modes) + "---|"]

    def cells(mode: str, kind: str | None) -> list[str]:
        v = runs[mode]["all"] if kind is None else runs[mode]["per_type"].get(kind, {})
        return [_f(v.get("recall")), _f(v.get("precision"))]

    kinds = list(runs["default"]["per_type"])
    for kind in [*kinds, None]:
        gold = runs["default"]["all"] if kind is None else runs["default"]["per_type"][kind]
        label = "**all**" if kind is None else kind
        line = [label, str(gold["gold"])]
        for mode, _ in modes:
            line += cells(mode, kind)
        line.append(_f(gold["typed_recall"]))
        rows.append("| " + " | ".join(line) + " |")
    d = runs["default"]
    meta = (
        f"Last run {doc['date']} on {doc['machine']}: `{doc['command']}` — held-out set "
        f"{', '.join(doc['files'])}: {doc['excerpts']} excerpts of {doc['clients']} clients, "
        f"{d['all']['gold']} identifiers ({d['texts']:,} turns). Names: recall "
        f"{_f(d['per_type']['PERSON']['recall'])} in all (target ≥ 0.95), "
        f"{_f(d['person_in_talk']['recall'])} for the {d['person_in_talk']['gold']} names in "
        f"the talk, {_f(d['person_labels']['recall'])} for the {d['person_labels']['gold']} "
        f"speaker labels that are names. Speed (warm): default "
        f"{runs['default']['texts_per_s']:,.0f} turns/s, --presidio "
        f"{runs['with-presidio']['texts_per_s']:,.0f} turns/s; loading: word lists and "
        f"gazetteers {doc['load_s']['lists_and_gazetteers']:.1f} s, Presidio "
        f"{doc['load_s']['presidio']:.1f} s more."
    )
    out = meta + "\n\n" + "\n".join(rows)
    sc = doc.get("second_coder")
    if sc:
        parts = ", ".join(
            f"{k} {_f(v['agreement'], 2)} ({v['first']}/{v['second']})"
            for k, v in sc["per_type"].items()
            if v["agreement"] is not None
        )
        out += (
            f"\n\nThe set's marks against a second, blind coder on {sc['excerpts']} "
            f"excerpts (positive agreement; marks first/second): {parts}."
        )
    return out


def audio_table(doc: dict[str, Any]) -> str:
    """`attune transcribe` speed, accuracy and memory (issue 11)."""
    names = {
        "tracks": "one file per participant",
        "stereo": "stereo, a voice per channel",
        "mixed": "one mixed track (diarized)",
        "long_mixed": "long: one mixed track",
        "long_tracks": "long: one file per participant",
    }
    rows = [
        "| layout | audio | WER | DER (missed / false alarm / confusion) | turns right "
        "| RTF decode | RTF VAD | RTF ASR | RTF diarization | RTF total | peak RSS MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key, r in doc["runs"].items():
        d, rtf = r["der"], r["rtf"]
        length = r["audio_s"]
        shown = f"{length / 60:.1f} min" if length >= 120 else f"{length:.0f} s"
        rows.append(
            f"| {names.get(key, key)} | {shown} | {r['wer']:.3f} | {d['der']:.3f} "
            f"({d['missed']:.3f} / {d['false_alarm']:.3f} / {d['confusion']:.3f}) | "
            f"{r['turns']['attribution']:.2f} | {rtf['decode']:.3f} | {rtf['vad']:.3f} | "
            f"{rtf['asr']:.3f} | {rtf['diarize']:.3f} | {rtf['total']:.3f} | "
            f"{r['peak_rss_mb']:.0f} |"
        )
    pauses = doc["runs"]["mixed"]["pauses"]
    pause_txt = ", ".join(f"{p['scripted_s']:.1f} s → {p['measured_s']:.2f} s" for p in pauses)
    meta = (
        f"Last run {doc['date']} on {doc['machine']} (load {doc['load_1min']} at the end): "
        f"`{doc['command']}`. Whisper tiny.en int8, beam 1; each layout in a fresh process. "
        f"Long pauses of the script, scripted → measured (mixed track): {pause_txt}."
    )
    return meta + "\n\n" + "\n".join(rows)


RENDERERS = {
    "targets": ("targets.json", targets_table),
    "quality-indicators": ("targets.json", indicators_table),
    "corpus-per-code": ("targets.json", corpus_table),
    "agreement": ("agreement.json", agreement_table),
    "fuzz": ("fuzz.json", fuzz_table),
    "app_load": ("app_load.json", app_load_table),
    "batch": ("batch.json", batch_table),
    "deid": ("deid.json", deid_table),
    "audio": ("audio.json", audio_table),
}


def render(text: str) -> str:
    for name, (file, fn) in RENDERERS.items():
        path = RESULTS / file
        if not path.exists():
            continue
        block = fn(json.loads(path.read_text(encoding="utf-8")))
        tag = re.escape(name)
        pattern = re.compile(
            rf"(<!-- generated:{tag} -->\n)(?:.*?\n)?(<!-- /generated:{tag} -->)", re.S
        )
        text = pattern.sub(lambda m, b=block: m.group(1) + b + "\n" + m.group(2), text)
    return text


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--check", action="store_true", help="exit 1 if docs are out of date")
    args = ap.parse_args(argv)
    old = DOC.read_text(encoding="utf-8")
    new = render(old)
    if args.check:
        if new != old:
            print("docs/benchmarks.md is out of date: run python benchmarks/render_docs.py")
            return 1
        return 0
    DOC.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
