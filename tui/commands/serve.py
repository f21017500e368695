"""`flowscope serve [COMMAND ARGS]`: the app in a browser tab (textual-serve), for projectors; loopback by default.

Each browser tab that opens the page starts its own ``flowscope COMMAND ARGS`` with this very Python
(``sys.executable``), whose screen textual-serve streams to xterm.js in the page. The page is ours
(tui/web/app_index.html): it has a title and loads its font from the server, so nothing it needs lies
beyond the machine that serves it — a talk does not depend on the venue's Wi-Fi.
"""

from __future__ import annotations

import argparse
import shlex
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui.commands import EXIT_OK, UsageError

if TYPE_CHECKING:
    from aiohttp import web

SERVABLE = ("demo", "replay", "live")
"""The commands that open the app; the others print or write files and have nothing to show in a page."""

DEFAULT_FONT_SIZE = 18
"""CSS pixels: 128x30 cells in a 1280x720 page (a common projector), 30 rows as the demo is drawn for;
26 gives about the same on 1920x1080 (measured in Debian's chromium; tests/test_serve.py checks 1280x720)."""

FONT_SIZES = range(8, 73)
PAGE = Path(__file__).resolve().parent.parent / "web"
"""The folder of our page template, app_index.html (the name textual-serve renders)."""

WILDCARDS = ("0.0.0.0", "::", "")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="show flowscope in a web browser, for projectors (127.0.0.1 only unless --host says otherwise)",
        description="Serve `flowscope COMMAND ARGS` (default: the demo) to a web browser with textual-serve: "
        "every tab that opens the page gets its own flowscope. It listens on 127.0.0.1 only, so only this "
        "machine can open it, unless --host names another address. The page loads nothing from the internet.",
        epilog="examples: flowscope serve | flowscope serve --font-size 28 replay talk.jsonl --loop | "
        "flowscope serve --port 0 demo --scenario shop-events",
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only); 0.0.0.0 lets every machine that "
        "can reach this one open the app, and whatever it is attached to",
    )
    parser.add_argument("--port", type=int, default=8000, help="port to listen on; 0 picks a free one (8000)")
    parser.add_argument(
        "--font-size",
        type=int,
        default=DEFAULT_FONT_SIZE,
        metavar="PX",
        help=f"terminal font size in CSS pixels, {FONT_SIZES.start} to {FONT_SIZES.stop - 1}; larger is fewer, "
        f"bigger cells for the back of the room ({DEFAULT_FONT_SIZE}: 128x30 cells in a 1280x720 page; "
        "26 for 1920x1080); a viewer can override it with ?fontsize=N in the URL",
    )
    parser.add_argument("--title", help='the page title (default: "flowscope — COMMAND ARGS")')
    parser.add_argument(
        "app_args",
        nargs=argparse.REMAINDER,
        metavar="COMMAND ARGS",
        help=f"what each page runs: {', '.join(SERVABLE)} with their options (default: demo)",
    )
    parser.set_defaults(run=run)


def app_command(app_args: list[str]) -> list[str]:
    """The argv each page runs: this Python, the flowscope CLI, ``app_args`` (checked now, not in a tab).

    ``-P`` keeps the working directory off ``sys.path``: a folder named like one of ours there cannot
    stand in for flowscope. Arguments are parsed here so a typo fails at once with flowscope's sentence.
    """
    args = app_args or ["demo"]
    if args[0] not in SERVABLE:
        raise UsageError(f"serve runs {', '.join(SERVABLE)} (the commands that open the app), not {args[0]!r}")
    from tui.cli import build_parser

    build_parser(args[0]).parse_args(args)  # exits 2 with one sentence on a usage error
    return [sys.executable, "-P", "-m", "tui.cli", *args]


def free_port(host: str) -> int:
    """A port nothing listens on at ``host`` now (``--port 0``): chosen here so the URL can say it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def page_url(host: str, port: int) -> str:
    """The URL to open; for a wildcard address, this machine's name (what other machines would use)."""
    name = socket.gethostname() if host in WILDCARDS else host
    return f"http://[{name}]:{port}" if ":" in name else f"http://{name}:{port}"


def run(args: argparse.Namespace) -> int:
    if args.font_size not in FONT_SIZES:
        raise UsageError(f"--font-size {args.font_size} is out of range ({FONT_SIZES.start} to {FONT_SIZES.stop - 1})")
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port {args.port} is not a port (0 to 65535)")
    command = app_command(list(args.app_args))
    shown = shlex.join(["flowscope", *command[4:]])
    try:
        port = args.port or free_port(args.host)
    except OSError as error:
        raise UsageError(f"cannot listen on {args.host}: {error.strerror or error}") from None
    url = page_url(args.host, port)
    server = _server(
        shlex.join(command),
        host=args.host,
        port=port,
        url=url,
        title=args.title or f"flowscope — {shlex.join(command[4:])}",
        font_size=args.font_size,
        banner=f"flowscope: serving `{shown}` at {url} — open it in a browser; Ctrl-C stops",
    )
    try:
        server.serve()
    except OSError as error:  # the address is taken or not this machine's
        raise UsageError(f"cannot listen on {args.host}:{port}: {error.strerror or error}") from None
    return EXIT_OK


def _server(command: str, *, host: str, port: int, url: str, title: str, font_size: int, banner: str) -> Any:
    """A textual-serve Server with our page, our default font size, a one-line banner, quiet logs, and a
    shutdown that ends the open sessions at once."""
    import asyncio
    import logging

    from textual_serve.server import Server

    class FlowscopeServer(Server):
        sessions: set[asyncio.Task[Any]]

        def initialize_logging(self) -> None:
            # Warnings and errors only: an access log line per request would bury the URL during a talk.
            logging.basicConfig(level=logging.WARNING, format="flowscope serve: %(message)s")

        async def handle_index(self, request: web.Request) -> Any:
            # textual-serve reads the font size from ?fontsize= (16 without it): give ours as the default.
            if "fontsize" not in request.query:
                request = request.clone(rel_url=request.rel_url.update_query(fontsize=str(font_size)))
            return await super().handle_index(request)

        async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
            # One task per open tab, kept so that shutdown can end it: aiohttp would otherwise wait for
            # open websockets for a minute before Ctrl-C takes effect.
            task = asyncio.current_task()
            assert task is not None
            self.sessions.add(task)
            try:
                return await super().handle_websocket(request)
            finally:
                self.sessions.discard(task)

        async def on_startup(self, app: web.Application) -> None:
            print(banner, flush=True)

        async def on_shutdown(self, app: web.Application) -> None:
            # Cancelled, textual-serve's handler tells its flowscope to quit, waits for it, closes the socket.
            for task in list(self.sessions):
                task.cancel()

    server = FlowscopeServer(command, host=host, port=port, title=title, public_url=url, templates_path=PAGE)
    server.sessions = set()
    return server
