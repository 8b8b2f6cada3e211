"""Replaying a recorded task on a desktop in memory: targets are found again on the live screen, never blind."""

from __future__ import annotations

from pathlib import Path

from tests.support.fake_desktop import DONE, GOAL, PAGES, WRONG, Button, FakeDesktop, click, runtime_on, scenario
from tests.support.standin.server import StandIn
from tools.task.loop import TaskLoop, TaskOptions
from tools.task.replay import Replay, replayable
from tools.task.trajectory import Trajectory, load


def shifted(dx: int, dy: int) -> dict[str, list[Button]]:
    """The same pages with every button moved by (dx, dy)."""
    return {
        page: [Button(b.label, (b.box[0] + dx, b.box[1] + dy, b.box[2] + dx, b.box[3] + dy), b.opens) for b in buttons]
        for page, buttons in PAGES.items()
    }


async def record(standin: StandIn, tmp_path: Path) -> Path:
    """A task with a wrong click (retried) recorded into tmp_path/run."""
    screen = FakeDesktop(PAGES, "home")
    wrong = WRONG
    standin.set_scenario(scenario(screen, [click("Products"), wrong, click("Add product"), click("Publish"), DONE]))
    async with runtime_on(screen, standin) as runtime:
        trajectory = await TaskLoop(runtime, GOAL, TaskOptions(), tmp_path / "run").run()
    assert trajectory.status == "succeeded", trajectory.reason
    return tmp_path / "run"


async def replay(screen: FakeDesktop, standin: StandIn, source: Path, out: Path, dry_run: bool = False) -> Trajectory:
    async with runtime_on(screen, standin) as runtime:
        loop = Replay(
            runtime,
            f"replay: {GOAL}",
            TaskOptions(dry_run=dry_run),
            out,
            source=load(source),
            source_folder=source,
            replay_of=str(source),
        )
        return await loop.run()


async def test_a_replay_finds_each_target_where_it_moved_and_skips_the_failed_click(
    standin: StandIn, tmp_path: Path
) -> None:
    source = await record(standin, tmp_path)
    assert len(replayable(load(source))) == 3  # the wrong click is not replayed
    standin.clear_requests()
    screen = FakeDesktop(shifted(37, 23), "home")
    result = await replay(screen, standin, source, tmp_path / "replay")
    assert (result.status, result.stop) == ("succeeded", "done"), result.reason
    assert screen.page == "published"
    assert not standin.requests  # a replay asks no model
    assert [s.outcome for s in result.steps] == ["ok", "ok", "ok"]
    assert all(s.note and "moved by (37, 23)" in s.note for s in result.steps)
    assert result.replay_of == str(source) and load(tmp_path / "replay").steps == result.steps


async def test_a_target_that_is_not_on_screen_is_never_clicked(standin: StandIn, tmp_path: Path) -> None:
    source = await record(standin, tmp_path)
    renamed = {page: [Button(b.label.upper() + "!", b.box, b.opens) for b in bs] for page, bs in PAGES.items()}
    screen = FakeDesktop(renamed, "home")
    result = await replay(screen, standin, source, tmp_path / "replay")
    assert (result.status, result.stop) == ("failed", "failed_twice")
    assert "never clicked blindly" in (result.reason or "")
    assert not screen.clicks and screen.page == "home"
