"""A real Kafka Streams app as flowscope shows it live, in the classic and the Streams group protocol
(KIP-1071): one service reading its input and writing its output, owning its internal topics."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.kafka.codec import READ_ONLY_API_KEYS
from adapters.kafka.source import LiveSource
from flow.snapshot import FlowSnapshot
from tests.conftest import Broker
from tests.live_helpers import (
    Collector,
    create_topics,
    produce,
    recorded_api_keys,
    run_until,
    settings_for,
    stop,
    streams_app,
    unique,
)

pytestmark = pytest.mark.kafka

STREAMS_GROUP_DESCRIBE = 89


@pytest.mark.parametrize("protocol", ["classic", "streams"])
async def test_a_streams_app_is_one_service_that_owns_its_internal_topics(
    kafka: Broker, tmp_path: Path, protocol: str
) -> None:
    bootstrap = kafka.bootstrap
    orders, totals = unique("orders"), unique("order-totals")
    await create_topics(bootstrap, {orders: 2, totals: 2})
    with streams_app(bootstrap, tmp_path, unique(f"tally-{protocol}"), orders, totals, protocol) as app:
        name = app.application_id
        await produce(bootstrap, orders, 20)
        sink = Collector()

        def shown() -> bool:
            snapshot = sink.model.snapshot()
            service = next((s for s in snapshot.services if s.name == name), None)
            output = snapshot.topic(totals)
            return (
                service is not None
                and orders in service.consumes
                and output is not None
                and output.producer_names == (name,)
            )

        with recorded_api_keys() as sent:
            source = LiveSource(settings_for(bootstrap), interval=0.5)
            task = await run_until(source, sink, shown, timeout=60, what=f"{name} as one service")
            await stop(task)
            await source.close()

    snapshot: FlowSnapshot = sink.model.snapshot()
    group = snapshot.group(name)
    assert group is not None
    assert group.state == "Stable" and group.protocol == protocol and group.members
    assert {orders, app.repartition_topic} <= set(group.topics)

    [service] = [s for s in snapshot.services if s.name == name]
    assert service.groups == (name,)
    assert {orders, app.repartition_topic} <= set(service.consumes)
    assert {totals, app.repartition_topic, app.changelog_topic} <= set(service.produces)
    # Nothing else writes the app's topics: its producer is not left as an unnamed producer id.
    for topic_name in (totals, app.repartition_topic, app.changelog_topic):
        view = snapshot.topic(topic_name)
        assert view is not None and view.producer_names == (name,), (topic_name, view)
    for internal in (app.repartition_topic, app.changelog_topic):
        view = snapshot.topic(internal)
        assert view is not None and view.owner == name and view.kind == "internal"
        assert f"of `{name}`" in view.classification.reasons[0]
    assert snapshot.topic(totals).owner is None  # type: ignore[union-attr]

    keys = {key for _, key in sent}
    assert keys <= set(READ_ONLY_API_KEYS)
    if protocol == "streams":
        assert STREAMS_GROUP_DESCRIBE in READ_ONLY_API_KEYS and STREAMS_GROUP_DESCRIBE in keys, sorted(keys)
