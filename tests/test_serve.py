"""`flowscope serve` in a real headless browser: Debian's chromium, driven by its chromedriver (selenium).

The page draws the terminal on a canvas, so the test reads the text from xterm.js's own buffer: a script
added before the page's own catches the Terminal that textual.js creates (textual.js assigns
``this.terminal`` and then ``this.fitAddon`` on its wrapper; a setter on ``fitAddon`` sees the wrapper).
Nothing leaves loopback: chromium resolves no name but 127.0.0.1, and the network log (every request and
websocket of the page) must name 127.0.0.1 only. Without chromium the test skips, except in CI
(FLOWSCOPE_REQUIRE_KAFKA=1 or CI=true), where it fails: scripts/ci-packages installs it. The screenshot
goes to the test's tmp dir, and to $FLOWSCOPE_ARTIFACTS too when that is set.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.waiting import wait_until
from tui.cli import main

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"

CATCH_TERMINAL = """
Object.defineProperty(Object.prototype, "fitAddon", {
  configurable: true,
  set(value) {
    window.flowscopeTerminal = window.flowscopeTerminal || this.terminal;
    Object.defineProperty(this, "fitAddon", {value, writable: true, configurable: true, enumerable: true});
  },
});
"""

SCREEN_TEXT = """
const terminal = window.flowscopeTerminal;
if (!terminal || !document.body.classList.contains("-first-byte")) return null;
const buffer = terminal.buffer.active, rows = [];
for (let y = 0; y < terminal.rows; y++) rows.push(buffer.getLine(buffer.viewportY + y).translateToString(true));
return {text: rows.join("\\n"), cols: terminal.cols, rows: terminal.rows};
"""


def _missing(what: str) -> None:
    if os.environ.get("FLOWSCOPE_REQUIRE_KAFKA") == "1" or os.environ.get("CI") == "true":
        pytest.fail(f"{what} is needed in CI (see scripts/ci-packages)")
    pytest.skip(f"{what} is not available here")


class Served:
    """`flowscope serve ARGS` in its own process group (as a shell runs it), its output collected."""

    def __init__(self, *args: str, cwd: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tui.cli", "serve", *args],
            cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )  # fmt: skip
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def url(self) -> str:
        found: list[str] = []

        def printed() -> bool:
            found[:] = re.findall(r"http://127\.0\.0\.1:\d+", self.output)
            return bool(found) or self.process.poll() is not None

        wait_until(printed, lambda: f"the URL, in: {self.output!r}", timeout=30)
        assert found, f"serve ended without a URL: {self.output!r}"
        return found[0]

    def descendants(self) -> list[int]:
        """The processes under the server (a shell and the flowscope each tab started), from /proc."""
        children: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
        found, todo = [], [self.process.pid]
        while todo:
            below = children.get(todo.pop(), [])
            found += below
            todo += below
        return found

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


@pytest.fixture
def browser() -> Iterator[object]:
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        _missing("Debian's chromium and chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM  # given with the driver's path: selenium downloads nothing
    for flag in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        # No name resolves but loopback's: a request that tried to leave would fail (and show in the log).
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def _page_urls(driver: object) -> set[str]:
    """Every URL the page asked for, websockets included, from chromium's network log."""
    urls = set()
    for entry in driver.get_log("performance"):  # type: ignore[attr-defined]
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.add(message["params"]["request"]["url"])
        elif message["method"] == "Network.webSocketCreated":
            urls.add(message["params"]["url"])
    return urls


def test_serve_shows_the_demo_in_a_headless_chromium_and_nothing_leaves_loopback(browser, tmp_path):
    served = Served("--port", "0", cwd=tmp_path)
    try:
        url = served.url()
        assert "Ctrl-C" in served.output
        driver = browser
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": CATCH_TERMINAL})
        # A 1280x720 projector: the default font size gives the 30 rows the demo is drawn for.
        metrics = {"width": 1280, "height": 720, "deviceScaleFactor": 1, "mobile": False}
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        driver.get(url + "/")
        screen: dict[str, object] = {}

        def shows_the_graph() -> bool:
            screen.update(driver.execute_script(SCREEN_TEXT) or {})
            text = str(screen.get("text", ""))
            return "CMD·1" in text and "warehouse" in text

        def what() -> str:
            return f"the demo's graph in the page, which shows:\n{screen.get('text')}"

        wait_until(shows_the_graph, what, timeout=60)
        assert driver.title == "flowscope — demo"
        assert screen["cols"] >= 100 and screen["rows"] >= 30, screen
        shot = tmp_path / "flowscope-serve.png"
        driver.save_screenshot(str(shot))
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        artifacts = os.environ.get("FLOWSCOPE_ARTIFACTS")
        if artifacts:
            Path(artifacts).mkdir(parents=True, exist_ok=True)
            shutil.copy(shot, Path(artifacts) / shot.name)

        urls = _page_urls(driver)
        assert any(u.startswith("ws://127.0.0.1:") for u in urls), urls  # the terminal's websocket
        away = {u for u in urls if urlsplit(u).scheme not in ("data", "blob") and urlsplit(u).hostname != "127.0.0.1"}
        assert not away, f"the page asked beyond loopback: {sorted(away)}"
        failed = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert not failed, failed

        # Ctrl-C in the speaker's terminal (the whole process group): the server and the tab's flowscope end.
        below = served.descendants()
        assert below, "no flowscope runs for the open tab"
        os.killpg(served.process.pid, signal.SIGINT)
        assert served.process.wait(20) == 0, served.output
        assert "Traceback" not in served.output, served.output

        def ended() -> bool:
            return not any(Path(f"/proc/{pid}").exists() for pid in below)

        wait_until(ended, "the tab's flowscope to end", timeout=20)
    finally:
        served.stop()


def test_serve_refuses_what_it_cannot_serve_in_one_sentence(capsys):
    assert main(["serve", "report", "x.jsonl"]) == 2
    assert main(["serve", "--font-size", "3"]) == 2
    assert main(["serve", "--port", "70000"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "flowscope: serve runs demo, replay, live (the commands that open the app), not 'report'",
        "flowscope: --font-size 3 is out of range (8 to 72)",
        "flowscope: --port 70000 is not a port (0 to 65535)",
    ]
    with pytest.raises(SystemExit) as exited:  # the served command's own parser, before anything listens
        main(["serve", "replay"])
    assert exited.value.code == 2
    assert "FILE" in capsys.readouterr().err


def test_serve_listens_on_loopback_unless_told_otherwise(capsys):
    from tui.cli import build_parser

    args = build_parser("serve").parse_args(["serve", "demo", "--scenario", "shop-events"])
    assert args.host == "127.0.0.1"
    assert args.app_args == ["demo", "--scenario", "shop-events"]
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    assert "(default 127.0.0.1: this machine only)" in " ".join(capsys.readouterr().out.split())


def test_a_taken_port_is_one_sentence_and_exit_2(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "tui.cli", "serve", "--port", str(port)],
            cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith(f"flowscope: cannot listen on 127.0.0.1:{port}: ")
    assert "Traceback" not in done.stderr
