#!/usr/bin/python3
# Raw client for the egress tests, run inside the sandbox against the proxy.
#   client.py raw PORT FILE          send FILE's bytes, print the response's status line
#   client.py slow PORT              send half a head, print the status line and seconds waited
#   client.py flood PORT N HEADFILE  N connections at once, each sends HEADFILE; print "CODE COUNT" lines
import socket, sys, time, collections

def status(s):
    data = b""
    s.settimeout(10)
    try:
        while b"\r\n" not in data:
            d = s.recv(4096)
            if not d:
                break
            data += d
    except OSError as e:
        return "error %s" % e.__class__.__name__
    return data.split(b"\r\n")[0].decode(errors="replace") or "closed"

cmd, port = sys.argv[1], int(sys.argv[2])
if cmd == "raw":
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(open(sys.argv[3], "rb").read())
    print(status(s))
elif cmd == "slow":
    s = socket.create_connection(("127.0.0.1", port))
    t = time.time()
    s.sendall(b"CONNECT api.test:443 HTTP/1.1\r\nHost: api")
    print(status(s), round(time.time() - t, 1))
elif cmd == "flood":
    n, head = int(sys.argv[3]), open(sys.argv[4], "rb").read()
    socks = []
    for i in range(n):
        try:
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", port))
            socks.append(s)
        except OSError:
            break
    for s in socks:
        s.setblocking(True)
        try:
            s.sendall(head)
        except OSError:
            pass
    codes = collections.Counter()
    # every tunnel stays open until all answers are in: the limit is on
    # connections at once, and a closed tunnel frees a slot
    for s in socks:
        line = status(s)
        parts = line.split(" ")
        codes[parts[1] if len(parts) > 1 and parts[0].startswith("HTTP/") else line] += 1
    for s in socks:
        s.close()
    for k, v in sorted(codes.items()):
        print(k, v)
