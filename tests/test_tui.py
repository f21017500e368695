"""What a user sees: the flow graph, command marks, selection, details, filters, tables, replay controls."""

from __future__ import annotations

import pytest

from tests.tui_support import (
    START,
    Heard,
    app_at,
    at_position,
    laid_out,
    screen_text,
    settle,
    shown_after,
    shown_at,
    step_to,
    widget_text,
    with_a_new_command_topic,
)

pytestmark = pytest.mark.asyncio


async def test_the_demo_marks_the_three_command_topics_and_the_chain(shop_commands):
    app = app_at(shop_commands, 60)
    async with app.run_test(size=(120, 40)) as pilot:
        text = await shown_at(pilot, 60)
        assert text.count("CMD·1") == 3
        for name in ("warehouse", "send-email", "send-text", "web-shop", "email-service", "sms-service"):
            assert name in text
        assert "CHAIN" in text
        assert "3 CMD" in text  # the status bar counts them too
        rows = text.splitlines()
        box_row = next(i for i, row in enumerate(rows) if "│ web-shop" in row)
        # The seed's chain reads left to right on one line: web-shop → warehouse → warehouse → send-email.
        chain = rows[box_row]
        assert (
            chain.index("web-shop")
            < chain.index("warehouse")
            < chain.index("send-email")
            < chain.index("email-service")
        )


async def test_the_event_design_shows_three_audiences_and_no_command_marks(shop_events):
    app = app_at(shop_events, 60)
    async with app.run_test(size=(120, 40)) as pilot:
        text = await shown_at(pilot, 60)
        assert "CMD·1" not in text
        assert "×3" in text
        for name in ("orders", "notifications", "sales", "warehouse"):
            assert name in text


async def test_arrow_keys_select_and_enter_explains_why_a_topic_was_flagged(shop_commands):
    app = app_at(shop_commands, 60)
    async with app.run_test(size=(230, 50)) as pilot:
        await at_position(app, 60)
        await pilot.press("right", "right", "enter")
        await pilot.pause()
        assert app.selection == ("topic", "warehouse")
        text = screen_text(app)
        assert "Why it was flagged (medium confidence)" in text
        assert "exactly one consumer group reads it: `warehouse`, an audience of one" in text
        assert "command_chain" in text
        assert "DispatchProduct" in text  # recent records, with their headers
        assert "Why it was flagged" not in await shown_after(pilot, "escape")


async def test_group_details_show_members_and_lag_per_partition(shop_commands):
    app = app_at(shop_commands, 110)
    async with app.run_test(size=(230, 50)) as pilot:
        await at_position(app, 110)
        text = await shown_after(pilot, "3")  # the groups table
        assert "sms-service" in text
        assert "WARN" in text
        app.select("group", "sms-service")
        text = await shown_after(pilot, "enter")
        assert "falling behind" in text
        assert "Lag per partition" in text
        assert "sms-service-1" in text  # the member's client id


async def test_filter_by_regex_and_its_inverse(shop_commands):
    app = app_at(shop_commands, 60)
    async with app.run_test(size=(120, 40)) as pilot:
        await at_position(app, 60)
        await pilot.press("slash", *"send-", "enter")
        await settle(app, laid_out)
        await pilot.pause()
        graph = widget_text(app, "#graph")
        assert "send-email" in graph and "send-text" in graph
        assert "web-shop" not in graph
        await pilot.press("slash", "ctrl+a", "ctrl+k", *"!send-", "enter")
        await settle(app, lambda a: laid_out(a) and a.view_filter.text == "!send-")
        await pilot.pause()
        graph = widget_text(app, "#graph")
        assert "web-shop" in graph
        assert "send-email" not in graph
        await pilot.press("escape")  # clears the filter
        await settle(app, lambda a: laid_out(a) and a.view_filter.text == "")
        await pilot.pause()
        assert "send-email" in widget_text(app, "#graph")


async def test_commands_only_and_internal_topics_toggle(shop_events, shop_commands):
    app = app_at(shop_commands, 60)
    async with app.run_test(size=(120, 40)) as pilot:
        await at_position(app, 60)
        assert "__consumer_offsets" not in await shown_after(pilot, "2")  # hidden by default
        assert "__consumer_offsets" in await shown_after(pilot, "i")
        text = await shown_after(pilot, "c")
        assert "__consumer_offsets" not in text
        assert text.count("CMD·1") == 3
    events = app_at(shop_events, 60)
    async with events.run_test(size=(120, 40)) as pilot:
        await at_position(events, 60)
        await pilot.press("c")
        await settle(events, laid_out)
        await pilot.pause()
        assert "no topics to show" in screen_text(events)


async def test_tables_sort_and_follow_the_selection(shop_commands):
    app = app_at(shop_commands, 60)
    async with app.run_test(size=(140, 40)) as pilot:
        await at_position(app, 60)
        await pilot.press("2")
        await pilot.pause()
        table = app.query_one("#topics")
        names = [table.row_texts(i)[0] for i in range(table.row_count)]
        assert names == sorted(names)
        await pilot.press("s")  # next sort column: kind, commands first
        await pilot.pause()
        kinds = [table.row_texts(i)[1] for i in range(table.row_count)]
        assert kinds == [" CMD·1 "] * 3
        await pilot.press("s", "s")  # msg/s, busiest first
        await pilot.pause()
        rates = [float(table.row_texts(i)[3]) for i in range(table.row_count)]
        assert rates == sorted(rates, reverse=True)
        await pilot.press("S")
        await pilot.pause()
        assert [float(table.row_texts(i)[3]) for i in range(table.row_count)] == sorted(rates)
        await pilot.press("down", "enter")
        await pilot.pause()
        assert app.selection is not None
        assert app.details_open


async def test_replay_controls_pause_step_seek_and_speed(shop_commands):
    app = app_at(shop_commands, 60)
    async with app.run_test(size=(140, 40)) as pilot:
        await at_position(app, 60)
        assert "‖" in screen_text(app)
        await pilot.press("right_square_bracket")
        await settle(app, lambda a: a.frame.playback.position == START + 62_000)
        await pilot.press("left_square_bracket")
        await settle(app, lambda a: a.frame.playback.position == START + 60_000)
        await pilot.press("G")
        await settle(app, lambda a: a.frame.playback.position == START + 180_000)
        await pilot.press("g")
        await settle(app, lambda a: a.frame.playback.position == START)
        await pilot.press("plus", "plus")
        await settle(app, lambda a: a.frame.playback.speed == 4.0)
        await pilot.press("minus")
        await settle(app, lambda a: a.frame.playback.speed == 2.0)
        await pilot.press("colon", *"seek 01:30", "enter")
        await settle(app, lambda a: a.frame.playback.position == START + 90_000)
        await pilot.pause()
        assert "01:30/03:00" in screen_text(app)
        await pilot.press("colon", *"speed 16", "enter")
        await settle(app, lambda a: a.frame.playback.speed == 16.0)
        await pilot.press("space")
        await settle(app, lambda a: not a.frame.playback.paused and a.frame.playback.position > START + 100_000)
        await pilot.press("space")
        await settle(app, lambda a: a.frame.playback.paused)


async def test_captions_follow_the_story(shop_commands):
    app = app_at(shop_commands, 30)
    async with app.run_test(size=(140, 40)) as pilot:
        await at_position(app, 30)
        await pilot.pause()
        assert "Only the warehouse service reads `warehouse`: an audience of one." in screen_text(app)
        await pilot.press("colon", *"seek 01:10", "enter")
        await settle(app, lambda a: a.frame.playback.position == START + 70_000)
        await pilot.pause()
        assert "a command chain" in screen_text(app)


async def test_commands_switch_views_and_unknown_ones_say_so(shop_commands):
    app = app_at(shop_commands, 60)
    heard = Heard()
    async with app.run_test(size=(140, 40), message_hook=heard) as pilot:
        await at_position(app, 60)
        await pilot.press("colon", *"cg", "enter")
        await pilot.pause()
        assert app.view == "groups"
        await pilot.press("colon", *"producers", "enter")
        await pilot.pause()
        assert app.view == "services"
        assert "web-shop" in screen_text(app)
        await pilot.press("colon", *"flux", "enter")
        await pilot.pause()
        assert any("Unknown command 'flux'" in message for message in heard.notifications())


async def test_help_lists_the_keys_of_the_mode(shop_commands):
    app = app_at(shop_commands, 10)
    async with app.run_test(size=(140, 60)) as pilot:
        await at_position(app, 10)
        text = await shown_after(pilot, "question_mark")
        assert "CMD·1" in text and "a command topic: exactly one consumer group reads it" in text
        assert "Pause" in text and "Step back" in text
        assert "Marks" not in await shown_after(pilot, "escape")


async def test_help_says_what_the_graphs_zoom_keys_do(shop_commands):
    app = app_at(shop_commands, 10)
    async with app.run_test(size=(140, 110)) as pilot:
        await at_position(app, 10)
        text = await shown_after(pilot, "question_mark")
        graph_keys = text[text.index("In the graph") :]
        for key, says in (("f", "focus:"), ("o", "overview:"), ("<", "fewer steps"), (">", "more steps")):
            assert f"{key}      {says}" in graph_keys, key


async def test_the_key_bar_shows_the_keys_of_the_view_and_runs_a_clicked_key(shop_commands):
    app = app_at(shop_commands, 10)
    async with app.run_test(size=(140, 40)) as pilot:
        await at_position(app, 10)
        await pilot.pause()
        keys = widget_text(app, "#keys")
        assert "q Quit" in keys and "space Pause" in keys  # a replay: its controls are there
        assert "s Sort" not in keys  # a table key, not the graph's
        await pilot.press("2")  # the topics table
        await pilot.pause()
        assert "s Sort" in widget_text(app, "#keys")
        column = widget_text(app, "#keys").index("? Help")
        await pilot.click("#keys", offset=(column + 1, 0))
        await pilot.pause()
        assert "a command topic: exactly one consumer group reads it" in screen_text(app)


async def test_the_demo_loops(shop_commands):
    from adapters.files.replay import replay_file
    from tui.app import create_app

    app = create_app(replay_file(shop_commands, loop=True, speed=float("inf")))
    async with app.run_test(size=(120, 40)):
        await settle(app, lambda a: a.frame is not None and a.frame.playback.loops >= 1)
        assert not app.frame.playback.finished


async def test_frames_keep_coming_while_the_help_screen_is_open(shop_commands):
    from adapters.files.replay import replay_file
    from tui.app import create_app

    app = create_app(replay_file(shop_commands, loop=True, speed=64.0))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, lambda a: a.frame is not None)
        await pilot.press("question_mark")
        before = app.frames_applied
        await settle(app, lambda a: a.frames_applied > before + 3)
        assert app.screen.__class__.__name__ == "HelpScreen"
        assert "CMD·1" in await shown_after(pilot, "escape")


async def test_ctrl_s_saves_an_svg_and_mermaid_writes_the_filtered_view(shop_commands, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = app_at(shop_commands, 60)
    async with app.run_test(size=(120, 40)) as pilot:
        await at_position(app, 60)
        await pilot.press("ctrl+s")
        await pilot.pause()
        [svg] = list(tmp_path.glob("flowscope-*.svg"))
        assert "CMD·1" in svg.read_text().replace("&#160;", " ")
        await pilot.press("slash", *"send-", "enter")
        await settle(app, laid_out)
        await pilot.press("colon", *"mermaid view.mmd", "enter")
        await pilot.pause()
        mermaid = (tmp_path / "view.mmd").read_text()
        assert mermaid.startswith("flowchart LR") or "flowchart LR" in mermaid
        assert "send-email" in mermaid and "send-text" in mermaid
        assert "web-shop" not in mermaid  # filtered out of the view, so out of the diagram


async def test_a_churning_topology_is_laid_out_one_layout_at_a_time_ending_with_the_newest(monkeypatch):
    import asyncio
    import threading
    import time

    import tui.graph
    from adapters.session import Frame
    from adapters.source import Controls, SourceInfo
    from flow.model import FlowModel
    from tests.helpers import T0, commits, ends, group, topics
    from tui.app import FrameReady, create_app
    from tui.view.projection import build_view

    class Idle:
        info = SourceInfo("replay", "test")
        controls = Controls()

        async def run(self, sink):
            await asyncio.Event().wait()

    running, most, calls = 0, 0, 0
    lock = threading.Lock()
    real_layout = tui.graph.layout_for

    def slow_layout(*request):
        nonlocal running, most, calls
        with lock:
            running += 1
            calls += 1
            most = max(most, running)
        time.sleep(0.05)  # a big cluster's layout takes a while; frames keep coming meanwhile
        try:
            return real_layout(*request)
        finally:
            with lock:
                running -= 1

    monkeypatch.setattr(tui.graph, "layout_for", slow_layout)
    model = FlowModel()
    snapshots = []
    for i in range(12):  # each frame one more topic, read by one more group: a new topology every time
        t = T0 + i * 1000
        name = f"topic-{i:02}"
        model.apply_all([topics(t, *(f"topic-{j:02}" for j in range(i + 1))), group(t, f"reader-{i:02}", name)])
        model.apply_all([ends(t, {name: (10,)}), commits(t, f"reader-{i:02}", {name: (5,)})])
        snapshots.append(model.snapshot())

    app = create_app(Idle())
    async with app.run_test(size=(120, 40)) as pilot:
        for snapshot in snapshots:
            app.post_message(FrameReady(Frame(snapshot, Idle.info, None), build_view(snapshot, app.view_filter)))
            await pilot.pause(0.01)
        graph = app.query_one("#graph")
        await settle(app, lambda a: graph.settled, timeout=20)
        assert ("topic", "topic-11") in graph.layout_shown.boxes
    assert most == 1
    assert calls < len(snapshots)  # changes that came while a layout ran were folded into the next


async def test_at_80x24_the_whole_shop_chain_is_on_screen(shop_commands):
    """The classic terminal size: the usual boxes do not fit its width, so they shrink to their names."""
    app = app_at(shop_commands, 60)
    async with app.run_test(size=(80, 24)) as pilot:
        text = await shown_at(pilot, 60)
        for name in ("web-shop", "warehouse", "send-email", "send-text", "email-service", "sms-service"):
            assert name in text
        assert text.count("CMD·1") == 3
        assert app.query_one("#graph").layout_shown.density == "tight"


async def test_z_switches_to_one_line_boxes_and_back(shop_commands):
    app = app_at(shop_commands, 60)
    async with app.run_test(size=(160, 40)) as pilot:
        await at_position(app, 60)
        graph = app.query_one("#graph")
        assert graph.layout_shown.density == "regular"
        await pilot.press("z")
        await settle(app, lambda a: graph.settled)
        assert graph.layout_shown.density == "compact"
        assert "(¹warehouse" in await shown_after(pilot)
        await pilot.press("z")
        await settle(app, lambda a: graph.settled)
        assert graph.layout_shown.density == "regular"


async def test_the_changes_strip_tells_a_new_command_topic_its_writer_and_a_group_going_warn(tmp_path, shop_commands):
    recording = with_a_new_command_topic(tmp_path, shop_commands)
    app = app_at(recording, 0)
    async with app.run_test(size=(120, 40)) as pilot:
        await at_position(app, 0)
        await pilot.pause()
        assert "no changes yet" in widget_text(app, "#changes")
        await step_to(pilot, 100)
        strip = widget_text(app, "#changes")
        assert [line.strip() for line in strip.splitlines()[1:7]] == [
            "09:00:10  watching 3 topics (3 command topics), 3 groups, 1 finding",
            "09:00:30  new topic `send-push` (1 partition)",
            "09:00:30  `send-push` became a command topic (one audience: `push-service`)",
            "09:00:30  new writer `warehouse` on `send-push`",
            "09:00:30  new group `push-service` reading `send-push`",
            "09:01:32  group `sms-service` went WARN: lag growing",
        ]
        assert "changes" in strip.splitlines()[0]


async def test_the_changes_strip_takes_only_the_room_the_graph_leaves(shop_commands):
    app = app_at(shop_commands, 60)
    async with app.run_test(size=(100, 30)) as pilot:
        await at_position(app, 60)
        await pilot.pause()
        strip = app.query_one("#changes")
        graph = app.query_one("#graph")
        assert strip.display
        assert graph.size.height >= graph.layout_shown.height  # the graph keeps all it needs
        assert "watching 3 topics" in widget_text(app, "#changes")
        await pilot.press("2")  # a table is the exhaustive view: it gets the whole height
        await pilot.pause()
        assert not strip.display
        await pilot.press("1")
        await pilot.pause()
        assert strip.display
    app = app_at(shop_commands, 60)
    async with app.run_test(size=(100, 14)) as pilot:  # no room below the graph: no strip
        await at_position(app, 60)
        await pilot.pause()
        assert not app.query_one("#changes").display
