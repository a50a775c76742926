#!/usr/bin/env python3
"""A loopback fault proxy for AWS-style APIs (moto, or any HTTP endpoint on this machine).

Point a provider's endpoints at it and it forwards every request to the backend, injecting the
faults a real cloud produces, at rates you choose:

  --throttle RATE    answer the service's own throttling error before the backend acts
                     (EC2 RequestLimitExceeded / 503, ELBv2 and STS Throttling / 400,
                     ECS ThrottlingException / 400, EFS ThrottlingException / 429)
  --lose RATE        let the backend act, then drop its answer and reply 503 with an HTML page
                     (a lost response: the object exists, the client does not know)
  --garbage RATE     answer 502 with an HTML page before the backend acts (a load balancer's page,
                     not the API's XML/JSON)
  --reset RATE       close the connection without an answer, before the backend acts
  --latency MS       delay every answer
  --only-mutating    inject faults into mutating calls only (Create*, Put*, Register*, …, REST
                     methods other than GET)
  --forbid-mutating  answer every mutating call with 403 and record it (for "plan never writes")
  --hang-on OP       never answer the first call of operation OP, and do not forward it: the
                     client waits there (a test kills it at that exact step)
  --hang-after OP    forward the first call of OP, then never answer it (the backend acted)
  --seed N           the random generator's seed, for reproducible runs

It prints `listening on http://127.0.0.1:PORT` once ready, and appends one JSON line per request
to --log (operation, mutating, fault injected, status), so a test can count what happened.
Only loopback addresses are accepted as backends. Stdlib only: runs with any python3.
"""

import argparse
import http.client
import http.server
import json
import random
import re
import socket
import sys
import threading
import time
import urllib.parse

READ_PREFIXES = ("Describe", "Get", "List", "Head", "Check", "Lookup", "Search", "Validate")
LOCK = threading.Lock()


def operation_of(method, path, headers, body):
    """The API operation: X-Amz-Target's suffix (JSON APIs), Action= (query APIs), or
    METHOD path for REST APIs (EFS)."""
    target = headers.get("X-Amz-Target")
    if target:
        return target.rsplit(".", 1)[-1], "json"
    query = urllib.parse.urlparse(path).query
    for source in (query, body.decode("utf-8", "replace") if body else ""):
        action = urllib.parse.parse_qs(source).get("Action")
        if action:
            return action[0], "query"
    return "%s %s" % (method, urllib.parse.urlparse(path).path), "rest"


def is_mutating(op, protocol, method):
    if protocol == "rest":
        return method not in ("GET", "HEAD")
    return not op.startswith(READ_PREFIXES)


def service_of(headers):
    auth = headers.get("Authorization", "")
    m = re.search(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/", auth)
    return m.group(1) if m else ""


def throttle_answer(service, protocol):
    """(status, content type, body) of the service's own throttling error."""
    if service == "ec2":
        body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error><Code>RequestLimitExceeded</Code>"
                "<Message>Request limit exceeded.</Message></Error></Errors><RequestID>fault-proxy</RequestID></Response>")
        return 503, "text/xml", body
    if protocol == "query":
        body = ("<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error>"
                "<RequestId>fault-proxy</RequestId></ErrorResponse>")
        return 400, "text/xml", body
    if protocol == "json":
        return 400, "application/x-amz-json-1.1", json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"})
    return 429, "application/json", json.dumps({"ErrorCode": "ThrottlingException", "Message": "Rate exceeded"})


HTML_PAGE = "<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>"


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    opts = None
    rng = None
    log_file = None

    def log_message(self, *args):
        pass

    def record(self, **entry):
        if self.log_file:
            with LOCK:
                with open(self.log_file, "a") as f:
                    f.write(json.dumps(entry) + "\n")

    seen = set()
    hung_after = set()

    def first_call(self, op):
        with LOCK:
            if op in self.seen:
                return False
            self.seen.add(op)
            return True

    def hanging_after(self, op):
        """True once: for the call first_call let through for --hang-after."""
        with LOCK:
            if op in self.hung_after:
                return False
            self.hung_after.add(op)
            return True

    def hang(self):
        while True:
            time.sleep(3600)

    def roll(self, rate):
        with LOCK:
            return self.rng.random() < rate

    def answer(self, status, ctype, body):
        data = body.encode() if isinstance(body, str) else body
        time.sleep(self.opts.latency / 1000.0)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", "fault-proxy")
        if status == 400 and ctype.startswith("application/x-amz-json"):
            self.send_header("x-amzn-ErrorType", "ThrottlingException")
        if status == 429:
            self.send_header("x-amzn-ErrorType", "ThrottlingException")
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        op, protocol = operation_of(self.command, self.path, self.headers, body)
        mutating = is_mutating(op, protocol, self.command)
        service = service_of(self.headers)
        entry = {"op": op, "service": service, "mutating": mutating, "fault": None}
        eligible = mutating or not self.opts.only_mutating
        o = self.opts
        if op in (o.hang_on, o.hang_after) and self.first_call(op):
            if op == o.hang_on:
                entry.update(fault="hang")
                self.record(**entry)
                return self.hang()
        if o.forbid_mutating and mutating:
            entry.update(fault="forbidden", status=403)
            self.record(**entry)
            return self.answer(403, "text/plain", "fault proxy: mutating call %s forbidden" % op)
        if eligible and self.roll(o.reset):
            entry.update(fault="reset")
            self.record(**entry)
            self.close_connection = True
            try:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            except OSError:
                pass
            return
        if eligible and self.roll(o.throttle):
            status, ctype, text = throttle_answer(service, protocol)
            entry.update(fault="throttle", status=status)
            self.record(**entry)
            return self.answer(status, ctype, text)
        if eligible and self.roll(o.garbage):
            entry.update(fault="garbage", status=502)
            self.record(**entry)
            return self.answer(502, "text/html", HTML_PAGE)
        backend = urllib.parse.urlparse(o.backend)
        conn = http.client.HTTPConnection(backend.hostname, backend.port, timeout=120)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection", "content-length")}
        headers["Host"] = "%s:%s" % (backend.hostname, backend.port)
        try:
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        except OSError as e:
            entry.update(fault="backend-error", error=str(e), status=502)
            self.record(**entry)
            return self.answer(502, "text/plain", "fault proxy: backend error: %s" % e)
        finally:
            conn.close()
        if op == o.hang_after and entry.get("fault") is None and self.hanging_after(op):
            entry.update(fault="hang-after", backend_status=resp.status)
            self.record(**entry)
            return self.hang()
        if eligible and self.roll(o.lose):
            entry.update(fault="lost", status=503, backend_status=resp.status)
            self.record(**entry)
            return self.answer(503, "text/html", HTML_PAGE)
        entry.update(status=resp.status)
        self.record(**entry)
        time.sleep(o.latency / 1000.0)
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = handle_any


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--backend", required=True, help="http://127.0.0.1:PORT of the real API server")
    p.add_argument("--port", type=int, default=0, help="port to listen on (0: any free port)")
    for name in ("throttle", "lose", "garbage", "reset"):
        p.add_argument("--" + name, type=float, default=0.0, metavar="RATE")
    p.add_argument("--latency", type=float, default=0.0, metavar="MS")
    p.add_argument("--only-mutating", action="store_true")
    p.add_argument("--forbid-mutating", action="store_true")
    p.add_argument("--hang-on", default=None, metavar="OP")
    p.add_argument("--hang-after", default=None, metavar="OP")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--log", default=None, help="append one JSON line per request here")
    o = p.parse_args(argv)
    host = urllib.parse.urlparse(o.backend).hostname or ""
    if not (host == "localhost" or host.startswith("127.") or host == "::1"):
        p.error("the backend must be a loopback address, not %r" % host)
    for name in ("throttle", "lose", "garbage", "reset"):
        if not 0.0 <= getattr(o, name) <= 1.0:
            p.error("--%s is a rate between 0 and 1" % name)
    Proxy.opts = o
    Proxy.rng = random.Random(o.seed)
    Proxy.log_file = o.log
    server = http.server.ThreadingHTTPServer(("127.0.0.1", o.port), Proxy)
    server.daemon_threads = True
    print("listening on http://127.0.0.1:%d" % server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
