/* Parsers for the package manager's logs: /var/log/dpkg.log (one action a
 * line) and /var/log/apt/history.log (one transaction a block).  Both read
 * untrusted text: every field is bounded, malformed lines are rejected. */
#ifndef OWL_DPKGLOG_H
#define OWL_DPKGLOG_H

#include <stddef.h>
#include <stdint.h>

enum dpkg_action {
	DPKG_INSTALL = 1,
	DPKG_UPGRADE,
	DPKG_REMOVE,
	DPKG_PURGE,
};

#define DPKG_NAME_MAX 128
#define DPKG_VER_MAX 128

struct dpkg_event {
	uint64_t time_ns;              /* from the log's local time */
	uint8_t action;                /* enum dpkg_action */
	char pkg[DPKG_NAME_MAX];       /* without ":arch" */
	char arch[32];                 /* "" when the line had none */
	char old_ver[DPKG_VER_MAX];    /* "" for <none> */
	char new_ver[DPKG_VER_MAX];    /* "" for <none> */
};

/* Parse "YYYY-MM-DD HH:MM:SS" (local time, as dpkg and apt write it; apt
 * puts two spaces between date and time) at s[0..len).  Returns 0 and the
 * time in ns since the epoch, or -EINVAL. */
int dpkglog_parse_time(const char *s, size_t len, uint64_t *ret_ns);

/* Parse one line of dpkg.log (no trailing newline needed):
 *   2025-06-24 14:36:25 upgrade libudev1:amd64 252.36-1~deb12u1 252.38-1~deb12u1
 * Returns 0 for install/upgrade/remove/purge lines, -ENOENT for the other
 * kinds (status, configure, trigproc, startup, conffile), -EINVAL for a
 * malformed line.  *ret untouched unless 0. */
int dpkglog_parse_line(const char *line, size_t len, struct dpkg_event *ret);

const char *dpkg_action_name(int action);   /* "install", "upgrade", "remove", "purge" */

/* One apt run from history.log. */
struct apt_txn {
	uint64_t start_ns;
	char cmdline[512];             /* "apt-get install -y sl" */
	char requested_by[128];        /* "alice (1000)", "" when apt ran as root without sudo */
	unsigned ninstall, nupgrade, nremove, npurge, ndowngrade, nreinstall;
};

/* history.log is parsed a line at a time; the state lives here. */
struct apthist {
	struct apt_txn cur;
	int in_txn;
};

void apthist_init(struct apthist *st);
/* Feed one line (without newline).  Returns 1 when the line ended a
 * transaction (End-Date) and *ret holds it, 0 otherwise, -EINVAL for a
 * malformed Start-Date (the transaction is dropped). */
int apthist_feed(struct apthist *st, const char *line, size_t len, struct apt_txn *ret);

#endif
