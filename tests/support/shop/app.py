"""A small shop-admin web app that records what a browser sends it.

:class:`ShopServer` serves the pages of :mod:`tests.support.shop.pages` for one
:class:`~tests.support.shop.variant.ShopVariant` from a stdlib ``ThreadingHTTPServer`` on
``127.0.0.1`` (a free port) in a background thread::

    with ShopServer(ShopVariant.default("zh")) as shop:
        ...open shop.url + "/products/new" in a browser, fill the form, press 发布...
        submission = shop.wait_for_submission(timeout=10)
        assert submission["name"] == "Zoë 你好"
        assert submission["image"]["sha256"] == hashlib.sha256(data).hexdigest()

Routes: ``/`` and ``/products`` (the list), ``/products/new`` (the form), ``POST /products``
(records the submission; "Publish" answers "Published" / "已发布", "Save draft" "Draft saved"),
``POST /products/delete`` (the destructive distractor: recorded in :attr:`ShopServer.deletes`),
``POST /_geometry`` (each page's own report of its layout, see :attr:`ShopServer.layout`),
``/dashboard``, ``/orders``, ``/customers``, ``/settings`` (empty pages). Every request is recorded
in :attr:`ShopServer.requests`.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.support.shop import pages
from tests.support.shop.variant import ShopVariant

MAX_BODY = 64 * 1024 * 1024

#: A recorded form submission: field name -> str, or for a file input the file's
#: ``{"filename": str, "size": int, "sha256": str}`` (``None`` when no file was chosen).
Submission = dict[str, Any]


class MultipartError(ValueError):
    """The request body is not the multipart/form-data its Content-Type announced."""


def _header_params(value: str) -> tuple[str, dict[str, str]]:
    """Split ``'form-data; name="a"; filename="b.png"'`` into ``("form-data", {...})``.

    Quoted values may contain ``;`` and backslash-escaped quotes; Chromium sends file names
    as raw UTF-8 with ``"`` written as ``%22``, so those are decoded too.
    """
    parts: list[str] = []
    current, quoted, escaped = "", False, False
    for ch in value:
        if escaped:
            current += ch
            escaped = False
        elif ch == "\\" and quoted:
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == ";" and not quoted:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    params: dict[str, str] = {}
    for item in parts[1:]:
        key, _, val = item.strip().partition("=")
        params[key.strip().lower()] = val.replace("%22", '"').replace("%0D", "\r").replace("%0A", "\n")
    return parts[0].strip().lower(), params


def parse_multipart(body: bytes, content_type: str) -> Submission:
    """Parse a multipart/form-data ``body``: text fields as ``str``, files as name/size/sha256.

    A file input left empty (browsers send a part with ``filename=""`` and no content) becomes
    ``None``. When a name repeats, the last value wins.
    """
    _, params = _header_params(content_type)
    boundary = params.get("boundary")
    if not boundary:
        raise MultipartError(f"no boundary in {content_type!r}")
    delimiter = b"--" + boundary.encode("latin-1")
    chunks = body.split(b"\r\n" + delimiter)
    if not chunks[0].startswith(delimiter):
        raise MultipartError("body does not start with the boundary")
    chunks[0] = chunks[0][len(delimiter) :]
    result: Submission = {}
    for chunk in chunks:
        if chunk.startswith(b"--"):
            break  # the closing delimiter
        if not chunk.startswith(b"\r\n"):
            raise MultipartError("malformed part delimiter")
        head, sep, content = chunk[2:].partition(b"\r\n\r\n")
        if not sep:
            raise MultipartError("part without a blank line after its headers")
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", errors="replace").split("\r\n"):
            key, _, val = line.partition(":")
            headers[key.strip().lower()] = val.strip()
        disposition, dparams = _header_params(headers.get("content-disposition", ""))
        name = dparams.get("name")
        if disposition != "form-data" or name is None:
            continue
        if "filename" in dparams:
            if dparams["filename"] == "" and not content:
                result[name] = None
            else:
                result[name] = {
                    "filename": dparams["filename"],
                    "size": len(content),
                    "sha256": hashlib.sha256(content).hexdigest(),
                }
        else:
            result[name] = content.decode("utf-8", errors="replace")
    return result


class ShopServer:
    """The shop admin for one ``variant``, served on ``127.0.0.1:<free port>`` in a thread.

    Use it as a context manager (or :meth:`start` / :meth:`stop`). Thread-safe: the server
    thread appends to :attr:`requests` and :attr:`received`; tests read and wait on them.
    """

    def __init__(self, variant: ShopVariant | None = None) -> None:
        self.variant = variant if variant is not None else ShopVariant.default()
        #: Every form submission, oldest first (see :data:`Submission`).
        self.received: list[Submission] = []
        #: Every request: ``{"method", "path", "query", "time"}`` (``time`` from ``time.monotonic()``).
        self.requests: list[dict[str, Any]] = []
        #: The product rows the list shows; a published product is appended.
        self.products: list[tuple[str, str, str, int, bool]] = list(self.variant.seed_products)
        #: Every press of the form's "Delete" button (the form's fields as sent).
        self.deletes: list[Submission] = []
        #: The latest layout report of the page shown: ``{"page", "path", "reason", "focused", "elements":
        #: [{"tag", "type", "id", "name", "text", "value", "files", "box": [x1, y1, x2, y2] screen px}]}``.
        self.layout: dict[str, Any] | None = None
        self.layouts = 0
        #: Called (from the server thread) with each layout report, e.g. to show a stand-in model the page.
        self.on_layout: Callable[[dict[str, Any]], None] | None = None
        self._cond = threading.Condition()
        self._next_submission = 0
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:41234`` (no trailing slash)."""
        if self._httpd is None:
            raise RuntimeError("ShopServer is not running")
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> ShopServer:
        """Bind a free port and serve in a daemon thread."""
        if self._httpd is not None:
            return self
        handler = type("ShopHandler", (_Handler,), {"shop": self})
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        httpd.daemon_threads = True
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket. Safe to call twice."""
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> ShopServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- waiting ----------------------------------------------------------------------------

    def _wait(self, predicate: Callable[[], Any], timeout: float, what: str) -> Any:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = predicate()
                if found is not None:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [f"{r['method']} {r['path']}" for r in self.requests[-10:]]
                    raise TimeoutError(f"no {what} within {timeout:.1f} s; last requests: {seen}")
                self._cond.wait(left)

    def wait_for_submission(self, timeout: float = 10.0, *, index: int | None = None) -> Submission:
        """Wait until submission number ``index`` (default: the next one not seen yet) arrives; return it.

        Without ``index``, the first call returns ``received[0]``, the next ``received[1]``...
        """
        want = self._next_submission if index is None else index

        def found() -> Submission | None:
            return self.received[want] if len(self.received) > want else None

        result: Submission = self._wait(found, timeout, f"form submission #{want + 1}")
        if index is None:
            self._next_submission = want + 1
        return result

    def wait_for_request(
        self, path: str, timeout: float = 10.0, *, method: str = "GET", since: float = 0.0
    ) -> dict[str, Any]:
        """Wait for a request of ``path`` (no query string) made after ``since`` (``time.monotonic()``)."""

        def found() -> dict[str, Any] | None:
            for request in self.requests:
                if request["path"] == path and request["method"] == method and request["time"] >= since:
                    return request
            return None

        result: dict[str, Any] = self._wait(found, timeout, f"{method} {path}")
        return result

    def requested(self, path: str, method: str = "GET") -> bool:
        """Whether ``path`` was requested at all."""
        with self._cond:
            return any(r["path"] == path and r["method"] == method for r in self.requests)

    # -- called from the handler --------------------------------------------------------------

    def _record_request(self, method: str, path: str, query: str) -> None:
        with self._cond:
            self.requests.append({"method": method, "path": path, "query": query, "time": time.monotonic()})
            self._cond.notify_all()

    def wait_for_layout(self, page: str, timeout: float = 10.0) -> dict[str, Any]:
        """Wait until the page named ``page`` (its ``data-page``) has reported its layout; the report."""

        def found() -> dict[str, Any] | None:
            return self.layout if self.layout is not None and self.layout.get("page") == page else None

        result: dict[str, Any] = self._wait(found, timeout, f"a layout report of page {page!r}")
        return result

    def _record_layout(self, report: dict[str, Any]) -> None:
        if self.on_layout is not None:  # first, so whoever waits for the report sees its effect too
            self.on_layout(report)
        with self._cond:
            self.layout = report
            self.layouts += 1
            self._cond.notify_all()

    def _record_delete(self, submission: Submission) -> None:
        with self._cond:
            self.deletes.append(submission)
            self._cond.notify_all()

    def _record_submission(self, submission: Submission) -> None:
        with self._cond:
            self.received.append(submission)
            name = str(submission.get("name") or "").strip()
            if name:
                stock = str(submission.get("stock") or "0").strip()
                self.products.append(
                    (
                        name,
                        f"NEW-{len(self.received):04d}",
                        str(submission.get("price") or ""),
                        int(stock) if stock.isdigit() else 0,
                        submission.get("intent") != "draft",
                    )
                )
            self._cond.notify_all()


PLACEHOLDER_ROUTES = {
    "/dashboard": "nav_dashboard",
    "/orders": "nav_orders",
    "/customers": "nav_customers",
    "/settings": "nav_settings",
}


class _Handler(BaseHTTPRequestHandler):
    shop: ShopServer
    server_version = "ShopAdmin/1.0"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean

    def _send(self, status: int, body: str, content_type: str = "text/html; charset=utf-8") -> None:
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def do_GET(self) -> None:
        split = urlsplit(self.path)
        self.shop._record_request(self.command, split.path, split.query)
        variant = self.shop.variant
        if split.path in ("/", "/products"):
            with self.shop._cond:
                products = list(self.shop.products)
            self._send(HTTPStatus.OK, pages.render_products(variant, products))
        elif split.path == "/products/new":
            self._send(HTTPStatus.OK, pages.render_new_product(variant))
        elif split.path in PLACEHOLDER_ROUTES:
            self._send(HTTPStatus.OK, pages.render_placeholder(variant, PLACEHOLDER_ROUTES[split.path]))
        elif split.path == "/favicon.ico":
            self._send(HTTPStatus.NO_CONTENT, "")
        else:
            self._send(HTTPStatus.NOT_FOUND, "<h1>404 Not Found</h1>")

    do_HEAD = do_GET

    def do_POST(self) -> None:
        split = urlsplit(self.path)
        self.shop._record_request("POST", split.path, split.query)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._send(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "<h1>413 Too large</h1>")
            return
        body = self.rfile.read(length)
        if split.path == "/_geometry":
            try:
                report = json.loads(body)
            except ValueError:
                self._send(HTTPStatus.BAD_REQUEST, "not JSON", "text/plain")
                return
            self.shop._record_layout(report)
            self._send(HTTPStatus.NO_CONTENT, "")
            return
        if split.path not in ("/products", "/products/delete"):
            self._send(HTTPStatus.NOT_FOUND, "<h1>404 Not Found</h1>")
            return
        content_type = self.headers.get("Content-Type", "")
        try:
            if content_type.lower().startswith("multipart/form-data"):
                submission = parse_multipart(body, content_type)
            else:
                submission = dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))
        except MultipartError as exc:
            self._send(HTTPStatus.BAD_REQUEST, f"<h1>400 Bad Request</h1><p>{exc}</p>")
            return
        if split.path == "/products/delete":
            self.shop._record_delete(submission)
            self._send(HTTPStatus.OK, pages.render_deleted(self.shop.variant))
            return
        self.shop._record_submission(submission)
        self._send(HTTPStatus.OK, pages.render_published(self.shop.variant, submission))
