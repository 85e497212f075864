"""Routes for schedule (pages and API)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
