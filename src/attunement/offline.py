"""Nothing leaves the machine: the switches that keep model libraries offline.

Called before any hub-aware or telemetry-sending library is imported (sentence encoders,
faster-whisper, ONNX Runtime). Hub clients are told they are offline, so a missing file
is an error instead of a download; ONNX Runtime is kept from writing a device id and
sending usage events.
"""

from __future__ import annotations

import os


def offline() -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    os.environ["ORT_DISABLE_TELEMETRY"] = "1"


def no_onnx_telemetry() -> None:
    """Also switch telemetry off in an ONNX Runtime that is already imported."""
    offline()
    try:
        import onnxruntime
    except ImportError:
        return
    disable = getattr(onnxruntime, "disable_telemetry_events", None)
    if callable(disable):
        disable()
