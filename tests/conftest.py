"""Shared test configuration."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from hypothesis import settings

# CI machines are shared and slow at times: property tests check behaviour, not speed.
settings.register_profile("attunement", deadline=None)
settings.load_profile("attunement")
