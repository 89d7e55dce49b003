"""A local stand-in for a PostgREST behind its ingress, answering the good or the bad way.

usage: standin.py good|bad|fake PORT [anonymous|closed] [PROFILE...]  (serves on 127.0.0.1 until killed)
fake: good, except that "/" is not a Swagger 2.0 document, though it holds "version": "14.10".
closed: no anonymous role: good answers 401 to a request without a bearer token (bad: 200).
PROFILE: the schemas after the first, which good serves with Accept-Profile (bad: 406).
"""
import json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

GOOD = sys.argv[1] in ("good", "fake")
FAKE = sys.argv[1] == "fake"
CLOSED = len(sys.argv) > 3 and sys.argv[3] == "closed"
PROFILES = set(sys.argv[4:])
ORIGIN = "https://atlas.example.no"


class Handler(BaseHTTPRequestHandler):
    def _send(self, code, body=b"", headers=()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = self.path.split("?")[0]
        token = self.headers.get("Authorization", "").startswith("Bearer ")
        profile = self.headers.get("Accept-Profile")
        if CLOSED and not token:
            self._send(401 if GOOD else 200, b'{"code":"PGRST302"}')
        elif profile is not None and (profile not in PROFILES or not GOOD):
            self._send(406, b'{"code":"PGRST106"}')
        elif path == "/":
            spec = {"swagger": "2.0", "info": {"title": "api", "version": "14.10" if GOOD else "12.2.3"}}
            if FAKE:
                spec = {"openapi": "3.0.0", "info": {"title": "api"}, "x": {"version": "14.10"}}
            self._send(200, json.dumps(spec, indent=2).encode(), [("Content-Type", "application/openapi+json")])
        elif path == "/places":
            self._send(200, b'[{"id":1,"name":"Oslo"}]' if GOOD else b"[]")
        elif path == "/places_raw":
            self._send(404 if GOOD else 200, b"{}")
        else:
            self._send(404)

    def do_OPTIONS(self):
        headers = [("Access-Control-Allow-Origin", self.headers.get("Origin", ""))] if GOOD else []
        self._send(200, b"", headers)

    def log_message(self, *args):
        pass


HTTPServer(("127.0.0.1", int(sys.argv[2])), Handler).serve_forever()
