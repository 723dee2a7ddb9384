"""A local HTTP server in a thread for download tests: serves one payload, honours Range, can
drop the connection midway, and records each request's Range header. Nothing leaves 127.0.0.1."""

from __future__ import annotations

import http.server
import threading
from contextlib import contextmanager


class _Handler(http.server.BaseHTTPRequestHandler):
    server: "_Server"

    def log_message(self, *args) -> None:  # quiet tests
        pass

    def do_GET(self) -> None:
        srv = self.server
        rng = self.headers.get("Range")
        srv.ranges.append(rng)
        data, start = srv.payload, 0
        if rng and srv.honour_range:
            start = int(rng.removeprefix("bytes=").split("-")[0])
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if srv.drops > 0:  # promise the whole body, send a third of it, hang up
            srv.drops -= 1
            self.wfile.write(body[: len(body) // 3])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)


class _Server(http.server.ThreadingHTTPServer):
    payload = b""
    drops = 0
    honour_range = True

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.ranges: list[str | None] = []


@contextmanager
def serve(payload: bytes, drops: int = 0, honour_range: bool = True):
    """Yield (url, server) for a server handing out `payload`; the first `drops` responses
    are cut short."""
    srv = _Server(("127.0.0.1", 0), _Handler)
    srv.payload, srv.drops, srv.honour_range = payload, drops, honour_range
    thread = threading.Thread(target=srv.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}/groove-test.zip", srv
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join()
