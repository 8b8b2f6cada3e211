"""The test helpers themselves: the virtual screen, the Tk form and the stand-in SGLang server."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.support.standin.scenario import Scenario
from tests.support.standin.server import StandIn
from tests.support.tkapp import TkApp
from tests.support.xvfb import Xvfb, start_xvfb

needs_xvfb = pytest.mark.skipif(
    shutil.which("Xvfb") is None or shutil.which("xauth") is None or shutil.which("xdpyinfo") is None,
    reason="Xvfb, xauth or xdpyinfo is not installed (apt-get install -y xvfb xauth x11-utils)",
)
needs_xdotool = pytest.mark.skipif(shutil.which("xdotool") is None, reason="xdotool is not installed")

FRAME = {"x": 100, "y": 50, "width": 1000, "height": 500}
ELEMENTS = [
    {"type": "input", "label": "name_entry", "box": [300, 150, 599, 179]},
    {"type": "button", "label": "submit", "box": [300, 400, 399, 439]},
]
GRID_BOXES = {"name_entry": [200, 200, 499, 258], "submit": [200, 700, 299, 778]}
SUBMIT_CENTRE = [250, 739]  # (349.5 - 100) / 1000 * 1000, (419.5 - 50) / 500 * 1000


def xdpyinfo(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["xdpyinfo"], env=env, capture_output=True, text=True, timeout=10)


@needs_xvfb
def test_two_xvfb_screens_with_cookies() -> None:
    with Xvfb(1366, 768) as big, Xvfb(800, 600) as small:
        assert big.display != small.display
        assert "dimensions:    1366x768 pixels" in xdpyinfo(big.env()).stdout
        assert "dimensions:    800x600 pixels" in xdpyinfo(small.env()).stdout
        listed = subprocess.run(
            ["xauth", "-f", big.xauthority, "list"], capture_output=True, text=True, check=True
        ).stdout
        assert re.search(rf"{re.escape(big.display)}\s+MIT-MAGIC-COOKIE-1\s+[0-9a-f]{{32}}", listed)
        # The cookie is enforced: another cookie file cannot connect.
        wrong = {**big.env(), "XAUTHORITY": small.xauthority}
        assert xdpyinfo(wrong).returncode != 0
        number = big.number
    assert not Path(f"/tmp/.X{number}-lock").exists()


@needs_xvfb
def test_start_xvfb_and_stop_twice() -> None:
    screen = start_xvfb(640, 480)
    try:
        assert screen.env()["DISPLAY"] == screen.display and (screen.width, screen.height) == (640, 480)
    finally:
        screen.stop()
        screen.stop()
    assert screen.pid is None


@pytest.fixture
def screen() -> Iterator[Xvfb]:
    with Xvfb(1024, 768) as xvfb:
        yield xvfb


@needs_xvfb
def test_tk_app_reports_real_geometry(screen: Xvfb, tmp_path: Path) -> None:
    with TkApp(tmp_path / "state.json", env=screen.env(), geometry="700x520+40+30") as app:
        state = app.state()
        assert state["ready"] is True
        assert state["window"] == {"x": 40, "y": 30, "width": 700, "height": 520}
        expected = {"name_entry", "email_entry", "subscribe", "submit", "cancel", "notes", "status"}
        assert expected <= set(state["widgets"])
        for widget in state["widgets"].values():
            assert 40 <= widget["x"] <= widget["x"] + widget["width"] <= 740, widget
            assert 30 <= widget["y"] <= widget["y"] + widget["height"] <= 550, widget
            assert widget["width"] > 20 and widget["height"] > 15, widget
        assert app.widget("name_label")["label"] == "Name:" and app.widget("email_label")["type"] == "label"
        assert app.widget("subscribe")["value"] == 0 and app.widget("submit")["type"] == "button"
        pid = state["pid"]
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


@needs_xvfb
@needs_xdotool
def test_tk_app_records_real_input(screen: Xvfb, tmp_path: Path) -> None:
    with TkApp(tmp_path / "state.json", env=screen.env()) as app:
        entry, submit = app.widget("name_entry"), app.widget("submit")

        def xdotool(*args: str) -> None:
            subprocess.run(["xdotool", *args], env=screen.env(), check=True, timeout=10)

        xdotool("mousemove", str(entry["x"] + 10), str(entry["y"] + 10), "click", "1")
        xdotool("type", "Cafe")  # ASCII: xdotool type is known to drop non-ASCII (reference §4)
        xdotool("key", "ctrl+a")
        xdotool("mousemove", str(submit["x"] + 5), str(submit["y"] + 5), "click", "1", "click", "3")
        state = app.wait_for(lambda s: s["events"]["submit_clicks"] == 1 and s["events"]["right_clicks"] == 1)
        assert state["widgets"]["name_entry"]["value"] == "Cafe"
        assert state["events"]["ctrl_a"] == 1 and state["events"]["focused"] == "name_entry"
        assert state["events"]["last_click"] == [submit["x"] + 5, submit["y"] + 5]
        assert state["widgets"]["status"]["value"] == "Submitted"
        with pytest.raises(AssertionError, match="last state"):
            app.wait_for(lambda s: s["events"]["cancel_clicks"] == 1, timeout=0.2)


# --- the stand-in model server -------------------------------------------------------------------


@pytest.fixture
def server() -> Iterator[StandIn]:
    with StandIn() as standin:
        yield standin


def png_url(size: tuple[int, int] = (640, 320)) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 220, 240)).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def chat(server: StandIn, prompt: str, url: str | None = None, **extra: Any) -> httpx.Response:
    content: list[dict[str, Any]] = [{"type": "image_url", "image_url": {"url": url or png_url()}}]
    content.append({"type": "text", "text": prompt})
    body = {"model": server.model, "messages": [{"role": "user", "content": content}], "temperature": 0, **extra}
    return httpx.post(f"{server.base_url}/chat/completions", json=body, timeout=10)


def fenced_json(text: str) -> Any:
    match = re.search(r"```json\n(.*?)\n```", text, re.DOTALL)
    assert match, text
    return json.loads(match.group(1))


def tool_call(text: str) -> dict[str, Any]:
    match = re.search(r"<tool_call>\n(.*?)\n</tool_call>", text, re.DOTALL)
    assert match, text
    return json.loads(match.group(1))  # type: ignore[no-any-return]


def test_describe_answer_is_on_the_grid(server: StandIn) -> None:
    server.set_scenario(Scenario(frame=FRAME, elements=ELEMENTS))
    response = chat(server, 'Report bbox coordinates in JSON format: {"elements": [{"bbox_2d": []}]}\nQuestion: Any?')
    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "chat.completion" and body["model"] == server.model
    choice = body["choices"][0]
    assert choice["finish_reason"] == "stop" and choice["matched_stop"] == 151645
    assert choice["message"]["reasoning_content"] is None and choice["message"]["tool_calls"] is None
    answer = fenced_json(choice["message"]["content"])
    assert {e["label"]: e["bbox_2d"] for e in answer["elements"]} == GRID_BOXES
    assert answer["summary"] and answer["answer"]
    assert body["usage"]["prompt_tokens"] >= 20 * 10 + 2  # 640x320 -> 20x10 visual tokens
    assert server.requests[-1]["_image_size"] == [640, 320]


def test_describe_formats_and_coordinate_faults(server: StandIn) -> None:
    prompt = 'Output JSON: [{"bbox_2d": [x1, y1, x2, y2], "label": "..."}]'
    server.set_scenario(Scenario(frame=FRAME, elements=ELEMENTS, describe_format="list", fault="swapped"))
    listed = json.loads(chat(server, prompt).json()["choices"][0]["message"]["content"])
    assert listed[1]["bbox_2d"] == [299, 778, 200, 700]
    server.set_scenario(Scenario(frame=FRAME, elements=ELEMENTS, describe_format="fenced_list", fault="out_of_range"))
    content = chat(server, prompt).json()["choices"][0]["message"]["content"]
    assert not content.startswith("```")
    values = [v for item in fenced_json(content) for v in item["bbox_2d"]]
    assert -20 in values and 1500 in values


def test_point_grounding(server: StandIn) -> None:
    server.set_scenario(Scenario(frame=FRAME, elements=ELEMENTS))
    prompt = 'Locate "Submit". Output the point coordinates in JSON format: [{"point_2d": [x, y], "label": "..."}]'
    answer = fenced_json(chat(server, prompt).json()["choices"][0]["message"]["content"])
    assert answer == [{"point_2d": SUBMIT_CENTRE, "label": "submit"}]


def test_planning_answers_with_a_tool_call(server: StandIn) -> None:
    plan = [
        {"action": "left_click", "target": "submit", "thought": "Submit the form."},
        {"action": "type", "text": "Ñandú 你好"},
        {"action": "terminate", "status": "success"},
    ]
    server.set_scenario(Scenario(frame=FRAME, elements=ELEMENTS, plan=plan))
    system = {"role": "system", "content": '<tools>{"name": "computer_use"}</tools>'}
    contents = []
    for _ in range(4):
        body = {
            "messages": [
                system,
                {
                    "role": "user",
                    "content": [
                        {"type": "image_url", "image_url": {"url": png_url()}},
                        {"type": "text", "text": "Next step?"},
                    ],
                },
            ]
        }
        contents.append(httpx.post(f"{server.base_url}/chat/completions", json=body).json()["choices"][0])
    first = contents[0]["message"]["content"]
    assert first.startswith("Thought: Submit the form.\nAction: ")
    assert tool_call(first) == {
        "name": "computer_use",
        "arguments": {"action": "left_click", "coordinate": SUBMIT_CENTRE},
    }
    assert '"Ñandú 你好"' in contents[1]["message"]["content"]
    assert tool_call(contents[1]["message"]["content"])["arguments"] == {"action": "type", "text": "Ñandú 你好"}
    for later in contents[2:]:  # the last step repeats
        assert tool_call(later["message"]["content"])["arguments"] == {"action": "terminate", "status": "success"}


def test_native_and_prompted_reasoning(server: StandIn) -> None:
    plan = [{"action": "left_click", "target": "submit", "thought": "Submit the form."}]
    server.set_scenario(Scenario(frame=FRAME, elements=ELEMENTS, plan=plan, reasoning="native"))
    message = chat(server, "Use the computer_use tool.").json()["choices"][0]["message"]
    assert message["reasoning_content"].startswith("1. ") and "<think>" not in message["content"]
    assert tool_call(message["content"])["arguments"]["coordinate"] == SUBMIT_CENTRE
    server.set_scenario(Scenario(frame=FRAME, elements=ELEMENTS, plan=plan, reasoning="prompted"))
    message = chat(server, "Use the computer_use tool.").json()["choices"][0]["message"]
    assert message["reasoning_content"] is None
    assert re.match(r"<think>\n1\. .*\n</think>\n", message["content"], re.DOTALL)


def test_streaming_sends_reasoning_then_content(server: StandIn) -> None:
    plan = [{"action": "key", "keys": ["ctrl", "a"]}]
    server.set_scenario(Scenario(frame=FRAME, elements=ELEMENTS, plan=plan, reasoning="native"))
    response = chat(server, "computer_use", stream=True)
    assert response.headers["content-type"].startswith("text/event-stream")
    lines = [line[len("data: ") :] for line in response.text.splitlines() if line.startswith("data: ")]
    assert lines[-1] == "[DONE]"
    chunks = [json.loads(line) for line in lines[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    deltas = [c["choices"][0]["delta"] for c in chunks]
    assert deltas[0]["role"] == "assistant" and deltas[1]["reasoning_content"].startswith("1. ")
    content = "".join(d.get("content", "") for d in deltas)
    assert tool_call(content)["arguments"] == {"action": "key", "keys": ["ctrl", "a"]}
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


def test_bad_requests_get_openai_style_400(server: StandIn) -> None:
    bad = chat(server, "hello", url="https://example.com/shot.png")
    assert bad.status_code == 400
    assert bad.json() == {
        "object": "error",
        "message": bad.json()["message"],
        "type": "BadRequestError",
        "param": None,
        "code": 400,
    }
    assert chat(server, "hello", url="data:image/png;base64,bm90IGFuIGltYWdl").status_code == 400
    empty = httpx.post(f"{server.base_url}/chat/completions", json={"model": "m", "messages": []})
    assert empty.status_code == 400 and empty.json()["code"] == 400
    assert "_image_size" not in server.requests[-1]


def test_transient_503_recovers(server: StandIn) -> None:
    server.set_scenario(Scenario(frame=FRAME, elements=ELEMENTS, fault="http503", fault_count=1))
    first = chat(server, "What is on the screen?")
    assert first.status_code == 503 and first.json()["code"] == 503 and first.json()["object"] == "error"
    second = chat(server, "What is on the screen?")
    assert second.status_code == 200 and second.json()["choices"][0]["message"]["content"] == "I see a screen."


def test_truncated_and_garbage_faults(server: StandIn) -> None:
    plan = [{"action": "left_click", "target": "submit"}]
    server.set_scenario(Scenario(frame=FRAME, elements=ELEMENTS, plan=plan, fault="truncated"))
    choice = chat(server, "computer_use").json()["choices"][0]
    assert choice["finish_reason"] == "length" and "</tool_call>" not in choice["message"]["content"]
    server.set_scenario(Scenario(frame=FRAME, elements=ELEMENTS, plan=plan, fault="garbage"))
    content = chat(server, "computer_use").json()["choices"][0]["message"]["content"]
    assert "<tool_call>" not in content and "{" not in content


def test_control_endpoints_and_model_info(server: StandIn) -> None:
    scenario = Scenario(frame=FRAME, elements=ELEMENTS, reasoning="native", fault="hang", hang_seconds=0.1)
    assert Scenario.from_json(scenario.to_json()) == scenario
    root = server.url
    assert httpx.post(f"{root}/_control/scenario", content=scenario.to_json()).status_code == 200
    assert server.scenario == scenario
    assert httpx.post(f"{root}/_control/scenario", json={"fault": "nope"}).status_code == 400
    chat(server, "hello")
    recorded = httpx.get(f"{root}/_control/requests").json()
    assert recorded[-1]["messages"][0]["content"][1]["text"] == "hello"
    assert httpx.get(f"{root}/health").status_code == 200
    assert httpx.get(f"{root}/health_generate").status_code == 200
    models = httpx.get(f"{server.base_url}/models").json()
    assert models["object"] == "list" and models["data"][0]["id"] == server.model
    assert models["data"][0]["owned_by"] == "sglang"
    info = httpx.get(f"{root}/get_model_info").json()
    assert info["model_path"] == server.model and info["is_generation"] is True
