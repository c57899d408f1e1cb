#!/usr/bin/python3
"""Open real sockets for owl's integration tests, print the pids holding
them ("ready PID [PID]"), then hold them until killed.

usage: sockprog.py MODE [ARGS]
  tcp-connect HOST PORT    TCP connection (may stay in SYN-SENT)
  tcp-send HOST PORT N     TCP connection that sends N bytes, then holds
  tcp-listen HOST PORT     listening socket that accepts and holds
  udp-connect HOST PORT    connected UDP socket
  udp-bind HOST PORT       unconnected UDP socket
  packet-filter            AF_PACKET socket with a classic BPF filter
  raw-icmp                 raw IPv4 ICMP socket
  fork-share HOST PORT     TCP connection, then fork: both processes hold it
"""
import ctypes, os, signal, socket, struct, sys, threading, time

def family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET

def main():
    mode = sys.argv[1]
    keep = []
    pids = [os.getpid()]
    if mode == "tcp-connect":
        h, p = sys.argv[2], int(sys.argv[3])
        s = socket.socket(family(h), socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect((h, p))
        except BlockingIOError:
            pass
        keep.append(s)
    elif mode == "tcp-send":
        h, p, n = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
        s = socket.create_connection((h, p), timeout=5)
        s.sendall(b"x" * n)
        keep.append(s)
    elif mode == "tcp-listen":
        h, p = sys.argv[2], int(sys.argv[3])
        s = socket.socket(family(h), socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((h, p)); s.listen(64)
        keep.append(s)
        def accept_loop():
            while True:
                c, _ = s.accept()
                keep.append(c)
        threading.Thread(target=accept_loop, daemon=True).start()
    elif mode == "udp-connect":
        h, p = sys.argv[2], int(sys.argv[3])
        s = socket.socket(family(h), socket.SOCK_DGRAM); s.connect((h, p)); keep.append(s)
    elif mode == "udp-bind":
        h, p = sys.argv[2], int(sys.argv[3])
        s = socket.socket(family(h), socket.SOCK_DGRAM); s.bind((h, p)); keep.append(s)
    elif mode == "packet-filter":
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
        insn = struct.pack("HBBI", 0x06, 0, 0, 0)  # ret #0: drop everything
        buf = ctypes.create_string_buffer(insn)
        s.setsockopt(socket.SOL_SOCKET, 26, struct.pack("HL", 1, ctypes.addressof(buf)))
        keep.append(s)
    elif mode == "raw-icmp":
        keep.append(socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP))
    elif mode == "fork-share":
        h, p = sys.argv[2], int(sys.argv[3])
        s = socket.create_connection((h, p), timeout=5); keep.append(s)
        child = os.fork()
        if child == 0:
            signal.pause()
            os._exit(0)
        pids.append(child)
        signal.signal(signal.SIGTERM, lambda *a: (os.kill(child, signal.SIGKILL), os._exit(0)))
    else:
        sys.exit("unknown mode " + mode)
    print("ready", *pids, flush=True)
    while True:
        signal.pause()

main()
