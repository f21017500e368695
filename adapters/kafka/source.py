"""The live source: refreshes a real cluster on an interval and feeds the observations to the sink.

Strictly read-only (see :mod:`adapters.kafka.wire`). Connection trouble never ends the run: each failed
attempt becomes a ``status`` observation (reconnecting, attempt n) and the next attempt follows a capped
exponential backoff, so the last known flow stays in the model (marked stale by the status) and the gap is
visible in recordings. After ``lost_after`` seconds without an answer, or at once when the broker rejects
the credentials, the state is ``lost``; attempts go on at the cap.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from adapters.kafka.codec import ProtocolError
from adapters.kafka.config import ConnectionSettings
from adapters.kafka.refresh import Refresher, RefreshReport
from adapters.kafka.sampler import Sampler, SamplerOptions
from adapters.kafka.wire import ConnectionFailed, RequestHook, Wire
from adapters.settings import DEFAULT_INTERVAL, INTERVALS, MAX_INTERVAL, MIN_INTERVAL, PayloadPolicy
from adapters.source import Controls, Sink, SourceInfo
from flow.observations import Observation, SourceState, StatusObs

if TYPE_CHECKING:
    from pathlib import Path

    from adapters.files.recorder import Recorder
    from adapters.schemas.decoder import SchemaDecoder


def backoff(attempt: int, cap: float) -> float:
    """Seconds before reconnect attempt ``attempt`` (1, 2, ...): 0.5 s doubling up to ``cap``."""
    return min(0.5 * float(2 ** max(attempt - 1, 0)), cap)


class LiveSource:
    """A :class:`adapters.source.Source` over a live cluster; its controls
    (:class:`adapters.source.LiveControls`) run on the session's loop (Session.call)."""

    def __init__(
        self,
        settings: ConnectionSettings,
        *,
        interval: float = DEFAULT_INTERVAL,
        payloads: PayloadPolicy = "preview",
        sampler: SamplerOptions | None = None,
        sample: bool = True,
        backoff_cap: float = 4.0,
        lost_after: float = 60.0,
        on_request: RequestHook | None = None,
        wall_clock: Callable[[], float] = time.time,
        schemas: SchemaDecoder | None = None,
    ) -> None:
        self.settings = settings
        self.info = SourceInfo("live", settings.label, settings.describe())
        self._interval = _clamp(interval)
        options = sampler or SamplerOptions(payloads=payloads)
        if schemas is None and settings.registry is not None:
            from adapters.schemas.decoder import SchemaDecoder
            from adapters.schemas.registry import ConfluentRegistry

            schemas = SchemaDecoder(ConfluentRegistry(settings.registry))
        self._sampler = Sampler(options, decoder=schemas) if sample else None
        self._backoff_cap = backoff_cap
        self._lost_after = lost_after
        self._on_request = on_request
        self._wall = wall_clock
        self._wake: asyncio.Event | None = None
        self._last_t = 0
        self.state: SourceState | None = None
        """connected / reconnecting / lost, or None before the first attempt."""
        self.attempt = 0
        self.refreshes = 0
        self.last_report: RefreshReport | None = None
        self.wire: Wire | None = None
        self._refresher: Refresher | None = None
        self._limits: list[str] = []

    # -- controls (call on the session loop: Session.call) ------------------------------------------------

    @property
    def controls(self) -> Controls:
        return Controls(live=self)

    @property
    def interval(self) -> float:
        return self._interval

    def set_interval(self, seconds: float) -> None:
        """Change the refresh interval while running (clamped to MIN_INTERVAL..MAX_INTERVAL); the next
        refresh is re-planned at once."""
        self._interval = _clamp(seconds)
        if self._wake is not None:
            self._wake.set()

    def shorter_interval(self) -> None:
        self.set_interval(next((s for s in reversed(INTERVALS) if s < self._interval), INTERVALS[0]))

    def longer_interval(self) -> None:
        self.set_interval(next((s for s in INTERVALS if s > self._interval), INTERVALS[-1]))

    def recorder(self, path: Path) -> Recorder:
        from adapters.files.recorder import live_recorder

        return live_recorder(path, self.settings, payloads="none", interval=self._interval)

    # -- running --------------------------------------------------------------------------------------------

    def _now(self) -> int:
        """UTC milliseconds, strictly increasing across refreshes (one instant per refresh)."""
        t = max(int(self._wall() * 1000), self._last_t + 1)
        self._last_t = t
        return t

    async def run(self, sink: Sink) -> None:
        self._wake = asyncio.Event()
        wire = self.wire = Wire(self.settings, on_request=self._on_request)
        refresher = Refresher(wire, self._sampler)
        failing_since: float | None = None
        try:
            while True:
                started = time.monotonic()
                t = self._now()
                try:
                    async with asyncio.timeout(wire.timeout * 3):
                        observations = await refresher.refresh(t)
                except (ConnectionFailed, ProtocolError, TimeoutError) as problem:
                    failure = _as_failure(problem, wire.timeout)
                    await wire.close()
                    self.attempt += 1
                    if failing_since is None:
                        failing_since = started
                    lost = not failure.retryable or time.monotonic() - failing_since >= self._lost_after
                    delay = self._backoff_cap if lost else backoff(self.attempt, self._backoff_cap)
                    delay *= random.uniform(0.9, 1.0)  # many viewers of one cluster do not retry in step
                    self._status(sink, t, "lost" if lost else "reconnecting", failure, delay)
                    sink.publish(force=True)
                    await self._sleep(delay)
                    continue
                self._connected(sink, t, refresher.last)
                failing_since = None
                self.attempt = 0
                for obs in observations:
                    sink.apply(obs)
                self.refreshes += 1
                self.last_report = refresher.last
                sink.publish()
                while True:
                    remaining = self._interval - (time.monotonic() - started)
                    if remaining <= 0 or not await self._sleep(remaining):
                        break
        finally:
            await wire.close()

    def _connected(self, sink: Sink, t: int, report: RefreshReport) -> None:
        """A ``connected`` status when the state or what cannot be seen changes (not at every refresh)."""
        wire = self.wire
        brokers = len(wire.brokers) if wire is not None else 0
        detail = f"connected to {self.settings.label} ({brokers} broker{'s' if brokers != 1 else ''})"
        if self.state is not None and self.state != "connected":
            detail += " again"
        limits = visibility_notes(report)
        if limits:
            detail += "; " + "; ".join(limits)
        if self.state == "connected" and limits == self._limits:
            return
        self._limits = limits
        self.state = "connected"
        sink.apply(StatusObs(t=t, state="connected", detail=self.settings.redact(detail)))

    def _status(self, sink: Sink, t: int, state: SourceState, failure: ConnectionFailed, delay: float) -> None:
        self.state = state
        detail = f"{failure}; attempt {self.attempt}, next in {delay:.1f} s; the flow shown is the last one seen"
        sink.apply(StatusObs(t=t, state=state, detail=self.settings.redact(detail), attempt=self.attempt))

    async def _sleep(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; True when a control (set_interval) woke us first."""
        assert self._wake is not None
        self._wake.clear()
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation that arrives
        # just as the event is set, and the source would then never stop.
        try:
            async with asyncio.timeout(seconds):
                await self._wake.wait()
        except TimeoutError:
            return False
        return True

    async def refresh_once(self) -> list[Observation]:
        """One refresh outside the run loop (benchmarks and tests); raises ConnectionFailed."""
        if self.wire is None or self._refresher is None:
            self.wire = Wire(self.settings, on_request=self._on_request)
            self._refresher = Refresher(self.wire, self._sampler)
        observations = await self._refresher.refresh(self._now())
        self.last_report = self._refresher.last
        return observations

    async def close(self) -> None:
        if self.wire is not None:
            await self.wire.close()


_UNAVAILABLE = {
    "ConsumerGroupDescribe": "the broker cannot describe KIP-848 consumer groups: they show without members",
    "DescribeProducers": "the broker cannot list producers: writers are named only from sampled headers",
    "ListTransactions": "the broker cannot list transactions: transactional ids do not name producers",
    "ListGroups": "the broker cannot list consumer groups",
    "OffsetFetch": "the broker cannot fetch many groups' offsets at once (Kafka 3.0+ needed): no lag",
    "ListOffsets": "the broker cannot list offsets: no rates and no lag",
    "Fetch": "records cannot be sampled",
    "DescribeGroups": "the broker cannot describe classic groups: they show without members",
}


def visibility_notes(report: RefreshReport) -> list[str]:
    """What the last refresh could not see, in plain words (for the status line)."""
    notes = [_UNAVAILABLE.get(api, f"the broker does not offer {api}") for api in sorted(report.unavailable)]
    notes.extend(f"broker {node} did not answer ({reason})" for node, reason in sorted(report.failed_brokers.items()))
    if report.missing_brokers:
        brokers = "broker " if len(report.missing_brokers) == 1 else "brokers "
        notes.append(
            f"{brokers}{', '.join(report.missing_brokers)} not in the cluster: {report.offline} partitions offline "
            f"(their figures are the last seen), {report.under_replicated} under-replicated"
        )
    return notes


def _as_failure(problem: BaseException, timeout: float) -> ConnectionFailed:
    if isinstance(problem, ConnectionFailed):
        return problem
    if isinstance(problem, ProtocolError):
        return ConnectionFailed(f"a response could not be read ({problem})", "protocol")
    return ConnectionFailed(f"the cluster did not answer a whole refresh within {timeout * 3:g} s", "timeout")


def _clamp(seconds: float) -> float:
    return min(max(float(seconds), MIN_INTERVAL), MAX_INTERVAL)
