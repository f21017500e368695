"""Live clusters without the UI: a quick connection check, and observing for a while into a snapshot.

``check_connection`` is what the CLI runs before it opens the app, so an unreachable cluster or wrong
credentials end with exit code 2 and a sentence within seconds. ``observe`` runs the live source headless
for a few refreshes (enough for rates) and returns the snapshot that ``flowscope report`` prints.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass

from adapters.kafka.config import ConnectionSettings
from adapters.kafka.source import LiveSource
from adapters.kafka.wire import ConnectionFailed, Wire
from adapters.settings import PayloadPolicy
from flow.config import ModelConfig
from flow.model import FlowModel
from flow.observations import Observation
from flow.snapshot import FlowSnapshot

CHECK_TIMEOUT = 10.0
"""Seconds the connection check may take in all: the CLI must fail fast, well within 15 s."""


@dataclass(frozen=True, slots=True)
class ClusterSummary:
    bootstrap: str
    cluster_id: str | None
    brokers: int
    topics: int


async def probe(settings: ConnectionSettings, timeout: float = CHECK_TIMEOUT) -> ClusterSummary:
    """Connect, authenticate and read the metadata once; ConnectionFailed with a sentence otherwise."""
    wire = Wire(settings)
    try:
        async with asyncio.timeout(timeout):
            metadata = await wire.metadata()
    except TimeoutError:
        raise ConnectionFailed(f"no answer from Kafka at {settings.label} within {timeout:g} s", "timeout") from None
    finally:
        await wire.close()
    return ClusterSummary(settings.label, metadata.cluster_id, len(metadata.brokers), len(metadata.topics))


def check_connection(settings: ConnectionSettings, timeout: float = CHECK_TIMEOUT) -> ClusterSummary:
    """:func:`probe` from synchronous code (the CLI), on a private event loop."""
    return asyncio.run(probe(settings, timeout))


class _ModelSink:
    """A sink that folds into a model, for headless runs."""

    def __init__(self, model: FlowModel) -> None:
        self.model = model

    def apply(self, obs: Observation) -> None:
        self.model.apply(obs)

    def reset(self) -> None:
        self.model.reset()

    def publish(self, force: bool = False) -> None:
        pass


async def observe_async(
    settings: ConnectionSettings,
    *,
    duration: float = 5.0,
    interval: float = 1.0,
    payloads: PayloadPolicy = "none",
    config: ModelConfig | None = None,
) -> tuple[FlowSnapshot, LiveSource]:
    """Check the connection, then run the live source for ``duration`` seconds into a fresh model."""
    await probe(settings)
    model = FlowModel(config)
    source = LiveSource(settings, interval=interval, payloads=payloads)
    task = asyncio.create_task(source.run(_ModelSink(model)))
    deadline = time.monotonic() + max(duration, 0.0)
    # At least two refreshes, so that rates have a base; then until the duration is over.
    while not task.done() and (time.monotonic() < deadline or source.refreshes < 2):
        await asyncio.sleep(0.05)
        if source.state == "lost":
            break
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return model.snapshot(), source


def observe(
    settings: ConnectionSettings,
    *,
    duration: float = 5.0,
    interval: float = 1.0,
    payloads: PayloadPolicy = "none",
    config: ModelConfig | None = None,
) -> FlowSnapshot:
    """The snapshot after observing a live cluster for ``duration`` seconds; ConnectionFailed at start."""
    snapshot, _ = asyncio.run(
        observe_async(settings, duration=duration, interval=interval, payloads=payloads, config=config)
    )
    return snapshot
