"""Reading names: internal topics, imperative versus fact-like names, and service identities."""

from __future__ import annotations

import re
from collections.abc import Container, Mapping
from dataclasses import dataclass
from functools import lru_cache

# Verbs that open a command: `send-email`, `DispatchProduct`, `ProcessRefund`. Words that are as often
# nouns as verbs at the start of a name (order, email) are left out on purpose: `order-lines` must not
# read as a command.
IMPERATIVE_VERBS = frozenset(
    """
    add allocate apply approve archive assign authorize book calculate cancel capture charge check
    compute confirm create debit delete deliver deposit disable dispatch enable enqueue execute export
    fulfil fulfill generate handle import index invoice invoke issue notify pay pick post print process
    provision publish purge rebuild recalculate refund register reindex reject release remind remove
    render request resend reserve reset resize retry revoke run schedule send ship sign start stop
    submit suspend sync transfer transform trigger update upsert validate verify withdraw
    """.split()
)

# Words that name a topic as a queue of commands rather than a log of facts.
COMMAND_WORDS = frozenset({"command", "commands", "cmd", "cmds", "instruction", "instructions", "job", "jobs"})

_IRREGULAR_PAST = frozenset({"sent", "paid", "built", "made", "sold", "bought", "lost", "held", "set", "won"})
# The particle of a phrasal verb: `user-signed-up`, `CartCheckedOut`, `UserLoggedIn` end in a past tense.
_PARTICLES = frozenset({"up", "out", "in", "off", "on", "down", "over", "back", "away"})

_TOKEN = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_SEGMENT_SPLIT = re.compile(r"[./:]")

_INTERNAL_EXACT = frozenset({"_schemas", "heartbeats", "connect-configs", "connect-offsets", "connect-status"})
_INTERNAL_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^__"), "a Kafka internal topic (its name starts with `__`)"),
    (re.compile(r"^_confluent"), "a Confluent Platform internal topic"),
    (re.compile(r"-changelog$"), "a Kafka Streams changelog topic"),
    (re.compile(r"-repartition$"), "a Kafka Streams repartition topic"),
    (re.compile(r"connect.*[-_.](configs|offsets|status)$"), "a Kafka Connect bookkeeping topic"),
    (re.compile(r"\.internal$"), "a MirrorMaker 2 internal topic"),
)


def tokens(name: str) -> list[str]:
    """Lower-case words of a name: `DispatchProduct` -> dispatch, product; `send-email` -> send, email."""
    return [word.lower() for word in _TOKEN.findall(name)]


# Classification runs on every snapshot for every topic, and names repeat: reading one is worth keeping.
@lru_cache(maxsize=8192)
def internal_reason(name: str, flagged_internal: bool = False) -> str | None:
    """Why a topic is infrastructure rather than application data, or None if it is not."""
    if flagged_internal:
        return "the broker marks it internal"
    if name in _INTERNAL_EXACT:
        return "a well-known infrastructure topic (Schema Registry, Connect or MirrorMaker)"
    for pattern, reason in _INTERNAL_PATTERNS:
        if pattern.search(name):
            return reason
    return None


@dataclass(frozen=True, slots=True)
class NameReading:
    """How a name reads: as an imperative (a command) or as a fact, and the word that decided it."""

    imperative: bool
    fact: bool
    word: str | None


@lru_cache(maxsize=8192)
def read_name(name: str) -> NameReading:
    """Read a topic name or record type: does it order someone about, or state what happened?"""
    for segment in _SEGMENT_SPLIT.split(name):
        words = tokens(segment)
        if not words:
            continue
        for word in words:
            if word in COMMAND_WORDS:
                return NameReading(imperative=True, fact=False, word=word)
        # `RefundIssued` starts with a word that can be a verb, but says what happened to a refund.
        if words[0] in IMPERATIVE_VERBS and len(words) > 1 and _past_verb(words) is None:
            return NameReading(imperative=True, fact=False, word=words[0])
    past = _past_verb(tokens(name))
    if past is not None:
        return NameReading(imperative=False, fact=True, word=past)
    return NameReading(imperative=False, fact=False, word=None)


def _past_verb(words: list[str]) -> str | None:
    """The past-tense verb that ends a name, particle included (`signed up`), or None."""
    if len(words) > 1 and words[-1] in _PARTICLES and _past(words[-2]):
        return f"{words[-2]} {words[-1]}"
    if words and _past(words[-1]):
        return words[-1]
    return None


def _past(word: str) -> bool:
    return (word.endswith("ed") and len(word) > 3) or word in _IRREGULAR_PAST


_URI_PREFIX = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:(//[^/]*)?")


def source_service(raw: str, aliases: Mapping[str, str]) -> str:
    """The service behind a producer name from a header: alias map first, then the last path segment.

    CloudEvents sources are URI references (`/warehouse`, `https://shop.example/services/warehouse`,
    `urn:shop:warehouse`); the last segment is the name people use for the service.
    """
    alias = aliases.get(raw)
    if alias is not None:
        return alias
    stripped = _URI_PREFIX.sub("", raw.strip())
    parts = [part for part in re.split(r"[/:]", stripped) if part]
    name = parts[-1] if parts else raw.strip()
    return aliases.get(name, name) or raw


_STREAMS_INTERNAL = re.compile(r"-(changelog|repartition)$")


def streams_application(topic: str, groups: Container[str]) -> str | None:
    """The consumer group of the Kafka Streams app that owns ``topic``, or None.

    A Streams app's group id is its ``application.id``, and Streams names every topic it creates
    ``<application.id>-<name>-changelog`` or ``…-repartition``; the longest group id that prefixes the
    name wins, so `shop` and `shop-totals` can both be apps.
    """
    if not _STREAMS_INTERNAL.search(topic):
        return None
    end = topic.rfind("-")  # before the suffix: a name always stands between the id and it
    while (end := topic.rfind("-", 0, end)) > 0:
        if topic[:end] in groups:
            return topic[:end]
    return None


def group_service(group_id: str, aliases: Mapping[str, str]) -> str:
    """The service behind a consumer group: its alias, or the group id itself."""
    return aliases.get(group_id, group_id)
