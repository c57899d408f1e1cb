#!/usr/bin/python3
"""Sockets with unusual owners for owners.bats (socket inode -> pids): print
"ready PID [PID...]" then hold them until killed (SIGTERM ends the children
too).

usage: ownerprog.py MODE HOST PORT
  scm-pass        TCP connection, passed over a unix socket (SCM_RIGHTS) to a
                  child that also holds it at another fd number; both keep it
  scm-handoff     the same, but the sender closes its copy: only the child owns it
  threads N       N threads, each opening a TCP connection (one process)
  private-files   a TCP connection, then a thread that unshares its file table
                  (CLONE_FILES) and opens another: the first socket is in both
                  tables of one process, the second only in the thread's
"""
import array, ctypes, os, signal, socket, sys, threading

CLONE_FILES = 0x400

def main():
    mode, rest = sys.argv[1], sys.argv[2:]
    keep, pids = [], [os.getpid()]
    children = []
    if mode in ("scm-pass", "scm-handoff"):
        h, p = rest[0], int(rest[1])
        a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        child = os.fork()
        if child == 0:
            a.close()
            pad = [open("/dev/null") for _ in range(5)]  # another fd number than the sender's
            msg, anc, _, _ = b.recvmsg(16, socket.CMSG_SPACE(4))
            fds = array.array("i")
            for level, typ, data in anc:
                if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
                    fds.frombytes(data[: len(data) - len(data) % 4])
            held = [socket.socket(fileno=fd) for fd in fds]
            b.sendall(b"k")
            signal.pause()
            os._exit(0 if held and pad else 1)
        b.close()
        children.append(child)
        s = socket.create_connection((h, p), timeout=5)
        a.sendmsg([b"x"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [s.fileno()]))])
        a.recv(1)  # the child has it
        if mode == "scm-handoff":
            s.close()
        else:
            keep.append(s)
        keep.append(a)
        pids.append(child)
    elif mode == "threads":
        h, p, n = rest[0], int(rest[1]), int(rest[2])
        ready = threading.Barrier(n + 1)
        def hold():
            keep.append(socket.create_connection((h, p), timeout=5))
            ready.wait()
            threading.Event().wait()
        for _ in range(n):
            threading.Thread(target=hold, daemon=True).start()
        ready.wait()
    elif mode == "private-files":
        h, p = rest[0], int(rest[1])
        keep.append(socket.create_connection((h, p), timeout=5))
        libc = ctypes.CDLL(None, use_errno=True)
        done = threading.Event()
        err = []
        def private():
            if libc.unshare(CLONE_FILES) != 0:
                err.append(ctypes.get_errno())
            else:
                keep.append(socket.create_connection((h, p), timeout=5))
            done.set()
            threading.Event().wait()
        threading.Thread(target=private, daemon=True).start()
        done.wait()
        if err:
            sys.exit("unshare: errno %d" % err[0])
    else:
        sys.exit("unknown mode " + mode)
    def term(*_):
        for c in children:
            os.kill(c, signal.SIGKILL)
        os._exit(0)
    signal.signal(signal.SIGTERM, term)
    print("ready", *pids, flush=True)
    while True:
        signal.pause()

main()
