"""Deadlines kept: `simulate`, `record` and `report --bootstrap` end by --duration whatever the cluster does,
and SIGINT / SIGTERM end them within seconds, with the broker up or gone (issue 17, class 7).

The broker here is this module's own (scripts/local-kafka in a state dir of its own), which the tests stop
mid-run and start again; the commands run as the real `flowscope` executable, in processes of their own.
Nothing is mocked.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from adapters.files.recording import RecordingReader
from adapters.scenarios.specs import shop_commands
from tests.conftest import ROOT, local_kafka, start_local_kafka
from tests.live_helpers import scenario_flowing, settings_for
from tests.terminal import FLOWSCOPE
from tests.waiting import wait_until

_INSTALLED = Path(sys.executable).with_name("flowscope")
COMMAND = [str(_INSTALLED)] if _INSTALLED.exists() else list(FLOWSCOPE)
"""The `flowscope` the virtual environment installed (the module, where there is none)."""

SLACK_S = 6.0
"""How long after its deadline a command may take to end: the simulator's clients get a few seconds to
close (adapters.scenarios.simulate.STOP_GRACE_S), and a process on a busy two-core machine takes a moment
to start and to exit."""
SIGNAL_S = 6.0
"""How long after SIGINT / SIGTERM a command may take to end (the same few seconds)."""


@dataclass
class OwnBroker:
    """This module's broker, which a test may stop; the ``broker`` fixture starts it again after the test."""

    state: Path
    bootstrap: str
    stopped: bool = False

    def stop(self) -> None:
        local_kafka("stop", self.state)
        self.stopped = True

    def start(self) -> None:
        local_kafka("start", self.state)
        self.stopped = False


@pytest.fixture(scope="module")
def own_broker(tmp_path_factory) -> Iterator[OwnBroker]:
    # A state dir per run, so that two runs on one machine never stop each other's broker.
    state = tmp_path_factory.mktemp("kafka-deadlines")
    info = start_local_kafka(state, "broker of its own for the deadline tests")
    try:
        yield OwnBroker(state, info["bootstrap"])
    finally:
        local_kafka("down", state)


@pytest.fixture
def broker(own_broker: OwnBroker) -> Iterator[OwnBroker]:
    """The module's broker, up when the test starts; started again if the test stopped it."""
    yield own_broker
    if own_broker.stopped:
        own_broker.start()


class Run:
    """A `flowscope` process; a thread of its own reads its output and notes the moment it exits."""

    def __init__(self, *args: str) -> None:
        env = {key: value for key, value in os.environ.items() if not key.startswith("FLOWSCOPE_")}
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [*COMMAND, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.err = ""
        self.ended: float | None = None
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        _, self.err = self.process.communicate()
        self.ended = time.monotonic()

    def running(self) -> bool:
        return self.process.poll() is None

    def finish(self, timeout: float) -> tuple[int, str, float]:
        """Exit code, stderr, and the moment (monotonic) it exited; killed past ``timeout`` (then the test
        fails on the time it took)."""
        self._reader.join(timeout)
        if self.ended is None:
            self.process.kill()
            self._reader.join()
        assert self.ended is not None
        return self.process.returncode, self.err, self.ended


@pytest.fixture
def started() -> Iterator[list[Run]]:
    """Every `flowscope` a test starts; any still running when the test ends (it failed) is killed."""
    runs: list[Run] = []
    yield runs
    for run in runs:
        if run.running():
            run.process.kill()
        run.finish(timeout=30)


COMMANDS = ("simulate", "record", "report")


def command_line(command: str, bootstrap: str, tmp_path: Path) -> list[str]:
    """The arguments for ``command`` against ``bootstrap`` (without --duration)."""
    if command == "simulate":
        return ["simulate", "--bootstrap", bootstrap, "--scenario", "shop-commands", "--seed", "7", "--quiet"]
    if command == "record":
        return ["record", "--bootstrap", bootstrap, "-o", str(tmp_path / "run.jsonl"), "--interval", "0.5", "--quiet"]
    return ["report", "--bootstrap", bootstrap, "--format", "json"]


def start_all(broker: OwnBroker, tmp_path: Path, extra: dict[str, list[str]], started: list[Run]) -> dict[str, Run]:
    """The three commands against ``broker``, at once, each with its ``extra`` arguments (and added to
    ``started``); returns once every one is at work on the cluster (not still connecting)."""
    runs = {command: Run(*command_line(command, broker.bootstrap, tmp_path), *extra[command]) for command in COMMANDS}
    started.extend(runs.values())

    def alive() -> None:
        for command, run in runs.items():
            assert run.running(), f"flowscope {command} ended early: {run.finish(10)}"

    settings, path = settings_for(broker.bootstrap), tmp_path / "run.jsonl"

    def at_work() -> bool:
        alive()
        return (
            path.exists()
            and len(path.read_bytes().splitlines()) > 5  # record: observations in the file
            and scenario_flowing(settings, shop_commands())  # simulate: every group reads, every topic flows
            # report shows nothing until its end; its connection check takes milliseconds: a few seconds is ample
            and time.monotonic() - runs["report"].started > 3
        )

    wait_until(at_work, "the three commands to be at work on the cluster", timeout=60, interval=0)
    return runs


def lost_problem(err: str, bootstrap: str) -> str | None:
    """What is wrong with stderr, which should end with the one sentence that the cluster was lost."""
    lines = err.strip().splitlines()
    if not lines or f"lost the Kafka cluster at {bootstrap}: no answer for the last " not in lines[-1]:
        return "its stderr does not end with the sentence that the cluster was lost"
    if sum("lost the Kafka cluster" in line for line in lines) != 1:
        return "it said more than once that the cluster was lost"
    return None


@pytest.mark.kafka
def test_a_lost_broker_does_not_keep_a_command_past_its_duration(broker, tmp_path, started):
    duration = 15
    runs = start_all(broker, tmp_path, {command: ["--duration", f"{duration}s"] for command in COMMANDS}, started)
    # The duration counts once a command is connected: for record and report that takes a moment (one
    # metadata request), for simulate a few seconds on a fresh broker (its groups' coordinator), so its
    # deadline is counted from now, when its groups were seen reading.
    since = {"simulate": time.monotonic(), "record": runs["record"].started, "report": runs["report"].started}
    assert all(time.monotonic() - run.started < duration - 4 for run in runs.values()), "too slow to get going"
    broker.stop()

    problems = []
    for command, run in runs.items():
        code, err, ended = run.finish(timeout=duration + 60)
        seconds = ended - since[command]
        problem = lost_problem(err, broker.bootstrap)
        if seconds > duration + SLACK_S:
            problem = f"it ended {seconds - duration:.1f} s after its deadline"
        elif code != 2:
            problem = f"it exited {code}, not 2"
        elif "Traceback" in err:
            problem = "it printed a traceback"
        if problem is not None:
            problems.append(f"flowscope {command} --duration {duration}s: {problem}; stderr:\n{err}")
    assert not problems, "\n".join(problems)
    assert list(RecordingReader(tmp_path / "run.jsonl"))  # the recording keeps what came before the loss


@dataclass(frozen=True)
class Expected:
    signum: signal.Signals
    code: int
    ending: str
    """What stderr ends with: a line that starts with it, "lost" for the lost sentence, "" for nothing at all."""


@pytest.mark.kafka
@pytest.mark.parametrize(
    ("broker_gone", "expected"),
    [
        pytest.param(
            False,
            {
                "simulate": Expected(signal.SIGTERM, 0, "flowscope simulate: stopped after "),
                "record": Expected(signal.SIGINT, 0, "flowscope record: stopped by SIGINT: "),
                "report": Expected(signal.SIGTERM, 130, ""),  # a report cut short is no report
            },
            id="broker-up",
        ),
        pytest.param(
            True,
            {
                "simulate": Expected(signal.SIGINT, 2, "lost"),
                "record": Expected(signal.SIGTERM, 2, "lost"),
                "report": Expected(signal.SIGINT, 130, ""),
            },
            id="broker-gone",
        ),
    ],
)
def test_a_signal_ends_a_command_within_seconds(broker, tmp_path, started, broker_gone, expected):
    # No --duration for simulate and record: they run until told to stop; a long one for report.
    runs = start_all(broker, tmp_path, {"simulate": [], "record": [], "report": ["--duration", "10m"]}, started)
    if broker_gone:
        broker.stop()
        time.sleep(2)  # time for the commands to notice (their requests fail) and to retry
        assert all(run.running() for run in runs.values())

    signalled = {}
    for command, run in runs.items():
        run.process.send_signal(expected[command].signum)
        signalled[command] = time.monotonic()
    problems = []
    for command, run in runs.items():
        want = expected[command]
        code, err, ended = run.finish(timeout=60)
        seconds = ended - signalled[command]
        ending = err.strip().splitlines()[-1] if err.strip() else ""
        problem = None
        if want.ending == "lost":
            problem = lost_problem(err, broker.bootstrap)
        elif want.ending and not ending.startswith(want.ending):
            problem = f"its stderr does not end with {want.ending!r}"
        elif not want.ending and err:
            problem = "it wrote to stderr"
        if seconds > SIGNAL_S:
            problem = f"it took {seconds:.1f} s to end"
        elif code != want.code:
            problem = f"it exited {code}, not {want.code}"
        elif "Traceback" in err:
            problem = "it printed a traceback"
        if problem is not None:
            problems.append(f"flowscope {command} after {want.signum.name}: {problem}; stderr:\n{err}")
    assert not problems, "\n".join(problems)
    reader = RecordingReader(tmp_path / "run.jsonl")
    assert len(list(reader)) > 5 and reader.skipped == 0  # the recording was finished: it replays whole


@pytest.mark.parametrize("command", ["simulate", "record", "report"])
@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0", "abc"])
def test_a_duration_that_is_not_one_is_one_sentence_and_exit_2(tmp_path, command, value):
    # A cluster nobody listens at: a duration let through would end in a sentence about the connection.
    args = {"record": ["-o", str(tmp_path / "never.jsonl")]}.get(command, [])
    run = Run(command, "--bootstrap", "127.0.0.1:1", *args, "--duration", value)
    code, err, _ = run.finish(timeout=30)
    assert code == 2
    assert err.count("\n") == 1 and err.endswith("\n"), err  # one line
    assert err.startswith(f"flowscope: --duration {value!r} "), err
    assert "is not a duration (examples: " in err or "must be more than zero" in err
    assert "usage:" not in err.lower() and "Traceback" not in err
    assert not (tmp_path / "never.jsonl").exists()
