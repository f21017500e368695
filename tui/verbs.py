"""The `:` commands, k9s style: one table of verbs with their aliases, argument, help line and handler.

The prompt runs them and completes their names, the command palette (ctrl+p) offers them, and the help
screen lists them, all from :data:`VERBS`. A handler gets the app and the argument text ("" if none).
"""

from __future__ import annotations

import math
import os
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from textual.command import Hit, Hits, Provider

from flow.sanitize import clean
from tui.view.format import parse_position

if TYPE_CHECKING:
    from tui.app import FlowscopeApp

Handler = Callable[["FlowscopeApp", str], None]
T = TypeVar("T")
Needs = Literal["any", "playback", "live"]


@dataclass(frozen=True, slots=True)
class Verb:
    name: str
    aliases: tuple[str, ...]
    argument: str
    """What the argument is, as the help shows it ("" for none; in brackets when optional)."""
    title: str
    """The command palette's entry."""
    help: str
    run: Handler
    needs: Needs = "any"
    """Which source the verb makes sense for; the palette offers it only then."""
    choices: tuple[str, ...] = ()
    """Arguments the palette offers ready-made (speeds)."""

    @property
    def example(self) -> str:
        return f"{self.name} {self.choices[2] if self.choices else ''}".strip()

    @property
    def usage(self) -> str:
        return f":{self.name} {self.argument}".strip()


# -- handlers: each turns a verb and its argument into calls on the app ------------------------------


def _view(name: str) -> Handler:
    return lambda app, argument: app.action_view(name)


def _filter(app: FlowscopeApp, text: str) -> None:
    app.set_filter(replace(app.view_filter, text=text))


def _parsed(app: FlowscopeApp, parse: Callable[[str], T], value: str) -> T | None:
    """``parse(value)``, or None once the user has been told why it cannot be (the ValueError's sentence)."""
    try:
        return parse(value)
    except ValueError as error:
        app.notify(str(error), severity="warning", markup=False)
        return None


def _seconds(value: str) -> float:
    try:
        return float(value.rstrip("s"))
    except ValueError:
        raise ValueError(f"{clean(value, 20)!r} is not a number of seconds.") from None


def _speed(app: FlowscopeApp, value: str) -> None:
    from adapters.source import parse_speed

    playback = app.controls.playback
    if playback is None:
        _interval(app, value)
    elif (speed := _parsed(app, parse_speed, value)) is not None:
        app.call_source(playback.set_speed, speed)
        app.notify(f"Speed {'max' if math.isinf(speed) else f'{speed:g}x'}.", timeout=2)


def _interval(app: FlowscopeApp, value: str) -> None:
    live = app.controls.live
    if live is None:
        app.notify("The refresh interval is for a live cluster.", severity="warning")
    elif (seconds := _parsed(app, _seconds, value)) is not None:
        app.change_interval(partial(live.set_interval, seconds))


def _seek(app: FlowscopeApp, value: str) -> None:
    playback = app.controls.playback
    if playback is None:
        app.notify("Seeking needs a replay.", severity="warning")
    elif (offset := _parsed(app, parse_position, value)) is not None:
        state = app.frame.playback if app.frame else None
        start = state.start if state and state.start is not None else 0
        app.call_source(playback.seek, start + offset)


def _paused(paused: bool) -> Handler:
    def run(app: FlowscopeApp, argument: str) -> None:
        if app.controls.playback is not None:
            app.call_source(app.controls.playback.set_paused, paused)

    return run


def _export(fmt: Literal["mermaid", "dot"]) -> Handler:
    def run(app: FlowscopeApp, filename: str) -> None:
        export_view(app, fmt, filename or None)

    return run


def export_view(app: FlowscopeApp, fmt: Literal["mermaid", "dot"], filename: str | None = None) -> Path | None:
    """Write the current view (filters applied) as a Mermaid flowchart or a Graphviz DOT graph."""
    if app.frame is None or app.shown is None:
        app.notify("Nothing to export yet.", severity="warning")
        return None
    from flow.export import renderer

    text = renderer(fmt)(app.shown.restricted(), app.frame.source.label)
    path = Path(filename or f"flowscope-view.{'mmd' if fmt == 'mermaid' else 'dot'}").expanduser()
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        app.notify(f"Could not write {path}: {error.strerror or error}", severity="error", markup=False)
        return None
    app.notify(f"{fmt} of the current view written to {path}", timeout=4, markup=False)
    return path


def _propose(app: FlowscopeApp, name: str) -> None:
    from flow.proposal import propose

    if (topic := _parsed(app, _topic_name, name)) is None:
        return
    proposals = propose(app.frame.snapshot, app.proposal_names) if app.frame else ()
    if not proposals:
        app.notify("No proposal to name: this flow has no command chain or fan-out.", severity="warning")
        return
    shown = proposals[min(app.proposal_index, len(proposals) - 1)]
    app.proposal_names[shown.key] = topic
    app.action_proposal()


_TOPIC_NAME = re.compile(r"[A-Za-z0-9._-]{1,249}")


def _topic_name(value: str) -> str:
    """A name Kafka accepts for a topic: letters, digits, '.', '_' and '-', at most 249 of them."""
    name = value.strip()
    if not _TOPIC_NAME.fullmatch(name) or name in (".", ".."):
        raise ValueError(f"{clean(name, 40)!r} is not a Kafka topic name: use letters, digits, '.', '_' and '-'.")
    return name


def save_screenshot(app: FlowscopeApp) -> None:
    """Save what the screen shows as an SVG in the current directory."""
    name = f"flowscope-{time.strftime('%Y%m%d-%H%M%S')}.svg"
    try:
        path = app.save_screenshot(filename=name, path=os.getcwd())
    except OSError as error:
        app.notify(f"Could not save a screenshot: {error.strerror or error}", severity="error", markup=False)
        return
    app.notify(f"Screenshot saved: {path}", timeout=4, markup=False)


SPEED_CHOICES = ("0.25", "1", "4", "16", "64", "max")

VERBS: tuple[Verb, ...] = (
    Verb("graph", ("flow", "f"), "", "Show graph", "the flow graph (also 1)", _view("graph")),
    Verb("topics", ("topic", "t", "tp"), "", "Show topics", "the topics table (also 2)", _view("topics")),
    Verb("groups", ("group", "g", "cg", "consumers"), "", "Show groups", "the consumer groups table (also 3)",
         _view("groups")),
    Verb("services", ("service", "producers", "p", "svc"), "", "Show services", "the services table (also 4)",
         _view("services")),
    Verb("commands", ("command", "cmd", "c"), "", "Toggle command topics only",
         "only command topics and their neighbours, or everything again (also c)",
         lambda app, argument: app.action_toggle_commands()),
    Verb("internal", ("i",), "", "Toggle internal topics", "show or hide __consumer_offsets and friends (also i)",
         lambda app, argument: app.action_toggle_internal()),
    Verb("filter", (), "[REGEX]", "Clear filter", "show matching names, ! inverts; none clears it (also /)", _filter),
    Verb("speed", ("s",), "N|max", "Speed", "replay speed, 0.25 to 64 or max (live: the refresh interval)", _speed,
         needs="playback", choices=SPEED_CHOICES),
    Verb("interval", ("refresh",), "SECONDS", "Refresh interval", "live: refresh every SECONDS (also + and -)",
         _interval, needs="live", choices=("1", "2", "5", "10", "30")),
    Verb("seek", ("goto",), "MM:SS", "Seek", "jump to a position in a replay", _seek, needs="playback"),
    Verb("start", (), "", "Jump to start", "the start of a replay (also g)",
         lambda app, argument: app.action_seek_start(), needs="playback"),
    Verb("end", (), "", "Jump to end", "the end of a replay, paused (also G)",
         lambda app, argument: app.action_seek_end(), needs="playback"),
    Verb("pause", (), "", "Pause", "pause a replay (space toggles)", _paused(True), needs="playback"),
    Verb("play", (), "", "Play", "play a paused replay", _paused(False), needs="playback"),
    Verb("mermaid", (), "[FILE]", "Write the current view as Mermaid", "write the current view as a Mermaid diagram",
         _export("mermaid")),
    Verb("dot", (), "[FILE]", "Write the current view as Graphviz DOT", "write the current view as a Graphviz graph",
         _export("dot")),
    Verb("screenshot", (), "", "Save screenshot (SVG)", "save an SVG screenshot here (also ctrl+s)",
         lambda app, argument: save_screenshot(app)),
    Verb("proposal", ("proposals",), "", "Show the decoupling proposal",
         "the event flow flowscope proposes for the command chains and fan-outs (also P)",
         lambda app, argument: app.action_proposal()),
    Verb("propose", (), "NAME", "Name the proposed fact topic", "name the fact topic of the proposal shown",
         _propose),
    Verb("help", ("h", "?"), "", "Help", "keys, marks and commands (also ?)", lambda app, argument: app.action_help()),
    Verb("quit", ("q", "q!", "exit"), "", "Quit", "leave flowscope (also q)", lambda app, argument: app.exit(0)),
)  # fmt: skip

_BY_NAME = {name: verb for verb in VERBS for name in (verb.name, *verb.aliases)}
_NEEDS_ARGUMENT = {"speed", "interval", "seek"}


def run_command(app: FlowscopeApp, text: str) -> None:
    """Run one `:` command line; an unknown or incomplete one gets a sentence, never an exception."""
    verb_text, _, argument = text.strip().lstrip(":").strip().partition(" ")
    if not verb_text:
        return
    verb = _BY_NAME.get(verb_text.lower())
    if verb is None:
        names = ", ".join(v.name for v in VERBS if v.needs == "any" or _offered(app, v))
        app.notify(f"Unknown command {clean(verb_text, 40)!r}. Try {names}.", severity="warning", markup=False)
        return
    argument = argument.strip()
    if verb.name in _NEEDS_ARGUMENT and not argument:
        app.notify(f"{verb.name} needs a value, as in {verb.usage}", severity="warning", markup=False)
        return
    verb.run(app, argument)


def _offered(app: FlowscopeApp, verb: Verb) -> bool:
    controls = app.controls
    if verb.needs == "playback":
        return controls.playback is not None
    if verb.needs == "live":
        return controls.live is not None
    return True


def palette_entries(app: FlowscopeApp) -> Iterable[tuple[str, str, Callable[[], Any]]]:
    """(title, help, callback) for every verb that makes sense now, then every topic and group."""
    for verb in VERBS:
        if not _offered(app, verb) or (verb.name in _NEEDS_ARGUMENT and not verb.choices):
            continue
        if verb.choices:
            for choice in verb.choices:
                yield f"{verb.title} {choice}", verb.usage, partial(verb.run, app, choice)
        else:
            yield verb.title, verb.help, partial(verb.run, app, "")
    if app.frame is not None:
        for topic in app.frame.snapshot.topics:
            yield f"Topic {clean(topic.name, 80)}", topic.kind, partial(app.go_to, "topic", topic.name)
        for group in app.frame.snapshot.groups:
            yield f"Group {clean(group.id, 80)}", group.status.value, partial(app.go_to, "group", group.id)


class VerbPalette(Provider):
    """The command palette (ctrl+p): the verbs, and jumping to any topic or group."""

    async def search(self, query: str) -> Hits:
        from tui.app import FlowscopeApp

        app = self.app
        assert isinstance(app, FlowscopeApp)
        matcher = self.matcher(query)
        for title, help_text, callback in palette_entries(app):
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)
