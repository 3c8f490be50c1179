#!/usr/bin/python3
"""A counting reverse proxy for benchmarks: forwards every HTTP request to
one upstream (the loopback docker-registry) and counts them, so that two
clients (pipelined and a shell loop) are measured by the same counter.

usage: count-proxy.py UPSTREAM-BASE PORT-FILE
GET /_count answers the number of requests forwarded so far (not counted,
not forwarded).  Loopback only; not for production use."""
import http.client
import os
import socket
import socketserver
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

UP = urllib.parse.urlsplit(sys.argv[1])
COUNT = 0
LOCK = threading.Lock()
HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
       "proxy-authorization", "proxy-authenticate"}


class Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle(self):
        # a client trying TLS first (skopeo does) is closed at once, as a
        # plain HTTP registry's Go server answers it
        try:
            first = self.request.recv(1, socket.MSG_PEEK)
        except OSError:
            return
        if first and first != b"\x16":
            super().handle()

    def forward(self):
        global COUNT
        if self.path == "/_count":
            body = b"%d\n" % COUNT
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        with LOCK:
            COUNT += 1
        n = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(n) if n else None
        hdrs = {k: v for k, v in self.headers.items() if k.lower() not in HOP and k.lower() != "host"}
        c = http.client.HTTPConnection(UP.hostname, UP.port, timeout=30)
        c.request(self.command, self.path, body=data, headers=hdrs)
        r = c.getresponse()
        body = r.read()
        self.send_response(r.status, r.reason)
        for k, v in r.getheaders():
            if k.lower() not in HOP and k.lower() != "content-length":
                self.send_header(k, v)
        if self.command == "HEAD":
            self.send_header("Content-Length", r.getheader("Content-Length") or "0")
        else:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        c.close()

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = forward


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def server_bind(self):  # without HTTPServer's getfqdn (a DNS lookup)
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


srv = Server(("127.0.0.1", 0), Proxy)
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write("%d\n" % srv.server_address[1])
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
srv.serve_forever()
