#!/usr/bin/env python3
"""Fixture HTTP(S) server for tests of REST collectors (test-only).

Serves canned responses for services that cannot run here (Kubernetes API,
Airflow, Spark, Kafka Connect, Schema Registry, Snowflake), shaped after the
real APIs' public references. Binds 127.0.0.1 on a free port, writes
the port to --port-file, logs every request as one JSON line to --log.

Routes file (JSON, re-read on every request so a test can change answers
mid-run by replacing it atomically):
  {"routes": [{"method": "GET", "path": "/api/v1/dags", "query": "limit=100",
               "status": 200, "json": {...} | "body": "text",
               "headers": {"X": "y"}, "delay_ms": 0, "close": false,
               "times": N}]}
"path" matches the path exactly; "query", when given, must equal the raw
query string. "times" limits how often a route answers (for sequences: list
the first answer with times 1 before the steady one). No route: 404 JSON.

Relative times: the routes file may hold {{now-3h|FORMAT}} tokens
(tests/lib/fixture_time.py) anywhere, in "json" values, "body" texts or bare
numbers ({{now-90s|s}}); they are expanded when the file is loaded, at the
anchor LO_FIXTURE_NOW that the test exported, so a served date is the same
on every request and agrees with what the test computes.
"""
import argparse
import json
import os
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture_time  # noqa: E402  (tests/lib/fixture_time.py)

LOCK = threading.Lock()
USED = {}


def load_routes(path):
    with open(path, encoding="utf-8") as f:
        return json.loads(fixture_time.expand(f.read())).get("routes", [])


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        entry = {"method": self.command, "path": url.path, "query": url.query,
                 "headers": {k.lower(): v for k, v in self.headers.items()},
                 "body": body.decode("utf-8", "replace"), "t": time.time()}
        with LOCK:
            with open(self.server.log_path, "a", encoding="utf-8") as f:
                f.write(json.dumps(entry) + "\n")
            route = None
            for i, r in enumerate(load_routes(self.server.routes_path)):
                if r.get("method", "GET") != self.command or r.get("path") != url.path:
                    continue
                if "query" in r and r["query"] != url.query:
                    continue
                if "times" in r and USED.get(i, 0) >= r["times"]:
                    continue
                USED[i] = USED.get(i, 0) + 1
                route = r
                break
        if route is None:
            self.reply(404, json.dumps({"error": "no fixture route", "path": url.path}).encode(),
                       {"Content-Type": "application/json"})
            return
        if route.get("delay_ms"):
            time.sleep(route["delay_ms"] / 1000.0)
        if route.get("close"):
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if "json" in route:
            payload = json.dumps(route["json"]).encode()
            headers = {"Content-Type": "application/json"}
        else:
            payload = route.get("body", "").encode()
            headers = {"Content-Type": "text/plain; charset=utf-8"}
        headers.update(route.get("headers", {}))
        self.reply(route.get("status", 200), payload, headers)

    def reply(self, status, payload, headers):
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = handle_any


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--routes", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    a = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.routes_path, srv.log_path = a.routes, a.log
    if a.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.cert, a.key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, a.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
