#!/usr/bin/python3
"""Run a command once; print "WALL_US CPU_US" of that run.

CPU is user + system time of the command and its threads (getrusage of
the waited-for child, microsecond resolution: GNU time rounds to 10 ms).
The command's stdout goes to /dev/null, its stderr to ERRFILE.

usage: runtime.py ERRFILE CMD [ARG...]
"""
import os, resource, sys, time

err = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
null = os.open(os.devnull, os.O_WRONLY)
before = resource.getrusage(resource.RUSAGE_CHILDREN)
t0 = time.perf_counter_ns()
pid = os.fork()
if pid == 0:
    os.dup2(null, 1)
    os.dup2(err, 2)
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
os.waitpid(pid, 0)
t1 = time.perf_counter_ns()
after = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
print('%d %d' % ((t1 - t0) // 1000, int(cpu * 1e6)))
