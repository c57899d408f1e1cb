#!/usr/bin/python3
"""A small HTTP server for owl's origin tests: the web-shell pattern.

usage: owlo_websrv.py HOST PORT PIDFILE
Serves HTTP on HOST:PORT and prints "ready PID".  GET /run?h=IP&p=PORT makes
it spawn /bin/sh, which starts bash, which connects out to IP:PORT over
bash's /dev/tcp and holds the connection; bash's pid is written to PIDFILE.
"""
import http.server, os, subprocess, sys, urllib.parse

host, port, pidfile = sys.argv[1], int(sys.argv[2]), sys.argv[3]

class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        h, p = q["h"][0], q["p"][0]
        # only addresses the test gave: documentation range, digits and dots
        if not all(c in "0123456789." for c in h) or not p.isdigit():
            self.send_response(400); self.end_headers(); return
        cmd = ("bash -c 'exec 3<>/dev/tcp/%s/%s; echo $$ > %s; sleep 300 3>&-' & wait" % (h, p, pidfile))
        subprocess.Popen(["/bin/sh", "-c", cmd], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.send_response(200); self.end_headers(); self.wfile.write(b"started\n")
    def log_message(self, *a):
        pass

srv = http.server.HTTPServer((host, port), H)
print("ready %d" % os.getpid(), flush=True)
srv.serve_forever()
