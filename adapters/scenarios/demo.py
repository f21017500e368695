"""The bundled demo: the shop recordings that ship with flowscope, and the synthetic `large` cluster."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from importlib.resources import files
from pathlib import Path
from typing import Any

from adapters.files.open import open_file
from adapters.files.replay import Replay
from adapters.scenarios.interventions import Interventions
from adapters.scenarios.specs import SCENARIOS, scenario
from adapters.scenarios.synthetic import SyntheticOptions, synthetic
from adapters.source import Controls, SourceInfo
from flow.observations import Observation

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


class DemoReplay(Replay):
    """A replay of a demo scenario that a speaker can change while it plays (see interventions)."""

    def __init__(self, open_stream: Callable[[], Iterable[Observation]], info: SourceInfo, **options: Any) -> None:
        self.interventions = Interventions()
        super().__init__(lambda: self.interventions.applied(open_stream()), info, **options)

    @property
    def controls(self) -> Controls:
        return Controls(playback=self, interventions=self.interventions)


def demo_source(name: str = "shop-commands", *, speed: float = 1.0, loop: bool = True) -> DemoReplay:
    """The demo for a scenario: its bundled recording when there is one, else the simulation itself."""
    if name not in SCENARIOS:
        raise ValueError(f"unknown scenario {name!r} (known: {', '.join(SCENARIOS)})")
    if name in RECORDED:
        file = open_file(bundled_recording(name))
        return DemoReplay(file.read, file.info(demo=True), speed=speed, loop=loop, span=file.span())
    spec = scenario(name)
    options = SyntheticOptions(records_per_tick=50, producers_every=5)
    start = options.start_ms
    end = start + int(spec.duration_s * 1000)
    return DemoReplay(
        lambda: synthetic(spec, options),
        SourceInfo("demo", f"{name} (synthetic)", spec.description),
        speed=speed,
        loop=loop,
        span=(start, end),
    )
