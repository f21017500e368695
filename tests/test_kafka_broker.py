"""The test broker is a real Kafka that both aiokafka and Kafka's own tools talk to."""

from __future__ import annotations

import subprocess
import uuid

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from tests.conftest import ROOT

pytestmark = pytest.mark.kafka


async def test_aiokafka_and_kafka_tools_see_the_same_topics(kafka):
    name = f"smoke-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka.bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, num_partitions=2, replication_factor=1)])
        assert name in await admin.list_topics()
    finally:
        await admin.close()
    listed = subprocess.run(
        [str(ROOT / "scripts" / "kafka-tool"), "topics", "--bootstrap-server", kafka.bootstrap, "--list"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert name in listed.stdout.split()
