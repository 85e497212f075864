"""Inputs for the fine-tuned coder: examples, validation, token ids, batches, scoring.

The coded utterance is the tokenizer's *second* segment and its context the *first*, each
context turn prefixed with its speaker role ("client: …  therapist: …"). When the pair is
too long the context is cut from the left (oldest words go first) because the turn right
before the target carries most of the signal (a reflection mirrors it, a "Yeah." answers
it); the target is only cut when it alone is longer than the budget.

Batches are built from length-sorted chunks ("sortish" batching): examples are shuffled,
cut into chunks of ~50 batches, sorted by length inside each chunk and batched, and the
batch order is shuffled. Padding per batch is then small, which matters a lot on CPU,
while each epoch still sees a different batch composition.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from attunement.coding.metrics import multiclass_scores
from attunement.errors import ModelError

ROLES = ("therapist", "client")
#: Why 2: the turn being answered plus the one before it covers nearly every cue the
#: codebook relies on; more turns mostly cost CPU time at a 128-token budget.
CONTEXT_TURNS = 2


@dataclass(frozen=True)
class FinetuneExample:
    """One utterance to code. ``labels`` maps task → label; a task left out is not coded.

    ``context`` holds earlier turns as ``(role, text)``, oldest first. ``group`` is the
    session (or seeker post) so validation splits never put one session on both sides.
    """

    text: str
    role: str = "therapist"
    context: Sequence[tuple[str, str]] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    group: str = "_"


def check_examples(
    examples: Sequence[FinetuneExample], tasks: Mapping[str, Sequence[str]], what: str
) -> None:
    """Raise ModelError naming the record index (never its text) for unusable input."""
    for i, ex in enumerate(examples):
        where = f"{what} example {i}"
        if not isinstance(ex.text, str):
            raise ModelError("text must be a string", where=where)
        if ex.role not in ROLES:
            raise ModelError(f"role must be one of {', '.join(ROLES)}", where=where)
        for task, label in ex.labels.items():
            if task not in tasks:
                raise ModelError(f"unknown task {task!r}", where=where)
            if label not in tasks[task]:
                raise ModelError(f"unknown label {label!r} for task {task!r}", where=where)


def check_tasks(tasks: Mapping[str, Sequence[str]]) -> None:
    if not tasks:
        raise ModelError("no tasks given: pass task → label list")
    for task, labels in tasks.items():
        if len(labels) < 2 or len(set(labels)) != len(labels):
            raise ModelError(f"task {task!r} needs two or more distinct labels")


def carve_validation(
    examples: Sequence[FinetuneExample], fraction: float = 0.1, seed: int = 0
) -> tuple[list[FinetuneExample], list[FinetuneExample]]:
    """Seeded group-aware split of *training* data → (train, valid), whole groups only.

    With a single group it falls back to single examples, so tiny data still validates.
    """
    rng = random.Random(seed)
    groups = sorted({ex.group for ex in examples})
    if fraction <= 0 or len(examples) < 2:
        return list(examples), []
    if len(groups) >= 2:
        k = min(len(groups) - 1, max(1, round(fraction * len(groups))))
        chosen = set(rng.sample(groups, k))
        valid_idx = {i for i, ex in enumerate(examples) if ex.group in chosen}
    else:
        n = max(1, round(fraction * len(examples)))
        valid_idx = set(rng.sample(range(len(examples)), n))
    train = [ex for i, ex in enumerate(examples) if i not in valid_idx]
    valid = [ex for i, ex in enumerate(examples) if i in valid_idx]
    return train, valid


def examples_hash(examples: Sequence[FinetuneExample]) -> str:
    """sha256 of the training data (texts, roles, context, labels) for the model card."""
    h = hashlib.sha256()
    for ex in examples:
        rec = [ex.role, ex.text, list(ex.context), sorted(ex.labels.items()), ex.group]
        h.update(json.dumps(rec, ensure_ascii=False).encode())
        h.update(b"\n")
    return h.hexdigest()


@dataclass(frozen=True)
class Encoded:
    """Token ids of one example: ``[CLS] context [SEP] target [SEP]`` with segment ids."""

    input_ids: list[int]
    token_type_ids: list[int]
    target_start: int


def encode_examples(
    tokenizer: Any,
    examples: Sequence[FinetuneExample],
    max_length: int,
    context_turns: int = CONTEXT_TURNS,
) -> list[Encoded]:
    """Tokenize every distinct string once, then assemble pairs with left-cut context."""
    if max_length < 8:
        raise ModelError("max_length must be at least 8")
    ctx_texts = [
        " ".join(f"{role}: {text}" for role, text in list(ex.context)[-context_turns:])
        if context_turns > 0
        else ""
        for ex in examples
    ]
    tgt_texts = [f"{ex.role}: {ex.text}" for ex in examples]
    uniq = sorted(set(ctx_texts) | set(tgt_texts))
    ids = tokenizer(uniq, add_special_tokens=False, verbose=False)["input_ids"]
    table = dict(zip(uniq, ids, strict=True))
    cls, sep = int(tokenizer.cls_token_id), int(tokenizer.sep_token_id)
    out: list[Encoded] = []
    for ctx_text, tgt_text in zip(ctx_texts, tgt_texts, strict=True):
        tgt = table[tgt_text][: max_length - 3]
        budget = max_length - 3 - len(tgt)
        ctx = table[ctx_text][-budget:] if budget > 0 else []
        first = [cls, *ctx, sep]
        second = [*tgt, sep]
        out.append(
            Encoded(
                input_ids=first + second,
                token_type_ids=[0] * len(first) + [1] * len(second),
                target_start=len(first),
            )
        )
    return out


def sortish_batches(
    lengths: Sequence[int], batch_size: int, rng: random.Random | None
) -> list[list[int]]:
    """Index batches of similar length; ``rng`` None → deterministic (sorted) inference order."""
    order = list(range(len(lengths)))
    if rng is None:
        order.sort(key=lambda i: lengths[i])
        return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    rng.shuffle(order)
    chunk = batch_size * 50
    batches: list[list[int]] = []
    for start in range(0, len(order), chunk):
        part = sorted(order[start : start + chunk], key=lambda i: lengths[i])
        batches.extend(part[i : i + batch_size] for i in range(0, len(part), batch_size))
    rng.shuffle(batches)
    return batches


def from_coding_examples(
    examples: Sequence[Any], min_support: int = 8
) -> tuple[list[FinetuneExample], dict[str, list[str]]]:
    """Map ``attunement.coding.data.Example`` records (what ``attune train`` reads) to tasks.

    * ``behaviour`` → one multiclass task over the behaviour ids seen in the data;
    * each empathy code → a task over none/weak/strong;
    * each binary code (``codes``) → a two-class task ``absent``/``present`` on the
      examples of the code's role that were coded (``codes`` not None).

    Tasks with fewer than ``min_support`` examples of their rarest seen label are dropped
    (a head cannot learn a class from a handful of rows); the caller reports which.
    """
    beh = sorted({e.behaviour for e in examples if e.behaviour})
    emp = sorted({c for e in examples for c in e.empathy})
    binary = sorted({c for e in examples if e.codes for c in e.codes})
    roles = {c: {e.item.role for e in examples if e.codes and c in e.codes} for c in binary}
    out: list[FinetuneExample] = []
    for e in examples:
        labels: dict[str, str] = {}
        if e.behaviour:
            labels["behaviour"] = e.behaviour
        labels.update(e.empathy)
        if e.codes is not None:
            for c in binary:
                if e.item.role in roles[c]:
                    labels[c] = "present" if c in e.codes else "absent"
        out.append(
            FinetuneExample(e.item.text, e.item.role, tuple(e.item.context), labels, str(e.group))
        )
    tasks: dict[str, list[str]] = {}
    if len(beh) >= 2:
        tasks["behaviour"] = beh
    tasks.update({c: ["none", "weak", "strong"] for c in emp})
    tasks.update({c: ["absent", "present"] for c in binary})
    for t in list(tasks):
        counts = [sum(1 for x in out if x.labels.get(t) == lab) for lab in tasks[t]]
        if min(c for c in counts if c > 0) < min_support or sum(c > 0 for c in counts) < 2:
            del tasks[t]
    kept = [
        FinetuneExample(
            x.text, x.role, x.context, {k: v for k, v in x.labels.items() if k in tasks}, x.group
        )
        for x in out
    ]
    return [x for x in kept if x.labels], tasks


def collate(enc: Sequence[Encoded], idx: Sequence[int]) -> tuple[Any, Any, Any, Any]:
    import torch

    width = max(len(enc[i].input_ids) for i in idx)
    ids = torch.zeros((len(idx), width), dtype=torch.long)
    types = torch.zeros_like(ids)
    mask = torch.zeros_like(ids)
    tmask = torch.zeros_like(ids)
    for r, i in enumerate(idx):
        e, n = enc[i], len(enc[i].input_ids)
        ids[r, :n] = torch.tensor(e.input_ids)
        types[r, :n] = torch.tensor(e.token_type_ids)
        mask[r, :n] = 1
        tmask[r, e.target_start : n - 1] = 1  # target tokens, without the closing [SEP]
    return ids, mask, types, tmask


def targets(
    examples: Sequence[FinetuneExample], tasks: Mapping[str, Sequence[str]]
) -> dict[str, npt.NDArray[np.int64]]:
    """Label index per task and example; -100 where the example is not coded for the task."""
    return {
        t: np.asarray(
            [labs.index(ex.labels[t]) if t in ex.labels else -100 for ex in examples],
            dtype=np.int64,
        )
        for t, labs in tasks.items()
    }


def scores(
    probs: Mapping[str, npt.NDArray[np.float32]],
    gold: Mapping[str, npt.NDArray[np.int64]],
    tasks: Mapping[str, Sequence[str]],
) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for t, labs in tasks.items():
        rows = gold[t] >= 0
        if not rows.any():
            continue
        pred = probs[t][rows].argmax(axis=1)
        s = multiclass_scores(gold[t][rows], pred, list(labs))
        out[t] = {
            "macro_f1": float(s["macro_f1"]),
            "accuracy": float((pred == gold[t][rows]).mean()),
            "n": float(rows.sum()),
        }
    return out
