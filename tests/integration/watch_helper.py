#!/usr/bin/env python3
"""Traffic for tests/integration/watch.bats: each subcommand does one thing
and exits at once, so that only in-kernel capture can see it.

  listen HOST PORT [N]        accept N connections (default: forever), reply "ok"
  connect HOST PORT [HOLD]    one TCP connect (refused is fine), held HOLD s, then exit
  udp HOST PORT               one datagram, then exit
  resolve-connect NAME PORT   getaddrinfo(NAME) through the system resolver, connect
  dns ADDR NAME IP            a tiny DNS server on ADDR:53 (UDP) answering NAME A IP
  beacon HOST PORT PERIOD N   N connects, PERIOD seconds apart
"""
import socket
import struct
import sys
import time


def connect(host, port, hold=0):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(3)
    rc = s.connect_ex((host, int(port)))
    if rc == 0:
        try:
            time.sleep(float(hold))
            s.sendall(b"hello")
            s.recv(16)
        except OSError:
            pass
    s.close()
    return rc


def listen(host, port, n=None):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    srv = socket.socket(fam, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((host, int(port)))
    srv.listen(128)
    print("listening", flush=True)
    count = 0
    while n is None or count < int(n):
        c, _ = srv.accept()
        try:
            c.settimeout(10)
            c.recv(16)
            c.sendall(b"ok")
        except OSError:
            pass
        c.close()
        count += 1


def dns_server(addr, name, ip):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, 53))
    print("dns ready", flush=True)
    want = name.lower().rstrip(".")
    while True:
        q, peer = s.recvfrom(512)
        if len(q) < 12:
            continue
        qid, flags, qd = struct.unpack("!HHH", q[:6])
        # the question: labels up to the zero byte, then type and class
        off, labels = 12, []
        while off < len(q) and q[off] != 0:
            ln = q[off]
            labels.append(q[off + 1:off + 1 + ln].decode("ascii", "replace"))
            off += 1 + ln
        off += 1
        qtype, qclass = struct.unpack("!HH", q[off:off + 4])
        question = q[12:off + 4]
        qname = ".".join(labels).lower()
        answers = b""
        an = 0
        rcode = 0
        if qname == want and qtype == 1:
            # a pointer to the question name (offset 12), A, IN, TTL 300
            answers = struct.pack("!HHHIH", 0xC00C, 1, 1, 300, 4) + socket.inet_aton(ip)
            an = 1
        elif qname != want:
            rcode = 3
        hdr = struct.pack("!HHHHHH", qid, 0x8180 | rcode, 1, an, 0, 0)
        s.sendto(hdr + question + answers, peer)


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "connect":
        connect(*args)
    elif cmd == "connect-late":
        # connect a second from now (after the parent that started us is gone)
        time.sleep(1)
        connect(args[0], args[1], 1)
    elif cmd == "listen":
        listen(*args)
    elif cmd == "udp":
        fam = socket.AF_INET6 if ":" in args[0] else socket.AF_INET
        socket.socket(fam, socket.SOCK_DGRAM).sendto(b"ping", (args[0], int(args[1])))
    elif cmd == "resolve-connect":
        infos = socket.getaddrinfo(args[0], int(args[1]), socket.AF_INET, socket.SOCK_STREAM)
        host = infos[0][4][0]
        print(host, flush=True)
        connect(host, args[1], args[2] if len(args) > 2 else 0)
    elif cmd == "dns":
        dns_server(*args)
    elif cmd == "beacon":
        host, port, period, n = args[0], args[1], float(args[2]), int(args[3])
        for _ in range(n):
            connect(host, port)
            time.sleep(period)
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
