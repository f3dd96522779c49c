#!/usr/bin/python3
"""A local SMTP server for the e-mail notice tests, on loopback.

Debian's python3-aiosmtpd. With --cert/--key it offers STARTTLS and requires
it before MAIL and AUTH (the organisation's submission server as Schakel
must meet it); AUTH PLAIN/LOGIN with --user/--password. Each message lands
in --out as NNN.eml (the bytes received) and NNN.json (envelope: from, to,
whether TLS and AUTH were in use). Prints "ready PORT" once it listens;
stops on SIGTERM (or after ten minutes).
"""
import argparse
import json
import os
import signal
import ssl
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Saver:
    def __init__(self, out):
        self.out = out
        self.n = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.n += 1
            base = os.path.join(self.out, "%03d" % self.n)
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        with open(base + ".json.tmp", "w") as f:
            json.dump({"from": envelope.mail_from, "to": envelope.rcpt_tos,
                       "tls": session.ssl is not None, "auth": bool(session.authenticated)}, f)
        os.rename(base + ".eml.tmp", base + ".eml")
        os.rename(base + ".json.tmp", base + ".json")
        return "250 OK"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--user")
    p.add_argument("--password")
    a = p.parse_args()
    kwargs = {}
    if a.cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(a.cert, a.key)
        kwargs.update(tls_context=ctx, require_starttls=True, auth_require_tls=True)
    if a.user:
        def check(server, session, envelope, mechanism, auth_data):
            ok = (isinstance(auth_data, LoginPassword) and auth_data.login == a.user.encode()
                  and auth_data.password == a.password.encode())
            return AuthResult(success=ok, handled=False)
        kwargs.update(authenticator=check, auth_required=True)
    controller = Controller(Saver(a.out), hostname="127.0.0.1", port=a.port, **kwargs)
    controller.start()
    print("ready %d" % a.port, flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    done.wait(600)
    controller.stop()


if __name__ == "__main__":
    main()
