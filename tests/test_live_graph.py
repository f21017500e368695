"""The graph of a live cluster reads back as it was built: a saga, a Streams app's internal topics and an
unknown writer, made on the real broker with real producers and consumer groups."""

from __future__ import annotations

import asyncio
import contextlib
import itertools

import pytest
from aiokafka import AIOKafkaProducer

from adapters.kafka.source import LiveSource
from tests.live_helpers import consume_and_commit, create_topics, produce, settings_for, unique
from tests.readback import drawn_edges, precision_recall
from tests.tui_support import drawn_graph
from tests.waiting import wait_until_async
from tui.app import create_app
from tui.graph import FlowGraph
from tui.view.looks import unknown_writer
from tui.view.projection import ViewFilter

pytestmark = pytest.mark.kafka


async def keep_writing_unnamed(bootstrap: str, topic: str) -> None:
    """An unknown writer: no name header and no producer id (not idempotent), writing until cancelled;
    a writer only records tell of shows while the topic is being written."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=False, linger_ms=5)
    await producer.start()
    try:
        for n in itertools.count():
            await producer.send_and_wait(topic, value=b'{"click": %d}' % n)
            await asyncio.sleep(0.05)
    finally:
        await producer.stop()


async def build_cluster(bootstrap: str, tag: str) -> tuple[set, set]:
    """The cluster, and the edges its graph must show: with internal topics hidden, and shown."""

    def name(part: str) -> str:
        return f"{tag}.{part}"

    store = name("fraud-scorer-KSTREAM-AGGREGATE-STATE-STORE-0000000003")
    topics = {
        name("order-placed"): 3,
        name("payment-settled"): 2,
        name("shipment-dispatched"): 2,
        name("order-completed"): 2,
        name("clickstream"): 1,
        f"{store}-repartition": 2,
        f"{store}-changelog": 2,
    }
    await create_topics(bootstrap, topics)
    writes = [
        ("order-service", "order-placed"),
        ("order-service", "order-completed"),
        ("payment-service", "payment-settled"),
        ("shipping-service", "shipment-dispatched"),
        ("fraud-scorer", store.removeprefix(f"{tag}.") + "-repartition"),
        ("fraud-scorer", store.removeprefix(f"{tag}.") + "-changelog"),
    ]
    for service, topic in writes:
        await produce(bootstrap, name(topic), 30, source=name(service))
    reads = [
        ("payment-service", ["order-placed"]),
        ("shipping-service", ["payment-settled"]),
        ("order-service", ["shipment-dispatched"]),
        ("fraud-scorer", ["order-placed", store.removeprefix(f"{tag}.") + "-repartition"]),
        ("email-service", ["order-completed"]),
        ("analytics", ["order-completed", "clickstream"]),
    ]
    for group, read in reads:
        await consume_and_commit(bootstrap, name(group), [name(t) for t in read], 10)

    def service(part: str) -> tuple[str, str]:
        return ("service", name(part))

    def topic(part: str) -> tuple[str, str]:
        return ("topic", name(part))

    shown = {"order-placed", "payment-settled", "shipment-dispatched", "order-completed", "clickstream"}
    edges = {(service(s), topic(t)) for s, t in writes if t in shown}
    edges |= {(topic(t), service(g)) for g, read in reads for t in read if t in shown}
    edges.add((unknown_writer(name("clickstream")), topic("clickstream")))
    internal = {(service(s), topic(t)) for s, t in writes if t not in shown}
    internal |= {(topic(t), service(g)) for g, read in reads for t in read if t not in shown}
    return edges, edges | internal


@pytest.mark.parametrize("size", [(100, 30), (200, 50)], ids=lambda size: f"{size[0]}x{size[1]}")
async def test_a_live_cluster_reads_back_as_it_was_built(kafka, size):
    tag = unique("readback")
    hidden, shown = await build_cluster(kafka.bootstrap, tag)
    clicks = asyncio.create_task(keep_writing_unnamed(kafka.bootstrap, f"{tag}.clickstream"))
    try:
        app = create_app(LiveSource(settings_for(kafka.bootstrap), interval=0.5))
        async with app.run_test(size=size) as pilot:
            # The shared test broker holds every other test's topics: the filter shows this test's, as a
            # user narrows a busy cluster down to one system.
            app.set_filter(ViewFilter(text=tag.replace(".", r"\.")))
            read_back = [await read_once_shown(pilot, hidden)]
            await pilot.press("i")  # and with the Streams app's internal topics
            read_back.append(await read_once_shown(pilot, shown))
    finally:
        clicks.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await clicks
    for (drawn, problems), built in zip(read_back, (hidden, shown), strict=True):
        assert precision_recall(drawn, built) == (1.0, 1.0), "\n".join(problems)


async def read_once_shown(pilot, built: set) -> tuple[set, list[str]]:
    """Wait for the graph to show the edges ``built``, then read its drawing back."""
    app = pilot.app

    def edges() -> set:
        return set(app.shown.topology.edges) if app.shown is not None else set()

    def difference() -> str:
        return f"the graph's edges as built; missing {built - edges()}, extra {edges() - built}"

    await wait_until_async(
        lambda: edges() == built and app.query_one(FlowGraph).settled, difference, timeout=60, interval=0.05
    )
    lines = await drawn_graph(pilot)
    boxes = app.query_one("#graph", FlowGraph).layout_shown.boxes
    drawn, problems = drawn_edges(lines, set(boxes), {node: (box.x, box.y) for node, box in boxes.items()})
    return drawn, problems + lines
