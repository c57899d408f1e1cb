#!/usr/bin/python3
"""Real peers for the `owl contain` integration tests (issue 8).

usage: actprog.py MODE [ARGS]
  server HOST PORT LOG       accept TCP connections and hold them; for each
                             append "open PEERPORT", then "eof PEERPORT" or
                             "reset PEERPORT" when it ends, and "hit" for
                             every line received
  two-conns HOST PORT [mapped]
                             open two TCP connections from one process and
                             hold them; prints "ready PID LPORT1 LPORT2";
                             "mapped": from an AF_INET6 socket to ::ffff:HOST
  udp-conn HOST PORT         a connected UDP socket; prints "ready PID LPORT"
  beacon HOST PORT MS        every MS milliseconds connect, send "hit\\n",
                             close (one process, no children)
  memfd-exec FILE ARGS...    copy FILE into a memfd and exec it from there
                             (a fileless process); prints "ready PID" first
  try HOST PORT              one connection attempt, 2 s timeout; prints
                             "connected" (exit 0) or the error (exit 1)
Everything prints "ready PID..." once its sockets exist, except try.
"""
import os, socket, sys, threading, time, signal

def fam(h):
    return socket.AF_INET6 if ":" in h else socket.AF_INET

def log(path, line):
    with open(path, "a") as f:
        f.write(line + "\n")

def server(h, p, path):
    s = socket.socket(fam(h), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((h, p)); s.listen(64)
    print("ready", os.getpid(), flush=True)
    def handle(c, peer):
        log(path, "open %d" % peer)
        buf = b""
        try:
            while True:
                d = c.recv(4096)
                if not d:
                    log(path, "eof %d" % peer); break
                buf += d
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    if line == b"hit":
                        log(path, "hit")
        except ConnectionResetError:
            log(path, "reset %d" % peer)
        except OSError as e:
            log(path, "error %d %s" % (peer, e))
        c.close()
    while True:
        c, a = s.accept()
        threading.Thread(target=handle, args=(c, a[1]), daemon=True).start()

def two_conns(h, p, mapped=False):
    def conn():
        if not mapped:
            return socket.create_connection((h, p), timeout=5)
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.settimeout(5)
        s.connect(("::ffff:" + h, p))
        return s
    a = conn()
    b = conn()
    print("ready", os.getpid(), a.getsockname()[1], b.getsockname()[1], flush=True)
    state = {}
    def watch(s, name):
        try:
            s.settimeout(None)
            d = s.recv(1)
            state[name] = "eof" if not d else "data"
        except OSError as e:
            state[name] = "error %s" % e.strerror
    for s, n in ((a, "a"), (b, "b")):
        threading.Thread(target=watch, args=(s, n), daemon=True).start()
    while True:
        signal.pause()

def udp_conn(h, p):
    s = socket.socket(fam(h), socket.SOCK_DGRAM)
    s.connect((h, p))
    print("ready", os.getpid(), s.getsockname()[1], flush=True)
    while True:
        signal.pause()

def beacon(h, p, ms):
    print("ready", os.getpid(), flush=True)
    while True:
        try:
            s = socket.create_connection((h, p), timeout=1)
            s.sendall(b"hit\n")
            s.close()
        except OSError:
            pass
        time.sleep(ms / 1000.0)

def memfd_exec(path, args):
    fd = os.memfd_create("owla-fileless", 0)
    with open(path, "rb") as f:
        os.write(fd, f.read())
    print("ready", os.getpid(), flush=True)
    os.execv("/proc/self/fd/%d" % fd, [os.path.basename(path)] + args)

def attempt(h, p):
    try:
        s = socket.create_connection((h, p), timeout=2)
        s.close()
        print("connected")
        return 0
    except OSError as e:
        print("failed:", e.strerror or e)
        return 1

def main():
    m = sys.argv[1]
    if m == "server":
        server(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    elif m == "two-conns":
        two_conns(sys.argv[2], int(sys.argv[3]), len(sys.argv) > 4 and sys.argv[4] == "mapped")
    elif m == "udp-conn":
        udp_conn(sys.argv[2], int(sys.argv[3]))
    elif m == "beacon":
        beacon(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif m == "memfd-exec":
        memfd_exec(sys.argv[2], sys.argv[3:])
    elif m == "try":
        sys.exit(attempt(sys.argv[2], int(sys.argv[3])))
    else:
        sys.exit("unknown mode " + m)

main()
