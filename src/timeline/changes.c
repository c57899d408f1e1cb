#include "timeline/changes.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "core/model.h"
#include "core/util.h"
#include "timeline/dpkglog.h"

#define LINE_MAX_BYTES 8192
#define LOG_BYTES_MAX (256u << 20)   /* per log file, uncompressed */
#define LOG_FILES_MAX 64
#define DIR_ENTRIES_MAX 20000
#define USERS_MAX 5000
#define DAY_NS (86400ull * 1000000000ull)

static const char *const kind_names[CHANGE__MAX] = {
	[CHANGE_PKG_INSTALL] = "package-install",
	[CHANGE_PKG_UPGRADE] = "package-upgrade",
	[CHANGE_PKG_REMOVE] = "package-remove",
	[CHANGE_PKG_PURGE] = "package-purge",
	[CHANGE_APT_RUN] = "apt-run",
	[CHANGE_UNIT] = "unit",
	[CHANGE_TIMER] = "timer",
	[CHANGE_CRON] = "cron",
	[CHANGE_AT_JOB] = "at-job",
	[CHANGE_PRELOAD] = "ld-preload",
	[CHANGE_AUTHORIZED_KEYS] = "authorized-keys",
	[CHANGE_ACCOUNTS] = "accounts",
	[CHANGE_USER_HOME] = "user-home",
	[CHANGE_WRITABLE_EXEC] = "writable-executable",
};

const char *change_kind_name(int kind)
{
	return kind >= 0 && kind < CHANGE__MAX ? kind_names[kind] : "?";
}

int changes_parse_duration(const char *s, uint64_t *ret_ns)
{
	size_t n = strlen(s);
	if (n == 0 || n > 20)
		return -EINVAL;
	uint64_t mult = 1;
	switch (s[n - 1]) {
	case 's': mult = 1; n--; break;
	case 'm': mult = 60; n--; break;
	case 'h': mult = 3600; n--; break;
	case 'd': mult = 86400; n--; break;
	case 'w': mult = 7 * 86400; n--; break;
	default: break;
	}
	uint64_t v;
	int rc = owl_parse_u64(s, n, 10, &v);
	if (rc < 0)
		return rc;
	/* at most 100 years */
	if (v == 0 || v > 100ull * 366 * 86400 / mult)
		return -ERANGE;
	*ret_ns = v * mult * 1000000000ull;
	return 0;
}

struct ctx {
	const struct changes_opts *o;
	struct changes *c;
	const char *root;  /* "" for this system */
	int err;
};

static bool in_window(const struct ctx *x, uint64_t t)
{
	return t >= x->o->since_ns && (!x->o->until_ns || t <= x->o->until_ns);
}

static struct sys_change *add(struct ctx *x, uint64_t t, int kind, const char *src)
{
	struct changes *c = x->c;
	if (!in_window(x, t))
		return NULL;
	if (c->n >= CHANGES_MAX) {
		c->truncated = true;
		return NULL;
	}
	if (c->n == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 256;
		struct sys_change *nv = realloc(c->v, nc * sizeof(*nv));
		if (!nv) {
			x->err = -ENOMEM;
			return NULL;
		}
		c->v = nv;
		c->cap = nc;
	}
	struct sys_change *s = &c->v[c->n++];
	memset(s, 0, sizeof(*s));
	s->time_ns = t;
	s->kind = (uint8_t)kind;
	s->time_source = src;
	return s;
}

static void setf(char *dst, size_t dstsz, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void setf(char *dst, size_t dstsz, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(dst, dstsz, fmt, ap);
	va_end(ap);
}

static void path_of(const struct ctx *x, const char *rel, char *buf, size_t bufsz)
{
	if ((size_t)snprintf(buf, bufsz, "%s%s", x->root, rel) >= bufsz)
		buf[0] = '\0';
}

static void note_err(struct ctx *x, int err)
{
	if (err != ENOENT && err != ENOTDIR)
		x->c->unreadable++;
}

/* ---- package logs ------------------------------------------------------- */

/* Read a log (plain or gzip: zlib reads both) a line at a time. */
static void read_log(struct ctx *x, const char *path, void (*line_fn)(struct ctx *, const char *, size_t, void *),
		     void *ud)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		note_err(x, errno);
		return;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return;
	}
	/* a log last written before the window holds nothing for it */
	uint64_t mt = (uint64_t)st.st_mtim.tv_sec * 1000000000ull + (uint64_t)st.st_mtim.tv_nsec;
	if (mt < x->o->since_ns) {
		close(fd);
		return;
	}
	gzFile gz = gzdopen(fd, "rb");
	if (!gz) {
		close(fd);
		x->c->unreadable++;
		return;
	}
	char *line = malloc(LINE_MAX_BYTES);
	if (!line) {
		gzclose(gz);
		x->err = -ENOMEM;
		return;
	}
	size_t total = 0;
	bool skipping = false; /* inside an over-long line */
	while (gzgets(gz, line, LINE_MAX_BYTES) != NULL && !x->err) {
		size_t n = strlen(line);
		total += n;
		if (total > LOG_BYTES_MAX)
			break;
		bool complete = n > 0 && line[n - 1] == '\n';
		if (!skipping && complete)
			line_fn(x, line, n - 1, ud);
		skipping = !complete && n == LINE_MAX_BYTES - 1;
	}
	int gerr;
	gzerror(gz, &gerr);
	if (gerr != Z_OK && gerr != Z_STREAM_END)
		x->c->unreadable++;
	gzclose(gz);
	free(line);
}

static void dpkg_line(struct ctx *x, const char *line, size_t len, void *ud)
{
	struct dpkg_event ev;
	(void)ud;
	if (dpkglog_parse_line(line, len, &ev) < 0)
		return;
	static const int kinds[] = {
		[DPKG_INSTALL] = CHANGE_PKG_INSTALL, [DPKG_UPGRADE] = CHANGE_PKG_UPGRADE,
		[DPKG_REMOVE] = CHANGE_PKG_REMOVE, [DPKG_PURGE] = CHANGE_PKG_PURGE,
	};
	struct sys_change *s = add(x, ev.time_ns, kinds[ev.action], "dpkg.log");
	if (!s)
		return;
	owl_strlcpy(s->subject, ev.pkg, sizeof(s->subject));
	if (ev.action == DPKG_UPGRADE)
		setf(s->detail, sizeof(s->detail), "%s -> %s%s%s", ev.old_ver, ev.new_ver, ev.arch[0] ? " " : "",
		     ev.arch);
	else
		setf(s->detail, sizeof(s->detail), "%s%s%s", ev.new_ver[0] ? ev.new_ver : ev.old_ver,
		     ev.arch[0] ? " " : "", ev.arch);
}

static void apt_line(struct ctx *x, const char *line, size_t len, void *ud)
{
	struct apthist *st = ud;
	struct apt_txn t;
	if (apthist_feed(st, line, len, &t) != 1)
		return;
	struct sys_change *s = add(x, t.start_ns, CHANGE_APT_RUN, "history.log");
	if (!s)
		return;
	owl_strlcpy(s->subject, t.cmdline[0] ? t.cmdline : "(no command line)", sizeof(s->subject));
	setf(s->detail, sizeof(s->detail), "%s%s%s%u installed, %u upgraded, %u removed, %u purged",
	     t.requested_by[0] ? "requested by " : "", t.requested_by, t.requested_by[0] ? "; " : "", t.ninstall,
	     t.nupgrade, t.nremove, t.npurge);
}

/* every file in dir whose name starts with prefix */
static void read_logs(struct ctx *x, const char *dir, const char *prefix,
		      void (*line_fn)(struct ctx *, const char *, size_t, void *), bool apt)
{
	char dpath[OWL_PATH_MAX];
	path_of(x, dir, dpath, sizeof(dpath));
	DIR *d = opendir(dpath);
	if (!d) {
		note_err(x, errno);
		return;
	}
	struct dirent *de;
	int files = 0;
	size_t pl = strlen(prefix);
	while ((de = readdir(d)) != NULL && files < LOG_FILES_MAX && !x->err) {
		if (strncmp(de->d_name, prefix, pl) != 0)
			continue;
		char path[OWL_PATH_MAX];
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dpath, de->d_name) >= sizeof(path))
			continue;
		files++;
		struct apthist st;
		apthist_init(&st);
		read_log(x, path, line_fn, apt ? &st : NULL);
	}
	closedir(d);
}

/* ---- file times ---------------------------------------------------------- */

/* the latest of mtime, ctime and birth time, and which one it was */
static uint64_t file_time(const char *path, bool follow, const char **src, struct stat *ret_st)
{
	struct statx sx;
	unsigned flags = follow ? 0 : AT_SYMLINK_NOFOLLOW;
	if (statx(AT_FDCWD, path, (int)flags, STATX_BASIC_STATS | STATX_BTIME, &sx) < 0)
		return 0;
	uint64_t m = (uint64_t)sx.stx_mtime.tv_sec * 1000000000ull + sx.stx_mtime.tv_nsec;
	uint64_t c = (uint64_t)sx.stx_ctime.tv_sec * 1000000000ull + sx.stx_ctime.tv_nsec;
	uint64_t b = (sx.stx_mask & STATX_BTIME) ? (uint64_t)sx.stx_btime.tv_sec * 1000000000ull + sx.stx_btime.tv_nsec : 0;
	uint64_t t = m;
	*src = "mtime";
	if (c > t) {
		t = c;
		*src = "ctime";
	}
	if (b > t) {
		t = b;
		*src = "birth";
	}
	if (ret_st) {
		memset(ret_st, 0, sizeof(*ret_st));
		ret_st->st_mode = sx.stx_mode;
		ret_st->st_uid = sx.stx_uid;
		ret_st->st_size = (off_t)sx.stx_size;
	}
	return t;
}

static void add_file(struct ctx *x, const char *path, int kind, const char *what)
{
	const char *src;
	struct stat st;
	uint64_t t = file_time(path, false, &src, &st);
	if (!t)
		return;
	struct sys_change *s = add(x, t, kind, src);
	if (!s)
		return;
	/* report the path as it is on the system, not under the test root */
	owl_strlcpy(s->subject, path + strlen(x->root), sizeof(s->subject));
	if (S_ISLNK(st.st_mode)) {
		char tgt[OWL_PATH_MAX];
		ssize_t n = readlink(path, tgt, sizeof(tgt) - 1);
		if (n >= 0) {
			tgt[n] = '\0';
			setf(s->detail, sizeof(s->detail), "%s%slink to %s", what ? what : "", what ? ", " : "", tgt);
			return;
		}
	}
	setf(s->detail, sizeof(s->detail), "%s%s%lld bytes, mode %04o, owner uid %u", what ? what : "",
	     what ? ", " : "", (long long)st.st_size, (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid);
}

typedef int (*kind_fn)(const char *name, const struct stat *st, void *ud);

/* Walk dir (absolute, under root) to depth; add each entry that kind_of
 * gives a kind (>= 0). */
static void walk(struct ctx *x, const char *abs, int depth, kind_fn kind_of, void *ud, unsigned *budget)
{
	DIR *d = opendir(abs);
	if (!d) {
		note_err(x, errno);
		return;
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL && !x->err) {
		if (!*budget)
			break;
		(*budget)--;
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		char path[OWL_PATH_MAX];
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", abs, de->d_name) >= sizeof(path))
			continue;
		struct stat st;
		if (lstat(path, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			if (depth > 1)
				walk(x, path, depth - 1, kind_of, ud, budget);
			continue;
		}
		int k = kind_of(de->d_name, &st, ud);
		if (k >= 0)
			add_file(x, path, k, NULL);
	}
	closedir(d);
}

static bool has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), k = strlen(suf);
	return n >= k && strcmp(s + n - k, suf) == 0;
}

static int unit_kind(const char *name, const struct stat *st, void *ud)
{
	(void)ud;
	(void)st;
	if (has_suffix(name, ".timer"))
		return CHANGE_TIMER;
	static const char *const sfx[] = {".service", ".socket", ".path", ".target", ".mount", ".conf", NULL};
	for (const char *const *s = sfx; *s; s++)
		if (has_suffix(name, *s))
			return CHANGE_UNIT;
	return -1;
}

static int any_file(const char *name, const struct stat *st, void *ud)
{
	(void)st;
	if (name[0] == '.' && strcmp(name, ".placeholder") == 0)
		return -1;
	return (int)(intptr_t)ud;
}

static int exec_file(const char *name, const struct stat *st, void *ud)
{
	(void)name;
	(void)ud;
	return S_ISREG(st->st_mode) && (st->st_mode & 0111) ? CHANGE_WRITABLE_EXEC : -1;
}

static void walk_rel(struct ctx *x, const char *rel, int depth, kind_fn fn, void *ud)
{
	char abs[OWL_PATH_MAX];
	path_of(x, rel, abs, sizeof(abs));
	unsigned budget = DIR_ENTRIES_MAX;
	if (abs[0])
		walk(x, abs, depth, fn, ud, &budget);
}

static void file_rel(struct ctx *x, const char *rel, int kind, const char *what)
{
	char abs[OWL_PATH_MAX];
	path_of(x, rel, abs, sizeof(abs));
	if (abs[0])
		add_file(x, abs, kind, what);
}

/* the same directory twice (merged /usr: /lib → /usr/lib) is walked once */
static bool same_dir(const struct ctx *x, const char *a, const char *b)
{
	char pa[OWL_PATH_MAX], pb[OWL_PATH_MAX];
	struct stat sa, sb;
	path_of(x, a, pa, sizeof(pa));
	path_of(x, b, pb, sizeof(pb));
	return stat(pa, &sa) == 0 && stat(pb, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static void collect_units(struct ctx *x)
{
	walk_rel(x, "/etc/systemd/system", 3, unit_kind, NULL);
	walk_rel(x, "/run/systemd/system", 3, unit_kind, NULL);
	walk_rel(x, "/run/systemd/transient", 1, unit_kind, NULL);
	walk_rel(x, "/etc/systemd/user", 3, unit_kind, NULL);
	walk_rel(x, "/usr/lib/systemd/system", 2, unit_kind, NULL);
	if (!same_dir(x, "/lib/systemd/system", "/usr/lib/systemd/system"))
		walk_rel(x, "/lib/systemd/system", 2, unit_kind, NULL);
	walk_rel(x, "/usr/lib/systemd/user", 2, unit_kind, NULL);
	walk_rel(x, "/etc/init.d", 1, any_file, (void *)(intptr_t)CHANGE_UNIT);
	file_rel(x, "/etc/rc.local", CHANGE_UNIT, "rc.local");
}

static void collect_cron(struct ctx *x)
{
	file_rel(x, "/etc/crontab", CHANGE_CRON, NULL);
	file_rel(x, "/etc/anacrontab", CHANGE_CRON, NULL);
	static const char *const dirs[] = {"/etc/cron.d", "/etc/cron.hourly", "/etc/cron.daily", "/etc/cron.weekly",
					   "/etc/cron.monthly", "/var/spool/cron/crontabs", "/var/spool/cron", NULL};
	for (const char *const *d = dirs; *d; d++)
		walk_rel(x, *d, 1, any_file, (void *)(intptr_t)CHANGE_CRON);
	walk_rel(x, "/var/spool/cron/atjobs", 1, any_file, (void *)(intptr_t)CHANGE_AT_JOB);
	walk_rel(x, "/var/spool/at", 1, any_file, (void *)(intptr_t)CHANGE_AT_JOB);
}

struct pwent {
	char name[64];
	char home[512];
	uint32_t uid;
};

/* name:x:uid:gid:gecos:home:shell — bounded, malformed lines skipped */
static size_t read_passwd(struct ctx *x, struct pwent **ret)
{
	char path[OWL_PATH_MAX];
	path_of(x, "/etc/passwd", path, sizeof(path));
	size_t bufsz = 4u << 20;
	char *buf = malloc(bufsz);
	struct pwent *v = calloc(USERS_MAX, sizeof(*v));
	if (!buf || !v) {
		free(buf);
		free(v);
		*ret = NULL;
		return 0;
	}
	ssize_t len = owl_read_file(path, buf, bufsz);
	size_t n = 0;
	for (char *p = buf; len > 0 && p < buf + len && n < USERS_MAX;) {
		char *nl = memchr(p, '\n', (size_t)(buf + len - p));
		char *le = nl ? nl : buf + len;
		*le = '\0';
		char *f[7];
		int nf = 0;
		char *s = p;
		while (nf < 7) {
			f[nf++] = s;
			char *c = strchr(s, ':');
			if (!c)
				break;
			*c = '\0';
			s = c + 1;
		}
		long long uid;
		if (nf == 7 && owl_strtonum(f[2], 0, 0xffffffffll, &uid) == 0 && f[5][0] == '/') {
			owl_strlcpy(v[n].name, f[0], sizeof(v[n].name));
			owl_strlcpy(v[n].home, f[5], sizeof(v[n].home));
			v[n].uid = (uint32_t)uid;
			n++;
		}
		p = le + 1;
	}
	free(buf);
	*ret = v;
	return n;
}

static void collect_accounts(struct ctx *x)
{
	file_rel(x, "/etc/passwd", CHANGE_ACCOUNTS, "users");
	file_rel(x, "/etc/shadow", CHANGE_ACCOUNTS, "passwords");
	file_rel(x, "/etc/group", CHANGE_ACCOUNTS, "groups");
	file_rel(x, "/etc/sudoers", CHANGE_ACCOUNTS, "sudo rules");
	walk_rel(x, "/etc/sudoers.d", 1, any_file, (void *)(intptr_t)CHANGE_ACCOUNTS);
	file_rel(x, "/etc/ld.so.preload", CHANGE_PRELOAD, NULL);
	file_rel(x, "/root/.ssh/authorized_keys", CHANGE_AUTHORIZED_KEYS, "root");
	file_rel(x, "/root/.ssh/authorized_keys2", CHANGE_AUTHORIZED_KEYS, "root");

	struct pwent *pw;
	size_t n = read_passwd(x, &pw);
	for (size_t i = 0; i < n && !x->err; i++) {
		if (strcmp(pw[i].home, "/") == 0 || strcmp(pw[i].home, "/nonexistent") == 0)
			continue;
		bool dup = strcmp(pw[i].home, "/root") == 0;
		for (size_t j = 0; j < i && !dup; j++)
			dup = strcmp(pw[j].home, pw[i].home) == 0;
		if (dup)
			continue;
		char rel[OWL_PATH_MAX];
		static const char *const keys[] = {"/.ssh/authorized_keys", "/.ssh/authorized_keys2"};
		for (size_t k = 0; k < 2; k++) {
			if ((size_t)snprintf(rel, sizeof(rel), "%s%s", pw[i].home, keys[k]) < sizeof(rel))
				file_rel(x, rel, CHANGE_AUTHORIZED_KEYS, pw[i].name);
		}
		/* a new login user: the birth time of the home directory is the
		 * best date the system keeps (passwd entries carry none) */
		char abs[OWL_PATH_MAX];
		path_of(x, pw[i].home, abs, sizeof(abs));
		struct statx sx;
		if (abs[0] && statx(AT_FDCWD, abs, AT_SYMLINK_NOFOLLOW, STATX_BTIME, &sx) == 0 &&
		    (sx.stx_mask & STATX_BTIME)) {
			uint64_t b = (uint64_t)sx.stx_btime.tv_sec * 1000000000ull + sx.stx_btime.tv_nsec;
			struct sys_change *s = add(x, b, CHANGE_USER_HOME, "birth");
			if (s) {
				owl_strlcpy(s->subject, pw[i].home, sizeof(s->subject));
				setf(s->detail, sizeof(s->detail), "home directory of user %s (uid %u) created", pw[i].name,
				     pw[i].uid);
			}
		}
	}
	free(pw);
}

static void collect_writable_execs(struct ctx *x)
{
	walk_rel(x, "/tmp", 4, exec_file, NULL);
	walk_rel(x, "/var/tmp", 4, exec_file, NULL);
	walk_rel(x, "/dev/shm", 4, exec_file, NULL);
	walk_rel(x, "/run/user", 4, exec_file, NULL);
}

static int cmp_change(const void *a, const void *b)
{
	const struct sys_change *x = a, *y = b;
	if (x->time_ns != y->time_ns)
		return x->time_ns < y->time_ns ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return strcmp(x->subject, y->subject);
}

int changes_collect(const struct changes_opts *o, struct changes *ret)
{
	struct changes c;
	memset(&c, 0, sizeof(c));
	struct ctx x = {.o = o, .c = &c, .root = o->root && strcmp(o->root, "/") != 0 ? o->root : ""};
	read_logs(&x, "/var/log", "dpkg.log", dpkg_line, false);
	read_logs(&x, "/var/log/apt", "history.log", apt_line, true);
	collect_units(&x);
	collect_cron(&x);
	collect_accounts(&x);
	collect_writable_execs(&x);
	if (x.err) {
		free(c.v);
		return x.err;
	}
	if (c.n)
		qsort(c.v, c.n, sizeof(*c.v), cmp_change);
	*ret = c;
	return 0;
}

void changes_free(struct changes *c)
{
	if (!c)
		return;
	free(c->v);
	memset(c, 0, sizeof(*c));
}

void changes_range(const struct changes *c, uint64_t t, uint64_t window_ns, size_t *first, size_t *last)
{
	uint64_t lo = t > window_ns ? t - window_ns : 0;
	size_t a = 0, b;
	while (a < c->n && c->v[a].time_ns < lo)
		a++;
	b = a;
	while (b < c->n && c->v[b].time_ns <= t)
		b++;
	*first = a;
	*last = b;
}
