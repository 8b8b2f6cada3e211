"""The stand-in's HTTP face: SGLang's endpoints (``/v1/chat/completions``, streamed or not,
``/v1/models``, ``/health``, ``/health_generate``, ``/get_model_info``, ``/get_server_info``) and the
control API other processes drive it with (``POST``/``GET /_control/scenario``,
``GET``/``DELETE /_control/requests``)."""

from __future__ import annotations

import dataclasses
import json
import time
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any

from tests.support.standin.scenario import Scenario, ScenarioError
from tests.support.standin.validation import HTTPError, bad_request

if TYPE_CHECKING:
    from tests.support.standin.server import StandIn


def make_handler(server: StandIn) -> type[BaseHTTPRequestHandler]:
    """The request handler class of ``server``'s HTTP server."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # As SGLang's uvicorn does (TCP_NODELAY): streamed chunks go out at once, not held back by Nagle's
        # algorithm until the client's delayed ACK (up to 40 ms per answer on loopback).
        disable_nagle_algorithm = True
        timeout = 120
        server_version = "uvicorn"
        sys_version = ""

        def log_message(self, format: str, *args: Any) -> None:
            """Silence the default per-request log lines."""

        def _send(self, status: int, payload: Any = None, content_type: str = "application/json") -> None:
            data = b"" if payload is None else json.dumps(payload, ensure_ascii=False).encode("utf-8")
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        def _body(self) -> Any:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                return json.loads(raw)
            except ValueError as exc:
                raise bad_request(f"The request body is not valid JSON: {exc}") from exc

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path in ("/health", "/health_generate"):
                self._send(200)
            elif path == "/v1/models":
                card = {
                    "id": server.model,
                    "object": "model",
                    "created": int(time.time()),
                    "owned_by": "sglang",
                    "root": server.model,
                    "max_model_len": 262144,
                }
                self._send(200, {"object": "list", "data": [card]})
            elif path == "/get_model_info":
                self._send(
                    200,
                    {
                        "model_path": server.model,
                        "tokenizer_path": server.model,
                        "is_generation": True,
                        "preferred_sampling_params": None,
                        "weight_version": "default",
                        "has_image_understanding": True,
                        "has_audio_understanding": False,
                        "model_type": "qwen3_vl",
                    },
                )
            elif path == "/get_server_info":
                self._send(200, {"model_path": server.model, "version": "stand-in", "tp_size": 1, "dp_size": 1})
            elif path == "/_control/requests":
                self._send(200, server.requests)
            elif path == "/_control/scenario":
                self._send(200, dataclasses.asdict(server.scenario))
            else:
                self._send(404, {"detail": "Not Found"})

        def do_DELETE(self) -> None:
            if self.path.split("?", 1)[0] == "/_control/requests":
                server.clear_requests()
                self._send(200, {"ok": True})
            else:
                self._send(404, {"detail": "Not Found"})

        def do_POST(self) -> None:
            arrived = server.clock()  # before the body is read: reading it is part of the latency
            path = self.path.split("?", 1)[0]
            try:
                if path == "/_control/scenario":
                    try:
                        server.set_scenario(Scenario.from_json(self._body()))
                    except (ScenarioError, TypeError) as exc:
                        raise bad_request(f"bad scenario: {exc}") from exc
                    self._send(200, {"ok": True})
                elif path == "/v1/chat/completions":
                    self._chat(arrived)
                else:
                    self._send(404, {"detail": "Not Found"})
            except HTTPError as exc:
                self._send(exc.status, exc.body())

        def _chat(self, arrived: float) -> None:
            if server.api_key is not None and self.headers.get("Authorization") != f"Bearer {server.api_key}":
                self._send(401, {"error": "Unauthorized"})  # SGLang's --api-key middleware
                return
            try:
                body = self._body()
            except HTTPError:
                server.record({"_invalid_json": True})
                raise
            usage, answer = server.complete(body, arrived)
            if not body.get("stream"):
                self._send(200, server.response(body, usage, answer))
                return
            try:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()
                for index, chunk in enumerate(server.chunks(body, usage, answer)):
                    self.wfile.write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode())
                    self.wfile.flush()
                    if index == 1 and answer.stall_seconds:  # the role chunk and one piece, then silence
                        server.stall(answer.stall_seconds)
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.close_connection = True

    return Handler
