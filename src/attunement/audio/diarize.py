"""Who spoke when in one mixed track: speaker embeddings clustered.

Embeddings come from the Resemblyzer voice encoder (a 3-layer LSTM over 40-band mel
frames, trained for speaker verification; Apache-2.0). Its weights are read from the
installed ``resemblyzer`` package; the small network is defined here so that the package's
own audio helpers (which need ``webrtcvad`` and an old ``setuptools``) are never
imported. Speech regions are cut into windows of 1.6 s (shorter regions are embedded
whole), the windows are clustered (agglomerative, Ward, on unit vectors), and the number
of speakers is ``speakers`` or the count with the best silhouette between 2 and 6; a voice
found in under 3 % of the windows joins the nearest one, and two voices more alike than
:data:`SAME_VOICE` are one.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from attunement.audio.decode import EXTRA_HINT, RATE
from attunement.errors import AttunementError

WINDOW_S = 1.6
STEP_S = 0.8
MIN_REGION_S = 0.15
#: a voice found in fewer than this share of the windows joins the nearest one
MIN_SHARE = 0.03
MAX_SPEAKERS = 6
BATCH = 64
#: at most this many windows are clustered (≈ 27 minutes of speech); the rest are assigned
MAX_CLUSTERED = 2000
#: two voices whose centroids are this alike are taken for one (when not given)
SAME_VOICE = 0.8


@dataclass(frozen=True, slots=True)
class Window:
    start: float
    end: float
    speaker: int


@cache
def _encoder() -> object:
    try:
        import torch
        from torch import nn
    except ImportError:
        raise AttunementError(EXTRA_HINT) from None
    spec = importlib.util.find_spec("resemblyzer")
    if spec is None or not spec.submodule_search_locations:
        raise AttunementError(EXTRA_HINT)
    weights = Path(next(iter(spec.submodule_search_locations))) / "pretrained.pt"

    class VoiceEncoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = nn.LSTM(40, 256, 3, batch_first=True)
            self.linear = nn.Linear(256, 256)
            self.relu = nn.ReLU()

        def forward(self, mels: torch.Tensor) -> torch.Tensor:
            _, (hidden, _) = self.lstm(mels)
            embeds = self.relu(self.linear(hidden[-1]))
            out: torch.Tensor = embeds / torch.norm(embeds, dim=1, keepdim=True).clamp_min(1e-8)
            return out

    model = VoiceEncoder()
    state = torch.load(weights, map_location="cpu", weights_only=False)["model_state"]
    model.load_state_dict({k: v for k, v in state.items() if not k.startswith("similarity")})
    model.eval()
    return model


def _mels(samples: np.ndarray) -> np.ndarray:
    import librosa

    mel = librosa.feature.melspectrogram(
        y=samples, sr=RATE, n_fft=int(RATE * 0.025), hop_length=int(RATE * 0.010), n_mels=40
    )
    return mel.astype(np.float32).T


#: the encoder was trained on audio normalised to this level (dBFS)
TARGET_DBFS = -30.0


def _normalised(piece: np.ndarray) -> np.ndarray:
    rms = float(np.sqrt(np.mean(piece * piece))) if len(piece) else 0.0
    if rms <= 1e-6:
        return piece
    return piece * (10 ** (TARGET_DBFS / 20) / rms)


def embed(pieces: list[np.ndarray]) -> np.ndarray:
    """One unit vector per piece of audio; pieces of the same length run as one batch."""
    import torch

    model = _encoder()
    mels = [_mels(_normalised(p)) for p in pieces]
    out = np.zeros((len(pieces), 256), np.float32)
    by_len: dict[int, list[int]] = {}
    for i, m in enumerate(mels):
        by_len.setdefault(len(m), []).append(i)
    with torch.inference_mode():
        for same in by_len.values():
            for k in range(0, len(same), BATCH):
                idx = same[k : k + BATCH]  # bounded batches: memory flat on long files
                batch = torch.from_numpy(np.stack([mels[i] for i in idx]))
                out[idx] = model(batch).numpy()  # type: ignore[operator]
    return out


def _windows(regions: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out = []
    for start, end in regions:
        if end - start < MIN_REGION_S:
            continue
        if end - start <= WINDOW_S * 1.5:
            out.append((start, end))
            continue
        t = start
        while t + WINDOW_S < end:
            out.append((t, t + WINDOW_S))
            t += STEP_S
        out.append((max(start, end - WINDOW_S), end))
    return out


def _fit(vectors: np.ndarray, k: int) -> np.ndarray:
    from sklearn.cluster import AgglomerativeClustering

    # Ward on unit vectors: balanced clusters, so one odd window does not become a voice
    labels: np.ndarray = AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(vectors)
    return labels


def _merge_small(vectors: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Clusters of fewer than :data:`MIN_SHARE` of the windows (at least 2) join the
    nearest other voice."""
    least = max(2, int(MIN_SHARE * len(labels)))
    while True:
        sizes = {int(k): int((labels == k).sum()) for k in set(labels.tolist())}
        small = [k for k, size in sizes.items() if size < least]
        if not small or len(sizes) <= 1:
            return labels
        k = min(small, key=lambda c: sizes[c])
        others = [c for c in sizes if c != k]
        centre = vectors[labels == k].mean(axis=0)
        nearest = max(others, key=lambda c: float(vectors[labels == c].mean(axis=0) @ centre))
        labels = np.where(labels == k, nearest, labels)


def cluster(vectors: np.ndarray, speakers: int | None) -> tuple[np.ndarray, float | None]:
    """Cluster labels, and the silhouette of the chosen count (None when given)."""
    from sklearn.metrics import silhouette_score

    n = len(vectors)
    if speakers == 1 or n < 2:
        return np.zeros(n, dtype=int), None
    if speakers is not None:
        return _fit(vectors, min(speakers, n)), None
    best: tuple[float, np.ndarray] | None = None
    for k in range(2, max(2, min(MAX_SPEAKERS, n - 1)) + 1):
        labels = _fit(vectors, k)
        score = float(silhouette_score(vectors, labels)) if n > k else 0.0
        if best is None or score > best[0]:
            best = (score, labels)
    assert best is not None
    return _merge_alike(vectors, _merge_small(vectors, best[1])), best[0]


def _merge_alike(vectors: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Join the two most alike voices while their centroids are more alike than
    :data:`SAME_VOICE` (cosine): one voice split in two is one voice."""
    while True:
        kinds = sorted(set(labels.tolist()))
        if len(kinds) < 2:
            return labels
        cents = {k: vectors[labels == k].mean(axis=0) for k in kinds}
        cents = {k: c / max(float(np.linalg.norm(c)), 1e-9) for k, c in cents.items()}
        pairs = [
            (float(cents[a] @ cents[b]), a, b) for i, a in enumerate(kinds) for b in kinds[i + 1 :]
        ]
        similarity, a, b = max(pairs)
        if similarity <= SAME_VOICE:
            return labels
        labels = np.where(labels == b, a, labels)


def diarize(
    samples: np.ndarray, regions: list[tuple[float, float]], speakers: int | None = None
) -> tuple[list[Window], float | None]:
    """Speaker-labelled windows of one mixed channel; speakers numbered by first voice."""
    spans = _windows(regions)
    if not spans:
        return [], None
    pieces = [samples[int(s * RATE) : int(e * RATE)] for s, e in spans]
    vectors = embed(pieces)
    if len(vectors) > MAX_CLUSTERED:
        # clustering is quadratic in windows: cluster an even sample, then give every
        # window the voice whose centroid it is nearest (memory flat on long files)
        pick = np.linspace(0, len(vectors) - 1, MAX_CLUSTERED).astype(int)
        sample_labels, quality = cluster(vectors[pick], speakers)
        centroids = np.stack(
            [vectors[pick][sample_labels == k].mean(axis=0) for k in sorted(set(sample_labels))]
        )
        labels = np.argmax(vectors @ centroids.T, axis=1)
    else:
        labels, quality = cluster(vectors, speakers)
    order: dict[int, int] = {}
    for lab in labels:
        order.setdefault(int(lab), len(order))
    return [
        Window(s, e, order[int(lab)]) for (s, e), lab in zip(spans, labels, strict=True)
    ], quality


def speaker_at(windows: list[Window], t: float) -> int | None:
    """The speaker of the window whose centre is nearest to ``t`` among those covering
    it (else the nearest window)."""
    if not windows:
        return None
    covering = [w for w in windows if w.start <= t <= w.end]
    pool = covering or windows
    return min(pool, key=lambda w: abs((w.start + w.end) / 2 - t)).speaker
