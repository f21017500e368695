"""Live clusters without the UI: a quick connection check, and observing for a while into a snapshot.

``check_connection`` is what the CLI runs before it opens the app, so an unreachable cluster or wrong
credentials end with exit code 2 and a sentence within seconds. ``observe`` runs the live source headless
for a few refreshes (enough for rates) and returns the snapshot that ``flowscope report`` prints.

A headless command given a duration ends by it whatever the cluster does; when the cluster is not
answering at that moment, the command says so in the sentence of :func:`lost_sentence` and exits 2.
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


def lost_sentence(label: str, silent_s: float) -> str:
    """How `record`, `report` and `simulate` say that the cluster stopped answering before they ended."""
    return f"lost the Kafka cluster at {label}: no answer for the last {max(silent_s, 1.0):.0f} s"


class Liveness:
    """Whether a running live source is answering, from looks at its state (it may run on another thread).

    The source itself decides when a refresh failed (its own timeouts); from then on until a refresh works
    again, the cluster is not answering.
    """

    def __init__(self, source: LiveSource) -> None:
        self.source = source
        self.silent_since: float | None = None
        """When a look first found the source reconnecting (or lost); None while it is connected."""

    def look(self) -> None:
        if self.source.state in ("reconnecting", "lost"):
            if self.silent_since is None:
                self.silent_since = time.monotonic()
        else:
            self.silent_since = None

    def lost(self) -> str | None:
        """The :func:`lost_sentence` when the cluster is not answering now; None when it is (or has not been
        tried yet)."""
        self.look()
        if self.silent_since is None:
            return None
        return lost_sentence(self.source.settings.label, time.monotonic() - self.silent_since)


class _ModelSink:
    """A sink that folds into a model, for headless runs."""

    def __init__(self, model: FlowModel) -> None:
        self.model = model

    def apply(self, obs: Observation) -> None:
        self.model.apply(obs)

    def reset(self) -> None:
        self.model.reset()

    def rebase(self) -> None:
        self.model.rebase_changes()

    def publish(self, force: bool = False) -> None:
        self.model.snapshot()  # each refresh, as a viewer would see it: the model's change log compares them


async def observe_async(
    settings: ConnectionSettings,
    *,
    duration: float = 5.0,
    interval: float = 1.0,
    payloads: PayloadPolicy = "none",
    config: ModelConfig | None = None,
) -> tuple[FlowSnapshot, LiveSource]:
    """Check the connection, then run the live source into a fresh model for ``duration`` seconds. Rates
    need two refreshes: while the source is connected it may run on for one ``interval`` more to make the
    second. ConnectionFailed with a sentence when the cluster cannot be reached at the start, or does not
    answer at the end (:func:`lost_sentence`): the end comes on time whatever the cluster does.
    """
    await probe(settings)
    ends = time.monotonic() + max(duration, 0.0)
    model = FlowModel(config)
    source = LiveSource(settings, interval=interval, payloads=payloads)
    liveness = Liveness(source)
    task = asyncio.create_task(source.run(_ModelSink(model)))
    try:
        while not task.done():
            liveness.look()
            now = time.monotonic()
            if source.state == "lost" or now >= ends + interval:
                break
            if now >= ends and (source.refreshes >= 2 or source.state != "connected"):
                break
            await asyncio.sleep(0.05)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    lost = liveness.lost()
    if lost is not None:
        raise ConnectionFailed(lost, "closed")
    return model.snapshot(), source


def observe(
    settings: ConnectionSettings,
    *,
    duration: float = 5.0,
    interval: float = 1.0,
    payloads: PayloadPolicy = "none",
    config: ModelConfig | None = None,
) -> FlowSnapshot:
    """The snapshot after observing a live cluster for ``duration`` seconds (:func:`observe_async`);
    ConnectionFailed when the cluster cannot be reached at the start or does not answer at the end."""
    snapshot, _ = asyncio.run(
        observe_async(settings, duration=duration, interval=interval, payloads=payloads, config=config)
    )
    return snapshot
