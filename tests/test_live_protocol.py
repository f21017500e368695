"""Logic of the live source without a broker: wire encoding, version choice, bad responses, sampler plans."""

from __future__ import annotations

from io import BytesIO

import pytest

from adapters.kafka.codec import ProtocolError, Reader, UnsupportedVersion, Writer, supports
from adapters.kafka.group_requests import ListGroupsRequest, OffsetFetchRequest
from adapters.kafka.refresh import RefreshReport, _assignment, _subscription
from adapters.kafka.requests import DescribeProducersRequest, MetadataRequest
from adapters.kafka.sampler import Planned, Sampler, SamplerOptions
from adapters.kafka.source import backoff, visibility_notes


@pytest.mark.parametrize("flexible", [False, True])
def test_writer_and_reader_agree(flexible):
    w = Writer(flexible)
    w.int8(-3)
    w.int16(-300)
    w.int32(70_000)
    w.int64(-(2**40))
    w.string("héllo")
    w.nullable_string(None)
    w.array(["a", "bc"], Writer.string)
    w.array(None, Writer.string)
    w.uvarint(300)
    w.tags()
    r = Reader(w.getvalue(), flexible)
    assert (r.int8(), r.int16(), r.int32(), r.int64()) == (-3, -300, 70_000, -(2**40))
    assert (r.string(), r.nullable_string()) == ("héllo", None)
    assert r.string_array() == ["a", "bc"]
    assert r.string_array() == []  # a null array reads as empty
    assert r.uvarint() == 300
    r.tags()
    r.done()


def test_flexible_requests_carry_header_v2_and_never_ask_for_topic_creation():
    prepared = MetadataRequest(["orders"]).prepare({3: (0, 13)})
    header = prepared.build_request_header(correlation_id=7, client_id="flowscope").encode()
    assert header == b"\x00\x03\x00\x09\x00\x00\x00\x07\x00\x09flowscope\x00"
    body = prepared.encode()
    # compact array of one topic (length+1 = 2), name, tags, then AllowAutoTopicCreation = false
    assert body == b"\x02\x07orders\x00" + b"\x00\x00\x00" + b"\x00"
    assert repr(prepared) == "Metadata v9"


def test_the_newest_implemented_version_the_broker_offers_is_chosen():
    assert ListGroupsRequest().version_for({16: (0, 5)}) == 5
    assert ListGroupsRequest().version_for({16: (0, 4)}) == 4
    with pytest.raises(UnsupportedVersion, match=r"offers v0-v7 of OffsetFetch \(API key 9\); flowscope speaks v8"):
        OffsetFetchRequest(["g"]).version_for({9: (0, 7)})
    with pytest.raises(UnsupportedVersion, match="does not offer it of DescribeProducers"):
        DescribeProducersRequest({}).version_for({})
    assert supports({61: (0, 0)}, DescribeProducersRequest) and not supports({}, DescribeProducersRequest)


def test_a_response_that_does_not_parse_becomes_a_value_not_an_exception():
    # An exception while decoding would escape into aiokafka's reader task and close the connection.
    decoder = MetadataRequest().prepare({3: (9, 9)}).RESPONSE_TYPE
    result = decoder.decode(BytesIO(b"\x00\x00\x00\x00\x05"))
    assert isinstance(result, ProtocolError) and "Metadata v9" in str(result)
    trailing = (
        ListGroupsRequest().prepare({16: (5, 5)}).RESPONSE_TYPE.decode(BytesIO(b"\x00" * 4 + b"\x00\x00\x01\x00\xff"))
    )
    assert isinstance(trailing, ProtocolError) and "unread bytes" in str(trailing)


def test_classic_consumer_protocol_subscription_and_assignment():
    w = Writer(False)
    w.int16(3)
    w.array(["payments", "orders"], Writer.string)
    w.int32(-1)  # user data, then owned partitions etc. that a newer version adds
    assert _subscription(w.getvalue()) == ("orders", "payments")

    w = Writer(False)
    w.int16(0)

    def topic(w: Writer, item: tuple[str, list[int]]) -> None:
        w.string(item[0])
        w.array(item[1], Writer.int32)

    w.array([("orders", [2, 0])], topic)
    assert _assignment(w.getvalue()) == {"orders": (0, 2)}
    assert _assignment(b"\x00") == {} and _subscription(b"") == ()


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_sampler_reads_the_newest_records_and_spends_credit():
    clock = Clock()
    sampler = Sampler(SamplerOptions(per_topic_per_second=2.0, burst_seconds=2.0), clock=clock)
    plan = sampler.plan({"orders": {0: 1000, 1: 10}}, internal=())
    # First sight: two records of credit, the newest records of each partition, never offset 0.
    assert sorted((p.partition, p.offset, p.count) for p in plan) == [(0, 999, 1), (1, 9, 1)]
    sampler.read(1, plan, [])
    clock.now = 1.0
    assert sampler.plan({"orders": {0: 1000, 1: 10}}) == []  # nothing new since
    clock.now = 100.0  # credit is capped at burst_seconds x rate = 4
    plan = sampler.plan({"orders": {0: 5000, 1: 10}})
    assert plan == [Planned("orders", 0, 4996, 4, 5000)]


def test_the_sampler_skips_internal_topics_and_caps_partitions():
    clock = Clock()
    sampler = Sampler(SamplerOptions(max_partitions=3), clock=clock)
    ends = {f"t{i}": {0: 10} for i in range(10)} | {"__consumer_offsets": {0: 50}}
    plan = sampler.plan(ends, internal={"__consumer_offsets"})
    assert len(plan) == 3 and all(not p.topic.startswith("__") for p in plan)


def test_backoff_is_exponential_and_capped():
    assert [backoff(n, 4.0) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_what_cannot_be_seen_is_said():
    report = RefreshReport(unavailable={"ConsumerGroupDescribe"}, failed_brokers={2: "no answer"})
    notes = visibility_notes(report)
    assert "KIP-848 consumer groups" in notes[0] and "broker 2 did not answer (no answer)" in notes[1]
