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


SCENARIOS = {"shop-commands": shop_commands, "shop-events": shop_events, "large": large}


def scenario(name: str) -> ScenarioSpec:
    try:
        return SCENARIOS[name]()
    except KeyError:
        raise ValueError(f"unknown scenario {name!r} (known: {', '.join(SCENARIOS)})") from None
