"""The bundled demo: the shop recordings that ship with flowscope, and the synthetic `large` cluster."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from adapters.files.replay import Replay, replay_file
from adapters.scenarios.specs import SCENARIOS, scenario
from adapters.scenarios.synthetic import SyntheticOptions, synthetic
from adapters.source import SourceInfo

RECORDED = ("shop-commands", "shop-events")


def bundled_recording(name: str) -> Path:
    """Where a bundled recording is: inside the installed package, or in a source checkout's sample_data."""
    packaged = Path(str(files("adapters") / "sample_data" / f"{name}.jsonl"))
    if packaged.is_file():
        return packaged
    checkout = Path(__file__).resolve().parents[2] / "sample_data" / f"{name}.jsonl"
    if checkout.is_file():
        return checkout
    raise FileNotFoundError(f"the bundled recording {name}.jsonl is missing from this installation")


def demo_source(name: str = "shop-commands", *, speed: float = 1.0, loop: bool = True) -> Replay:
    """The demo for a scenario: its bundled recording when there is one, else the simulation itself."""
    if name not in SCENARIOS:
        raise ValueError(f"unknown scenario {name!r} (known: {', '.join(SCENARIOS)})")
    if name in RECORDED:
        return replay_file(bundled_recording(name), speed=speed, loop=loop, demo=True)
    spec = scenario(name)
    options = SyntheticOptions(records_per_tick=50, producers_every=5)
    start = options.start_ms
    end = start + int(spec.duration_s * 1000)
    return Replay(
        lambda: synthetic(spec, options),
        SourceInfo("demo", f"{name} (synthetic)", spec.description),
        speed=speed,
        loop=loop,
        span=(start, end),
    )
