"""The task loop on a desktop in memory, planned by the stand-in model over real HTTP (no X needed)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support.fake_desktop import DONE, GOAL, PAGES, WRONG, FakeDesktop, click, runtime_on, scenario
from tests.support.standin.server import StandIn
from tools.safety.policy import Policy
from tools.task.loop import TaskLoop, TaskOptions
from tools.task.trajectory import load


def desktop() -> FakeDesktop:
    return FakeDesktop(PAGES, "home")


def plan_requests(standin: StandIn) -> list[dict[str, Any]]:
    return [r for r in standin.requests if r.get("_kind") == "plan"]


async def run(screen: FakeDesktop, standin: StandIn, tmp_path: Path, **options: Any) -> Any:
    async with runtime_on(screen, standin) as runtime:
        loop = TaskLoop(runtime, GOAL, TaskOptions(**options), tmp_path / "run")
        return await loop.run()


async def test_the_loop_completes_a_task_and_records_every_step(standin: StandIn, tmp_path: Path) -> None:
    screen = desktop()
    standin.set_scenario(scenario(screen, [click("Products"), click("Add product"), click("Publish"), DONE]))
    standin.clear_requests()
    trajectory = await run(screen, standin, tmp_path)
    assert (trajectory.status, trajectory.stop) == ("succeeded", "done"), trajectory.reason
    assert screen.page == "published"
    assert [s.outcome for s in trajectory.steps] == ["ok", "ok", "ok", "done"]
    assert [s.effect for s in trajectory.steps[:3]] == ["changed"] * 3
    first = trajectory.steps[0]
    assert first.reasoning is None or isinstance(first.reasoning, str)
    assert first.action is not None and first.action["type"] == "click"
    x, y = first.points[0]
    assert 40 <= x <= 200 and 100 <= y <= 140  # the click landed on "Products"
    assert first.target is not None and first.target.point == (x, y)
    assert first.tokens["prompt"] > 0 and first.tokens["completion"] > 0
    # On disk: the same document, and each step's screenshots.
    saved = load(tmp_path / "run")
    assert saved.model_dump() == trajectory.model_dump()
    for step in saved.steps[:3]:
        assert (tmp_path / "run" / step.before).is_file() and step.after and (tmp_path / "run" / step.after).is_file()
    # The history the model read carries each step's verified effect.
    last_prompt = json.dumps(plan_requests(standin)[-1]["messages"], ensure_ascii=False)
    assert "Step 3: left_click coordinate=" in last_prompt and "the screen changed" in last_prompt


async def test_a_click_that_changed_nothing_is_retried_with_a_fresh_look(standin: StandIn, tmp_path: Path) -> None:
    screen = desktop()
    wrong = WRONG
    standin.set_scenario(scenario(screen, [click("Products"), wrong, click("Add product"), click("Publish"), DONE]))
    standin.clear_requests()
    trajectory = await run(screen, standin, tmp_path)
    assert trajectory.status == "succeeded", trajectory.reason
    steps = [(s.index, s.attempt, s.outcome) for s in trajectory.steps]
    assert steps == [(1, 1, "ok"), (2, 1, "no_effect"), (2, 2, "ok"), (3, 1, "ok"), (4, 1, "done")]
    assert trajectory.steps[1].effect == "no_change"
    retry_prompt = json.dumps(plan_requests(standin)[2]["messages"], ensure_ascii=False)
    assert "nothing changed on the screen" in retry_prompt


async def test_the_same_step_failing_twice_stops_the_task(standin: StandIn, tmp_path: Path) -> None:
    screen = desktop()
    wrong = WRONG
    standin.set_scenario(scenario(screen, [click("Products"), wrong, wrong, click("Add product")]))
    trajectory = await run(screen, standin, tmp_path)
    assert (trajectory.status, trajectory.stop) == ("failed", "failed_twice")
    assert trajectory.reason.startswith("step 2 failed twice")
    assert screen.page == "products" and len(trajectory.steps) == 3


async def test_the_step_limit_stops_the_task(standin: StandIn, tmp_path: Path) -> None:
    screen = desktop()
    standin.set_scenario(scenario(screen, [click("Products"), click("Add product"), click("Publish"), DONE]))
    trajectory = await run(screen, standin, tmp_path, max_steps=2)
    assert (trajectory.status, trajectory.stop) == ("failed", "step_limit")
    assert "step limit (2)" in (trajectory.reason or "")
    assert screen.page == "form"


async def test_an_identical_screen_and_history_is_not_sent_twice(standin: StandIn, tmp_path: Path) -> None:
    """A dry run changes nothing on screen; each step's history differs, so each is asked; no prompt repeats."""
    screen = desktop()
    standin.set_scenario(scenario(screen, [click("Products"), click("Products"), DONE]))
    standin.clear_requests()
    trajectory = await run(screen, standin, tmp_path, dry_run=True)
    assert trajectory.status == "succeeded" and screen.page == "home" and not screen.sent
    asked = [json.dumps(r["messages"], ensure_ascii=False) for r in plan_requests(standin)]
    assert len(asked) == 3 and len(set(asked)) == 3
    assert [s.effect for s in trajectory.steps[:2]] == ["unverified", "unverified"]


async def test_a_repeated_plan_of_the_same_screen_is_answered_from_the_cache(standin: StandIn, tmp_path: Path) -> None:
    from tools.plan import PlanCache, propose

    screen = desktop()
    standin.set_scenario(scenario(screen, [click("Products")]))
    standin.clear_requests()
    async with runtime_on(screen, standin) as runtime:
        cache: PlanCache = PlanCache()
        capture = await screen.grab()
        first = await propose(runtime, capture, GOAL, ["a"], cache=cache)
        again = await propose(runtime, await screen.grab(), GOAL, ["a"], cache=cache)
        other = await propose(runtime, await screen.grab(), GOAL, ["a", "b"], cache=cache)
    assert (first.model_pass, again.model_pass, other.model_pass) == ("fresh", "cached", "fresh")
    assert again.action == first.action and len(plan_requests(standin)) == 2


async def test_a_refused_action_ends_the_task_with_the_policy_reason(standin: StandIn, tmp_path: Path) -> None:
    screen = desktop()
    standin.set_scenario(scenario(screen, [click("Products"), DONE]))
    policy = Policy(allowed_actions=frozenset({"type", "key"}))
    async with runtime_on(screen, standin, policy) as runtime:
        trajectory = await TaskLoop(runtime, GOAL, TaskOptions(semantic=False), tmp_path / "run").run()
    assert (trajectory.status, trajectory.stop) == ("failed", "refused")
    assert "refused by the server's policy" in (trajectory.reason or "")
    assert trajectory.steps[0].outcome == "refused" and not screen.sent


async def test_an_unusable_answer_twice_ends_the_task_with_the_model_error(standin: StandIn, tmp_path: Path) -> None:
    screen = desktop()
    standin.set_scenario(scenario(screen, [click("Products")], fault="garbage"))
    trajectory = await run(screen, standin, tmp_path)
    assert (trajectory.status, trajectory.stop) == ("failed", "model_error")
    assert trajectory.reason.startswith("step 1 failed twice: first the model's answer could not be used")
    assert [(s.attempt, s.outcome, s.phase) for s in trajectory.steps] == [
        (1, "failed", "finished"),
        (2, "failed", "finished"),
    ]
    assert not screen.sent
