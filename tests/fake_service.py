"""What the fake remote services of the tests (tests/fake_wechat.py,
tests/fake_sms.py) share: a threaded HTTP server on a free port of 127.0.0.1,
started and stopped with the test (``with Fake() as fake:``), answering JSON."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeService:
    """Subclasses define ``handler()``, a BaseHTTPRequestHandler class that reads
    ``self`` for its answers (``reply_json`` writes them)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self.handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def handler(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    def start(self):
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class QuietHandler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass


def reply_json(request: BaseHTTPRequestHandler, status: int, answer: dict) -> None:
    body = json.dumps(answer).encode()
    request.send_response(status)
    request.send_header("Content-Type", "application/json; charset=utf-8")
    request.send_header("Content-Length", str(len(body)))
    request.end_headers()
    request.wfile.write(body)
