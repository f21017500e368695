"""Fuzz tests (issue 17): hostile files through every way flowscope reads one.

Arbitrary bytes, mutated sample recordings (bit flips, truncations, splices, gzip damage), generated
JSON of any depth with numbers of any size in every observation field, and generated kcat lines go to
the readers (recording and kcat, lenient and strict, and their span), the fold and renderings of
``report`` (in-process, also through ``tui.cli.main``) and the baseline loader. Each input must end in
observations or in the project's own error naming the file (and, for a file of observations, the line),
within :data:`SECONDS` and :data:`MEMORY_BYTES` per example.

The ``ci`` profile (the default) is derandomized and short. A longer, random run, by hand::

    FLOWSCOPE_FUZZ=long .venv/bin/pytest tests/test_fuzz.py

``FLOWSCOPE_FUZZ_EXAMPLES=N`` sets the number of examples of either profile.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import gzip
import io
import json
import math
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.files.open import open_file
from adapters.files.recording import TIME_SLACK_MS, RecordingError
from adapters.headless import fold_file
from flow.config import ModelConfig
from flow.export import EXPORT_FORMATS, renderer
from flow.gate import BaselineError, baseline_commands, evaluate, gate_text
from flow.instants import LAST_INSTANT_MS
from flow.report import report_json, report_text
from tests.conftest import ROOT, SAMPLES
from tui.cli import main
from tui.commands import UsageError
from tui.commands.report import _read_baseline

# -- profiles ----------------------------------------------------------------------------------------------

_COMMON: dict[str, Any] = {
    "deadline": None,  # time is bounded by `bounded` below, with an alarm that also stops a hang
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
    "print_blob": True,
}
settings.register_profile("flowscope-fuzz-ci", max_examples=60, derandomize=True, database=None, **_COMMON)
settings.register_profile("flowscope-fuzz-long", max_examples=2000, **_COMMON)
_PROFILE = os.environ.get("FLOWSCOPE_FUZZ", "ci")
FUZZ = settings(
    settings.get_profile(f"flowscope-fuzz-{_PROFILE}"),
    **({"max_examples": int(os.environ["FLOWSCOPE_FUZZ_EXAMPLES"])} if "FLOWSCOPE_FUZZ_EXAMPLES" in os.environ else {}),
)
"""The settings of every test here; not loaded globally, so the suite's other hypothesis tests keep theirs."""

# -- bounds ------------------------------------------------------------------------------------------------

SECONDS = 5.0
"""Per example, for every pass over one file of at most some tens of KB (each takes milliseconds)."""
MEMORY_BYTES = 64 * 2**20
"""Peak of Python allocations per example (tracemalloc). The readers keep bounded aggregates and the model
windows and caps, so a file of some tens of KB costs a few MB at most; 64 MB is far above that, and far
below anything sized by a number inside the file (a list of 10**8 partitions alone is 800 MB)."""
ADDRESS_SPACE_GUARD = 2**30
"""The address space an example may add before allocations fail (RLIMIT_AS, raised back afterwards): not the
bound asserted, a guard so that a reader allocating gigabytes fails the test instead of the machine."""


class _Overtime(BaseException):
    """Raised by the alarm; a BaseException so that no `except Exception` in the code under test eats it."""


def _vm_size() -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


@contextlib.contextmanager
def _address_space_guard(extra: int) -> Iterator[None]:
    current = _vm_size()
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if current is None:
        yield
        return
    limit = current + extra
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    if soft != resource.RLIM_INFINITY:
        limit = min(limit, soft)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


@contextlib.contextmanager
def bounded(what: str) -> Iterator[None]:
    """Fail unless the body ends within SECONDS and its Python allocations peak under MEMORY_BYTES."""
    armed = True

    def alarm(signum: int, frame: Any) -> None:
        if armed:
            raise _Overtime

    previous = signal.signal(signal.SIGALRM, alarm)
    tracing = tracemalloc.is_tracing()
    if tracing:
        tracemalloc.reset_peak()
    else:
        tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    started = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, SECONDS)
    try:
        with _address_space_guard(ADDRESS_SPACE_GUARD):
            yield
    except _Overtime:
        raise AssertionError(f"{what}: still running after {SECONDS:g} s") from None
    finally:
        armed = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        peak = tracemalloc.get_traced_memory()[1] - before
        if not tracing:
            tracemalloc.stop()
    elapsed = time.monotonic() - started
    assert elapsed < SECONDS, f"{what}: took {elapsed:.1f} s"
    assert peak < MEMORY_BYTES, f"{what}: Python allocations peaked at {peak / 2**20:.0f} MB"


# -- what every input must do --------------------------------------------------------------------------------


def assert_names_line(message: str, path: Path) -> None:
    """A reader's sentence: ``PATH:LINE: what is wrong``."""
    assert re.match(re.escape(str(path)) + r":[1-9]\d*: \S", message), f"no FILE:LINE: at the start of {message!r}"


def assert_in_range(t: object, what: str) -> None:
    assert type(t) is int, f"{what} is {t!r}, not an int"
    assert 0 <= t <= LAST_INSTANT_MS, f"{what} {t} lies outside the instants a date can show"


@dataclass
class Read:
    observations: list[Any] | None
    """None when the read ended in a RecordingError."""
    error: str | None
    skipped: int
    problems: list[str]


def read(path: Path, *, strict: bool, stdin: bytes | None = None) -> Read:
    """Open and read the whole file, or ``stdin`` given as standard input (``-``, which messages name
    ``path``); any exception but RecordingError propagates (a failure)."""
    saved = sys.stdin
    if stdin is not None:
        sys.stdin = io.TextIOWrapper(io.BytesIO(stdin))
    try:
        reader = open_file(path if stdin is None else "-", strict=strict).read()
        observations = list(reader)
    except RecordingError as error:
        assert_names_line(str(error), path)
        return Read(None, str(error), 0, [])
    finally:
        sys.stdin = saved
    latest = -1
    for index, obs in enumerate(observations):
        assert_in_range(obs.t, f"observation {index}'s t")
        assert obs.t >= latest - TIME_SLACK_MS, f"observation {index}: t={obs.t} is far behind {latest}"
        latest = max(latest, obs.t)
    for problem in reader.problems:
        assert_names_line(problem, path)
    if strict:
        assert reader.skipped == 0
    else:
        assert reader.skipped >= len(reader.problems)
        assert bool(reader.skipped) == bool(reader.problems)
        summary = reader.summary()
        assert (summary is None) == (reader.skipped == 0)
    return Read(observations, None, reader.skipped, list(reader.problems))


def check_span(path: Path) -> None:
    try:
        span = open_file(path).span()
    except RecordingError as error:
        span, message = None, str(error)
    if span is None:
        assert message.startswith(f"{path}:"), message
        return
    for name, value in zip(("first", "last"), span, strict=True):
        if value is not None:
            assert_in_range(value, f"span {name}")


def _no_constants(token: str) -> Any:
    raise AssertionError(f"{token} in a JSON report: not JSON")


def printable(text: str) -> str:
    """What report writes must be writable to a UTF-8 stream (a lone surrogate is not)."""
    text.encode("utf-8")
    return text


def check_fold_and_render(path: Path) -> None:
    """What `report` does with the file, step by step: fold, render every format, gate against itself."""
    try:
        snapshot, reader = fold_file(path, config=ModelConfig())
    except RecordingError as error:
        assert_names_line(str(error), path)
        return
    source = str(reader.path)
    printable(report_text(snapshot, source))
    data = json.loads(printable(report_json(snapshot, source)), parse_constant=_no_constants)
    for fmt in EXPORT_FORMATS:
        printable(renderer(fmt)(snapshot, source))
    # A report's own JSON is a baseline that accepts every command topic it lists.
    accepted = baseline_commands(data)
    gate = evaluate(snapshot, "command", accepted, "baseline.json")
    assert not gate.failed, gate
    printable(gate_text(gate))
    printable(report_text(snapshot, source, gate))
    json.loads(printable(report_json(snapshot, source, gate)), parse_constant=_no_constants)


BASELINE = '{"topics": [{"name": "orders", "kind": "command"}, {"name": "warehouse", "kind": "command"}]}'


def check_report_command(path: Path, *arguments: str) -> None:
    """`flowscope report PATH ...` in-process: exit 0 or 1 with a report, or 2 with one sentence naming PATH."""
    out, err = io.StringIO(), io.StringIO()
    baseline = path.with_name("baseline.json")
    baseline.write_text(BASELINE)
    saved = os.environ.get("FLOWSCOPE_CONFIG")
    os.environ["FLOWSCOPE_CONFIG"] = str(path.with_name("no-config.toml"))
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["report", str(path), "--fail-on", "command", "--baseline", str(baseline), *arguments])
    finally:
        if saved is None:
            del os.environ["FLOWSCOPE_CONFIG"]
        else:
            os.environ["FLOWSCOPE_CONFIG"] = saved
    printable(out.getvalue())
    printable(err.getvalue())
    if code == 2:
        assert err.getvalue().startswith(f"flowscope: {path}:"), err.getvalue()
        assert err.getvalue().count("\n") == 1, err.getvalue()
    else:
        assert code in (0, 1), code
        if "json" in arguments:
            json.loads(out.getvalue(), parse_constant=_no_constants)


def exercise(path: Path, *, command: bool = True) -> None:
    """Every way in, for one file: lenient and strict reads and a read as standard input (which must all
    agree), the span, the fold and its renderings, and the `report` command."""
    lenient = read(path, strict=False)
    strict = read(path, strict=True)
    if lenient.observations is None:
        assert strict.observations is None, "strict mode read a file lenient mode refused"
    elif lenient.skipped == 0:
        assert strict.error is None, f"strict mode failed ({strict.error}) where lenient mode skipped nothing"
        assert strict.observations == lenient.observations
    else:
        assert strict.error is not None, f"strict mode read a file where lenient mode skipped {lenient.skipped}"
        assert strict.error in lenient.problems, (strict.error, lenient.problems)
    streamed = read(Path("<stdin>"), strict=False, stdin=path.read_bytes())  # called as deep as the others
    assert (streamed.error is None) == (lenient.error is None), (streamed.error, lenient.error)
    if lenient.observations is not None and streamed.observations is not None:
        differently = f"the same bytes read differently as standard input: {streamed.problems} != {lenient.problems}"
        assert len(streamed.observations) == len(lenient.observations), differently
        assert streamed.skipped == lenient.skipped, differently
        check_span(path)
    check_fold_and_render(path)
    if command:
        check_report_command(path, "--format", "json")


def exercise_bytes(data: bytes, name: str = "input.jsonl", *, command: bool = True) -> None:
    with tempfile.TemporaryDirectory(prefix="flowscope-fuzz-") as directory:
        path = Path(directory) / name
        path.write_bytes(data)
        with bounded(f"{name} ({len(data):,} bytes)"):
            exercise(path, command=command)


# -- JSON text of anything -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Raw:
    """JSON text put into a line as it is: numbers json.dumps cannot write, NaN, deep nesting, broken JSON."""

    text: bytes


def encode(value: Any) -> bytes:
    """JSON text of ``value``; bytes are a string holding those raw bytes (kcat writes invalid UTF-8 so)."""
    if isinstance(value, Raw):
        return value.text
    if value is None:
        return b"null"
    if value is True:
        return b"true"
    if value is False:
        return b"false"
    if isinstance(value, int):
        return str(value).encode()
    if isinstance(value, float):
        if math.isnan(value):
            return b"NaN"
        if math.isinf(value):
            return b"Infinity" if value > 0 else b"-Infinity"
        return repr(value).encode()
    if isinstance(value, str):
        return json.dumps(value).encode()  # ASCII, a lone surrogate as its \u escape
    if isinstance(value, bytes):
        escaped = re.sub(rb'["\\\x00-\x1f]', lambda m: b"\\u%04x" % m.group()[0], value)
        return b'"' + escaped + b'"'
    if isinstance(value, dict):
        return b"{" + b",".join(encode(k) + b":" + encode(v) for k, v in value.items()) + b"}"
    if isinstance(value, list | tuple):
        return b"[" + b",".join(encode(v) for v in value) + b"]"
    raise TypeError(value)


T0 = 1_768_467_600_000
INT_EDGES = [
    -1,
    2**31 - 1,
    2**31,
    -(2**31) - 1,
    2**32,
    2**53 + 1,
    2**63 - 1,
    2**63,
    -(2**63),
    -(2**63) - 1,
    2**64,
    LAST_INSTANT_MS,
    LAST_INSTANT_MS + 1,
    10**9,
    10**20,
    10**30,
    -(10**30),
    10**400,
]
NUMBER_TOKENS = [
    b"NaN",
    b"Infinity",
    b"-Infinity",
    b"1e308",
    b"1e400",
    b"-1e400",
    b"1e-400",
    b"-0",
    b"-0.0",
    b"1.0",
    b"1E3",
    b"1768467600000.5",
    b"0x10",
    b"01",
    b"+1",
    b".5",
]
hostile_numbers = st.one_of(
    st.sampled_from(INT_EDGES),
    st.integers(),
    st.integers(300, 6000).map(lambda n: Raw(b"9" * n)),
    st.integers(300, 6000).map(lambda n: Raw(b"-1" + b"0" * n)),
    st.sampled_from(NUMBER_TOKENS).map(Raw),
    st.floats(),
    st.booleans(),
    st.none(),
    st.sampled_from(["5", "1e3", "-1", "", " 7", "NaN", "9" * 30, "1768467600000"]),
    st.sampled_from([[], {}, [1], {"a": 1}]),
)
"""Anything where a whole number is expected."""


def deep(depth: int, opener: bytes = b"[", closer: bytes = b"]", middle: bytes = b"") -> Raw:
    return Raw(opener * depth + middle + closer * depth)


DEPTHS = st.one_of(st.integers(1, 2000), st.sampled_from([199, 200, 201, 255, 256, 999, 1000, 1001, 10_000]))
deep_values = st.one_of(
    DEPTHS.map(deep),
    DEPTHS.map(lambda n: deep(n, b'{"a":', b"}", b"1")),
    DEPTHS.map(lambda n: deep(n, b"[", b"]", b'"x"')),
    DEPTHS.map(lambda n: Raw(b"[" * n)),  # never closed
)
hostile_values = st.one_of(hostile_numbers, deep_values, st.text(max_size=20))
"""Anything anywhere."""


@st.composite
def field(draw: st.DrawFn, valid: st.SearchStrategy[Any]) -> Any:
    """Mostly a valid value, sometimes a hostile one; shrinks towards valid, so a minimal example shows the
    field that matters."""
    if draw(st.integers(0, 11)) < 11:
        return draw(valid)
    return draw(hostile_values)


def edges(low: int, high: int, *extra: int) -> st.SearchStrategy[int]:
    return st.one_of(st.integers(low, high), st.sampled_from(extra)) if extra else st.integers(low, high)


COUNT = edges(0, 8, 2**31 - 1)
PARTITION = edges(0, 7, 2**31 - 1, 10**6)
OFFSET = edges(0, 10**6, 2**63 - 1, 2**63 - 2)
INT32 = edges(-1, 100, -(2**31), 2**31 - 1)
INT64 = edges(-1, 10**6, -(2**63), 2**63 - 1)
TIMESTAMP = st.one_of(edges(T0 - 10**6, T0, 0, LAST_INSTANT_MS, 2**63 - 1, -1), st.none())
TOPICS = ("orders", "warehouse", "send-email")
GROUPS = ("billing", "warehouse")
names = st.one_of(st.sampled_from(TOPICS), st.text(max_size=12))
text = st.text(max_size=30)
payloads = st.one_of(text, st.none(), st.builds(dict, b64=st.sampled_from(["/w==", "!!", "", "AAAA"])))
headers = st.lists(
    st.tuples(st.sampled_from(["ce_source", "ce_type", "source", "x"]), st.one_of(text, st.sampled_from(TOPICS))),
    max_size=3,
)
partition_keys = st.one_of(
    PARTITION.map(str), st.sampled_from(["-1", "2147483648", "1e3", "00", " 1", "9" * 30, "NaN", "true", ""])
)


KINDS = ("record", "end_offsets", "commits", "topics", "group", "producers", "status", "cluster", "note")


@st.composite
def observation(draw: st.DrawFn, t: int) -> dict[str, Any]:
    """An observation of any kind, every field mostly valid and sometimes hostile."""

    def f(valid: st.SearchStrategy[Any]) -> Any:
        return draw(field(valid))

    kind = draw(st.sampled_from(KINDS))
    obs: dict[str, Any] = {"t": f(st.just(t)), "kind": kind}
    topic = draw(names)
    if kind == "status":
        obs |= {"state": draw(st.sampled_from(["connected", "lost", "reconnecting", "gone"])), "attempt": f(COUNT)}
    elif kind == "cluster":
        broker = {"id": f(INT32), "host": "b", "port": f(edges(0, 65535, 65536, -1))}
        obs |= {"cluster_id": "c", "brokers": [broker], "controller_id": f(INT32)}
    elif kind == "topics":
        listed = draw(st.lists(names, min_size=1, max_size=3, unique=True))
        obs["topics"] = [{"name": name, "partitions": f(COUNT), "internal": f(st.booleans())} for name in listed]
    elif kind == "end_offsets":
        obs["offsets"] = {topic: draw(st.lists(field(OFFSET), max_size=5))}
    elif kind == "group":
        member = {"member_id": "m", "assigned": {topic: draw(st.lists(field(PARTITION), max_size=3))}}
        obs |= {"group": draw(st.sampled_from(GROUPS)), "state": draw(st.sampled_from(["Stable", "Dead", ""]))}
        obs["members"] = [member]
    elif kind == "commits":
        committed = st.lists(st.one_of(field(OFFSET), st.none()), max_size=5)
        obs |= {"group": draw(st.sampled_from(GROUPS)), "offsets": {topic: draw(committed)}}
    elif kind == "producers":
        state = [f(INT64), f(INT32), f(INT32), f(INT64)]
        obs |= {"topic": topic, "partitions": {draw(partition_keys): [state]}}
        if draw(st.booleans()):
            obs["transactional_ids"] = {draw(partition_keys): "tx-" + topic}
    elif kind == "record":
        obs |= {"topic": topic, "partition": f(PARTITION), "offset": f(OFFSET), "timestamp": f(TIMESTAMP)}
        obs |= {"key": draw(payloads), "headers": draw(headers), "size": f(COUNT), "value": draw(payloads)}
        obs["producer_id"] = f(st.one_of(INT64, st.none()))
    else:
        obs |= {"text": draw(text), "duration_ms": f(st.one_of(edges(0, 10**5, LAST_INSTANT_MS), st.none()))}
    if draw(st.integers(0, 9)) == 9:
        obs[draw(st.sampled_from(sorted(obs)))] = draw(hostile_values)  # even kind and t
    return obs


HEADER = {"format": "flowscope-recording", "version": 1, "created": "2026-01-15T09:00:00Z", "source": {}}


@st.composite
def recordings(draw: st.DrawFn) -> bytes:
    """A recording of generated lines: header (maybe hostile), observations, and broken lines among them."""
    header = dict(HEADER, version=draw(field(st.just(1))))
    lines = [encode(header) if draw(st.integers(0, 15)) < 15 else encode(draw(hostile_values))]
    t = draw(st.one_of(st.just(T0), st.sampled_from([0, LAST_INSTANT_MS - 10_000])))
    for _ in range(draw(st.integers(0, 25))):
        t += draw(st.one_of(st.integers(0, 4000), st.integers(-120_000, 0)))
        t = max(t, 0)
        choice = draw(st.integers(0, 15))
        if choice < 13:
            lines.append(encode(draw(observation(t))))
        elif choice == 13:
            lines.append(encode(draw(hostile_values)))
        else:
            lines.append(draw(st.sampled_from([b"", b"   ", b"\xff\xfe", b"{", b"null", b'{"t":1}'])))
    data = b"\n".join(lines)
    return data if draw(st.integers(0, 4)) == 0 else data + b"\n"


# -- kcat lines ---------------------------------------------------------------------------------------------


@st.composite
def kcat_record(draw: st.DrawFn, ts: int, *, first: bool = False) -> dict[str, Any]:
    """A kcat -J record, every field mostly valid and sometimes hostile. A first line is mostly tame but for
    its numbers (any whole numbers: what makes a file read as a dump is a topic, a partition and an offset)."""
    hostile = not first or draw(st.integers(0, 4)) == 4

    def f(valid: st.SearchStrategy[Any]) -> Any:
        return draw(field(valid)) if hostile else draw(valid)

    whole = st.one_of(st.sampled_from(INT_EDGES[:-1]), st.integers())
    topic = draw(st.one_of(st.sampled_from(TOPICS), st.text(max_size=8), st.just(b"t\xff\xfe"), st.just("\udcff")))
    ts_values = edges(ts, ts, 0, LAST_INSTANT_MS, LAST_INSTANT_MS - 1, LAST_INSTANT_MS + 1, 2**63 - 1, -1)
    record: dict[str, Any] = {
        "topic": topic if first else f(st.just(topic)),
        "partition": draw(st.one_of(PARTITION, whole)) if first else f(PARTITION),
        "offset": draw(st.one_of(OFFSET, whole)) if first else f(OFFSET),
        "tstype": "create",
        "ts": f(ts_values),
        "broker": 1,
    }
    shape = draw(st.integers(0, 3 if hostile else 2))
    if shape == 0:
        record["headers"] = [v for pair in draw(headers) for v in pair]
    elif shape == 1:
        record["headers"] = {k: [v] for k, v in draw(headers)}
    elif shape == 3:
        record["headers"] = draw(st.one_of(hostile_values, st.lists(hostile_values, max_size=4)))
    tame = st.one_of(text, st.none(), st.just(b"\xff\xfe\x80ok"))
    kcat_payloads = st.one_of(tame, hostile_values) if hostile else tame
    record["key"] = draw(kcat_payloads)
    record["payload"] = draw(kcat_payloads)
    if draw(st.integers(0, 5)) == 5:
        record.pop(draw(st.sampled_from(["ts", "tstype", "headers", "key", "payload", "broker"])), None)
    return record


@st.composite
def kcat_dumps(draw: st.DrawFn) -> bytes:
    ts = draw(st.one_of(st.just(T0), st.sampled_from([0, LAST_INSTANT_MS - 5000])))
    lines = [encode(draw(kcat_record(ts, first=True)))]
    for _ in range(draw(st.integers(0, 25))):
        ts = max(ts + draw(st.one_of(st.integers(0, 5000), st.integers(-(10**6), 0), st.integers(0, 10**9))), 0)
        choice = draw(st.integers(0, 15))
        if choice < 13:
            lines.append(encode(draw(kcat_record(ts))))
        elif choice == 13:
            lines.append(encode(draw(hostile_values)))
        else:
            lines.append(draw(st.sampled_from([b"", b"% Reached end of topic orders [0] at offset 5", b"\xff", b"{"])))
    data = b"\n".join(lines)
    return data if draw(st.integers(0, 4)) == 0 else data + b"\n"


# -- the sample recordings, and a kcat dump made of their records ------------------------------------------------

LINE_LIMIT = 4096
"""Lines of the samples longer than this are left out of windows (hostile.jsonl holds a 1 MB value)."""
WINDOW_BYTES = 24 * 1024


@functools.cache
def sample_lines() -> dict[str, tuple[bytes, list[bytes]]]:
    """Each sample's header line and its lines up to LINE_LIMIT bytes, with a kcat dump of their records."""
    samples: dict[str, tuple[bytes, list[bytes]]] = {}
    dump: list[bytes] = []
    for path in sorted(SAMPLES.glob("*.jsonl*")):
        raw = gzip.decompress(path.read_bytes()) if path.name.endswith(".gz") else path.read_bytes()
        header, *lines = raw.splitlines(keepends=True)
        kept = [line for line in lines if len(line) <= LINE_LIMIT]
        samples[path.name] = (header, kept)
        dump.extend(_as_kcat(json.loads(line)) for line in kept if b'"kind":"record"' in line)
    samples["kcat dump of the samples' records"] = (dump[0], dump[1:])
    return samples


def _as_kcat(obs: dict[str, Any]) -> bytes:
    def raw(payload: Any) -> Any:
        return base64.b64decode(payload["b64"]) if isinstance(payload, dict) else payload

    record = {
        "topic": obs["topic"],
        "partition": obs["partition"],
        "offset": obs["offset"],
        "tstype": "create",
        "ts": obs.get("timestamp", -1),
        "broker": 1,
        "headers": [raw(v) for pair in obs.get("headers", []) for v in pair],
        "key": raw(obs.get("key")),
        "payload": raw(obs.get("value")),
    }
    return encode(record) + b"\n"


@st.composite
def sample_windows(draw: st.DrawFn) -> bytes:
    """A sample's header and a run of its lines (a kcat dump: a run of its lines), at most WINDOW_BYTES."""
    samples = sample_lines()
    header, lines = samples[draw(st.sampled_from(sorted(samples, key=lambda name: ("hostile" in name, name))))]
    start = draw(st.integers(0, max(len(lines) - 1, 0)))
    window = [header]
    size = len(header)
    for line in lines[start : start + draw(st.integers(0, 80))]:
        size += len(line)
        if size > WINDOW_BYTES:
            break
        window.append(line)
    return b"".join(window)


@st.composite
def mutated(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` after a few byte-level and line-level mutations."""
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "truncate", "splice", "insert", "delete", "number", "lines"]))
        size = len(data)
        at = draw(st.integers(0, size))
        if op == "flip" and size:
            at = min(at, size - 1)
            data = data[:at] + bytes([data[at] ^ (1 << draw(st.integers(0, 7)))]) + data[at + 1 :]
        elif op == "truncate":
            data = data[:at]
        elif op == "splice":
            other = draw(sample_windows())
            data = data[:at] + other[draw(st.integers(0, len(other))) :]
        elif op == "insert":
            inserted = draw(st.one_of(st.binary(max_size=32), hostile_values.map(encode), st.just(b"\n")))
            data = data[:at] + inserted + data[at:]
        elif op == "delete":
            data = data[:at] + data[at + draw(st.integers(0, 64)) :]
        elif op == "number":
            numbers = list(re.finditer(rb"-?\d+", data))
            if numbers:
                match = numbers[draw(st.integers(0, len(numbers) - 1))]
                data = data[: match.start()] + encode(draw(hostile_numbers)) + data[match.end() :]
        else:
            lines = data.splitlines(keepends=True)
            if len(lines) > 1:
                i, j = sorted(draw(st.lists(st.integers(0, len(lines) - 1), min_size=2, max_size=2)))
                how = draw(st.sampled_from(["swap", "duplicate", "drop", "reverse"]))
                if how == "swap":
                    lines[i], lines[j] = lines[j], lines[i]
                elif how == "duplicate":
                    lines.insert(j, lines[i])
                elif how == "drop":
                    del lines[i]
                else:
                    lines[i:j] = reversed(lines[i:j])
                data = b"".join(lines)
    return data


@st.composite
def gzip_damaged(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` gzipped, and maybe the stream damaged: flipped, cut, trailing garbage, a second member."""
    packed = gzip.compress(data, mtime=0)
    how = draw(st.sampled_from(["intact", "flip", "truncate", "garbage", "members", "magic-only"]))
    at = draw(st.integers(0, len(packed) - 1))
    if how == "flip":
        packed = packed[:at] + bytes([packed[at] ^ (1 << draw(st.integers(0, 7)))]) + packed[at + 1 :]
    elif how == "truncate":
        packed = packed[:at]
    elif how == "garbage":
        packed += draw(st.binary(min_size=1, max_size=16))
    elif how == "members":
        packed += gzip.compress(draw(st.binary(max_size=64)), mtime=0)[: draw(st.integers(1, 100))]
    elif how == "magic-only":
        packed = packed[:2] + draw(st.binary(max_size=32))
    return packed


# -- the tests ------------------------------------------------------------------------------------------------

KCAT_FIRST = b'{"topic":"orders","partition":0,"offset":0,"tstype":"create","ts":1768467600000,"broker":1}\n'


@FUZZ
@given(
    prefix=st.sampled_from([b"", encode(HEADER) + b"\n", KCAT_FIRST]),
    data=st.binary(max_size=4096),
    compressed=st.booleans(),
)
def test_arbitrary_bytes(prefix, data, compressed):
    content = prefix + data
    exercise_bytes(gzip.compress(content, mtime=0) if compressed else content)


@FUZZ
@given(
    prefix=st.sampled_from([encode(HEADER) + b"\n", KCAT_FIRST]),
    lines=st.lists(st.text(max_size=80), max_size=20),
    compressed=st.booleans(),
)
def test_arbitrary_text_lines(prefix, lines, compressed):
    content = prefix + "\n".join(lines).encode("utf-8", "surrogatepass")
    exercise_bytes(gzip.compress(content, mtime=0) if compressed else content)


@FUZZ
@given(data=st.data())
def test_mutated_samples(data):
    window = data.draw(sample_windows())
    if data.draw(st.integers(0, 3)) < 3:  # mostly past the header, which most mutations would break
        header, _, body = window.partition(b"\n")
        window = header + b"\n" + data.draw(mutated(body))
    else:
        window = data.draw(mutated(window))
    exercise_bytes(window)


@FUZZ
@given(data=st.data())
def test_gzip_damaged_samples(data):
    window = data.draw(sample_windows())
    if data.draw(st.booleans()):
        window = data.draw(mutated(window))
    exercise_bytes(data.draw(gzip_damaged(window)), "input.jsonl.gz")


@FUZZ
@given(content=recordings(), compressed=st.booleans())
def test_generated_recordings(content, compressed):
    exercise_bytes(gzip.compress(content, mtime=0) if compressed else content)


@FUZZ
@given(content=kcat_dumps(), compressed=st.booleans())
def test_generated_kcat_dumps(content, compressed):
    exercise_bytes(gzip.compress(content, mtime=0) if compressed else content, "dump.json")


@FUZZ
@given(line=hostile_values, where=st.sampled_from(["header", "observation", "kcat payload", "kcat headers"]))
def test_deep_and_huge_values_in_every_position(line, where):
    value = encode(line)
    if where == "header":
        content = value + b"\n"
    elif where == "observation":
        content = encode(HEADER) + b"\n" + value + b"\n" + b'{"t":%d,"kind":"record","value":' % T0 + value + b"}\n"
    elif where == "kcat payload":
        content = KCAT_FIRST + KCAT_FIRST[:-2] + b',"payload":' + value + b"}\n"
    else:
        content = KCAT_FIRST + KCAT_FIRST[:-2] + b',"headers":["source",' + value + b"]}\n"
    exercise_bytes(content)


def test_ten_thousand_deep_nesting_everywhere():
    for opener, closer, middle in ((b"[", b"]", b""), (b'{"a":', b"}", b"1"), (b"[", b"", b"")):
        nested = deep(10_000, opener, closer, middle).text
        exercise_bytes(nested + b"\n", command=False)
        exercise_bytes(encode(HEADER) + b"\n" + nested + b"\n", command=False)
        record = b'{"t":%d,"kind":"record","topic":"orders","partition":0,"offset":0,"value":' % T0
        exercise_bytes(encode(HEADER) + b"\n" + record + nested + b"}\n", command=False)
        exercise_bytes(KCAT_FIRST + KCAT_FIRST[:-2] + b',"payload":' + nested + b"}\n", command=False)


def _nested_payloads_dump() -> bytes:
    """A dump whose payloads nest one level deeper each line, through the interpreter's recursion limit; one
    record per refresh, so every payload is sampled (parsed, then encoded again)."""
    limit = sys.getrecursionlimit()
    lines = [KCAT_FIRST]
    for index, depth in enumerate(range(max(limit - 240, 1), limit + 10, 2)):
        head = b'{"topic":"t%d","partition":0,"offset":%d,"ts":%d,"payload":' % (index, index, T0 + 2000 * (index + 1))
        lines.append(head + deep(depth).text + b"}\n")
    return b"".join(lines)


def _deeper(frames: int, call: Any) -> Any:
    return call() if frames <= 0 else _deeper(frames - 1, call)


def test_kcat_payloads_nested_at_every_depth_around_the_recursion_limit():
    exercise_bytes(_nested_payloads_dump(), "dump.json", command=False)


def test_whether_a_nested_line_is_read_does_not_depend_on_the_callers_stack(tmp_path):
    """The same dump must read the same when the reader is iterated further down the stack (the app replays
    from inside Textual's and asyncio's frames, `report` from a shallow stack): how deep a line may nest is
    the reader's rule, not whatever recursion the interpreter has left."""
    path = tmp_path / "dump.json"
    path.write_bytes(_nested_payloads_dump())
    shallow = read(path, strict=False)
    deeper = _deeper(100, lambda: read(path, strict=False))
    assert shallow.observations is not None
    assert deeper.observations is not None
    assert (deeper.skipped, len(deeper.observations)) == (shallow.skipped, len(shallow.observations)), (
        f"{shallow.skipped} lines skipped from a shallow stack, {deeper.skipped} from 100 frames deeper: "
        f"{sorted(set(deeper.problems) ^ set(shallow.problems))[:3]}"
    )


def _known_cases() -> dict[str, bytes]:
    """Inputs the generators found once, kept as fixed examples so every profile and seed tries them."""
    header = encode(HEADER) + b"\n"
    status = b'"kind":"status","state":"connected"}\n'
    packed = gzip.compress(header + b"\n", mtime=0)  # the damage comes before the first observation
    return {
        "t past the last instant on the first line": header + b'{"t":9007199254740993,' + status,
        "t of 5000 digits on the first line": header + b'{"t":' + b"9" * 5000 + b"," + status,
        "gzip with a wrong CRC": packed[:-8] + bytes(4) + packed[-4:],
        "gzip with a wrong length": packed[:-4] + bytes(4),
        "gzip cut in its trailer": packed[:-3],
        "gzip and garbage after it": packed + b"\x01",
        "gzip and half a second member": packed + packed[:12],
        "gzip of a header only, cut": gzip.compress(header, mtime=0)[:-5],
    }


KNOWN = _known_cases()


@pytest.mark.parametrize("name", KNOWN)
def test_known_hostile_files(name):
    exercise_bytes(KNOWN[name], "input.jsonl.gz" if KNOWN[name][:2] == b"\x1f\x8b" else "input.jsonl")


# -- the baseline loader --------------------------------------------------------------------------------------

json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=10)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)),
    max_leaves=20,
)
baseline_topics = st.fixed_dictionaries(
    {"name": st.one_of(names, hostile_values), "kind": st.one_of(st.sampled_from(["command", "event"]), json_values)}
)
baselines = st.one_of(
    json_values.map(lambda value: encode(value)),
    st.lists(st.one_of(baseline_topics, hostile_values), max_size=4).map(lambda topics: encode({"topics": topics})),
    hostile_values.map(lambda value: encode({"topics": value})),
    deep_values.map(encode),
    st.binary(max_size=512),
)


def check_baseline(path: Path) -> None:
    try:
        accepted = _read_baseline(str(path))
    except UsageError as error:
        message = str(error)
        assert message.startswith(f"baseline {path}: "), message
        assert "\n" not in message.rstrip("\n"), message
        printable(message)
        return
    assert isinstance(accepted, frozenset)
    assert all(isinstance(name, str) for name in accepted)


@FUZZ
@given(content=baselines)
def test_baseline_loader(content):
    with tempfile.TemporaryDirectory(prefix="flowscope-fuzz-") as directory:
        path = Path(directory) / "baseline.json"
        path.write_bytes(content)
        with bounded(f"baseline ({len(content):,} bytes)"):
            check_baseline(path)


@FUZZ
@given(data=json_values | st.lists(st.one_of(baseline_topics, json_values)).map(lambda t: {"topics": t}))
def test_baseline_commands_of_any_json(data):
    try:
        accepted = baseline_commands(data)
    except BaselineError as error:
        accepted, message = None, str(error)
    if accepted is None:
        assert message, "a BaselineError without a sentence"
    else:
        assert all(isinstance(name, str) for name in accepted)


@FUZZ
@given(content=baselines)
def test_report_with_a_fuzzed_baseline(content):
    """`report --baseline` with any file: a report, or one sentence naming the baseline."""
    with tempfile.TemporaryDirectory(prefix="flowscope-fuzz-") as directory:
        baseline = Path(directory) / "fuzzed-baseline.json"
        baseline.write_bytes(content)
        out, err = io.StringIO(), io.StringIO()
        source = str(SAMPLES / "shop-events.jsonl")
        with bounded("report --baseline"), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["report", source, "--fail-on", "command", "--baseline", str(baseline)])
        if code == 2:
            assert err.getvalue().startswith(f"flowscope: baseline {baseline}: "), err.getvalue()
        else:
            assert code in (0, 1), code
            assert out.getvalue().startswith("flowscope report:"), out.getvalue()[:200]


# -- the worst cases, in a child process with a hard memory limit ---------------------------------------------------


def _worst_cases() -> dict[str, bytes]:
    """Files whose numbers, taken at their word, would size gigabytes or step past the last instant."""
    header = encode(HEADER) + b"\n"

    def kcat(*records: dict[str, Any]) -> bytes:
        return b"".join(encode({"tstype": "create", "ts": T0, "broker": 1, **r}) + b"\n" for r in records)

    def recording(*observations: dict[str, Any]) -> bytes:
        return header + b"".join(encode({"t": T0, **obs}) + b"\n" for obs in observations)

    big = 2**31 - 1
    return {
        "kcat partition 10**9": kcat({"topic": "a", "partition": 10**9, "offset": 0}),
        "kcat partition 10**9 after a small one": kcat(
            {"topic": "a", "partition": 0, "offset": 0}, {"topic": "a", "partition": 10**9, "offset": 1}
        ),
        "kcat partition int32 max": kcat({"topic": "a", "partition": big, "offset": 0}),
        "kcat partitions 1000 apart": kcat(*({"topic": "a", "partition": p * 1000, "offset": p} for p in range(60))),
        "kcat offset int64 max": kcat({"topic": "a", "partition": 0, "offset": 2**63 - 1}),
        "kcat ts last instant": kcat({"topic": "a", "partition": 0, "offset": 0, "ts": LAST_INSTANT_MS}),
        "recording topics of int32-max partitions": recording(
            {"kind": "topics", "topics": [{"name": "a", "partitions": big}]},
            {"kind": "end_offsets", "offsets": {"a": [5]}},
        ),
        "recording partition numbers at int32 max": recording(
            {"kind": "topics", "topics": [{"name": "a", "partitions": big}]},
            {"kind": "record", "topic": "a", "partition": big, "offset": 2**63 - 1},
            {"kind": "producers", "topic": "a", "partitions": {str(big): [[1, 0, 0, T0]]}},
            {
                "kind": "group",
                "group": "g",
                "state": "Stable",
                "members": [{"member_id": "m", "assigned": {"a": [big]}}],
            },
            {"kind": "commits", "group": "g", "offsets": {"a": [2**63 - 1]}},
            {"kind": "end_offsets", "offsets": {"a": [2**63 - 1]}},
        ),
        "recording partition 10**9": recording(
            {"kind": "record", "topic": "a", "partition": 10**9, "offset": 0},
            {"kind": "producers", "topic": "a", "partitions": {str(10**9): [[1, 0, 0, T0]]}},
        ),
    }


_CHILD = """
import json, resource, sys, traceback
from pathlib import Path
import tests.test_fuzz as fuzz
status = Path('/proc/self/status').read_text()
size = int(next(line for line in status.splitlines() if line.startswith('VmSize:')).split()[1]) * 1024
resource.setrlimit(resource.RLIMIT_AS, (size + 2 * fuzz.ADDRESS_SPACE_GUARD, resource.RLIM_INFINITY))
for name in sys.argv[1:]:
    path = Path(name)
    print(json.dumps({"case": path.name, "started": True}), flush=True)
    try:
        with fuzz.bounded(path.name):
            fuzz.exercise(path)
        outcome = None
    except BaseException as error:
        outcome = "".join(traceback.format_exception_only(type(error), error)).strip()[-600:]
    print(json.dumps({"case": path.name, "failure": outcome}), flush=True)
"""


def test_the_worst_numbers_in_a_child_with_a_hard_memory_limit(tmp_path):
    """Partition numbers, offsets and instants at and past their limits, read in a child whose address space
    is capped: a reader that sizes anything by them fails here (MemoryError, or the child killed) rather
    than taking the machine's memory."""
    paths = []
    for index, (name, content) in enumerate(_worst_cases().items()):
        path = tmp_path / f"{index:02d} {name}"
        path.write_bytes(content)
        paths.append(str(path))
    child = subprocess.run(
        [sys.executable, "-c", _CHILD, *paths], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    events = [json.loads(line) for line in child.stdout.splitlines() if line.startswith("{")]
    finished = {event["case"]: event["failure"] for event in events if "failure" in event}
    started = [event["case"] for event in events if event.get("started")]
    failures = {case: failure for case, failure in finished.items() if failure}
    if len(finished) < len(paths):
        failures[started[-1] if started else "?"] = f"the child died (exit {child.returncode}): {child.stderr[-600:]}"
    assert not failures, "\n".join(f"{case}: {failure}" for case, failure in failures.items())
