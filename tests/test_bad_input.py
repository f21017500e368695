"""Each class of bad input, through the real `flowscope` command: a sentence and exit 2, or exit 0 with the
documented warning; never a traceback, never past 10 s or 300 MB. And replays of the same files in the app:
the problem shows as a sentence, and a failed replay does not exit 0."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from adapters.files.replay import replay_file
from tests.tui_support import Heard, settle, widget_text
from tui.app import create_app, finish

FLOWSCOPE = str(Path(sys.executable).with_name("flowscope"))
HEADER = '{"format":"flowscope-recording","version":1}'
T = 1_768_467_600_000
TOPICS = '"kind":"topics","topics":[{"name":"orders","partitions":1}]'
SECONDS, MEGABYTES = 10.0, 300


@dataclass
class Run:
    code: int
    out: str
    err: str
    seconds: float
    peak_mb: float


def flowscope(*args: str, stdin: bytes | None = None, env: dict[str, str] | None = None) -> Run:
    """Run the command through a small wrapper that reports the child's own peak RSS (ru_maxrss)."""
    wrapper = (
        "import resource, subprocess, sys\n"
        "code = subprocess.call(sys.argv[1:])\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", wrapper, FLOWSCOPE, *args],
        input=stdin if stdin is not None else b"",
        capture_output=True,
        timeout=60,
        env=env,
    )
    *lines, peak = result.stderr.decode().rstrip("\n").split("\n")
    err = "".join(line + "\n" for line in lines)
    return Run(result.returncode, result.stdout.decode(), err, time.monotonic() - started, int(peak) / 1024)


def well_behaved(run: Run) -> None:
    assert "Traceback" not in run.err and "Traceback" not in run.out, run.err
    assert run.seconds < SECONDS, f"took {run.seconds:.1f} s"
    assert run.peak_mb < MEGABYTES, f"peak {run.peak_mb:.0f} MB"


def recording(tmp_path: Path, name: str, *lines: str) -> Path:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *lines]) + "\n")
    return path


def kcat(tmp_path: Path, name: str, *records: dict[str, object] | str) -> Path:
    path = tmp_path / name
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))
    return path


def bad_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """One file per class, with the words its sentence must hold."""
    good = f'{{"t":{T},{TOPICS}}}'
    return {
        "deep header": (_write(tmp_path / "deep.jsonl", "[" * 10_000 + "]" * 10_000), "not valid JSON"),
        "t of 10**30": (recording(tmp_path, "t30.jsonl", good, f'{{"t":{10**30},{TOPICS}}}'), "field t"),
        "t of 2e17": (recording(tmp_path, "t2e17.jsonl", good, f'{{"t":{2 * 10**17},{TOPICS}}}'), "field t"),
        "t of 400 digits": (recording(tmp_path, "t400.jsonl", good, f'{{"t":{"9" * 400},{TOPICS}}}'), "field t"),
        "kcat ts of 10**20": (
            kcat(tmp_path, "kts.json", {"topic": "a", "partition": 0, "offset": 1, "ts": 10**20}),
            '"ts"',
        ),
        "kcat partition 10**9": (
            kcat(tmp_path, "kpart.json", {"topic": "a", "partition": 10**9, "offset": 1, "ts": T}),
            "partition 1,000,000,000",
        ),
        "time backwards": (
            recording(tmp_path, "backwards.jsonl", good, f'{{"t":{T - 60_000},{TOPICS}}}'),
            "time runs backwards",
        ),
        "t true": (recording(tmp_path, "ttrue.jsonl", good, f'{{"t":true,{TOPICS}}}'), "field t"),
        "t a string": (recording(tmp_path, "tstr.jsonl", good, f'{{"t":"{T}",{TOPICS}}}'), "field t"),
        "partitions true": (
            recording(
                tmp_path,
                "ptrue.jsonl",
                good,
                f'{{"t":{T},"kind":"topics","topics":[{{"name":"a","partitions":true}}]}}',
            ),
            "partitions",
        ),
        "kcat ts a string": (
            kcat(tmp_path, "ktsstr.json", {"topic": "a", "partition": 0, "offset": 1, "ts": str(T)}),
            '"ts"',
        ),
        "kcat ts NaN": (kcat(tmp_path, "ktsnan.json", '{"topic":"a","partition":0,"offset":1,"ts":NaN}'), '"ts"'),
        "kcat ts negative": (
            kcat(tmp_path, "ktsneg.json", {"topic": "a", "partition": 0, "offset": 1, "ts": -5}),
            '"ts"',
        ),
        "kcat partition true": (
            kcat(tmp_path, "kptrue.json", '{"topic":"a","partition":true,"offset":1}'),
            "partition",
        ),
    }


def _write(path: Path, text: str) -> Path:
    path.write_text(text + "\n")
    return path


CLASSES = [
    "deep header",
    "t of 10**30",
    "t of 2e17",
    "t of 400 digits",
    "kcat ts of 10**20",
    "kcat partition 10**9",
    "time backwards",
    "t true",
    "t a string",
    "partitions true",
    "kcat ts a string",
    "kcat ts NaN",
    "kcat ts negative",
    "kcat partition true",
]


@pytest.mark.parametrize("case", CLASSES)
def test_report_of_a_bad_file_is_a_sentence_or_a_warning_in_bounded_time_and_memory(case, tmp_path):
    path, words = bad_files(tmp_path)[case]
    lenient = flowscope("report", str(path))
    well_behaved(lenient)
    if lenient.code == 0:  # the bad line was skipped, and the report says so
        assert "skipped 1 bad line" in lenient.err and words in lenient.err, lenient.err
    else:
        assert lenient.code == 2 and words in lenient.err and len(lenient.err.splitlines()) == 1, lenient.err
    strict = flowscope("report", "--strict", str(path))
    well_behaved(strict)
    assert strict.code == 2, strict
    assert f"{path}:" in strict.err and words in strict.err and len(strict.err.splitlines()) == 1, strict.err


def test_a_huge_partition_number_sizes_nothing(tmp_path):
    """Partitions are keys: a thousand topics each named on partition 1,024 past its one record in a
    quick dump stay small, and a record far past that is left out, not allocated for."""
    records = [{"topic": f"t{i}", "partition": 1024, "offset": 1, "ts": T + i} for i in range(1000)]
    records.append({"topic": "x", "partition": 2**31 - 1, "offset": 2**63 - 1, "ts": T})
    path = kcat(tmp_path, "many.json", *records)
    run = flowscope("report", "--format", "json", str(path))
    well_behaved(run)
    assert run.code == 0 and "skipped 1 bad line" in run.err
    assert len(json.loads(run.out)["topics"]) == 1000


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
def test_report_reads_standard_input(compress):
    sample = Path("sample_data/shop-commands.jsonl").read_bytes()
    data = gzip.compress(sample) if compress else sample
    piped = flowscope("report", "--format", "json", "-", stdin=data)
    from_file = flowscope("report", "--format", "json", "sample_data/shop-commands.jsonl")
    well_behaved(piped)
    assert piped.code == 0, piped.err
    assert json.loads(piped.out)["topics"] == json.loads(from_file.out)["topics"]
    assert json.loads(piped.out)["source"] == "<stdin>"


def test_report_reads_a_kcat_dump_from_standard_input():
    dump = "".join(
        json.dumps({"topic": "orders", "partition": 0, "offset": n, "ts": T + n * 500, "payload": "{}"}) + "\n"
        for n in range(40)
    )
    run = flowscope("report", "--format", "json", "-", stdin=dump.encode())
    well_behaved(run)
    assert run.code == 0, run.err
    report = json.loads(run.out)
    (topic,) = report["topics"]
    assert report["source"] == "<stdin>" and topic["name"] == "orders" and topic["messages_per_second"] > 0


def test_report_of_bad_standard_input_names_it(tmp_path):
    run = flowscope("report", "--strict", "-", stdin=b'{"format":"flowscope-recording","version":1}\n{"t":true}\n')
    well_behaved(run)
    assert run.code == 2 and run.err.startswith("flowscope: <stdin>:2: "), run.err


def test_report_reads_a_fifo_once(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    sample = Path("sample_data/shop-events.jsonl").read_bytes()

    def write() -> None:
        with fifo.open("wb") as pipe:
            pipe.write(sample)

    writer = threading.Thread(target=write)
    writer.start()
    run = flowscope("report", "--format", "json", str(fifo))
    writer.join(timeout=10)
    assert run.code == 0, run.err
    expected = flowscope("report", "--format", "json", "sample_data/shop-events.jsonl")
    assert json.loads(run.out)["topics"] == json.loads(expected.out)["topics"]


def test_replay_refuses_a_pipe_with_a_sentence_before_it_opens(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)  # no writer: opening it would block, so it must not be opened
    run = flowscope("replay", str(fifo))
    assert run.code == 2 and "not a pipe" in run.err and run.seconds < SECONDS, run


def test_a_host_name_dns_cannot_carry_is_one_sentence():
    run = flowscope("report", "--bootstrap", "a" * 300 + ":9092")
    assert run.code == 2 and "Traceback" not in run.err, run.err
    assert run.err.count("\n") == 1 and "is not a valid host name" in run.err


def test_a_bad_interval_in_a_profile_is_blamed_on_the_profile(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[profiles.shop]\nbootstrap = "localhost:9"\ninterval = -5\n')
    run = flowscope("live", "--profile", "shop", env={**os.environ, "FLOWSCOPE_CONFIG": str(config)})
    assert run.code == 2, run.err
    assert "interval of profile 'shop'" in run.err and "--interval" not in run.err, run.err


@pytest.mark.parametrize("argument", ["--speed=warp", "--start=abc", "--nope"])
def test_a_bad_argument_is_one_sentence_not_a_usage_block(argument):
    run = flowscope("replay", argument, "sample_data/shop-commands.jsonl")
    assert run.code == 2 and run.err.count("\n") == 1 and "usage:" not in run.err, run.err


# -- the same files replayed in the app ---------------------------------------------------------------


REPLAYED = ["t of 10**30", "t of 400 digits", "kcat ts of 10**20", "kcat partition 10**9", "time backwards", "t true"]


@pytest.mark.parametrize("case", REPLAYED)
async def test_a_strict_replay_of_a_bad_file_shows_the_sentence_and_exits_2(case, tmp_path, capsys):
    path, words = bad_files(tmp_path)[case]
    app = create_app(replay_file(path, strict=True, speed=float("inf")))
    heard = Heard()
    async with app.run_test(message_hook=heard):
        await settle(app, lambda app: any(words in message for message in heard.notifications()))
    assert finish(app) == 2
    err = capsys.readouterr().err
    assert f"{path}:" in err and words in err and "Traceback" not in err, err


@pytest.mark.parametrize("case", REPLAYED)
async def test_a_lenient_replay_of_a_bad_file_warns_on_screen_and_on_exit(case, tmp_path, capsys):
    path, words = bad_files(tmp_path)[case]
    app = create_app(replay_file(path, speed=float("inf")))
    async with app.run_test(size=(160, 30)) as pilot:
        await settle(app, lambda app: bool(app.frame and app.frame.playback and app.frame.playback.skipped))
        await pilot.pause()
        assert "1 bad line skipped" in widget_text(app, "#status")
    assert finish(app) == 0
    err = capsys.readouterr().err
    assert "skipped 1 bad line" in err and words in err, err
