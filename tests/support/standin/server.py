"""The stand-in server's state: :class:`StandIn` runs the HTTP server in a background thread and keeps
the scenario, the plan's position, the fault count, an optional live planner and every request it got.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Mapping
from http.server import ThreadingHTTPServer
from types import TracebackType
from typing import Any

from tests.support.standin import responses
from tests.support.standin.answers import Answer, classify, compose, cut_off, offered_actions, offered_step
from tests.support.standin.canary import canary_reply
from tests.support.standin.handler import make_handler
from tests.support.standin.scenario import Scenario, ScenarioError
from tests.support.standin.sight import Sight, request_images, screen_area
from tests.support.standin.validation import HTTPError, count_prompt_tokens, requested_schema, validate

DEFAULT_MODEL = "Qwen/Qwen3-VL-2B-Instruct"

Planner = Callable[[], Mapping[str, Any]]
"""Gives the next plan step (as in :attr:`Scenario.plan`) from the live application."""


class StandIn:
    """The stand-in SGLang server, running in a background thread on 127.0.0.1.

    It starts on construction; use it as a context manager or call :meth:`stop`. ``clock`` is what
    it measures a request's latency with (seconds; tests may pass their own).
    """

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] = time.monotonic,
        api_key: str | None = None,
        checkpoint: str | None = None,
    ) -> None:
        self.model = model
        self.checkpoint = checkpoint
        """The checkpoint behind the served name, when that is an alias (SGLang's ``--served-model-name``):
        its output formats are the ones answered in (default: the requested model's)."""
        self.clock = clock
        self.api_key = api_key
        """When set, chat requests must carry ``Authorization: Bearer <api_key>`` (SGLang's ``--api-key``)."""
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._scenario = Scenario()
        self._plan_index = 0
        self._faults_applied = 0
        self._requests: list[dict[str, Any]] = []
        self._canary_requests: list[dict[str, Any]] = []
        self._counter = 0
        self._planner: Planner | None = None
        self._sight = Sight()
        self._points_on_screen = 0
        self._httpd = ThreadingHTTPServer((host, port), make_handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), name="standin-sglang", daemon=True
        )
        self._thread.start()

    @property
    def port(self) -> int:
        """The TCP port the server listens on."""
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """The server root, e.g. ``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """The OpenAI base URL, ``http://127.0.0.1:PORT/v1``."""
        return f"{self.url}/v1"

    @property
    def scenario(self) -> Scenario:
        """The current scenario."""
        with self._lock:
            return self._scenario

    def set_scenario(self, scenario: Scenario | Mapping[str, Any]) -> None:
        """Replace the scenario; the plan starts again from its first step and the fault count resets."""
        new = scenario if isinstance(scenario, Scenario) else Scenario.from_json(scenario)
        with self._lock:
            self._scenario = new
            self._plan_index = 0
            self._faults_applied = 0
            self._points_on_screen = 0

    def set_planner(self, planner: Planner | None) -> None:
        """Plan from the live application instead of the scenario's fixed plan: each planning request
        takes its step from ``planner()`` (a plan step, as in :attr:`Scenario.plan`); ``None`` goes back
        to the scenario's plan."""
        with self._lock:
            self._planner = planner

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Every JSON body received at ``/v1/chat/completions``, in order, with what the stand-in made of
        it: ``_image_size(s)``, ``_kind``, ``_crop`` (the screen area a grounding request's image showed,
        when it was a crop of the last whole screen) and, when the scenario has a latency, ``_latency_wait`` (the
        seconds it waited before answering)."""
        with self._lock:
            return list(self._requests)

    @property
    def canary_requests(self) -> list[dict[str, Any]]:
        """The grounding canary's requests (answered from its screen, never from the scenario), in order."""
        with self._lock:
            return list(self._canary_requests)

    def clear_requests(self) -> None:
        """Forget the recorded requests (the canary's too)."""
        with self._lock:
            self._requests.clear()
            self._canary_requests.clear()

    def stop(self) -> None:
        """Stop serving and close the socket; a hanging answer is woken up. Safe to call twice."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> StandIn:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # --- request handling (called from handler threads) ---------------------------------------

    def record(self, body: Any) -> dict[str, Any]:
        """Add a received body to :attr:`requests`; returns the entry, for notes about it."""
        entry: dict[str, Any] = dict(body) if isinstance(body, dict) else {"_body": body}
        with self._lock:
            self._requests.append(entry)
        return entry

    def complete(self, body: Any, arrived: float | None = None) -> tuple[dict[str, Any], Answer]:
        """Validate and answer one chat-completion body; raises :class:`HTTPError` for error responses.

        ``arrived`` is when the request arrived, on :attr:`clock` (now, when not given): the scenario's
        ``latency_seconds`` counts from then.
        """
        arrived = self.clock() if arrived is None else arrived
        canary = canary_reply(body, self.scenario, self._checkpoint(body))
        if canary is not None:
            with self._lock:
                self._canary_requests.append(canary.entry)
            return canary.usage, canary.answer
        entry = self.record(body)
        sizes = validate(body)
        if sizes:
            entry["_image_size"] = list(sizes[0])
            entry["_image_sizes"] = [list(s) for s in sizes]
        kind = classify(body["messages"])
        entry["_kind"] = kind
        scenario, fault = self._take_fault()
        if fault == "http500":
            raise HTTPError(500, "Internal server error: the scheduler raised an exception", "InternalServerError")
        if fault == "http503":
            raise HTTPError(503, "The server is overloaded; retry later", "ServiceUnavailableError")
        if fault == "hang":
            self._stopping.wait(scenario.hang_seconds)
        if scenario.latency_seconds > 0:
            wait = max(0.0, scenario.latency_seconds - (self.clock() - arrived))
            entry["_latency_wait"] = wait
            self._stopping.wait(wait)
        step: dict[str, Any] | None = None
        try:
            if kind == "plan":
                step = offered_step(self._next_step(scenario), offered_actions(body["messages"]))
            seen, shift_x, crop = self._see(scenario, body["messages"], kind, entry)
            schema = requested_schema(body) if kind == "describe" else None
            answer = compose(
                kind, seen, body["messages"], step, fault, shift_x, crop, schema=schema, model=self._checkpoint(body)
            )
        except ScenarioError as exc:
            raise HTTPError(500, f"stand-in scenario error: {exc}", "InternalServerError") from exc
        if fault == "stall":
            answer.stall_seconds = scenario.hang_seconds
        completion = max(1, len(answer.content + (answer.reasoning or "")) // 4)
        limit = body.get("max_tokens")
        if isinstance(limit, int) and completion > limit:
            cut_off(answer, limit)  # as SGLang: reasoning counts against max_tokens, the answer ends there
            completion = limit
        usage = {"prompt_tokens": count_prompt_tokens(body, sizes), "completion_tokens": completion}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        return usage, answer

    def response(self, body: Mapping[str, Any], usage: Mapping[str, int], answer: Answer) -> dict[str, Any]:
        """A non-streaming ``chat.completion`` in SGLang's shape."""
        return responses.completion(self._next_id(), int(time.time()), self._model_name(body), usage, answer)

    def stall(self, seconds: float) -> None:
        """Wait ``seconds`` mid-stream (woken by :meth:`stop`)."""
        self._stopping.wait(seconds)

    def chunks(self, body: Mapping[str, Any], usage: Mapping[str, int], answer: Answer) -> list[dict[str, Any]]:
        """The ``chat.completion.chunk`` objects of a streamed answer, in order."""
        options = body.get("stream_options")
        include_usage = isinstance(options, dict) and bool(options.get("include_usage"))
        cid, created, model = self._next_id(), int(time.time()), self._model_name(body)
        return responses.chunks(cid, created, model, usage, answer, include_usage)

    def _see(self, scenario: Scenario, messages: Any, kind: str, entry: dict[str, Any]) -> tuple[Scenario, int, bool]:
        """The scenario as this request's image shows it (its frame the crop's screen area, for a crop
        of the last whole screen), the shift of a point answer (``first_point_off``) and whether it is a crop."""
        images = request_images(messages) if kind in ("plan", "point", "describe") else []
        if not images:
            return scenario, 0, False
        seen = self._sight.look(images[-1], may_be_crop=kind == "point")
        if not seen.whole:
            area = screen_area(seen, scenario.frame)
            entry["_crop"] = {key: round(value, 1) for key, value in area.items()}
            return dataclasses.replace(scenario, frame=area), 0, True
        with self._lock:
            if seen.new_screen:
                self._points_on_screen = 0
            first = kind == "point" and self._points_on_screen == 0
            self._points_on_screen += kind == "point"
        return scenario, scenario.first_point_off if first else 0, False

    def _next_id(self) -> str:
        with self._lock:
            self._counter += 1
            return f"{self._counter:032x}"

    def _take_fault(self) -> tuple[Scenario, str | None]:
        with self._lock:
            scenario = self._scenario
            fault = scenario.fault
            if fault is not None and scenario.fault_count is not None:
                if self._faults_applied >= scenario.fault_count:
                    fault = None
                else:
                    self._faults_applied += 1
            return scenario, fault

    def _next_step(self, scenario: Scenario) -> dict[str, Any]:
        """The live planner's step, or the scenario's next one (its last repeats)."""
        with self._lock:
            planner = self._planner
        if planner is not None:
            return dict(planner())
        with self._lock:
            if scenario is not self._scenario or not scenario.plan:
                plan = scenario.plan or [{"action": "terminate", "status": "failure", "thought": "No plan was set."}]
                return dict(plan[0])
            step = scenario.plan[min(self._plan_index, len(scenario.plan) - 1)]
            self._plan_index += 1
            return dict(step)

    def _checkpoint(self, body: Mapping[str, Any]) -> str:
        """The model whose output formats answer ``body``."""
        return self.checkpoint or self._model_name(body)

    def _model_name(self, body: Mapping[str, Any]) -> str:
        model = body.get("model")
        return model if isinstance(model, str) and model else self.model
