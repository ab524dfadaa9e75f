"""A real HTTP server on 127.0.0.1 for tests: serves routes and injects faults on demand.

Faults are queued per path and each is used by one request, so a test can make the first two requests
get 503 and the third succeed. Requests are recorded for assertions (path, query, headers).
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

LOGIN_PAGE = (
    b"<!DOCTYPE html><html><head><title>Sign in</title></head>"
    b"<body><form action='/auth/login'><input name='username'></form></body></html>"
)


@dataclass
class FakeResponse:
    """What a route returns."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, payload: Any, status: int = 200) -> FakeResponse:
        return cls(status, json.dumps(payload).encode("utf-8"), {"Content-Type": "application/json"})

    @classmethod
    def html(cls, body: bytes = LOGIN_PAGE, status: int = 200) -> FakeResponse:
        return cls(status, body, {"Content-Type": "text/html; charset=utf-8"})

    @classmethod
    def redirect(cls, location: str, status: int = 301) -> FakeResponse:
        return cls(status, b"", {"Location": location})


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]


@dataclass
class Fault:
    """One injected fault.

    kind: "delay" (sleep `seconds`, then respond normally), "status" (respond with `status`, with `retry_after`
    when set), "html" (a login page with status 200), "truncate" (declare the full length, send half, close),
    "reset" (close the connection with a TCP reset before responding), "drip" (send the body one byte every
    `seconds`), "big" (a JSON body of `size` bytes).
    """

    kind: str
    seconds: float = 0.0
    status: int = 500
    retry_after: str | None = None
    size: int = 0


Route = Callable[[str, dict[str, list[str]], dict[str, str]], FakeResponse]


class FakeHTTPServer:
    """Threaded HTTP server on an ephemeral loopback port; use as a context manager or call start/stop."""

    def __init__(self) -> None:
        self._routes: dict[str, Route] = {}
        self._faults: dict[str, deque[Fault]] = defaultdict(deque)
        self._lock = threading.Lock()
        self.requests: list[RecordedRequest] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-http", daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeHTTPServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeHTTPServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def route(self, path: str, handler: Route | FakeResponse | bytes | dict[str, Any] | list[Any]) -> None:
        """Serve `path` (without query) from a handler, a fixed response, bytes, or a JSON-able object."""
        if isinstance(handler, FakeResponse):
            fixed = handler
            self._routes[path] = lambda _path, _query, _headers: fixed
        elif isinstance(handler, bytes):
            body = handler
            self._routes[path] = lambda _path, _query, _headers: FakeResponse(200, body)
        elif isinstance(handler, (dict, list)):
            payload = handler
            self._routes[path] = lambda _path, _query, _headers: FakeResponse.json(payload)
        else:
            self._routes[path] = handler

    def add_fault(self, path: str, fault: Fault, times: int = 1) -> None:
        """Queue `fault` for the next `times` requests to `path`."""
        with self._lock:
            for _ in range(times):
                self._faults[path].append(fault)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def requests_to(self, path: str) -> list[RecordedRequest]:
        with self._lock:
            return [request for request in self.requests if request.path == path]

    def _next_fault(self, path: str) -> Fault | None:
        with self._lock:
            queue = self._faults.get(path)
            return queue.popleft() if queue else None

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
                return

            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                parts = urlsplit(self.path)
                query = parse_qs(parts.query, keep_blank_values=True)
                headers = {key.lower(): value for key, value in self.headers.items()}
                with fake._lock:
                    fake.requests.append(RecordedRequest(parts.path, query, headers))

                fault = fake._next_fault(parts.path)
                if fault is not None and fault.kind == "delay":
                    time.sleep(fault.seconds)
                    fault = None
                if fault is not None and fault.kind == "reset":
                    # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.close_connection = True
                    self.connection.close()
                    return
                if fault is not None and fault.kind == "status":
                    extra = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
                    self._send(FakeResponse(fault.status, b'{"error": "injected"}', extra))
                    return
                if fault is not None and fault.kind == "html":
                    self._send(FakeResponse.html())
                    return
                if fault is not None and fault.kind == "big":
                    self._send_big(fault.size)
                    return

                route = fake._routes.get(parts.path)
                if route is None:
                    response = FakeResponse.json({"error": f"no route for {parts.path}"}, status=404)
                else:
                    response = route(parts.path, query, headers)

                if fault is not None and fault.kind == "truncate":
                    self._send_truncated(response)
                elif fault is not None and fault.kind == "drip":
                    self._send_drip(response, fault.seconds)
                else:
                    self._send(response)

            def _start(self, response: FakeResponse, length: int) -> None:
                self.send_response(response.status)
                for key, value in response.headers.items():
                    self.send_header(key, value)
                if "content-type" not in {key.lower() for key in response.headers}:
                    self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(length))
                self.end_headers()

            def _send(self, response: FakeResponse) -> None:
                self._start(response, len(response.body))
                self.wfile.write(response.body)

            def _send_truncated(self, response: FakeResponse) -> None:
                self._start(response, len(response.body))
                self.wfile.write(response.body[: max(1, len(response.body) // 2)])
                self.wfile.flush()
                self.close_connection = True

            def _send_drip(self, response: FakeResponse, seconds: float) -> None:
                self._start(response, len(response.body))
                try:
                    for byte in response.body:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(seconds)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

            def _send_big(self, size: int) -> None:
                response = FakeResponse(200, b"", {"Content-Type": "application/json"})
                self._start(response, size)
                block = b" " * 65536
                sent = 0
                try:
                    self.wfile.write(b"[")
                    sent = 1
                    while sent < size - 1:
                        piece = block[: min(len(block), size - 1 - sent)]
                        self.wfile.write(piece)
                        sent += len(piece)
                    self.wfile.write(b"]")
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

        return Handler
