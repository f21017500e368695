"""`simulate` against the real broker, checked with Kafka's own tools on the same cluster.

Each run is short (seconds) and sped up with ``rate``; the numbers are compared with what
`kafka-consumer-groups --describe --all-groups`, `kafka-get-offsets` and `kafka-transactions
describe-producers` print, so the test trusts Kafka, not flowscope.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.kafka.source import LiveSource
from adapters.scenarios.simulate import SimulationStats, simulate
from adapters.scenarios.specs import Emitter, GroupSpec, ScenarioSpec, SlowSpell, TopicSpec, shop_commands, shop_events
from flow.snapshot import FlowSnapshot
from tests.live_helpers import Collector, run_until, scenario_flowing, settings_for, stop
from tests.waiting import wait_until, wait_until_async

pytestmark = pytest.mark.kafka

ROOT = Path(__file__).resolve().parent.parent
KAFKA_TOOL = ROOT / "scripts" / "kafka-tool"


def kafka_tool(*args: str) -> str:
    done = subprocess.run([str(KAFKA_TOOL), *args], capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, f"kafka-tool {' '.join(args)}: {done.stderr[-2000:]}"
    return done.stdout


def describe_groups(bootstrap: str) -> dict[tuple[str, str, int], tuple[int | None, int | None]]:
    """(group, topic, partition) -> (committed offset, log-end offset), as kafka-consumer-groups prints."""
    out = kafka_tool("consumer-groups", "--bootstrap-server", bootstrap, "--describe", "--all-groups")
    rows: dict[tuple[str, str, int], tuple[int | None, int | None]] = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 6 and parts[0] != "GROUP" and parts[2].isdigit():
            committed = int(parts[3]) if parts[3].isdigit() else None
            end = int(parts[4]) if parts[4].isdigit() else None
            rows[parts[0], parts[1], int(parts[2])] = (committed, end)
    return rows


def end_offsets(bootstrap: str) -> dict[str, int]:
    """Topic -> sum of its log-end offsets, as kafka-get-offsets prints them."""
    totals: dict[str, int] = {}
    for line in kafka_tool("get-offsets", "--bootstrap-server", bootstrap).splitlines():
        topic, _partition, offset = line.rsplit(":", 2)  # Kafka topic names have no colon
        totals[topic] = totals.get(topic, 0) + int(offset)
    return totals


def run(bootstrap: str, spec: ScenarioSpec, **options) -> SimulationStats:
    return asyncio.run(simulate(bootstrap, spec, seed=1, **options))


@pytest.fixture(scope="module")
def shop_commands_run(kafka):
    before_ends, before_groups = end_offsets(kafka.bootstrap), describe_groups(kafka.bootstrap)
    stats = run(kafka.bootstrap, shop_commands(), rate=3, duration=8)
    return before_ends, before_groups, stats


def test_shop_commands_creates_its_topics_and_every_acknowledged_record_moved_an_offset(kafka, shop_commands_run):
    before_ends, _, stats = shop_commands_run
    listed = set(kafka_tool("topics", "--bootstrap-server", kafka.bootstrap, "--list").split())
    assert {"warehouse", "send-email", "send-text"} <= listed
    after = end_offsets(kafka.bootstrap)
    assert stats.failed == 0
    for topic in ("warehouse", "send-email", "send-text"):
        # Idempotent producers with acks=all: exactly one offset per acknowledged record.
        assert after[topic] - before_ends.get(topic, 0) == stats.produced[topic] > 10
    # The warehouse reacts to each DispatchProduct with one SendEmail and one SendText.
    assert stats.produced["send-email"] == stats.produced["send-text"] <= stats.produced["warehouse"]


def test_shop_commands_groups_commit_what_they_consumed(kafka, shop_commands_run):
    _, before_groups, stats = shop_commands_run
    rows = describe_groups(kafka.bootstrap)
    # Both shop designs have a `warehouse` group: another test may have run the other one on this broker,
    # so each group is looked at on its own topic only.
    for group, topic in (("warehouse", "warehouse"), ("email-service", "send-email"), ("sms-service", "send-text")):
        mine = {key: value for key, value in rows.items() if key[:2] == (group, topic)}
        assert mine, f"{group} has no offsets on {topic}"
        moved = sum((committed or 0) - (before_groups.get(key, (0, 0))[0] or 0) for key, (committed, _) in mine.items())
        assert 0 < moved <= stats.consumed[group]
        # Stopped cleanly: the consumers committed before leaving, so the run left little unread
        # (beyond what an earlier run on this broker may have left: the slow consumer's backlog).
        lag_after = sum((end or 0) - (committed or 0) for committed, end in mine.values())
        earlier = [value for key, value in before_groups.items() if key in mine]
        lag_before = sum((end or 0) - (committed or 0) for committed, end in earlier)
        assert lag_after <= lag_before + 5


def test_shop_commands_producers_are_idempotent(kafka, shop_commands_run):
    out = kafka_tool(
        "transactions", "--bootstrap-server", kafka.bootstrap, "describe-producers", "--topic", "warehouse",
        "--partition", "0",
    )  # fmt: skip
    rows = [line.split() for line in out.splitlines()[1:] if line.strip()]
    assert rows and all(row[0].isdigit() for row in rows)  # only idempotent producers have ids here


def test_shop_events_has_three_groups_on_orders(kafka):
    stats = run(kafka.bootstrap, shop_events(), rate=3, duration=6)
    assert stats.produced["orders"] > 10 and stats.produced["shipments"] > 0
    rows = describe_groups(kafka.bootstrap)
    readers = {g for (g, t, _) in rows if t == "orders"}
    assert {"warehouse", "notifications", "sales"} <= readers
    assert {g for (g, t, _) in rows if t == "shipments"} >= {"notifications", "sales"}
    assert any("'sales'" in note and "classic" in note for note in stats.notes)


def test_a_slow_spell_lets_lag_grow_then_the_group_catches_up(kafka):
    spec = ScenarioSpec(
        name="slow-spell",
        description="one emitter, one group that is slow for the first four seconds",
        topics=(TopicSpec("sim-slow-spell", 1),),
        emitters=(Emitter("sim-writer", "sim-slow-spell", "Tick", 10.0),),
        reactions=(),
        groups=(GroupSpec("sim-slow-reader", "sim-slow-reader", ("sim-slow-spell",), capacity=25,
                          slow=SlowSpell(0, 4, 0.08)),),
    )  # fmt: skip
    samples: list[tuple[float, int]] = []

    def progress(stats: SimulationStats) -> None:
        lag = stats.produced.get("sim-slow-spell", 0) - stats.consumed.get("sim-slow-reader", 0)
        samples.append((stats.elapsed_s, lag))

    stats = run(kafka.bootstrap, spec, duration=10, progress=progress, progress_every=0.5)
    in_spell = max(lag for at, lag in samples if at <= 4)
    after = [lag for at, lag in samples if at >= 8]
    assert in_spell >= 15, samples
    assert after and max(after) <= 5, samples
    rows = describe_groups(kafka.bootstrap)
    lag = sum((end or 0) - (committed or 0) for (g, _, _), (committed, end) in rows.items() if g == "sim-slow-reader")
    assert lag <= 5
    assert stats.consumed["sim-slow-reader"] >= stats.produced["sim-slow-spell"] - 5


def test_ctrl_c_stops_simulate_cleanly_with_exit_0(kafka):
    process = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "simulate", "--bootstrap", kafka.bootstrap, "--scenario", "shop-commands",
         "--rate", "2", "--quiet"],
        cwd=ROOT, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env={**os.environ},
    )  # fmt: skip
    try:
        assert process.stderr is not None
        first = process.stderr.readline()
        assert first.startswith("flowscope simulate: shop-commands on "), first
        # A stop mid-flight is the point: the groups have formed and records flow.
        settings = settings_for(kafka.bootstrap)
        wait_until(
            lambda: scenario_flowing(settings, shop_commands()),
            "the shop's groups to form and its records to flow",
            interval=0,
        )
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=60)
        rest = process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert code == 0, rest
    assert "flowscope simulate: stopped after" in rest and "Traceback" not in rest


async def test_the_live_source_classifies_both_simulated_shops(kafka):
    """The whole loop on a real cluster: simulate writes, the read-only live source sees the story."""
    specs, stopping = (shop_commands(), shop_events()), asyncio.Event()
    stats: dict[str, SimulationStats] = {}  # each simulation's live counters

    def progress(latest: SimulationStats) -> None:
        stats[latest.scenario] = latest

    runs = [
        asyncio.create_task(
            simulate(kafka.bootstrap, spec, 2, 30, stopping, seed=3, progress=progress, progress_every=0.1)
        )
        for spec in specs
    ]
    source, sink = LiveSource(settings_for(kafka.bootstrap), interval=1.0), Collector()

    def flowing() -> bool:
        assert not any(run.done() for run in runs), "a simulation ended early"
        return all(
            spec.name in stats and stats[spec.name].consumed.get(group.group) for spec in specs for group in spec.groups
        )

    def told() -> bool:
        return source.refreshes >= 2 and the_shops_story(sink.model.snapshot())

    try:
        # Every group of both shops reads before the live source starts: the story is theirs, not the one earlier
        # runs left on this broker. Then it watches (two refreshes at least, for rates) until it tells it.
        await wait_until_async(flowing, "every group of both shops to read records", timeout=60)
        await stop(await run_until(source, sink, told, timeout=60, what="the live source to tell both shops' story"))
    finally:
        stopping.set()
        await asyncio.gather(*runs)
    kinds = {topic.name: topic for topic in sink.model.snapshot().topics}
    for name in ("warehouse", "send-email", "send-text"):
        assert kinds[name].kind == "command", (name, kinds[name].classification)
    assert kinds["orders"].kind == "event"
    assert set(kinds["orders"].groups) == {"warehouse", "notifications", "sales"}
    assert "web-shop" in kinds["warehouse"].producer_names
    assert "warehouse" in kinds["send-email"].producer_names


def the_shops_story(snapshot: FlowSnapshot) -> bool:
    """Both shops as the live source must tell them: three command topics, an event topic read by three groups,
    and the producers named."""
    topics = {topic.name: topic for topic in snapshot.topics}
    warehouse, email, text, orders = (topics.get(name) for name in ("warehouse", "send-email", "send-text", "orders"))
    return (
        all(topic is not None and topic.kind == "command" for topic in (warehouse, email, text))
        and orders is not None
        and orders.kind == "event"
        and set(orders.groups) == {"warehouse", "notifications", "sales"}
        and "web-shop" in warehouse.producer_names
        and "warehouse" in email.producer_names
    )


def test_simulate_writes_through_the_sasl_listener_and_a_wrong_password_exits_2(kafka, tmp_path):
    if kafka.sasl_bootstrap is None:
        pytest.skip("this broker has no SASL listener configured for the tests")
    jaas = 'org.apache.kafka.common.security.scram.ScramLoginModule required username="{}" password="{}";'
    base = [sys.executable, "-m", "tui.cli", "simulate", "-b", kafka.sasl_bootstrap, "--duration", "3", "--quiet",
            "-X", "security.protocol=SASL_PLAINTEXT", "-X", f"sasl.mechanism={kafka.sasl_mechanism}"]  # fmt: skip
    good = subprocess.run(
        [*base, "-X", "sasl.jaas.config=" + jaas.format(kafka.sasl_username, kafka.sasl_password)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert good.returncode == 0, good.stderr
    assert "stopped after" in good.stderr and "produced 0" not in good.stderr
    wrong = "not-the-password-42"
    bad = subprocess.run(
        [*base, "-X", "sasl.jaas.config=" + jaas.format(kafka.sasl_username, wrong)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert bad.returncode == 2
    assert "cannot connect to a Kafka cluster" in bad.stderr
    assert wrong not in bad.stderr + bad.stdout and "Traceback" not in bad.stderr
