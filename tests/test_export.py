"""Exports: Mermaid, Graphviz DOT and AsyncAPI 3.0 of both shop scenarios and of hostile names.

Each format is checked by its own real tool, fetched at test time into .cache/ (never vendored):
Mermaid's parser (npm `mermaid`, run in Node with jsdom), Graphviz's `dot -Tsvg` (Debian `graphviz`),
and the official AsyncAPI 3.0 JSON schema (npm `@asyncapi/specs`) with `jsonschema`. Without the tools
a test skips, except under CI (CI=true), where it fails: scripts/ci-packages lists what CI installs.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import tarfile
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from adapters.headless import fold, fold_file
from adapters.scenarios.specs import scenario
from adapters.scenarios.synthetic import synthetic
from flow.export import (
    COMMAND_MARK,
    asyncapi_document,
    render_asyncapi,
    render_dot,
    render_dot_proposal,
    render_mermaid,
    render_mermaid_proposal,
)
from flow.model import FlowModel
from flow.proposal import Proposal, apply_proposals, propose
from flow.sanitize import clean
from flow.snapshot import FlowSnapshot
from tests.helpers import T0, commits, ends, group, record, topics
from tui.cli import main

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache"
ASYNCAPI_SPECS = "@asyncapi/specs@6"
MERMAID_PACKAGES = ("mermaid@11", "jsdom@29")

HOSTILE = (
    'say "hi"',
    "a]b[c",
    "x\ny",
    "[bold]markup[/bold]",
    "<script>alert(1)</script>",
    "a --> b",
    '%%{init: {"theme":"dark"}}%%',
    "back\\slash\\N",
    "amp&lt;",
    "end",
    "pipe|x",
    "semi;colon",
    "hash#35;",
    "tick`x`",
    "émoji 🚀",
    "\u202eevil",
    '"]:::x\n  z["',
    "\x1b]2;title\x07",
    "{curly}",
    "classDef x fill:red",
)


def _missing_tool(what: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is needed in CI (see scripts/ci-packages)")
    pytest.skip(f"{what} is not available here")


def hostile_snapshot() -> FlowSnapshot:
    """Every hostile name as a topic (read by one group and written by one service, both hostile too),
    plus one topic with two audiences and one with none."""
    names = (*HOSTILE, "shared-events", "nobody-reads")
    model = FlowModel()
    for step in range(2):
        t = T0 + 2000 * step
        model.apply(topics(t, *names))
        model.apply(ends(t, dict.fromkeys(names, (10 * step,))))
        for name in HOSTILE:
            model.apply(group(t, f"grp {name}", name))
            model.apply(commits(t, f"grp {name}", {name: (10 * step,)}))
            model.apply(record(t, name, source=f"/svc {name}", type_=f"Type {name}"))
        for reader in ("audit", 'ana"lytics'):
            model.apply(group(t, reader, "shared-events"))
            model.apply(commits(t, reader, {"shared-events": (10 * step,)}))
    return model.snapshot()


@pytest.fixture(scope="module")
def samples(shop_commands_path: Path, shop_events_path: Path) -> dict[str, FlowSnapshot]:
    return {
        "shop-commands": fold_file(shop_commands_path)[0],
        "shop-events": fold_file(shop_events_path)[0],
    }


@pytest.fixture(scope="module")
def shop_commands_path() -> Path:
    return ROOT / "sample_data" / "shop-commands.jsonl"


@pytest.fixture(scope="module")
def shop_events_path() -> Path:
    return ROOT / "sample_data" / "shop-events.jsonl"


# -- Mermaid -----------------------------------------------------------------------------------------------

_MERMAID_SCRIPT = """\
import { JSDOM } from "jsdom";
import { readFileSync } from "node:fs";
const dom = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false, securityLevel: "strict" });
const text = readFileSync(process.argv[2], "utf8");
try {
  const diagram = await mermaid.mermaidAPI.getDiagramFromText(text);
  const db = diagram.db;
  console.log(JSON.stringify({
    ok: true,
    type: diagram.type,
    direction: db.getDirection(),
    vertices: [...db.getVertices().values()].map((v) => ({ id: v.id, text: v.text, classes: v.classes,
                                                         type: v.type })),
    edges: db.getEdges().map((e) => ({ start: e.start, end: e.end, text: e.text, stroke: e.stroke,
                                       style: e.style || [] })),
    subgraphs: db.getSubGraphs().map((s) => ({ id: s.id, title: s.title, nodes: s.nodes })),
  }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, error: String(error.message || error) }));
}
"""


@pytest.fixture(scope="session")
def mermaid_parse() -> Any:
    """Parse Mermaid text with Mermaid's own parser; returns its flowchart database as data."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        _missing_tool("Node.js and npm (to run Mermaid's parser)")
    home = CACHE / "mermaid"
    home.mkdir(parents=True, exist_ok=True)
    if not all((home / "node_modules" / name.split("@")[0] / "package.json").exists() for name in MERMAID_PACKAGES):
        (home / "package.json").write_text('{"name": "flowscope-mermaid-check", "private": true, "type": "module"}')
        done = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--silent", *MERMAID_PACKAGES],
            cwd=home, capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            _missing_tool(f"npm install {' '.join(MERMAID_PACKAGES)} ({done.stderr.strip()[-300:]})")
    script = home / "flowscope-parse.mjs"
    script.write_text(_MERMAID_SCRIPT)

    def parse(text: str, tmp: Path) -> dict[str, Any]:
        source = tmp / "diagram.mmd"
        source.write_text(text, encoding="utf-8")
        done = subprocess.run(
            [node, str(script), str(source)], cwd=home, capture_output=True, text=True, timeout=120, check=True
        )
        result: dict[str, Any] = json.loads(done.stdout)
        return result

    return parse


def _mermaid_decoded(text: str) -> str:
    """Mermaid keeps entity codes as placeholders until it draws; decode them as it would."""
    text = re.sub("ﬂ°°(\\d+)¶ß", lambda m: chr(int(m.group(1))), text)
    return re.sub("ﬂ°(\\w+)¶ß", lambda m: html.unescape(f"&{m.group(1)};"), text)


def _expected_nodes(snapshot: FlowSnapshot, newline: str) -> dict[str, tuple[str, str]]:
    """Node label -> (kind, label) as every export should show them."""
    nodes = {clean(service.name): ("service", clean(service.name)) for service in snapshot.services}
    for topic in snapshot.topics:
        if topic.kind == "internal":
            continue
        lines = [clean(topic.name)]
        if topic.kind == "command":
            lines.append(COMMAND_MARK)
        elif topic.kind == "unread":
            lines.append("unread")
        label = newline.join(lines)
        nodes[label] = (topic.kind, label)
    return nodes


def _edge_count(snapshot: FlowSnapshot) -> int:
    return len({(e.source, e.target) for e in snapshot.edges})


@pytest.mark.parametrize("name", ["shop-commands", "shop-events", "hostile"])
def test_mermaid_parses_with_mermaid_and_shows_every_name_and_kind(name, samples, mermaid_parse, tmp_path):
    snapshot = hostile_snapshot() if name == "hostile" else samples[name]
    text = render_mermaid(snapshot)
    parsed = mermaid_parse(text, tmp_path)
    assert parsed["ok"], parsed.get("error")
    assert parsed["type"] == "flowchart-v2" and parsed["direction"] == "LR"
    shown = {_mermaid_decoded(v["text"]): v for v in parsed["vertices"]}
    expected = _expected_nodes(snapshot, "<br>")
    assert set(shown) == set(expected)
    for label, (kind, _) in expected.items():
        assert shown[label]["classes"] == [kind]
        assert shown[label]["type"] == ("round" if kind == "service" else "cylinder")
    assert len(parsed["edges"]) == _edge_count(snapshot)


def test_mermaid_marks_the_three_command_topics_of_the_first_design(samples):
    text = render_mermaid(samples["shop-commands"])
    assert text.startswith("flowchart LR\n")
    commands = [line for line in text.splitlines() if line.endswith(":::command")]
    assert len(commands) == 3
    assert all(f"<br/>{COMMAND_MARK}" in line for line in commands)
    assert ":::command" not in render_mermaid(samples["shop-events"]).replace("classDef command", "")


# -- Graphviz DOT --------------------------------------------------------------------------------------------


def _svg_nodes(svg: str) -> dict[str, tuple[str, list[str]]]:
    """Node id -> (class attribute, text lines) from Graphviz's SVG."""
    ns = {"svg": "http://www.w3.org/2000/svg"}
    nodes = {}
    for element in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}g"):
        classes = element.get("class", "")
        if classes.split()[:1] != ["node"]:
            continue
        title = element.find("svg:title", ns)
        assert title is not None and title.text is not None
        # Graphviz keeps runs of spaces visible by writing every second one as a no-break space.
        lines = [(t.text or "").replace("\xa0", " ") for t in element.findall(".//svg:text", ns)]
        nodes[title.text] = (classes, lines)
    return nodes


@pytest.mark.parametrize("name", ["shop-commands", "shop-events", "hostile"])
def test_dot_is_accepted_by_graphviz_and_draws_every_name(name, samples):
    dot = shutil.which("dot")
    if dot is None:
        _missing_tool("Graphviz's dot (Debian package graphviz)")
    snapshot = hostile_snapshot() if name == "hostile" else samples[name]
    source = render_dot(snapshot)
    done = subprocess.run([dot, "-Tsvg"], input=source.encode(), capture_output=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    assert b"Warning" not in done.stderr and b"Error" not in done.stderr
    nodes = _svg_nodes(done.stdout.decode())
    expected = _expected_nodes(snapshot, "\n")
    drawn = {"\n".join(lines): classes for classes, lines in nodes.values()}
    assert set(drawn) == set(expected)
    for label, (kind, _) in expected.items():
        if kind == "service":
            assert "service" in drawn[label].split()
        else:
            assert drawn[label].split()[-2:] == ["topic", kind]
    edges = sum(1 for line in source.splitlines() if " -> " in line)
    assert edges == _edge_count(snapshot)


def test_dot_styles_command_topics_apart(samples):
    source = render_dot(samples["shop-commands"])
    commands = [line for line in source.splitlines() if 'class="topic command"' in line]
    assert len(commands) == 3
    assert all('style="filled,bold"' in line and f"\\n{COMMAND_MARK}" in line for line in commands)
    assert 'class="topic command"' not in render_dot(samples["shop-events"])


# -- before and after a proposal ---------------------------------------------------------------------------


def hostile_fanout_snapshot() -> FlowSnapshot:
    """One hostile writer issuing commands to a few hostile topics, each read by one hostile group: a
    fan-out, so its proposal's placeholder carries the hostile name too."""
    writer, names = '"]:::x\n  z["', HOSTILE[:6]
    model = FlowModel()
    for step in range(2):
        t = T0 + 2000 * step
        model.apply(topics(t, *names))
        model.apply(ends(t, dict.fromkeys(names, (10 * step,))))
        for name in names:
            model.apply(group(t, f"grp {name}", name))
            model.apply(commits(t, f"grp {name}", {name: (10 * step,)}))
            model.apply(record(t, name, source=f"/{writer}", type_=f"Do {name}", offset=step))
    return model.snapshot()


@pytest.fixture(scope="module")
def proposal_cases(samples) -> dict[str, tuple[FlowSnapshot, tuple[Proposal, ...]]]:
    snapshots = {
        "shop-commands": samples["shop-commands"],
        "realistic": fold(synthetic(scenario("realistic"))),
        "hostile": hostile_fanout_snapshot(),
    }
    return {name: (snapshot, propose(snapshot)) for name, snapshot in snapshots.items()}


def _drawn_links(snapshot: FlowSnapshot) -> int:
    """Links an export draws: one per writer and topic, one per topic and group; internal topics are left out."""
    internal = {topic.name for topic in snapshot.topics if topic.kind == "internal"}
    return len({(e.source, e.target) for e in snapshot.edges if _topic_of(e) not in internal})


def _topic_of(edge) -> str:
    return edge.target if edge.kind == "produce" else edge.source


def _gone(proposals: tuple[Proposal, ...]) -> set[str]:
    """Topics that are not there after the proposals (one kept as another's fact topic stays)."""
    return {t for p in proposals for t in p.removed_topics} - {p.fact_topic for p in proposals}


def _changed_links(proposals: tuple[Proposal, ...]) -> tuple[int, int]:
    """How many drawn links the proposals remove (today's, touching a removed topic) and add."""
    gone = _gone(proposals)
    removed = {(e.source, e.target) for p in proposals for e in p.removed_edges if _topic_of(e) in gone}
    added = {(e.source, e.target) for p in proposals for e in p.added_edges}
    return len(removed), len(added)


@pytest.mark.parametrize("name", ["shop-commands", "realistic", "hostile"])
def test_mermaid_before_and_after_parses_with_mermaid_and_marks_what_changes(
    name, proposal_cases, mermaid_parse, tmp_path
):
    snapshot, proposals = proposal_cases[name]
    assert proposals
    after = apply_proposals(snapshot, proposals)
    parsed = mermaid_parse(render_mermaid_proposal(snapshot, proposals), tmp_path)
    assert parsed["ok"], parsed.get("error")
    assert (parsed["type"], parsed["direction"]) == ("flowchart-v2", "LR")
    vertices = {v["id"]: v for v in parsed["vertices"]}
    subgraphs = {s["title"]: [vertices[n] for n in s["nodes"]] for s in parsed["subgraphs"]}
    assert set(subgraphs) == {"today", "proposed"}
    for title, flow in (("today", snapshot), ("proposed", after)):
        shown = {_mermaid_decoded(v["text"]): v for v in subgraphs[title]}
        expected = _expected_nodes(flow, "<br>")
        assert set(shown) == set(expected), title
        for label, (kind, _) in expected.items():
            assert shown[label]["classes"][0] == kind
    removed = {clean(t) for t in _gone(proposals)}
    marked = {_mermaid_decoded(v["text"]).split("<br>")[0] for v in subgraphs["today"] if "removed" in v["classes"]}
    assert marked == removed
    new_facts = {clean(p.fact_topic) for p in proposals if snapshot.topic(p.fact_topic) is None}
    added = {_mermaid_decoded(v["text"]).split("<br>")[0] for v in subgraphs["proposed"] if "added" in v["classes"]}
    assert added == new_facts
    assert len(parsed["edges"]) == _drawn_links(snapshot) + _drawn_links(after)
    dotted = [e for e in parsed["edges"] if e["stroke"] == "dotted"]
    thick = [e for e in parsed["edges"] if e["stroke"] == "thick"]
    assert (len(dotted), len(thick)) == _changed_links(proposals)
    assert all("stroke:#e03131" in e["style"] for e in dotted)
    assert all("stroke:#2b8a3e" in e["style"] for e in thick)
    assert all(e["start"].startswith("b_") for e in dotted) and all(e["start"].startswith("a_") for e in thick)


@pytest.mark.parametrize("name", ["shop-commands", "realistic", "hostile"])
def test_dot_before_and_after_is_accepted_by_graphviz_and_marks_what_changes(name, proposal_cases):
    dot = shutil.which("dot")
    if dot is None:
        _missing_tool("Graphviz's dot (Debian package graphviz)")
    snapshot, proposals = proposal_cases[name]
    after = apply_proposals(snapshot, proposals)
    source = render_dot_proposal(snapshot, proposals)
    done = subprocess.run([dot, "-Tsvg"], input=source.encode(), capture_output=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    assert b"Warning" not in done.stderr and b"Error" not in done.stderr
    svg = ET.fromstring(done.stdout.decode())
    nodes = _svg_nodes(done.stdout.decode())
    for prefix, flow in (("b_", snapshot), ("a_", after)):
        drawn = {"\n".join(lines) for node_id, (_, lines) in nodes.items() if node_id.startswith(prefix)}
        assert drawn == set(_expected_nodes(flow, "\n")), prefix
    removed = {lines[0] for node_id, (classes, lines) in nodes.items() if "removed" in classes.split()}
    assert removed == {clean(t) for t in _gone(proposals)}
    assert all(node_id.startswith("b_") for node_id, (classes, _) in nodes.items() if "removed" in classes.split())
    clusters = [g for g in svg.iter("{http://www.w3.org/2000/svg}g") if g.get("class") == "cluster"]
    assert len(clusters) == 2
    edge_classes = [g.get("class", "").split() for g in svg.iter("{http://www.w3.org/2000/svg}g")]
    edge_classes = [classes for classes in edge_classes if classes[:1] == ["edge"]]
    assert len(edge_classes) == _drawn_links(snapshot) + _drawn_links(after)
    counted = (sum("removed" in c for c in edge_classes), sum("added" in c for c in edge_classes))
    assert counted == _changed_links(proposals)


def test_report_draws_before_and_after_with_proposal(capsys, shop_commands_path):
    assert main(["report", str(shop_commands_path), "--format", "mermaid", "--proposal"]) == 0
    out = capsys.readouterr().out
    assert 'subgraph before["today"]' in out and 'subgraph after["proposed"]' in out
    assert "fact from web-shop" in out
    assert main(["report", str(shop_commands_path), "--format", "dot", "--proposal"]) == 0
    assert "subgraph cluster_after" in capsys.readouterr().out


@pytest.mark.parametrize("fmt", ["text", "json", "asyncapi"])
def test_proposal_is_refused_for_formats_that_cannot_draw_it(fmt, capsys, shop_commands_path):
    assert main(["report", str(shop_commands_path), "--format", fmt, "--proposal"]) == 2
    assert "--proposal" in capsys.readouterr().err


# -- AsyncAPI ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def asyncapi_schema() -> dict[str, Any]:
    """The official AsyncAPI 3.0.0 JSON schema from npm's @asyncapi/specs, unpacked into .cache/."""
    home = CACHE / "asyncapi"
    schema = home / "package" / "schemas" / "3.0.0-without-$id.json"
    if not schema.exists():
        npm = shutil.which("npm")
        if npm is None:
            _missing_tool("npm (to fetch @asyncapi/specs)")
        home.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [npm, "pack", ASYNCAPI_SPECS, "--pack-destination", str(home), "--json"],
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            _missing_tool(f"npm pack {ASYNCAPI_SPECS} ({done.stderr.strip()[-300:]})")
        tarball = home / json.loads(done.stdout)[0]["filename"].replace("@", "").replace("/", "-")
        with tarfile.open(tarball) as archive:
            archive.extractall(home, filter="data")
    data: dict[str, Any] = json.loads(schema.read_text(encoding="utf-8"))
    return data


def _resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


@pytest.mark.parametrize("name", ["shop-commands", "shop-events", "hostile"])
def test_asyncapi_validates_against_the_official_schema(name, samples, asyncapi_schema):
    import jsonschema

    snapshot = hostile_snapshot() if name == "hostile" else samples[name]
    document = json.loads(render_asyncapi(snapshot, f'{name} "source"'))
    validator = jsonschema.Draft7Validator(asyncapi_schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message[:300]}" for e in errors[:5])
    for ref in _refs(document):
        _resolve(document, ref)  # every reference points inside the document
    for operation in document["operations"].values():
        channel = operation["channel"]["$ref"]
        assert all(message["$ref"].startswith(channel + "/messages/") for message in operation["messages"])
    expected = {clean(t.name, 1000): t.kind for t in snapshot.topics if t.kind != "internal"}
    assert {channel["address"]: channel["x-flowscope-kind"] for channel in document["channels"].values()} == expected
    assert len(document["operations"]) == len(snapshot.edges)


def test_asyncapi_of_the_first_design_tags_commands_and_names_each_service(samples):
    document = asyncapi_document(samples["shop-commands"], "shop")
    channels = {channel["address"]: channel for channel in document["channels"].values()}
    for name in ("warehouse", "send-email", "send-text"):
        assert channels[name]["tags"][0]["name"] == "command"
        assert channels[name]["x-flowscope-reasons"][0].startswith("exactly one consumer group reads it")
    assert set(channels["warehouse"]["messages"]) == {"DispatchProduct"}
    operations = {
        (op["action"], op["x-flowscope-service"], op["channel"]["$ref"]) for op in document["operations"].values()
    }
    assert ("send", "web-shop", "#/channels/warehouse") in operations
    assert ("send", "warehouse", "#/channels/send-email") in operations
    assert ("receive", "sms-service", "#/channels/send-text") in operations
    receive = next(op for op in document["operations"].values() if op["action"] == "receive")
    assert receive["bindings"]["kafka"]["groupId"]["enum"] and receive["tags"][0]["name"] == "command"


def test_asyncapi_of_the_second_design_has_one_event_with_three_receivers(samples):
    document = asyncapi_document(samples["shop-events"], "shop")
    orders = document["channels"]["orders"]
    assert orders["x-flowscope-kind"] == "event" and orders["tags"][0]["name"] == "event"
    receivers = [
        op["bindings"]["kafka"]["groupId"]["enum"][0]
        for op in document["operations"].values()
        if op["action"] == "receive" and op["channel"]["$ref"] == "#/channels/orders"
    ]
    assert sorted(receivers) == ["notifications", "sales", "warehouse"]
    assert not [op for op in document["operations"].values() if "tags" in op]


# -- the command line ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "start"), [("mermaid", "flowchart LR"), ("dot", "digraph"), ("asyncapi", "{")])
def test_report_writes_each_export_format(fmt, start, capsys, shop_commands_path):
    assert main(["report", str(shop_commands_path), "--format", fmt]) == 0
    out = capsys.readouterr().out
    assert out.startswith(start)
    assert "warehouse" in out
