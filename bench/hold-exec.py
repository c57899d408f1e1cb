#!/usr/bin/python3
"""Hold N distinct packaged executables, each owning a TCP connection.

Each child connects to a loopback listener, asks to be traced
(PTRACE_TRACEME) and execs a packaged ELF executable: the kernel stops it
right after the exec, so /proc/PID/exe is that program and it holds the
socket (fd 3) without running a single instruction of it.  The children stay
stopped until this script is killed (they are killed with it).

usage: hold-exec.py COUNT  (prints "ready PORT PIDS..." when done)
"""
import ctypes, glob, os, signal, socket, sys

count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
libc = ctypes.CDLL(None, use_errno=True)
PTRACE_TRACEME = 0

# packaged regular files, from the dpkg database itself
packaged = set()
for f in glob.glob('/var/lib/dpkg/info/*.md5sums'):
    with open(f, 'rb') as fh:
        for line in fh:
            p = line[34:].rstrip(b'\n').decode('utf-8', 'replace')
            if p.startswith('usr/bin/') or p.startswith('bin/'):
                packaged.add('/usr/bin/' + p.split('/')[-1])

exes = []
for p in sorted(packaged):
    try:
        st = os.lstat(p)
        if not os.path.isfile(p) or os.path.islink(p) or not os.access(p, os.X_OK):
            continue
        with open(p, 'rb') as fh:
            if fh.read(4) != b'\x7fELF':
                continue
    except OSError:
        continue
    exes.append(p)
    if len(exes) == count:
        break

lsock = socket.socket()
lsock.bind(('127.0.0.1', 0))
lsock.listen(1024)
port = lsock.getsockname()[1]
held, pids = [], []
for exe in exes:
    c = socket.create_connection(('127.0.0.1', port))
    held.append(lsock.accept())
    pid = os.fork()
    if pid == 0:
        os.dup2(c.fileno(), 3)
        os.set_inheritable(3, True)
        libc.ptrace(PTRACE_TRACEME, 0, None, None)
        try:
            os.execv(exe, [exe])
        finally:
            os._exit(127)
    c.close()
    os.waitpid(pid, os.WUNTRACED)  # stopped at the exec
    pids.append(pid)

def bye(*_):
    for p in pids:
        try:
            os.kill(p, signal.SIGKILL)
        except OSError:
            pass
    os._exit(0)

signal.signal(signal.SIGTERM, bye)
signal.signal(signal.SIGINT, bye)
total = sum(os.path.getsize(e) for e in exes)
print('ready %d %d %d' % (port, len(pids), total), flush=True)
signal.pause()
bye()
