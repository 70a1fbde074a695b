#!/usr/bin/python3
# Test server for the egress tests (host loopback only): serves DIR over HTTP,
# or HTTPS with CERT/KEY; writes READY once listening; exits after SECONDS.
#   server.py ADDR PORT DIR READY SECONDS [CERT KEY]
import http.server, functools, ssl, sys, threading, os, time

addr, port, root, ready, secs = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], float(sys.argv[5])

class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a):
        pass
    def do_GET(self):
        if self.path.startswith("/slow"):
            time.sleep(2)
        if self.path.startswith("/echo") or self.path.startswith("/slow"):
            body = ("host=%s\n" % self.headers.get("Host")).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

srv = http.server.ThreadingHTTPServer((addr, port), functools.partial(Quiet, directory=root))
if len(sys.argv) > 7:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[6], sys.argv[7])
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
open(ready, "w").close()
threading.Timer(secs, lambda: os._exit(0)).start()
srv.serve_forever()
