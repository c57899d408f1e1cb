#!/usr/bin/python3
"""Real sockets for tests/integration/endpoint.bats (run inside the test's
network namespaces).  Each mode writes READY_FILE when its sockets are in
place, then sleeps until killed.

  serve HOST PORT [slow]        listen (backlog 1024); accept and read (slowly: 256 KiB/s)
  listen HOST PORT              listen without ever accepting
  hold HOST PORT N              open N connections and keep them
  upload HOST PORT BYTES        send BYTES (blocks on a slow receiver)
  attempts HOST PORT N          N non-blocking connects (stay in SYN-SENT when dropped)
  packet IFNAME                 AF_PACKET socket with a classic BPF filter attached
  rawip                         raw IPv4 ICMP socket
  http DIR HOST PORT            HTTP file server (python's http.server)
"""
import ctypes
import os
import socket
import struct
import sys
import threading
import time

ready = os.environ.get("READY_FILE")


def signal_ready():
    if ready:
        with open(ready + ".tmp", "w") as f:
            f.write(str(os.getpid()))
        os.rename(ready + ".tmp", ready)


def family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def forever():
    while True:
        time.sleep(3600)


def serve(host, port, slow=False):
    s = socket.socket(family(host), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if slow:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.bind((host, port))
    s.listen(1024)
    signal_ready()

    def reader(c):
        while True:
            d = c.recv(16384 if slow else 65536)
            if not d:
                return
            if slow:
                time.sleep(0.0625)  # 256 KiB/s

    while True:
        c, _ = s.accept()
        threading.Thread(target=reader, args=(c,), daemon=True).start()


def main():
    mode = sys.argv[1]
    a = sys.argv[2:]
    keep = []
    if mode == "serve":
        serve(a[0], int(a[1]), len(a) > 2 and a[2] == "slow")
    elif mode == "listen":
        s = socket.socket(family(a[0]), socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((a[0], int(a[1])))
        s.listen(1024)
        keep.append(s)
    elif mode == "hold":
        for _ in range(int(a[2])):
            c = socket.create_connection((a[0], int(a[1])))
            keep.append(c)
    elif mode == "upload":
        c = socket.create_connection((a[0], int(a[1])))
        keep.append(c)
        signal_ready()
        left = int(a[2])
        buf = b"x" * 65536
        while left > 0:
            left -= c.send(buf[:min(left, len(buf))])
        forever()
    elif mode == "attempts":
        for _ in range(int(a[2])):
            c = socket.socket(family(a[0]), socket.SOCK_STREAM)
            c.setblocking(False)
            c.connect_ex((a[0], int(a[1])))
            keep.append(c)
    elif mode == "packet":
        ETH_P_IP = 0x0800
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_IP))
        s.bind((a[0], ETH_P_IP))
        # tcpdump -dd 'tcp port 4444': accept only that, drop everything else
        prog = [(0x28, 0, 0, 0x0000000c), (0x15, 0, 6, 0x00000800), (0x30, 0, 0, 0x00000017),
                (0x15, 0, 4, 0x00000006), (0x28, 0, 0, 0x00000014), (0x45, 2, 0, 0x00001fff),
                (0x6, 0, 0, 0x00040000), (0x6, 0, 0, 0x00000000), (0x6, 0, 0, 0x00000000)]
        insns = b"".join(struct.pack("HBBI", *i) for i in prog)
        buf = ctypes.create_string_buffer(insns)
        fprog = struct.pack("HL", len(prog), ctypes.addressof(buf))
        SO_ATTACH_FILTER = 26
        s.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)
        keep += [s, buf]
    elif mode == "rawip":
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        keep.append(s)
    elif mode == "http":
        import functools
        import http.server
        os.chdir(a[0])
        h = functools.partial(http.server.SimpleHTTPRequestHandler, directory=a[0])
        srv = http.server.ThreadingHTTPServer((a[1], int(a[2])), h)
        signal_ready()
        srv.serve_forever()
    else:
        sys.exit("unknown mode " + mode)
    signal_ready()
    forever()


if __name__ == "__main__":
    main()
