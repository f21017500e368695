"""Small builders for observations, so tests read as the flow they describe."""

from __future__ import annotations

from flow.observations import (
    CommitsObs,
    EndOffsetsObs,
    GroupObs,
    Member,
    RecordObs,
    TopicInfo,
    TopicsObs,
)

T0 = 1_700_000_000_000


def topics(t: int, *names: str, partitions: int = 1) -> TopicsObs:
    return TopicsObs(t=t, topics=tuple(TopicInfo(name=n, partitions=partitions) for n in names))


def ends(t: int, offsets: dict[str, tuple[int, ...]]) -> EndOffsetsObs:
    return EndOffsetsObs(t=t, offsets=offsets)


def commits(t: int, group: str, offsets: dict[str, tuple[int | None, ...]]) -> CommitsObs:
    return CommitsObs(t=t, group=group, offsets=offsets)


def group(t: int, group_id: str, *topic_names: str, state: str = "Stable", members: int = 1) -> GroupObs:
    return GroupObs(
        t=t,
        group=group_id,
        state=state,
        members=tuple(
            Member(
                member_id=f"{group_id}-{i}",
                client_id=f"{group_id}-client",
                host="/10.0.0.1",
                assigned=dict.fromkeys(topic_names, (0,)) if i == 0 else {},
                subscribed=topic_names,
            )
            for i in range(members)
        ),
    )


def record(
    t: int,
    topic: str,
    *,
    source: str | None = None,
    type_: str | None = None,
    offset: int = 0,
    pid: int | None = None,
) -> RecordObs:
    headers: list[tuple[str, str | None]] = []
    if source is not None:
        headers.append(("ce_source", source))
    if type_ is not None:
        headers.append(("ce_type", type_))
    return RecordObs(
        t=t,
        topic=topic,
        partition=0,
        offset=offset,
        headers=tuple(headers),
        size=10,
        value="{}",
        producer_id=pid,
    )
