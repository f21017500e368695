"""A broker lost mid-incident, as the app shows it from a recording: the status bar names the missing broker
and says figures are stale, the topic box and the topics table mark offline and under-replicated
partitions, the details say which partitions and why; and the marks go when the broker is back."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from adapters.files.recording import RecordingWriter
from flow.observations import Broker, ClusterObs, EndOffsetsObs, TopicInfo, TopicsObs
from tests.tui_support import START, app_at, at_position, screen_text, shown_after, widget_text
from tui.view.details import topic_details

BROKERS = tuple(Broker(id=node, host=f"10.0.0.{node}", port=9092) for node in (1, 2, 3))


def incident(path: Path) -> Path:
    """Ten seconds of a healthy cluster, broker 2 gone for twenty, then back."""
    with RecordingWriter(path, {"kind": "live"}) as writer:
        for second in range(0, 40, 2):
            t = START + second * 1000
            lost = 10 <= second < 30
            writer.write(
                ClusterObs(
                    t=t,
                    cluster_id="prod",
                    brokers=tuple(b for b in BROKERS if not (lost and b.id == 2)),
                    missing=(2,) if lost else (),
                )
            )
            writer.write(
                TopicsObs(
                    t=t,
                    topics=(
                        TopicInfo(name="payments", partitions=3, offline=(1,) if lost else ()),
                        TopicInfo(name="orders", partitions=6, under_replicated=(0, 3) if lost else ()),
                    ),
                )
            )
            writer.write(EndOffsetsObs(t=t, offsets={"orders": (second,) * 6, "payments": (second,) * 3}))
    return path


async def test_a_missing_broker_and_its_partitions_are_marked_while_it_is_gone(tmp_path):
    app = app_at(incident(tmp_path / "incident.jsonl"), 20)
    async with app.run_test(size=(160, 40)) as pilot:
        await at_position(app, 20)
        status = widget_text(app, "#status")
        assert "broker 2 (10.0.0.2:9092) missing" in status
        assert "1 partition offline (stale)" in status
        graph = screen_text(app)
        assert "⚠1 offline" in graph and "⚠ 2 URP" in graph
        tables = await shown_after(pilot, "2")
        assert "1 offline" in tables and "2 under" in tables
        snapshot = app.frame.snapshot  # type: ignore[union-attr]
        console = Console(width=200, record=True)
        console.print(topic_details(snapshot, snapshot.topic("payments")))  # type: ignore[arg-type]
        console.print(topic_details(snapshot, snapshot.topic("orders")))  # type: ignore[arg-type]
        details = console.export_text()
        assert "partition 1: no leader" in details and "are the last seen" in details
        assert "partitions 0, 3: fewer in-sync replicas" in details


async def test_the_marks_go_when_the_broker_is_back(tmp_path):
    app = app_at(incident(tmp_path / "incident.jsonl"), 34)
    async with app.run_test(size=(160, 40)) as pilot:
        await at_position(app, 34)
        text = screen_text(app)
        assert "missing" not in text and "offline" not in text and "URP" not in text
        tables = await shown_after(pilot, "2")
        assert "offline" not in tables and "under" not in tables
