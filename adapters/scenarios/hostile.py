"""A hostile recording: names and payloads that try to inject markup, terminal escapes and bidi tricks.

`scripts/make-samples` writes it to sample_data/hostile.jsonl; the tests replay it and check that every
view shows each item inert. Anyone can replay it to see what flowscope does with such data.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from adapters.files.recording import RecordingWriter, iso_utc
from adapters.scenarios.synthetic import EPOCH_MS
from flow.observations import (
    Blob,
    Broker,
    ClusterObs,
    CommitsObs,
    EndOffsetsObs,
    GroupObs,
    Member,
    NoteObs,
    Observation,
    ProducersObs,
    RecordObs,
    StatusObs,
    TopicInfo,
    TopicsObs,
)

MARKUP = "[/x] [@click=app.quit]quit[/] [link=https://evil.example]link[/link] [$accent]accent [bold red]RED[/] [ bold]"
TITLE = "\x1b]0;pwned-title\x07"
TITLE_ST = "\x1b]2;pwned-title\x1b\\"
CLIPBOARD = "\x1b]52;c;cHduZWQ=\x07"
CLEAR = "\x1b[2J\x1b[H"
C1_CSI = "\x9b31mred\x9b0m"
C1_OSC = "\x9d0;pwned-c1\x9c"
BIDI = "\u202eevil\u202c \u2066isolated\u2069 zero\u200bwidth"
CONTROLS = "bell\x07 back\x08space del\x7f nul\x00 tab\there\nnewline"
INVALID_UTF8 = b"\xff\xfe bad \xc3\x28 utf8 \xe2\x82"
HUGE_VALUE = "A" * 1_000_000
LONG_GROUP = "group-" + "x" * 9_994  # 10,000 characters

TOPICS = {
    "markup": f"orders{MARKUP}",
    "escapes": f"topic{TITLE}{CLEAR}",
    "bidi": f"payments{BIDI}",
    "plain": "send-email",
}
GROUPS = {
    "markup": f"group{MARKUP}",
    "escapes": f"group{CLIPBOARD}{C1_OSC}",
    "long": LONG_GROUP,
    "bidi": f"group{BIDI}",
}


def hostile_observations(start_ms: int = EPOCH_MS) -> Iterator[Observation]:
    """A short stream in which every place that shows cluster data carries something hostile."""
    topics = list(TOPICS.values())
    yield StatusObs(t=start_ms, state="connected", detail=f"broker says {TITLE}{MARKUP}")
    yield ClusterObs(
        t=start_ms,
        cluster_id=f"cluster{TITLE_ST}{C1_CSI}",
        brokers=(Broker(id=1, host=f"host{CLEAR}{MARKUP}", port=9092),),
        controller_id=1,
    )
    yield NoteObs(t=start_ms, text=f"Hostile note: {MARKUP} {TITLE} {BIDI} {CONTROLS}")
    for step in range(8):
        t = start_ms + step * 2000
        yield TopicsObs(t=t, topics=tuple(TopicInfo(name=name, partitions=2) for name in topics))
        yield EndOffsetsObs(t=t, offsets=dict.fromkeys(topics, (100 + step * 10, 50 + step * 5)))
        reads = {
            GROUPS["markup"]: (TOPICS["markup"],),
            GROUPS["escapes"]: (TOPICS["escapes"], TOPICS["plain"]),
            GROUPS["long"]: (TOPICS["bidi"],),
            GROUPS["bidi"]: (TOPICS["markup"],),
        }
        for group, read in reads.items():
            yield GroupObs(
                t=t,
                group=group,
                state="Stable",
                members=(
                    Member(
                        member_id=f"member{CLIPBOARD}",
                        client_id=f"client{MARKUP}{TITLE}",
                        host=f"/10.0.0.1{C1_CSI}",
                        assigned=dict.fromkeys(read, (0, 1)),
                        subscribed=read,
                    ),
                ),
            )
            yield CommitsObs(t=t, group=group, offsets=dict.fromkeys(read, (95 + step * 9, 48 + step * 4)))
        for index, name in enumerate(topics):
            yield ProducersObs(t=t, topic=name, partitions={0: ((7000 + index, 0, step * 10, t),)})
            yield RecordObs(
                t=t,
                topic=name,
                partition=0,
                offset=99 + step * 10,
                timestamp=t - 5,
                key=Blob.from_bytes(INVALID_UTF8) if index % 2 else f"key{MARKUP}{TITLE}",
                headers=(
                    ("ce_source", f"/producer{MARKUP}{CLEAR}" if index == 0 else f"/svc-{index}{BIDI}"),
                    ("ce_type", f"Type{TITLE}"),
                    (f"header{MARKUP}", Blob.from_bytes(INVALID_UTF8)),
                    ("clipboard", CLIPBOARD),
                ),
                size=len(HUGE_VALUE) if step == 0 and index == 0 else 64,
                value=HUGE_VALUE if step == 0 and index == 0 else f"value {CONTROLS} {C1_CSI} {MARKUP}",
                producer_id=7000 + index,
            )
    yield StatusObs(t=start_ms + 16_000, state="reconnecting", attempt=2, detail=f"error{CLIPBOARD}{MARKUP}")


def write_hostile(path: Path) -> int:
    """Write the hostile recording; the same bytes every time. Returns the number of observations."""
    created = iso_utc(datetime.fromtimestamp(EPOCH_MS / 1000, UTC))
    source = {"kind": "hostile", "description": "names and payloads that try to break a terminal UI"}
    count = 0
    with RecordingWriter(path, source, created=created, app="flowscope") as writer:
        for obs in hostile_observations():
            writer.write(obs)
            count += 1
    return count
