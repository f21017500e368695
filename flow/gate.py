"""The CI gate of `flowscope report --fail-on command`: which command topics fail a build, and why.

Without a baseline every command topic fails the gate. With a baseline (a previous ``--format json``
report) only command topics the baseline did not list as commands fail it: new topics read by one
group, and topics that had several audiences and are down to one. A baseline is data someone can
edit, so reading it checks its shape and says what is wrong in one sentence.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flow.sanitize import clean, terminal_safe
from flow.snapshot import FlowSnapshot, TopicView

FAIL_ON = ("command",)


class BaselineError(ValueError):
    """A baseline that is not a flowscope JSON report; the message says what is wrong."""


def baseline_commands(data: Any) -> frozenset[str]:
    """The command topics of a previous JSON report (``report_data``'s shape)."""
    if not isinstance(data, Mapping) or not isinstance(data.get("topics"), list):
        raise BaselineError('not a flowscope JSON report: expected an object with a "topics" list')
    names: set[str] = set()
    for index, topic in enumerate(data["topics"]):
        if not (
            isinstance(topic, Mapping) and isinstance(topic.get("name"), str) and isinstance(topic.get("kind"), str)
        ):
            raise BaselineError(f'topics[{index}] is not a topic: expected "name" and "kind" strings')
        if topic["kind"] == "command":
            names.add(topic["name"])
    return frozenset(names)


@dataclass(frozen=True, slots=True)
class GateResult:
    fail_on: str
    failing: tuple[TopicView, ...]
    """Command topics that fail the gate, with their reasons."""
    accepted: tuple[str, ...]
    """Command topics the baseline already had: known, so they pass."""
    baseline: str | None
    """Where the baseline came from, when there is one."""
    gone: tuple[str, ...] = ()
    """Command topics of the baseline that are no longer commands (or no longer seen)."""

    @property
    def failed(self) -> bool:
        return bool(self.failing)


def evaluate(
    snapshot: FlowSnapshot,
    fail_on: str = "command",
    baseline: frozenset[str] | None = None,
    baseline_name: str | None = None,
) -> GateResult:
    """Apply the gate to a snapshot; ``baseline`` is the set of command topics already accepted."""
    if fail_on not in FAIL_ON:
        raise ValueError(f"unknown --fail-on value {fail_on!r} (known: {', '.join(FAIL_ON)})")
    commands = snapshot.command_topics()
    known = baseline or frozenset()
    failing = tuple(topic for topic in commands if topic.name not in known)
    accepted = tuple(topic.name for topic in commands if topic.name in known)
    current = {topic.name for topic in commands}
    gone = tuple(sorted(known - current)) if baseline is not None else ()
    return GateResult(fail_on, failing, accepted, baseline_name if baseline is not None else None, gone)


def gate_data(result: GateResult) -> dict[str, Any]:
    """The gate as plain data, for the ``gate`` key of a JSON report."""
    return {
        "fail_on": result.fail_on,
        "failed": result.failed,
        "baseline": result.baseline,
        "failing": [
            {
                "name": topic.name,
                "consumer_groups": list(topic.groups),
                "reasons": list(topic.classification.reasons),
            }
            for topic in result.failing
        ],
        "accepted": list(result.accepted),
        "gone": list(result.gone),
    }


def gate_text(result: GateResult) -> str:
    """A verdict that reads well in a CI log: what fails the build and why, in the report's terms."""
    count = len(result.failing)
    noun = "topic" if count == 1 else "topics"
    baseline = f" (baseline {clean(result.baseline, 300)})" if result.baseline else ""
    lines: list[str] = []
    if result.failed:
        new = "new " if result.baseline else ""
        lines.append(f"GATE --fail-on {result.fail_on}{baseline}: FAILED, {count} {new}command {noun}")
        for topic in result.failing:
            lines.append(f"  {clean(topic.name, 300)}")
            lines.extend(f"    - {clean(reason, 1000)}" for reason in topic.classification.reasons)
    else:
        what = "no new command topics" if result.baseline else "no command topics"
        lines.append(f"GATE --fail-on {result.fail_on}{baseline}: passed, {what}")
    if result.accepted:
        lines.append(f"  accepted by the baseline: {', '.join(clean(n, 300) for n in result.accepted)}")
    if result.gone:
        lines.append(f"  no longer command topics since the baseline: {', '.join(clean(n, 300) for n in result.gone)}")
    if result.failed:
        lines.append(
            "  advice: record the fact once and let each interested service subscribe; or, if the "
            "audience of one is intended, accept it by making this report the new baseline"
        )
    return terminal_safe("\n".join(lines)) + "\n"
