"""GPU numbers against a real SGLang (or vLLM) server: latency, tokens, throughput, the canary's error.

    .venv/bin/python bench/gpu_bench.py --base-url http://127.0.0.1:30000/v1 \
        --model Qwen/Qwen3-VL-2B-Instruct [--samples 10] [--concurrency 1,4,16] [--out bench/out/gpu.json]

For users with a GPU: start SGLang first (or ``vlm-desktop-mcp serve --launch-sglang``'s flags by hand).
It measures, through the engine's own calls (the prompts, streaming and parsing the tools use):

- describe, plan and ground (locate) latency: p50 and p95 over ``--samples`` calls each, on the
  grounding canary's 1200x900 test screen, with the prompt and completion tokens each reported;
- throughput (calls per second, completion tokens per second) of ground calls at each concurrency;
- the grounding canary: mean and worst pixel error, targets hit.

Prints JSON (and writes it to ``--out``). Nothing here needs a display. ``--stand-in`` runs the same
script against the test stand-in, to check the script itself on a machine without a GPU.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import anyio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.vlm.backend import ChatBackend, ChatRequest, ChatResponse  # noqa: E402
from engine.vlm.backends.openai_http import OpenAIHTTPBackend  # noqa: E402
from engine.vlm.canary import render_canary, run_canary  # noqa: E402
from engine.vlm.trust import identify  # noqa: E402
from engine.vlm.vision import VisionEngine  # noqa: E402


class CountingBackend:
    """Passes calls through and keeps each one's latency and tokens."""

    def __init__(self, inner: ChatBackend) -> None:
        self.inner = inner
        self.calls: list[ChatResponse] = []

    @property
    def model_name(self) -> str:
        """The inner backend's model."""
        return self.inner.model_name

    async def chat(self, request: ChatRequest) -> ChatResponse:
        """Answer through the inner backend, remembering the response."""
        response = await self.inner.chat(request)
        self.calls.append(response)
        return response

    async def aclose(self) -> None:
        """Close the inner backend."""
        await self.inner.aclose()


def percentiles(values: list[float]) -> dict[str, float]:
    """p50 and p95 (nearest rank) of ``values``, in ms, rounded."""
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return {"p50_ms": round(statistics.median(ordered), 1), "p95_ms": round(p95, 1), "n": len(ordered)}


async def timed(backend: CountingBackend, call: Any, samples: int) -> dict[str, Any]:
    """Run ``call()`` ``samples`` times; latency percentiles and mean tokens."""
    backend.calls.clear()
    latencies = []
    for _ in range(samples):
        started = time.perf_counter()
        await call()
        latencies.append((time.perf_counter() - started) * 1000)
    prompt = [c.prompt_tokens for c in backend.calls if c.prompt_tokens is not None]
    completion = [c.completion_tokens for c in backend.calls if c.completion_tokens is not None]
    return {
        **percentiles(latencies),
        "prompt_tokens": round(statistics.mean(prompt)) if prompt else None,
        "completion_tokens": round(statistics.mean(completion)) if completion else None,
    }


async def throughput(backend: CountingBackend, engine: VisionEngine, clients: int, per_client: int) -> dict[str, Any]:
    """Ground calls from ``clients`` concurrent clients: calls/s and completion tokens/s."""
    image = render_canary().image
    backend.calls.clear()
    started = time.perf_counter()

    async def client() -> None:
        for _ in range(per_client):
            await engine.locate(image, "Save")

    async with anyio.create_task_group() as group:
        for _ in range(clients):
            group.start_soon(client)
    elapsed = time.perf_counter() - started
    tokens = sum(c.completion_tokens or 0 for c in backend.calls)
    return {
        "clients": clients,
        "calls": len(backend.calls),
        "calls_per_s": round(len(backend.calls) / elapsed, 2),
        "completion_tokens_per_s": round(tokens / elapsed, 1),
    }


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    """All measurements, as one JSON-ready dict."""
    http = OpenAIHTTPBackend(args.base_url, args.model, read_timeout=args.timeout)
    backend = CountingBackend(http)
    engine = VisionEngine(backend)
    image = render_canary().image
    try:
        served = await identify(http)
        result: dict[str, Any] = {"model": served.model, "engine": served.engine, "version": served.version}
        result["describe"] = await timed(backend, lambda: engine.describe(image), args.samples)
        result["ground"] = await timed(backend, lambda: engine.locate(image, "Export report"), args.samples)
        result["plan"] = await timed(backend, lambda: engine.plan(image, "Save the report"), args.samples)
        result["throughput"] = [
            await throughput(backend, engine, clients, args.per_client) for clients in args.concurrency
        ]
        verdict = await run_canary(engine, model=served.model, server=served.engine, version=served.version)
        result["canary"] = {
            "passed": verdict.passed,
            "mean_error_px": verdict.mean_error_px,
            "max_error_px": verdict.max_error_px,
            "hits": f"{verdict.hits}/{verdict.total}",
        }
        return result
    finally:
        await backend.aclose()


def main(argv: list[str] | None = None) -> int:
    """Parse flags, run, print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:30000/v1")
    parser.add_argument("--model", default="Qwen/Qwen3-VL-2B-Instruct")
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--per-client", type=int, default=4, help="ground calls per client in the throughput runs")
    parser.add_argument("--concurrency", default="1,4,16", help="comma list of concurrent clients")
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--stand-in", action="store_true", help="run against the test stand-in (checks the script)")
    args = parser.parse_args(argv)
    args.concurrency = [int(part) for part in args.concurrency.split(",") if part.strip()]
    if args.stand_in:
        from tests.support.standin.server import StandIn
        from tests.support.standin_launcher import canary_scenario

        with StandIn(model=args.model) as server:
            server.set_scenario(canary_scenario())
            args.base_url = server.base_url
            result = anyio.run(bench, args)
        result["note"] = "stand-in, not a GPU: these numbers only show that the script runs"
    else:
        result = anyio.run(bench, args)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
