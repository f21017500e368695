"""The graph widget redraws what changed, and only that: new numbers, a new edge weight, a selection."""

from __future__ import annotations

from textual.app import App, ComposeResult

from tui.graph import FlowGraph
from tui.view.layout import Topology, layout
from tui.view.looks import NodeLook, edge_look

SHOP = Topology.build(
    ["web-shop", "warehouse"],
    ["warehouse-topic"],
    [(("service", "web-shop"), ("topic", "warehouse-topic")), (("topic", "warehouse-topic"), ("service", "warehouse"))],
)
WRITE, READ = SHOP.edges if SHOP.edges[0][0][0] == "service" else SHOP.edges[::-1]


def box(name: str, detail: str, border: str, badge: str = "") -> NodeLook:
    return NodeLook(name, badge, "flow-graph--badge", detail, "flow-graph--dim", border)


def looks(rate: str, write_weight: str = "thin") -> tuple[dict, dict]:
    boxes = {
        ("service", "web-shop"): box("web-shop", "writes 3/s", "flow-graph--service"),
        ("topic", "warehouse-topic"): box("warehouse-topic", f"{rate} · 3p", "flow-graph--command", "CMD·1"),
        ("service", "warehouse"): box("warehouse", "lag 0 OK", "flow-graph--service"),
    }
    edges = {WRITE: edge_look(write_weight, "flow-graph--edge"), READ: edge_look("thin", "flow-graph--edge")}
    return boxes, edges


class GraphApp(App[None]):
    def compose(self) -> ComposeResult:
        yield FlowGraph(id="graph")


def graph_text(graph: FlowGraph) -> str:
    return "\n".join("".join(s.text for s in graph.render_line(y)) for y in range(graph.size.height))


async def test_new_numbers_repaint_only_the_rows_that_show_them():
    app = GraphApp()
    async with app.run_test(size=(100, 12)) as pilot:
        graph = app.query_one(FlowGraph)
        graph.set_layout(layout(SHOP))
        graph.set_looks(looks("5.0/s"))
        await pilot.pause()
        assert "5.0/s · 3p" in graph_text(graph)

        painted: list[int] = []
        render_line = graph.render_line

        def counting(y: int):
            painted.append(y)
            return render_line(y)

        graph.render_line = counting  # type: ignore[method-assign]
        graph.set_looks(looks("7.5/s"))
        await pilot.pause()
        topic = layout(SHOP).boxes[("topic", "warehouse-topic")]
        assert painted and set(painted) == {topic.y + 2}  # the topic's number line, nothing else
        text = graph_text(graph)
        assert "7.5/s · 3p" in text and "5.0/s" not in text


async def test_a_new_edge_weight_redraws_the_edge():
    app = GraphApp()
    async with app.run_test(size=(100, 12)) as pilot:
        graph = app.query_one(FlowGraph)
        graph.set_layout(layout(SHOP))
        graph.set_looks(looks("5.0/s", write_weight="thin"))
        await pilot.pause()
        assert "━" not in graph_text(graph)
        graph.set_looks(looks("5.0/s", write_weight="heavy"))
        await pilot.pause()
        assert "━" in graph_text(graph)  # the busy edge is drawn heavy now
        graph.select(("topic", "warehouse-topic"))
        await pilot.pause()
        assert "┏" in graph_text(graph)  # and the selection's heavy frame appears
