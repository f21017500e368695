"""How fast the UI draws a big cluster: snapshot updates, graph layout, event-loop lateness, first frame.

Usage: .venv/bin/python bench/render.py [--warmup 30] [--seconds 30] [--runs 5]
On the `large` scenario (2,000 topics, 500 groups, 300 services) it prints:
- the median time to apply one snapshot to the graph and all three tables (target <= 50 ms);
- the median time to lay out the whole graph (target <= 500 ms; it runs in a worker thread, off the UI
  loop), and the grouped overview that `large` opens on, grouping included (target <= 100 ms);
- a focus switch in the running app: from choosing a topic to its neighbourhood laid out and painted
  (median, target <= 50 ms);
- the UI event loop's lateness, p95, while replaying `large` at 64x (target <= 20 ms), on the overview
  it opens on and on the whole graph: first during the start-up (new producers are still being named,
  so the topology changes and the graph is laid out again nearly every frame), then after it;
- the time to the first painted frame of `flowscope` against a blank Textual app started the same way,
  both in a pseudo-terminal with compiled bytecode, as installed (target <= 1.5x).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from adapters.scenarios.demo import demo_source
from adapters.scenarios.specs import large
from adapters.scenarios.synthetic import SyntheticOptions, synthetic
from adapters.session import Frame
from adapters.source import Controls, Sink, SourceInfo
from flow.model import FlowModel
from flow.snapshot import FlowSnapshot
from tests.tui_support import settle
from tui.app import create_app
from tui.graph import FlowGraph
from tui.messages import FrameReady
from tui.tables import FlowTable
from tui.view.layout import layout, layout_for
from tui.view.projection import ViewFilter, build_view
from tui.view.scope import Scope

ROOT = Path(__file__).resolve().parent.parent


class Idle:
    """A source that never sends anything: the benchmark hands frames to the app itself."""

    info = SourceInfo("replay", "bench")
    controls = Controls()

    async def run(self, sink: Sink) -> None:
        await asyncio.Event().wait()


def large_snapshots(count: int) -> list[FlowSnapshot]:
    """Snapshots of `large` one refresh apart, after a warm-up minute so rates and lag exist."""
    model = FlowModel()
    stream = synthetic(large(), SyntheticOptions(records_per_tick=100, producers_every=1))
    snapshots = []
    for _, batch in itertools.groupby(stream, key=lambda obs: obs.t):
        model.apply_all(batch)
        if model.now - (model._started or 0) >= 60_000:
            snapshots.append(model.snapshot())
            if len(snapshots) == count:
                break
    return snapshots


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


async def snapshot_updates(snapshots: list[FlowSnapshot]) -> tuple[list[float], list[float]]:
    """Per snapshot: the work on the session thread (the view: filtered topology, box looks, table rows)
    and the work on the UI loop (status, graph, every table, and painting the graph's visible rows)."""
    app = create_app(Idle())
    prepare, apply = [], []
    async with app.run_test(size=(200, 60)) as pilot:
        first = snapshots[0]
        app.post_message(FrameReady(Frame(first, Idle.info, None), build_view(first, app.view_filter)))
        await settle(app, lambda a: a.query_one("#graph", FlowGraph).settled, timeout=60)
        shown_as = "overview" if app.scope.grouped else "whole flow"
        for snapshot in snapshots[1:]:
            started = time.perf_counter()
            view = build_view(snapshot, app.view_filter, app.scope)
            prepare.append(time.perf_counter() - started)
            app.frame = Frame(snapshot, Idle.info, None)
            started = time.perf_counter()
            app.refresh_views(view)
            for table in app.query(FlowTable):  # all tables, not only the one on screen
                table.show(view.rows(table.id or ""))
            graph = app.query_one("#graph")
            for y in range(graph.size.height):  # the rows a screen update paints
                graph.render_line(y)
            apply.append(time.perf_counter() - started)
            await pilot.pause()
    print(f"  (the graph shows the {shown_as}, as the app opens on it)")
    return prepare, apply


async def focus_switches(snapshot: FlowSnapshot, count: int) -> list[float]:
    """From choosing a topic (as the palette does) to its neighbourhood laid out and its rows painted."""
    app = create_app(Idle())
    topics = [topic.name for topic in snapshot.topics if topic.kind in ("command", "event")][::41][:count]
    switches = []
    async with app.run_test(size=(200, 60)) as pilot:
        app.post_message(FrameReady(Frame(snapshot, Idle.info, None), build_view(snapshot, app.view_filter)))
        graph = app.query_one("#graph", FlowGraph)
        await settle(app, lambda a: graph.settled, timeout=60)
        for name in topics:
            node = ("topic", name)
            started = time.perf_counter()
            graph.focus_on(node)
            while not (app.shown and app.shown.scope.focus == node and graph.settled):
                await asyncio.sleep(0.001)
            for y in range(graph.size.height):
                graph.render_line(y)
            switches.append(time.perf_counter() - started)
            await pilot.pause()
    return switches


async def lateness_while_replaying(seconds: float, warmup: float, whole: bool) -> tuple[list[float], list[float]]:
    """Lateness of a 10 ms heartbeat on the UI loop while the app replays `large` at 64x: for
    ``warmup`` seconds from the moment 1,000 topics are on screen (the start-up: producers are still
    being named, so the graph is laid out again nearly every frame), then for ``seconds`` more; on the
    overview the app opens on, or (``whole``) on the whole graph."""
    app = create_app(demo_source("large", speed=64.0))
    start_up: list[float] = []
    steady: list[float] = []
    applied: list[int] = []
    async with app.run_test(size=(200, 60)):
        await settle(app, lambda a: a.frame is not None and len(a.frame.snapshot.topics) > 1000, timeout=120)
        if whole:
            await settle(app, lambda a: a.scope.grouped, timeout=60)
            app.query_one("#graph", FlowGraph).zoom(Scope())
        loop = asyncio.get_running_loop()
        for late, duration in ((start_up, warmup), (steady, seconds)):
            frames = app.frames_applied
            end = loop.time() + duration
            while loop.time() < end:
                expected = loop.time() + 0.010
                await asyncio.sleep(0.010)
                late.append(max(loop.time() - expected, 0.0))
            applied.append(app.frames_applied - frames)
    # Printed once the app is gone: while it runs, Textual captures what the process prints.
    print(f"  ({applied[0]} and {applied[1]} frames applied in {warmup:g} and {seconds:g} s)")
    return start_up, steady


def bytecode_environment(cache: str) -> dict[str, str]:
    """Both apps start with compiled bytecode, as an installed tool does (pip, pipx and uv compile it at
    install time). A shell that sets PYTHONDONTWRITEBYTECODE would otherwise have flowscope's own
    modules compiled on every start while Textual's come precompiled with the package."""
    environment = dict(os.environ, PYTHONPYCACHEPREFIX=cache)
    environment.pop("PYTHONDONTWRITEBYTECODE", None)
    return environment


def first_frame(command: list[str], expect: str, environment: dict[str, str]) -> float:
    done = subprocess.run(
        [str(ROOT / "scripts" / "pty-run"), "--expect", expect, "--timeout", "60", "--", *command],
        capture_output=True,
        text=True,
        check=True,
        env=environment,
    )
    return float(done.stdout.split("appeared after ")[1].split("s")[0])


BLANK_APP = """
from textual.app import App
from textual.widgets import Static
class Blank(App):
    BINDINGS = [("q", "quit")]
    def compose(self):
        yield Static("blank app ready")
Blank().run()
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warmup", type=float, default=30.0, help="lateness measured during start-up (30 s)")
    parser.add_argument("--seconds", type=float, default=30.0, help="lateness measured after it (30 s)")
    parser.add_argument("--runs", type=int, default=5, help="first-frame runs of each app (5)")
    args = parser.parse_args()

    print("large scenario: building snapshots ...")
    snapshots = large_snapshots(21)
    shown = snapshots[-1]
    print(f"  {len(shown.topics)} topics, {len(shown.groups)} groups, {len(shown.services)} services")

    prepare, updates = asyncio.run(snapshot_updates(snapshots))
    update = statistics.median(updates)
    print(
        f"apply one snapshot on the UI loop (graph + 3 tables): median {ms(update)}, max {ms(max(updates))}"
        "  target <= 50 ms"
    )
    print(f"  prepared beforehand on the session thread (the view): median {ms(statistics.median(prepare))}")

    topology = build_view(shown, ViewFilter()).topology
    layouts = []
    for _ in range(3):
        started = time.perf_counter()
        result = layout(topology)
        layouts.append(time.perf_counter() - started)
    print(
        f"graph layout, whole ({len(result.boxes)} boxes, {len(result.layers)} columns): "
        f"median {ms(statistics.median(layouts))}  target <= 500 ms (in a worker thread)"
    )
    overview_times = []
    for _ in range(5):
        started = time.perf_counter()
        overview = build_view(shown, ViewFilter(), Scope(grouped=True))
        drawn = layout_for(overview.topology, 200, 57, screens=overview.screens)
        overview_times.append(time.perf_counter() - started)
    print(
        f"graph layout, grouped overview ({len(drawn.boxes)} boxes), grouping included: "
        f"median {ms(statistics.median(overview_times))}  target <= 100 ms"
    )
    switches = asyncio.run(focus_switches(shown, 15))
    print(
        f"focus switch, topic chosen to neighbourhood painted ({len(switches)} topics): "
        f"median {ms(statistics.median(switches))}, max {ms(max(switches))}  target median <= 50 ms"
    )

    for whole in (False, True):
        start_up, steady = asyncio.run(lateness_while_replaying(args.seconds, args.warmup, whole))
        shown_as = "whole graph" if whole else "overview"
        for name, late in ((f"the first {args.warmup:g} s", start_up), (f"the {args.seconds:g} s after", steady)):
            p95 = statistics.quantiles(late, n=20)[-1]
            print(
                f"UI loop lateness replaying large at 64x on the {shown_as}, {name}: p95 {ms(p95)}, "
                f"max {ms(max(late))}  target p95 <= 20 ms"
            )

    flowscope = [sys.executable, "-m", "tui.cli"]
    blank = [sys.executable, "-c", BLANK_APP]
    painted, marked, baseline = [], [], []
    with tempfile.TemporaryDirectory() as cache:
        environment = bytecode_environment(cache)
        first_frame(flowscope, "Quit", environment)  # writes the bytecode of both, unmeasured
        first_frame(blank, "blank app ready", environment)
        for _ in range(args.runs):  # interleaved, so load drift hits all three alike
            painted.append(first_frame(flowscope, "Quit", environment))  # the key bar: the first frame is on screen
            marked.append(first_frame(flowscope, "CMD·1", environment))  # the shop flow with its command marks
            baseline.append(first_frame(blank, "blank app ready", environment))
    blank_s = statistics.median(baseline)
    ratio = statistics.median(painted) / blank_s
    print(
        f"first painted frame: flowscope {statistics.median(painted):.2f} s, blank Textual app {blank_s:.2f} s; "
        f"ratio {ratio:.2f}  target <= 1.5"
    )
    print(f"  the shop flow with its command marks on screen: {statistics.median(marked):.2f} s  (target <= 2 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
