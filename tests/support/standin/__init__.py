"""A stand-in SGLang server: a real HTTP server that answers like Qwen3-VL behind SGLang.

It serves the OpenAI-compatible API in SGLang's response shapes and computes its answers from a
scenario the test sets: the screen area the client captured, the elements on it (absolute screen
boxes), a plan of actions (or a live planner), a reasoning style, an optional fault and a fixed
latency. Answers use Qwen3-VL's real output formats: ``bbox_2d`` / ``point_2d`` JSON on the relative
0-1000 grid and ``<tool_call>`` blocks of the ``computer_use`` tool. It shares no code with
``engine/``: an oracle must not reuse the code under test.

Its parts, imported from where they live:

- :mod:`.scenario`: :class:`~.scenario.Scenario`, what the model "sees" and how it behaves.
- :mod:`.answers`: the fake model's answers (describe, point, plan), reasoning styles and faults.
- :mod:`.validation`: reading a request as SGLang would (400s, image decoding, token counts).
- :mod:`.responses`: SGLang's ``chat.completion`` and stream-chunk shapes.
- :mod:`.server`: :class:`~.server.StandIn`, the running server and its state.
- :mod:`.handler`: the HTTP endpoints and the ``/_control`` API.
- :mod:`.__main__`: the command line.

In-process: ``with StandIn() as server: server.set_scenario(...); server.requests``.
Cross-process: ``POST /_control/scenario`` (the scenario as JSON), ``GET /_control/requests``,
``DELETE /_control/requests``. Standalone: ``python -m tests.support.standin --port 30000``.
"""
