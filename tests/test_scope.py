"""How much of the flow the graph shows: a box's neighbourhood, and the overview's grouping by name."""

from __future__ import annotations

import itertools

import pytest

from adapters.headless import fold
from adapters.scenarios.specs import large, realistic
from adapters.scenarios.synthetic import SyntheticOptions, synthetic
from flow.snapshot import FlowSnapshot
from tests.test_layout import SHOP, service, topic
from tui.view.layout import Topology
from tui.view.looks import unknown_writer
from tui.view.projection import ViewFilter, build_view
from tui.view.scope import Scope, grouped, grouping, neighbourhood, starts_grouped

SCREEN_ROWS = 37  # a 120x40 terminal less the status, caption and key lines


@pytest.fixture(scope="module")
def large_snapshot():
    spec = large()
    return fold(itertools.islice(synthetic(spec, SyntheticOptions(records_per_tick=50)), 60_000))


def realistic_folded() -> FlowSnapshot:
    return fold(itertools.islice(synthetic(realistic(), SyntheticOptions(records_per_tick=50)), 20_000))


def realistic_whole() -> Topology:
    """The realistic cluster's graph as the app shows it at first (internal topics hidden)."""
    return build_view(realistic_folded(), ViewFilter()).whole


@pytest.fixture(scope="module")
def realistic_snapshot():
    return realistic_folded()


def test_a_neighbourhood_goes_as_many_steps_up_and_down_as_asked():
    one = neighbourhood(SHOP, topic("warehouse"), 1)
    assert one.nodes == {service("web-shop"), topic("warehouse"), service("warehouse")}
    two = neighbourhood(SHOP, topic("warehouse"), 2)
    assert two.nodes == one.nodes | {topic("send-email"), topic("send-text")}
    assert neighbourhood(SHOP, topic("warehouse"), 3).nodes == SHOP.nodes


def test_a_neighbourhood_leaves_out_what_its_neighbours_do_elsewhere():
    # billing reads orders (in focus) and also writes invoices: that is downstream of orders, so it stays;
    # audit writes orders too, and what audit reads upstream of that is one step further than asked.
    flow = Topology.build(
        ["shop", "billing", "audit"],
        ["orders", "invoices", "logins"],
        [
            (service("shop"), topic("orders")),
            (service("audit"), topic("orders")),
            (topic("logins"), service("audit")),
            (topic("orders"), service("billing")),
            (service("billing"), topic("invoices")),
        ],
    )
    shown = neighbourhood(flow, topic("orders"), 1)
    assert shown.nodes == {service("shop"), service("audit"), topic("orders"), service("billing")}
    assert set(shown.edges) <= set(flow.edges)


def test_the_large_cluster_groups_by_domain_with_every_box_in_a_group(large_snapshot):
    whole = build_view(large_snapshot, ViewFilter()).whole
    groups = grouping(whole)
    assert set(groups) == whole.nodes
    domains = {name.split(".")[0] for name in whole.topics}
    assert {name for kind, name in groups.values() if kind == "topic"} == {f"{d}.*" for d in domains}
    assert {f"{d}-*" for d in domains} <= {name for kind, name in groups.values() if kind == "service"}


def test_the_large_cluster_opens_on_the_overview_and_the_shop_sizes_do_not(large_snapshot, realistic_snapshot):
    assert starts_grouped(build_view(large_snapshot, ViewFilter()).whole, SCREEN_ROWS)
    assert not starts_grouped(build_view(realistic_snapshot, ViewFilter()).whole, SCREEN_ROWS)
    assert not starts_grouped(SHOP, SCREEN_ROWS)


def test_the_overview_counts_topics_and_commands_per_group(large_snapshot):
    view = build_view(large_snapshot, ViewFilter(), Scope(grouped=True))
    nodes, _ = view.looks
    for kind, name in view.topology.nodes:
        if kind != "topic":
            continue
        members = [t for t in large_snapshot.topics if t.name.startswith(name[:-1]) and not t.internal]
        commands = sum(1 for t in members if t.kind == "command")
        look = nodes["topic", name]
        assert look.detail.startswith(f"{len(members)} topics"), (name, look)
        assert look.badge == (f"{commands} CMD" if commands else ""), (name, look)
    assert len(view.topology.nodes) <= 40


def test_an_expanded_group_shows_its_members_and_the_rest_stay_grouped(large_snapshot):
    whole = build_view(large_snapshot, ViewFilter()).whole
    closed, _ = grouped(whole, ())
    opened, group_of = grouped(whole, {("topic", "billing.*")})
    billing = {node for node in whole.nodes if node[0] == "topic" and node[1].startswith("billing.")}
    assert billing <= opened.nodes and ("topic", "billing.*") not in opened.nodes
    assert opened.nodes - billing == closed.nodes - {("topic", "billing.*")}
    assert not billing & set(group_of)


def test_an_edge_between_groups_stands_for_the_edges_between_their_members():
    flow = Topology.build(
        ["pay-api", "pay-worker", "ship-api", "ship-worker", unknown_writer("ship.sent")[1]],
        ["pay.requested", "pay.settled", "ship.requested", "ship.sent"],
        [
            (service("pay-api"), topic("pay.requested")),
            (topic("pay.requested"), service("pay-worker")),
            (service("pay-worker"), topic("pay.settled")),
            (topic("pay.settled"), service("ship-api")),
            (service("ship-api"), topic("ship.requested")),
            (topic("ship.requested"), service("ship-worker")),
            (service("ship-worker"), topic("ship.sent")),
            (service(unknown_writer("ship.sent")[1]), topic("ship.sent")),
        ],
    )
    shown, _ = grouped(flow, ())
    pay, ship = ("service", "pay-*"), ("service", "ship-*")
    assert set(shown.edges) == {
        (pay, ("topic", "pay.*")),
        (("topic", "pay.*"), pay),
        (("topic", "pay.*"), ship),
        (ship, ("topic", "ship.*")),
        (("topic", "ship.*"), ship),
        (unknown_writer("ship.*"), ("topic", "ship.*")),  # one unknown writer for the group it writes
    }


def test_names_without_a_shared_first_part_are_not_grouped(realistic_snapshot):
    whole = build_view(realistic_snapshot, ViewFilter()).whole
    groups = grouping(whole)
    # Only the two order-* topics share a first part: every other box stays itself.
    assert set(groups.values()) == {("topic", "order.*")}
    assert {name for (_, name) in groups} == {"order-placed", "order-completed"}
