"""The recording format: every observation kind round-trips, and bad lines get readable messages."""

from __future__ import annotations

import itertools
import json
import re

import pytest

from flow.observations import (
    OBSERVATION_KINDS,
    Blob,
    FormatError,
    NoteObs,
    RecordObs,
    StatusObs,
    encode_observation,
    parse_header,
    parse_observation,
    payload_from_bytes,
)
from tests.helpers import commits, ends, group, record, topics


@pytest.mark.parametrize(
    "obs",
    [
        topics(1, "orders", "__consumer_offsets", partitions=3),
        ends(2, {"orders": (1, 2, 3)}),
        commits(3, "sales", {"orders": (1, None, 3)}),
        group(4, "sales", "orders", members=2),
        record(5, "orders", source="/web-shop", type_="Order", pid=7),
        NoteObs(t=6, text="a caption", duration_ms=5000),
        RecordObs(t=7, topic="x", partition=0, offset=0, key=Blob.from_bytes(b"\xff\xfe"), value="\u202e"),
    ],
)
def test_every_kind_round_trips_through_a_line(obs):
    line = encode_observation(obs)
    assert b"\n" not in line
    assert line.startswith(b'{"t":')
    assert parse_observation(line) == obs


def test_defaults_are_left_out_but_kind_is_kept():
    line = encode_observation(NoteObs(t=6, text="hi"))
    assert line == b'{"t":6,"kind":"note","text":"hi"}'


def test_lone_surrogates_become_replacement_characters_so_the_line_stays_readable():
    obs = RecordObs(t=1, topic="x", partition=0, offset=0, key="\udc80bad")
    assert parse_observation(encode_observation(obs)).key == "\ufffdbad"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b'{"t": 1, "kind": "end_offsets", "offsets": {"x": [1, "abc"]}}', "field offsets.x[1]"),
        (b'{"t": 1, "kind": "nonsense"}', "unknown observation kind 'nonsense'"),
        (b'{"t": 1, "text": "x"}', 'missing "kind"'),
        (b'{"t": 1, "kind": "note"}', "missing field text"),
        (b'{"t": 1, "kind": "note", "text": "unterminated', "not valid JSON"),
        (b"[1, 2]", "expected a JSON object"),
        (b'{"t": -5, "kind": "note", "text": "x"}', "field t"),
    ],
)
def test_bad_lines_are_described_in_plain_words(line, message):
    with pytest.raises(FormatError) as error:
        parse_observation(line)
    assert message in str(error.value)


def test_future_format_versions_are_refused_with_the_supported_ones():
    with pytest.raises(FormatError, match=r"version 9 is not supported .*reads version 1.*upgrade flowscope"):
        parse_header(b'{"format": "flowscope-recording", "version": 9}')


def test_a_header_that_is_not_ours_says_what_a_header_looks_like():
    with pytest.raises(FormatError, match="not a flowscope recording"):
        parse_header(b'{"topic": "orders", "offset": 3}')


def test_payloads_keep_text_as_text_and_bytes_as_base64():
    assert payload_from_bytes(b"hello") == "hello"
    assert payload_from_bytes(None) is None
    blob = payload_from_bytes(b"\xff\x00\xfe")
    assert isinstance(blob, Blob)
    assert blob.to_bytes() == b"\xff\x00\xfe"


def test_payload_cut_does_not_turn_a_split_character_into_binary():
    text = "é" * 10  # two bytes each
    cut = payload_from_bytes(text.encode(), limit=5)
    assert cut == "éé"


def test_each_line_is_t_kind_then_the_fields_that_differ_from_their_defaults():
    """The encoder splices ``kind`` in after ``t``; what it writes must be what plain JSON of the
    observation's fields would be, for every kind, for text that is not UTF-8, and for a lone surrogate."""
    from pydantic import TypeAdapter

    from adapters.files.recording import RecordingReader
    from adapters.scenarios.specs import large
    from adapters.scenarios.synthetic import SyntheticOptions, synthetic
    from flow.observations import Observation
    from tests.conftest import SAMPLES

    adapter: TypeAdapter[Observation] = TypeAdapter(Observation)

    def plain_json(obs: Observation) -> bytes:
        fields = adapter.dump_python(obs, mode="json", exclude_defaults=True)
        text = json.dumps({"t": obs.t, "kind": obs.kind, **fields}, ensure_ascii=False, separators=(",", ":"))
        return re.sub("[\ud800-\udfff]", "\ufffd", text).encode("utf-8")  # a lone surrogate is not text

    corpus = itertools.chain(
        RecordingReader(SAMPLES / "hostile.jsonl"),
        RecordingReader(SAMPLES / "shop-commands.jsonl"),
        itertools.islice(synthetic(large(topics=200, groups=50, services=40), SyntheticOptions()), 20_000),
        [StatusObs(t=5, state="connected"), NoteObs(t=6, text="lone \ud800 surrogate")],
    )
    kinds = set()
    for obs in corpus:
        assert encode_observation(obs) == plain_json(obs), obs
        kinds.add(obs.kind)
    assert kinds == set(OBSERVATION_KINDS)
