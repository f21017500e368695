"""Shared fixtures: paths to the bundled recordings."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_data"


@pytest.fixture
def shop_commands() -> Path:
    return SAMPLES / "shop-commands.jsonl"


@pytest.fixture
def shop_events() -> Path:
    return SAMPLES / "shop-events.jsonl"
