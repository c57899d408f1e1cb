/* What changed on the system, and when: packages installed, upgraded or
 * removed (dpkg and apt logs, rotated .gz files included), systemd units and
 * timers, crontabs and at jobs, /etc/ld.so.preload, authorized_keys files,
 * the account databases and new users' home directories, and executables in
 * world-writable places.
 *
 * What can be known: the package logs are exact.  Everything else is a file
 * time — max(mtime, ctime), and the birth time where the filesystem keeps
 * one — so it says when a file was last changed, not every change, and a
 * careful intruder can reset mtime (not ctime) with touch.  A user added to
 * /etc/passwd has no date of its own: owl reports /etc/passwd's change time
 * and the creation time of the user's home directory. */
#ifndef OWL_CHANGES_H
#define OWL_CHANGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum change_kind {
	CHANGE_PKG_INSTALL = 0,
	CHANGE_PKG_UPGRADE,
	CHANGE_PKG_REMOVE,
	CHANGE_PKG_PURGE,
	CHANGE_APT_RUN,
	CHANGE_UNIT,
	CHANGE_TIMER,
	CHANGE_CRON,
	CHANGE_AT_JOB,
	CHANGE_PRELOAD,
	CHANGE_AUTHORIZED_KEYS,
	CHANGE_ACCOUNTS,
	CHANGE_USER_HOME,
	CHANGE_WRITABLE_EXEC,
	CHANGE__MAX,
};

#define CHANGE_SUBJECT_MAX 512
#define CHANGE_DETAIL_MAX 600
#define CHANGES_MAX 100000

struct sys_change {
	uint64_t time_ns;
	uint8_t kind;                      /* enum change_kind */
	const char *time_source;           /* "dpkg.log", "history.log", "ctime", "mtime", "birth" */
	char subject[CHANGE_SUBJECT_MAX];  /* package name or path (untrusted) */
	char detail[CHANGE_DETAIL_MAX];    /* versions, command line, user (untrusted) */
};

struct changes_opts {
	const char *root;      /* NULL or "/" = this system; else a directory holding a copy */
	uint64_t since_ns;     /* keep changes at or after this time */
	uint64_t until_ns;     /* and at or before this one (0 = no limit) */
};

struct changes {
	struct sys_change *v;  /* sorted by time, oldest first */
	size_t n, cap;
	bool truncated;        /* CHANGES_MAX reached */
	unsigned unreadable;   /* files or directories that could not be read (not ENOENT) */
};

/* Collect every change in [since, until].  Returns 0 or -ENOMEM; files that
 * cannot be read are counted in ret->unreadable, never fatal. */
int changes_collect(const struct changes_opts *o, struct changes *ret);
void changes_free(struct changes *c);

/* "package-install", "package-upgrade", "package-remove", "package-purge",
 * "apt-run", "unit", "timer", "cron", "at-job", "ld-preload",
 * "authorized-keys", "accounts", "user-home", "writable-executable" */
const char *change_kind_name(int kind);

/* Indexes [*first, *last) of the changes in [t - window, t]. */
void changes_range(const struct changes *c, uint64_t t, uint64_t window_ns, size_t *first, size_t *last);

/* Parse a duration: "90s", "30m", "12h", "7d", "2w", or plain seconds.
 * Returns 0 and ns, or -EINVAL/-ERANGE. */
int changes_parse_duration(const char *s, uint64_t *ret_ns);

#endif
