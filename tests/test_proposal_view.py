"""The proposal screen (P, `:proposal`, `:propose NAME`) on the bundled recordings."""

from __future__ import annotations

from tests.conftest import SAMPLES
from tests.tui_support import Heard, app_at, at_position, screen_text, settle
from tui.app import FlowscopeApp
from tui.proposal import ProposalScreen


def drawn(words: str):
    def shown(app: FlowscopeApp) -> bool:
        return isinstance(app.screen, ProposalScreen) and words in screen_text(app)

    return shown


async def test_p_shows_the_shops_proposal_and_propose_names_its_fact_topic():
    app = app_at(SAMPLES / "shop-commands.jsonl", 60)
    async with app.run_test(size=(120, 36)) as pilot:
        await at_position(app, 60)
        await pilot.press("P")
        await settle(app, drawn("Proposal 1 of 1"))
        text = screen_text(app)
        assert "Proposal 1 of 1: web-shop records one fact on <fact from web-shop>" in text
        assert "3 command topics become 1 event topic with 3 audiences" in text
        for gone in (
            "web-shop writes to warehouse",
            "warehouse writes to send-email",
            "send-text is read by sms-service",
        ):
            assert gone in text
        for new in ("<fact from web-shop> is read by email-service", "<fact from web-shop> is read by warehouse"):
            assert new in text
        # Side by side at 120 columns: today's first edge and the proposal's first edge share a row.
        assert any(
            "web-shop writes to warehouse" in row and "web-shop writes to <fact" in row for row in text.splitlines()
        )

        await pilot.press("escape", "colon", *"propose order-placed", "enter")
        await settle(app, drawn("order-placed"))
        text = screen_text(app)
        assert "web-shop records one fact on order-placed" in text and "order-placed is read by sms-service" in text


async def test_a_flow_without_findings_says_there_is_no_proposal_and_a_bad_name_is_refused():
    app = app_at(SAMPLES / "shop-events.jsonl", 60)
    heard = Heard()
    async with app.run_test(size=(100, 30), message_hook=heard) as pilot:
        await at_position(app, 60)
        await pilot.press("colon", *"proposal", "enter")
        await settle(app, drawn("No proposal: this flow has no command chain or fan-out"))
        await pilot.press("escape", "colon", *"propose [bold]x y", "enter")
        await pilot.pause()
    assert any("is not a Kafka topic name" in note for note in heard.notifications())
