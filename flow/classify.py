"""Command-topic classification: each topic's kind with reasons, and findings across topics."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from flow.naming import internal_reason, read_name
from flow.snapshot import Classification, Confidence, Finding, TopicKind


def classify_topic(
    name: str,
    *,
    internal: bool,
    groups: Sequence[str],
    record_types: Sequence[str],
    owner: str | None = None,
) -> Classification:
    """Kind of one topic from its audience (consuming groups), its name and the types of its records;
    ``owner`` is the Kafka Streams app whose internal topic it is."""
    why_internal = internal_reason(name, internal)
    if why_internal is not None:
        of = f" of `{owner}`" if owner else ""
        return Classification(
            kind="internal", reasons=(f"{why_internal}{of}; one audience by design, so it is not flagged",)
        )
    if not groups:
        return Classification(
            kind="unread",
            reasons=("no consumer group reads it: none is assigned to it or has committed offsets",),
        )

    name_reading = read_name(name)
    imperative_types = [(kind, read_name(kind)) for kind in record_types]
    imperative_types = [(kind, reading) for kind, reading in imperative_types if reading.imperative]
    looks_like_command: list[str] = []
    if name_reading.imperative:
        looks_like_command.append(f"its name reads as a command (`{name_reading.word}`)")
    if imperative_types:
        record_type, reading = imperative_types[0]
        looks_like_command.append(f"its records are typed `{record_type}`, an imperative (`{reading.word}`)")
    several: tuple[str, ...] = ()
    if len(record_types) > 1:
        named = ", ".join(f"`{kind}`" for kind in record_types[:4])
        more = f" and {len(record_types) - 4} more" if len(record_types) > 4 else ""
        several = (f"its records carry {len(record_types)} types ({named}{more}): one topic, several kinds of message",)

    if len(groups) == 1:
        reasons = [
            f"exactly one consumer group reads it: `{groups[0]}`, an audience of one",
            *looks_like_command,
            *several,
        ]
        confidence: Confidence = ("low", "medium", "high")[min(len(looks_like_command), 2)]
        note = None
        if not looks_like_command and (name_reading.fact or any(read_name(t).fact for t in record_types)):
            note = "reads like a fact: perhaps an event with one audience so far"
        return Classification(kind="command", reasons=tuple(reasons), confidence=confidence, note=note)

    audience = ", ".join(f"`{group}`" for group in groups)
    reasons = [f"{len(groups)} consumer groups read it ({audience}): each decides for itself", *several]
    note = None
    if looks_like_command:
        note = "named like a command, read like a fact"
        reasons.append(f"{note}: " + "; ".join(looks_like_command))
    return Classification(kind="event", reasons=tuple(reasons), note=note)


def find_findings(
    kinds: Mapping[str, TopicKind],
    writes: Mapping[str, Iterable[str]],
    reads: Mapping[str, Iterable[str]],
    topic_writers: Mapping[str, Iterable[str]],
) -> tuple[Finding, ...]:
    """Command chains and fan-outs among named services.

    ``writes``/``reads`` map a service to the topics it produces/consumes; services that could not be
    named (unknown writers) must be left out by the caller, since their identity is a guess.
    A service that both receives and issues commands is reported once, as a chain; a fan-out is a
    service that issues several commands without having been commanded itself.
    """
    findings: list[Finding] = []
    for service in sorted(set(writes) | set(reads)):
        commands_in = sorted(t for t in set(reads.get(service, ())) if kinds.get(t) == "command")
        commands_out = sorted(
            t for t in set(writes.get(service, ())) if kinds.get(t) == "command" and t not in commands_in
        )
        if commands_in and commands_out:
            senders = sorted({w for t in commands_in for w in topic_writers.get(t, ()) if w != service})
            origin = f" (from {_names(senders)})" if senders else ""
            findings.append(
                Finding(
                    kind="command_chain",
                    topics=(*commands_in, *commands_out),
                    services=(service,),
                    summary=(
                        f"`{service}` receives commands on {_names(commands_in)}{origin} "
                        f"and issues commands on {_names(commands_out)}: a chain of commands."
                    ),
                    advice=(
                        "Record the fact once (what happened) and let the services behind "
                        f"{_names(commands_out)} subscribe and decide for themselves (who cares); "
                        f"`{service}` then stops coordinating them, and its releases stop blocking theirs."
                    ),
                )
            )
        elif len(commands_out) >= 2:
            findings.append(
                Finding(
                    kind="command_fanout",
                    topics=tuple(commands_out),
                    services=(service,),
                    summary=(
                        f"`{service}` writes commands to {len(commands_out)} topics "
                        f"({_names(commands_out)}), each read by a single audience."
                    ),
                    advice=(
                        "Write one event that says what happened and let those audiences subscribe to it; "
                        f"adding the next reaction then needs no change to `{service}`."
                    ),
                )
            )
    return tuple(findings)


def _names(names: Sequence[str]) -> str:
    quoted = [f"`{name}`" for name in names]
    if len(quoted) <= 1:
        return "".join(quoted)
    return ", ".join(quoted[:-1]) + " and " + quoted[-1]
