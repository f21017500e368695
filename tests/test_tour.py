"""The tour (`flowscope` alone): three chapters in one loop, chapter and caption keys, the proposal shown."""

from __future__ import annotations

from adapters.scenarios.tour import CHAPTERS, Tour
from tests.tui_support import screen_text, settle, shows
from tui.app import create_app
from tui.proposal import ProposalScreen


async def test_the_tour_plays_the_story_in_chapters_and_n_moves_through_them():
    app = create_app(Tour(speed=4))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, shows("1/3 the command design", "CMD·1", "warehouse"))
        await settle(app, shows("The shop, first design"))  # the recording's first caption

        await pilot.press("n")
        await settle(app, lambda app: isinstance(app.screen, ProposalScreen))
        await settle(app, shows("Proposal 1 of 1: web-shop records one fact"))

        await pilot.press("n")
        await settle(app, lambda app: not isinstance(app.screen, ProposalScreen))
        await settle(app, shows("3/3 the event design", "orders", "×3"))
        assert "CMD·1" not in screen_text(app)

        await pilot.press("n")  # past the last chapter: the story starts over
        await settle(app, shows("1/3 the command design"))
        await pilot.press("N")
        await settle(app, shows("3/3 the event design"))


async def test_caption_keys_jump_between_captions_and_the_first_chapter_points_to_the_next():
    app = create_app(Tour(speed=1))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, shows("The shop, first design"))
        await pilot.press("right_parenthesis")
        await settle(app, shows("Only the warehouse service reads"))
        await pilot.press("left_parenthesis")
        await settle(app, shows("The shop, first design"))
        # On to the chapter's last caption, which names the next chapter instead of a command to type.
        for caption in ("Only the warehouse", "To tell the customer", "A consumer of a command", "falls behind",
                        "Sales wants figures", "Two questions woven together"):  # fmt: skip
            await pilot.press("right_parenthesis")
            await settle(app, shows(caption))
        await settle(app, shows("Next: flowscope's proposal"))
        assert "flowscope demo --scenario" not in screen_text(app)


def test_each_chapter_is_a_bundled_recording_and_one_shows_the_proposal():
    assert [chapter.recording for chapter in CHAPTERS] == ["shop-commands", "shop-commands", "shop-events"]
    assert [chapter.view for chapter in CHAPTERS] == [None, "proposal", None]


async def test_the_tour_shows_the_chain_appear_in_the_changes_strip_when_the_caption_tells_of_it():
    app = create_app(Tour(speed=16))  # played, not jumped to: a jump starts the log over where it lands
    async with app.run_test(size=(100, 30)):
        await settle(app, shows("The shop, first design"))
        assert "send-email" not in screen_text(app)  # not yet: the story has not told of it
        await settle(app, shows("To tell the customer", "became a command topic", "new writer `warehouse` on `send-"))
        await settle(app, shows("group `sms-service` went WARN"))
