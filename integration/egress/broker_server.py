#!/usr/bin/python3
# Test server for t-broker.sh (host loopback only): HTTPS (or HTTP without
# CERT), HTTP/1.1 keep-alive; appends one JSON line per request to LOG
# (method, path, Host, Authorization, X-Api-Key, the connection's id, body);
# writes READY once listening; exits after SECONDS.
#   broker_server.py ADDR PORT LOG READY SECONDS [CERT KEY]
# Paths: /echo-auth (the Authorization header back in the body, chunked),
# /echo-head (the Authorization header back in a response header),
# /redirect?to=URL (302), /gzip (a gzip body), anything else: "ok\n".
import http.server, json, ssl, sys, threading, os, gzip, urllib.parse

addr, port, log, ready, secs = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], float(sys.argv[5])
lock = threading.Lock()


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def record(self, body):
        with lock, open(log, "a") as f:
            f.write(json.dumps({"method": self.command, "path": self.path, "host": self.headers.get("Host"),
                                "auth": self.headers.get_all("Authorization"),
                                "apikey": self.headers.get("X-Api-Key"),
                                "conn": "%s:%s" % self.client_address, "body": body}) + "\n")

    def reply(self, code, body, headers=(), chunked=False):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(body), 7):  # small chunks: a secret straddles them
                part = body[i:i + 7]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

    def handle_any(self):
        body = b""
        if (self.headers.get("Transfer-Encoding") or "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b""):
                        pass
                    break
                body += self.rfile.read(size)
                self.rfile.readline()
        else:
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else b""
        body = body.decode("latin-1")
        self.record(body)
        auth = self.headers.get("Authorization") or ""
        u = urllib.parse.urlparse(self.path)
        if u.path == "/echo-auth":
            self.reply(200, ("auth=%s\n" % auth).encode(), chunked=True)
        elif u.path == "/echo-head":
            self.reply(200, b"ok\n", [("X-Echo", auth)])
        elif u.path == "/redirect":
            to = urllib.parse.parse_qs(u.query)["to"][0]
            self.reply(302, b"moved\n", [("Location", to)])
        elif u.path == "/gzip":
            self.reply(200, gzip.compress(b"zipped " + auth.encode()), [("Content-Encoding", "gzip")])
        else:
            self.reply(200, b"ok\n")

    do_GET = do_POST = do_HEAD = do_PUT = handle_any


srv = http.server.ThreadingHTTPServer((addr, port), H)
if len(sys.argv) > 7:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[6], sys.argv[7])
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
open(ready, "w").close()
threading.Timer(secs, lambda: os._exit(0)).start()
srv.serve_forever()
