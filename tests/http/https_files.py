#!/usr/bin/python3
"""A static HTTPS file server on loopback for the directory fetch tests.

Serves the files of --root over TLS (--cert/--key, TLS 1.2 or later) on
127.0.0.1:--port. /moved answers 301 to /elsewhere.json (redirects must not
be followed); /moved-strangely and /strange put bytes outside ASCII in the
Location header and the reason phrase (which must not reach a log as is),
/escape an escape byte in the Location header. Logs each request to stderr; prints "ready PORT" once it
listens; stops on SIGTERM (or after ten minutes).
"""
import argparse
import functools
import http.server
import signal
import ssl
import sys
import threading


class Handler(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/moved":
            self.send_response(301)
            self.send_header("Location", "/elsewhere.json")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path == "/moved-strangely":
            self.send_response(302)
            self.send_header("Location", "/x\xe9\xff.json")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path == "/escape":
            self.send_response(302)
            self.send_header("Location", "/x\x1b[2J.json")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path == "/strange":
            self.send_response(503, "Busy \xe9 now")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        super().do_GET()

    def log_message(self, fmt, *args):
        sys.stderr.write("request %s\n" % (fmt % args))
        sys.stderr.flush()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--root", required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    a = p.parse_args()
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", a.port), functools.partial(Handler, directory=a.root))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(a.cert, a.key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    timer = threading.Timer(600, server.shutdown)
    timer.daemon = True
    timer.start()
    print("ready %d" % a.port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
