"""Scenario specs: the services, topics and groups of a story, shared by the synthetic source and simulate."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class TopicSpec:
    name: str
    partitions: int


@dataclass(frozen=True, slots=True)
class Emitter:
    """A service that writes records of one type to a topic on its own initiative (a user clicking BUY)."""

    service: str
    topic: str
    record_type: str
    rate: float
    """Mean records per second; the synthetic source varies it over time."""


@dataclass(frozen=True, slots=True)
class Reaction:
    """A service that writes ``ratio`` records to ``topic`` per record its group reads from ``trigger``."""

    service: str
    trigger: str
    topic: str
    record_type: str
    ratio: float = 1.0


@dataclass(frozen=True, slots=True)
class SlowSpell:
    """A while during which a group reads at ``factor`` of its usual capacity."""

    start_s: float
    end_s: float
    factor: float


@dataclass(frozen=True, slots=True)
class GroupSpec:
    group: str
    service: str
    topics: tuple[str, ...]
    members: int = 1
    """0: an inactive group, committed offsets and nobody consuming."""
    protocol: str = "classic"
    capacity: float = 200.0
    """Records per second the group can read when healthy."""
    slow: SlowSpell | None = None


@dataclass(frozen=True, slots=True)
class ScenarioSpec:
    name: str
    description: str
    topics: tuple[TopicSpec, ...]
    emitters: tuple[Emitter, ...]
    reactions: tuple[Reaction, ...]
    groups: tuple[GroupSpec, ...]
    notes: tuple[tuple[float, str], ...] = ()
    duration_s: float = 180.0
    values: dict[str, str] = field(default_factory=dict)
    """Record type -> value template (``{order}``, ``{n}``, ``{sku}`` and ``{customer}`` are filled in)."""
    unnamed: frozenset[str] = frozenset()
    """Services that write as plain producers (neither idempotent nor transactional) with no header naming
    them: a live source sees their records but cannot say who wrote them (an unknown writer)."""
    transactional: dict[str, str] = field(default_factory=dict)
    """Service -> transactional id, for services that write in transactions."""


SHOP_VALUES = {
    "DispatchProduct": '{{"orderId":"{order}","sku":"{sku}","quantity":{n},"warehouse":"north"}}',
    "SendEmail": '{{"to":"{customer}@example.com","template":"order-dispatched","orderId":"{order}"}}',
    "SendText": '{{"to":"+44 7700 900{n:03d}","text":"Your order {order} is on its way"}}',
    "Order": '{{"orderId":"{order}","customer":"{customer}","items":[{{"sku":"{sku}","qty":{n}}}]}}',
    "ProductDispatched": '{{"orderId":"{order}","sku":"{sku}","carrier":"parcel-co"}}',
}


def shop_commands() -> ScenarioSpec:
    """The seed's first design: a command to the warehouse, which then commands email and SMS services."""
    return ScenarioSpec(
        name="shop-commands",
        description="web-shop commands the warehouse, which commands the email and SMS services",
        topics=(TopicSpec("warehouse", 3), TopicSpec("send-email", 2), TopicSpec("send-text", 2)),
        emitters=(Emitter("web-shop", "warehouse", "DispatchProduct", 4.0),),
        reactions=(
            Reaction("warehouse", "warehouse", "send-email", "SendEmail"),
            Reaction("warehouse", "warehouse", "send-text", "SendText"),
        ),
        groups=(
            GroupSpec("warehouse", "warehouse", ("warehouse",), members=2, capacity=8),
            GroupSpec("email-service", "email-service", ("send-email",), capacity=8),
            GroupSpec("sms-service", "sms-service", ("send-text",), capacity=8, slow=SlowSpell(72, 124, 0.3)),
        ),
        notes=(
            (
                0,
                "The shop, first design: a [BUY] click makes web-shop write a DispatchProduct "
                "command to the `warehouse` topic.",
            ),
            (
                22,
                "Only the warehouse service reads `warehouse`: an audience of one. "
                "flowscope marks it CMD·1, a flag, not an error.",
            ),
            (
                44,
                "To tell the customer, the warehouse writes SendEmail to `send-email` and "
                "SendText to `send-text`: two more audiences of one.",
            ),
            (
                66,
                "A consumer of a command that issues more commands: a command chain, "
                "web-shop → warehouse → email-service and sms-service.",
            ),
            (
                92,
                "sms-service falls behind: its lag grows and its status turns WARN, while email-service keeps up.",
            ),
            (
                128,
                "Sales wants figures: count the products dispatched, or the emails sent? "
                "Every topic here is a command; none records the fact.",
            ),
            (
                154,
                "Two questions woven together: what happened? and who cares? "
                "Next: flowscope demo --scenario shop-events",
            ),
        ),
        values=SHOP_VALUES,
    )


def shop_events() -> ScenarioSpec:
    """The seed's second design: web-shop records an Order fact; each service decides for itself."""
    return ScenarioSpec(
        name="shop-events",
        description="web-shop records Order facts that warehouse, notifications and sales each react to",
        topics=(TopicSpec("orders", 3), TopicSpec("shipments", 2)),
        emitters=(Emitter("web-shop", "orders", "Order", 4.0),),
        reactions=(Reaction("warehouse", "orders", "shipments", "ProductDispatched"),),
        groups=(
            GroupSpec("warehouse", "warehouse", ("orders",), members=2, capacity=8),
            GroupSpec(
                "notifications",
                "notifications",
                ("orders", "shipments"),
                capacity=12,
                slow=SlowSpell(80, 132, 0.3),
            ),
            GroupSpec("sales", "sales", ("orders", "shipments"), protocol="consumer", capacity=12),
        ),
        notes=(
            (
                0,
                "The shop, second design: a [BUY] click makes web-shop record one fact, an Order event on `orders`.",
            ),
            (
                24,
                "warehouse, notifications and sales each read `orders` and decide for themselves: "
                "three audiences, an event topic.",
            ),
            (
                50,
                "No command marks: web-shop no longer knows who acts on an order, and a new "
                "audience changes nothing upstream.",
            ),
            (
                96,
                "notifications falls behind for a while: only its own lag grows; warehouse and sales carry on.",
            ),
            (
                134,
                "The warehouse records what it did, ProductDispatched on `shipments`, "
                "for whoever cares: notifications and sales.",
            ),
            (
                156,
                "Sales counts orders, the facts, not emails sent. What happened is recorded once; "
                "who cares is up to each service.",
            ),
        ),
        values=SHOP_VALUES,
    )


_DOMAINS = (
    "billing",
    "catalog",
    "checkout",
    "crm",
    "delivery",
    "fraud",
    "identity",
    "inventory",
    "ledger",
    "loyalty",
    "marketing",
    "payments",
    "pricing",
    "returns",
    "search",
    "shipping",
    "support",
    "tax",
)
_ENTITIES = (
    "account",
    "address",
    "basket",
    "card",
    "claim",
    "coupon",
    "customer",
    "invoice",
    "item",
    "label",
    "order",
    "parcel",
    "payment",
    "product",
    "quote",
    "refund",
    "review",
    "session",
    "stock",
    "ticket",
)
_FACTS = ("created", "updated", "deleted", "placed", "shipped", "settled", "changed", "expired")
_VERBS = ("send", "create", "update", "cancel", "reserve", "charge", "notify", "sync", "validate", "ship")


def large(
    topics: int = 2000,
    partitions: int = 4,
    groups: int = 500,
    services: int = 300,
    seed: int = 42,
    tiers: int = 5,
) -> ScenarioSpec:
    """A big, plausible cluster for benchmarks: events, commands, chains, cycles and unread topics.

    Services sit in tiers, as in a real system where data flows downstream: edge services write
    first, and a service mostly reads what the tier before it wrote (sometimes a tier further up,
    and now and then one downstream, which makes the occasional cycle).
    """
    rng = random.Random(seed)
    service_names = [f"{_DOMAINS[i % len(_DOMAINS)]}-svc-{i:03d}" for i in range(services)]
    tier_of = {name: i * tiers // services for i, name in enumerate(service_names)}
    topic_specs: list[TopicSpec] = []
    emitters: list[Emitter] = []
    owners: dict[str, str] = {}
    types: dict[str, str] = {}
    by_tier: dict[int, list[str]] = {tier: [] for tier in range(tiers)}
    for index in range(topics):
        domain = _DOMAINS[index % len(_DOMAINS)]
        entity = _ENTITIES[(index // len(_DOMAINS)) % len(_ENTITIES)]
        if rng.random() < 0.3:
            verb = _VERBS[index % len(_VERBS)]
            name, record_type = f"{domain}.{verb}-{entity}-{index:04d}", f"{verb.title()}{entity.title()}"
        else:
            fact = _FACTS[index % len(_FACTS)]
            name, record_type = f"{domain}.{entity}-{fact}-{index:04d}", f"{entity.title()}{fact.title()}"
        topic_specs.append(TopicSpec(name, partitions))
        owner = service_names[int(rng.random() * services)]
        owners[name] = owner
        types[name] = record_type
        by_tier[tier_of[owner]].append(name)
        emitters.append(Emitter(owner, name, record_type, round(0.2 + rng.random() ** 3 * 40, 2)))
    group_specs: list[GroupSpec] = []
    readers = [name for name in service_names if tier_of[name] > 0]  # the first tier only writes
    for index in range(groups):
        service = readers[index % len(readers)]
        group_id = service if index < len(readers) else f"{service}-{index:03d}"
        chosen: set[str] = set()
        for _ in range(1 + int(rng.random() ** 2 * 8)):
            roll = rng.random()
            tier = tier_of[service]
            if roll < 0.02:
                source = int(rng.random() * tiers)  # now and then downstream: a cycle
            elif roll < 0.2:
                source = max(tier - 2, 0)
            else:
                source = max(tier - 1, 0)
            # The last eighth of each tier's topics is never read: unread topics exist in real clusters.
            pool = by_tier[source][: max(len(by_tier[source]) * 7 // 8, 1)]
            if pool:
                chosen.add(pool[int(rng.random() * len(pool))])
        slow = None
        if rng.random() < 0.05:
            start = 300 + rng.random() * 3000
            slow = SlowSpell(start, start + 120 + rng.random() * 600, 0.2)
        members = 1 + int(rng.random() * 3)
        group_specs.append(GroupSpec(group_id, service, tuple(sorted(chosen)), members=members, slow=slow))
    # Services react to what they read by writing what they own: that is what makes chains.
    reactions: list[Reaction] = []
    for spec in group_specs[: groups // 5]:
        own = [t for t, owner in owners.items() if owner == spec.service]
        if own and spec.topics:
            reactions.append(Reaction(spec.service, spec.topics[0], own[0], types[own[0]], ratio=0.5))
    return ScenarioSpec(
        name="large",
        description=f"{topics} topics x {partitions} partitions, {groups} groups, {services} services",
        topics=tuple(topic_specs),
        emitters=tuple(emitters),
        reactions=tuple(reactions),
        groups=tuple(group_specs),
        duration_s=3600.0,
    )


def realistic() -> ScenarioSpec:
    """A cluster as ops engineers meet one: a saga in the Event Collaboration style (order, payment,
    shipment, each step its own service), a Kafka Streams app with its internal topics, Kafka Connect's
    and the Schema Registry's topics, commands with plain and misleading names, a topic nobody reads, an
    unknown writer, an inactive group and a transactional producer."""
    streams = "fraud-scorer"
    store = f"{streams}-KSTREAM-AGGREGATE-STATE-STORE-0000000003"
    topics = (
        # The saga: each service records what it did, the next one reacts.
        TopicSpec("order-placed", 6),
        TopicSpec("payment-settled", 6),
        TopicSpec("shipment-dispatched", 3),
        TopicSpec("order-completed", 3),
        # Commands: an imperative, a noun, an event-like name with one reader, an imperative read by two.
        TopicSpec("ProcessRefund", 2),
        TopicSpec("invoice-jobs", 2),
        TopicSpec("customer-registered", 2),
        TopicSpec("send-receipt", 2),
        TopicSpec("refund-issued", 2),
        # A Kafka Streams app: repartition and changelog topics of its own, an alert topic out.
        TopicSpec(f"{store}-repartition", 6),
        TopicSpec(f"{store}-changelog", 6),
        TopicSpec("fraud-alerts", 1),
        # Platform topics: Kafka Connect's, the Schema Registry's.
        TopicSpec("connect-configs", 1),
        TopicSpec("connect-offsets", 25),
        TopicSpec("connect-status", 5),
        TopicSpec("_schemas", 1),
        # What real clusters also have: raw clicks from an unknown writer, a topic nobody reads any more.
        TopicSpec("clickstream", 12),
        TopicSpec("legacy-inventory-snapshots", 3),
        TopicSpec("inventory-levels", 4),
    )
    emitters = (
        Emitter("order-service", "order-placed", "OrderPlaced", 6.0),
        Emitter("support-desk", "ProcessRefund", "ProcessRefund", 0.4),
        Emitter("identity-service", "customer-registered", "CustomerRegistered", 0.8),
        Emitter("web-tracker", "clickstream", "PageViewed", 25.0),
        Emitter("warehouse-sync", "inventory-levels", "StockLevel", 3.0),
        Emitter("warehouse-sync", "legacy-inventory-snapshots", "InventorySnapshot", 0.2),
        Emitter("connect-worker", "connect-status", "ConnectorStatus", 0.1),
        Emitter("connect-worker", "connect-offsets", "SourceOffset", 0.5),
        Emitter("schema-registry", "_schemas", "SchemaRegistered", 0.05),
    )
    reactions = (
        Reaction("payment-service", "order-placed", "payment-settled", "PaymentSettled"),
        Reaction("shipping-service", "payment-settled", "shipment-dispatched", "ShipmentDispatched"),
        Reaction("order-service", "shipment-dispatched", "order-completed", "OrderCompleted"),
        Reaction("order-service", "order-placed", "invoice-jobs", "InvoiceJob"),
        Reaction("invoicer", "invoice-jobs", "send-receipt", "SendReceipt"),
        Reaction("payment-service", "ProcessRefund", "refund-issued", "RefundIssued"),
        Reaction(streams, "payment-settled", f"{store}-repartition", "PaymentByCard"),
        Reaction(streams, f"{store}-repartition", f"{store}-changelog", "CardScore"),
        Reaction(streams, f"{store}-repartition", "fraud-alerts", "FraudSuspected", ratio=0.02),
    )
    groups = (
        GroupSpec("payment-service", "payment-service", ("order-placed", "ProcessRefund"), members=3, capacity=20),
        GroupSpec("shipping-service", "shipping-service", ("payment-settled",), members=2, capacity=20),
        GroupSpec(
            "order-service", "order-service", ("order-placed", "shipment-dispatched"), members=2, capacity=30
        ),
        GroupSpec("invoicer", "invoicer", ("invoice-jobs",), capacity=10),
        GroupSpec("email-service", "email-service", ("send-receipt", "order-completed"), capacity=10),
        GroupSpec("audit", "audit", ("send-receipt", "refund-issued", "fraud-alerts"), protocol="consumer"),
        GroupSpec("crm-sync", "crm-sync", ("customer-registered",), capacity=5),
        GroupSpec(
            streams, streams, ("payment-settled", f"{store}-repartition"), members=2, capacity=40,
            slow=SlowSpell(60, 110, 0.3),
        ),
        GroupSpec("analytics", "analytics", ("clickstream", "order-placed", "order-completed"), capacity=60),
        GroupSpec("connect-s3-sink", "connect-worker", ("order-completed",), capacity=10),
        GroupSpec("stock-alerts", "stock-alerts", ("inventory-levels",), capacity=10),
        # Last quarter's reporting job: offsets on the books, nobody consuming.
        GroupSpec("reporting-batch", "reporting-batch", ("order-placed",), members=0, capacity=0),
    )  # fmt: skip
    return ScenarioSpec(
        name="realistic",
        description="a saga, a Kafka Streams app, Connect and Schema Registry topics, commands, "
        "an unknown writer, an inactive group",
        topics=topics,
        emitters=emitters,
        reactions=reactions,
        groups=groups,
        unnamed=frozenset({"web-tracker"}),
        transactional={"payment-service": "payment-service"},
    )


SCENARIOS = {"shop-commands": shop_commands, "shop-events": shop_events, "realistic": realistic, "large": large}


def scenario(name: str) -> ScenarioSpec:
    try:
        return SCENARIOS[name]()
    except KeyError:
        raise ValueError(f"unknown scenario {name!r} (known: {', '.join(SCENARIOS)})") from None
