"""The log of notable changes (flow/changes.py): each kind, no flood at start, order, bound, and the demo's."""

from __future__ import annotations

import itertools

from adapters.files.open import open_file
from flow.changes import COLLAPSE_OVER, RECOVERY_MS, Change, ChangeLog
from flow.config import ModelConfig
from flow.model import FlowModel
from flow.snapshot import Classification, Finding, GroupView, ProducerRate, TopicView
from flow.vocabulary import LagStatus
from tests.conftest import SAMPLES
from tests.helpers import T0, commits, ends, group, record, topics

SETTLE = 10_000


def topic(name: str, *groups: str, writers: tuple[str, ...] = (), internal: bool = False) -> TopicView:
    kind = "internal" if internal else "unread" if not groups else "command" if len(groups) == 1 else "event"
    return TopicView(
        name=name,
        partitions=3,
        internal=internal,
        classification=Classification(kind, ()),
        rate=None,
        messages=0,
        end_offsets=(),
        groups=groups,
        producers=tuple(ProducerRate(w, 1.0) for w in writers),
        record_types=(),
        records=(),
    )


def group_view(group_id: str, *reads: str, status: LagStatus = LagStatus.OK) -> GroupView:
    return GroupView(group_id, group_id, "Stable", "classic", (), reads, 0, None, status, None, (), ())


def chain(service: str, *names: str) -> Finding:
    return Finding("command_chain", names, (service,), "", "")


class Flow:
    """A log fed hand-made snapshots: ``at(seconds, topics, groups, findings)`` returns what is new."""

    def __init__(self, keep: int = 100) -> None:
        self.log = ChangeLog(keep, SETTLE)
        self.seen = 0

    def at(self, seconds: float, topics=(), groups=(), findings=()) -> list[str]:
        shown = self.log.update(T0 + int(seconds * 1000), T0, tuple(topics), tuple(groups), tuple(findings))
        new = [change.text for change in shown[self.seen :]] if len(shown) > self.seen else []
        self.seen = len(shown)
        return new


def settled(*parts) -> Flow:
    """A log that has settled on ``parts`` (topics, groups, findings)."""
    flow = Flow()
    flow.at(0, *parts)
    flow.at(SETTLE / 1000, *parts)
    return flow


SHOP = (
    [topic("warehouse", "warehouse", writers=("web-shop",)), topic("send-email", "email-service")],
    [group_view("warehouse", "warehouse"), group_view("email-service", "send-email")],
    [chain("warehouse", "warehouse", "send-email")],
)


def test_a_session_start_is_one_line_not_a_flood():
    flow = Flow()
    assert flow.at(0, *SHOP) == []
    assert flow.at(4, *SHOP) == []  # still discovering: nothing is a change yet
    more = ([*SHOP[0], topic("send-text", "sms-service")], SHOP[1], SHOP[2])
    assert flow.at(8, *more) == []  # appeared while settling: discovery, not news
    assert flow.at(10, *more) == ["watching 3 topics (3 command topics), 2 groups, 1 finding"]
    assert flow.at(12, *more) == []


def test_a_topic_becomes_a_command_topic_and_stops_being_one():
    flow = settled([topic("orders")], [], [])
    assert flow.at(12, [topic("orders", "billing")]) == ["`orders` became a command topic (one audience: `billing`)"]
    assert flow.at(14, [topic("orders", "billing", "sales")]) == [
        "`orders` is no longer a command topic: 2 audiences (`billing`, `sales`)"
    ]
    assert flow.at(16, [topic("orders", "billing")]) == ["`orders` became a command topic (one audience: `billing`)"]
    assert flow.at(18, [topic("orders")]) == ["`orders` is no longer a command topic: no group reads it"]


def test_new_and_gone_topics_with_their_writers():
    flow = settled([topic("a")], [], [])
    assert flow.at(12, [topic("a"), topic("b", "x", writers=("web-shop",))]) == [
        "new topic `b` (3 partitions)",
        "`b` became a command topic (one audience: `x`)",
        "new writer `web-shop` on `b`",
    ]
    assert flow.at(14, [topic("b", "x", writers=("web-shop",))]) == ["topic `a` is gone"]


def test_a_new_writer_is_news_but_an_unnamed_producer_or_the_unknown_writer_is_not():
    flow = settled([topic("orders", writers=("web-shop",))], [], [])
    assert flow.at(12, [topic("orders", writers=("web-shop", "producer-id 4001", "unknown writer"))]) == []
    assert flow.at(14, [topic("orders", writers=("web-shop", "billing"))]) == ["new writer `billing` on `orders`"]
    assert flow.at(16, [topic("orders", writers=("billing",))]) == []  # a writer going quiet is not listed


def test_internal_topics_are_not_news():
    flow = settled([], [], [])
    assert flow.at(12, [topic("__consumer_offsets", internal=True, writers=("kafka",))]) == []
    assert flow.at(14, []) == []


def test_groups_appear_and_go_away():
    flow = settled([], [group_view("a", "orders")], [])
    assert flow.at(12, [], [group_view("a", "orders"), group_view("b", "orders", "payments")]) == [
        "new group `b` reading `orders`, `payments`"
    ]
    assert flow.at(14, [], [group_view("b")]) == ["group `a` went away"]


def test_a_group_going_warn_is_told_at_once_and_worse_again():
    flow = settled([], [group_view("email-service")], [])
    assert flow.at(12, [], [group_view("email-service", status=LagStatus.WARN)]) == [
        "group `email-service` went WARN: lag growing"
    ]
    assert flow.at(14, [], [group_view("email-service", status=LagStatus.STOP)]) == [
        "group `email-service` went STOP: no members, lag not shrinking"
    ]
    assert flow.at(16, [], [group_view("email-service", status=LagStatus.WARN)]) == []  # better, still not OK
    change = flow.log.changes[-1]
    assert (change.kind, change.subject, change.status) == ("group_status", "email-service", LagStatus.STOP)


def test_recovery_is_told_once_the_group_stayed_ok_and_a_flapping_group_is_one_line():
    flow = settled([], [group_view("sms")], [])
    warn, ok = [group_view("sms", status=LagStatus.WARN)], [group_view("sms")]
    assert flow.at(12, [], warn) == ["group `sms` went WARN: lag growing"]
    for second in range(14, 40, 4):  # WARN, OK, WARN, OK ... every two seconds
        assert flow.at(second, [], ok) == []
        assert flow.at(second + 2, [], warn) == []
    start = 42
    assert flow.at(start, [], ok) == []
    assert flow.at(start + RECOVERY_MS / 1000 - 2, [], ok) == []
    assert flow.at(start + RECOVERY_MS / 1000, [], ok) == ["group `sms` recovered: OK for 20 s"]
    assert flow.at(start + RECOVERY_MS / 1000 + 2, [], warn) == ["group `sms` went WARN: lag growing"]


def test_findings_appear_and_are_resolved():
    flow = settled([], [], [])
    assert flow.at(12, [], [], [chain("warehouse", "warehouse", "send-email")]) == [
        "new finding: command chain through `warehouse` (`warehouse`, `send-email`)"
    ]
    # The same chain growing a topic is the same finding.
    assert flow.at(14, [], [], [chain("warehouse", "warehouse", "send-email", "send-text")]) == []
    fanout = Finding("command_fanout", ("a", "b"), ("web-shop",), "", "")
    assert flow.at(16, [], [], [fanout]) == [
        "new finding: `web-shop` fans out commands to `a`, `b`",
        "finding resolved: command chain through `warehouse` (`warehouse`, `send-email`, `send-text`)",
    ]


def test_many_changes_of_one_kind_at_once_are_one_line():
    flow = settled([], [], [])
    many = [topic(f"t{i:02}") for i in range(COLLAPSE_OVER + 3)]
    assert flow.at(12, many) == ["7 new topics: `t00`, `t01`, `t02` and 4 more"]
    assert flow.log.changes[-1].subject == ""


def test_the_log_is_oldest_first_with_the_snapshot_time_and_bounded():
    flow = Flow(keep=3)
    flow.at(0, [topic("a")])
    flow.at(10, [topic("a")])
    for i in range(5):
        flow.at(12 + i, [topic("a", *(f"g{n}" for n in range(i % 2 + 1)))])
    log = flow.log.changes
    assert [(change.t - T0, change.kind) for change in log] == [
        (14_000, "command_topic"),
        (15_000, "command_topic_ended"),
        (16_000, "command_topic"),
    ]


def test_the_snapshot_carries_the_log_and_a_reset_forgets_it():
    model = FlowModel(ModelConfig(changes_settle_ms=2_000))
    model.apply_all([topics(T0, "orders"), ends(T0, {"orders": (0,)}), record(T0, "orders", source="web-shop")])
    assert model.snapshot().changes == ()
    model.apply_all([topics(T0 + 2_000, "orders"), ends(T0 + 2_000, {"orders": (5,)})])
    assert [c.text for c in model.snapshot().changes] == ["watching 1 topic, 0 groups, 0 findings"]
    model.apply_all([group(T0 + 4_000, "billing", "orders"), commits(T0 + 4_000, "billing", {"orders": (5,)})])
    snapshot = model.snapshot()
    assert [c.text for c in snapshot.changes][1:] == [
        "`orders` became a command topic (one audience: `billing`)",
        "new group `billing` reading `orders`",
    ]
    assert snapshot.restricted({"orders"}, {"billing"}, set()).changes == snapshot.changes
    model.reset()
    model.apply(topics(T0 + 6_000, "orders"))
    assert model.snapshot().changes == ()


def shop_changes(name: str) -> list[tuple[int, str, str]]:
    """The changes of a bundled recording, a snapshot per refresh as a replay at 1x takes them."""
    model = FlowModel()
    snapshot = None
    for _, batch in itertools.groupby(open_file(SAMPLES / name).read(), key=lambda obs: obs.t):
        model.apply_all(batch)
        snapshot = model.snapshot()
    assert snapshot is not None
    return [((c.t - snapshot.started) // 1000, c.kind, c.text) for c in snapshot.changes]  # type: ignore[operator]


def test_the_demo_tells_what_was_found_and_the_consumer_falling_behind():
    assert shop_changes("shop-commands.jsonl") == [
        (10, "start", "watching 3 topics (3 command topics), 3 groups, 1 finding"),
        (92, "group_status", "group `sms-service` went WARN: lag growing"),
        (150, "group_recovered", "group `sms-service` recovered: OK for 20 s"),
    ]


def test_a_seek_starts_the_log_over_with_what_is_there():
    flow = settled(*SHOP)
    flow.at(12, [], SHOP[1], SHOP[2])
    assert len(flow.log.changes) == 3  # the start, and the two topics gone
    flow.log.restart()
    assert flow.log.changes == ()
    flow.seen = 0
    assert flow.at(90, *SHOP) == ["watching 2 topics (2 command topics), 2 groups, 1 finding"]


def test_a_change_line_shows_names_inert():
    from tui.view.changes import change_line, changes_text, strip_height

    hostile = Change(
        T0, "group_status", "x", "group `[bold]x[/]\x1b]2;owned\x07` went WARN: lag growing", LagStatus.WARN
    )
    line = change_line(hostile)
    assert "[bold]x[/]" in line.plain
    assert "\x1b" not in line.plain and "\x07" not in line.plain
    assert line.plain.startswith("22:13:20  ")  # T0's UTC time
    shown = changes_text([hostile, Change(T0 + 1000, "start", "", "watching 1 topic")], 1)
    assert shown.plain.endswith("watching 1 topic") and "owned" not in shown.plain  # the newest that fit
    assert strip_height(available=30, graph_height=10) == 9  # at most 8 changes and the title
    assert strip_height(available=13, graph_height=10) == 3
    assert strip_height(available=12, graph_height=10) == 0  # one change only is not worth a strip
