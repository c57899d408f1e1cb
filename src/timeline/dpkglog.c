#include "timeline/dpkglog.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "core/util.h"

static int digits(const char *s, size_t n, int *ret)
{
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (s[i] - '0');
	}
	*ret = v;
	return 0;
}

int dpkglog_parse_time(const char *s, size_t len, uint64_t *ret_ns)
{
	/* YYYY-MM-DD<1 or 2 spaces>HH:MM:SS */
	if (len < 19)
		return -EINVAL;
	int Y, M, D, h, m, sec;
	if (digits(s, 4, &Y) || s[4] != '-' || digits(s + 5, 2, &M) || s[7] != '-' || digits(s + 8, 2, &D) ||
	    s[10] != ' ')
		return -EINVAL;
	size_t t = 11;
	if (s[t] == ' ')
		t++;
	if (len < t + 8)
		return -EINVAL;
	if (digits(s + t, 2, &h) || s[t + 2] != ':' || digits(s + t + 3, 2, &m) || s[t + 5] != ':' ||
	    digits(s + t + 6, 2, &sec))
		return -EINVAL;
	if (Y < 1970 || Y > 9999 || M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60)
		return -EINVAL;
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = Y - 1900;
	tm.tm_mon = M - 1;
	tm.tm_mday = D;
	tm.tm_hour = h;
	tm.tm_min = m;
	tm.tm_sec = sec;
	tm.tm_isdst = -1;
	time_t tt = mktime(&tm);
	if (tt == (time_t)-1 || tt < 0)
		return -EINVAL;
	*ret_ns = (uint64_t)tt * 1000000000ull;
	return 0;
}

const char *dpkg_action_name(int action)
{
	switch (action) {
	case DPKG_INSTALL: return "install";
	case DPKG_UPGRADE: return "upgrade";
	case DPKG_REMOVE: return "remove";
	case DPKG_PURGE: return "purge";
	default: return "?";
	}
}

/* next space-separated field of [*p, end) */
static int field(const char **p, const char *end, const char **ret, size_t *retn)
{
	const char *s = *p;
	while (s < end && *s == ' ')
		s++;
	const char *e = s;
	while (e < end && *e != ' ' && *e != '\n' && *e != '\r')
		e++;
	if (e == s)
		return -EINVAL;
	*ret = s;
	*retn = (size_t)(e - s);
	*p = e;
	return 0;
}

static bool printable(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] == 0x7f)
			return false;
	return true;
}

static int version(const char *s, size_t n, char *out, size_t outsz)
{
	if (n >= outsz || !printable(s, n))
		return -EINVAL;
	if (n == 6 && memcmp(s, "<none>", 6) == 0)
		out[0] = '\0';
	else
		owl_strncpy0(out, outsz, s, n);
	return 0;
}

int dpkglog_parse_line(const char *line, size_t len, struct dpkg_event *ret)
{
	const char *nl = memchr(line, '\n', len);
	if (nl)
		len = (size_t)(nl - line);
	struct dpkg_event ev;
	memset(&ev, 0, sizeof(ev));
	if (dpkglog_parse_time(line, len, &ev.time_ns) < 0 || len < 20 || line[19] != ' ')
		return -EINVAL;
	const char *p = line + 20, *end = line + len;
	const char *f;
	size_t fn;
	if (field(&p, end, &f, &fn) < 0)
		return -EINVAL;
	if (fn == 7 && memcmp(f, "install", 7) == 0)
		ev.action = DPKG_INSTALL;
	else if (fn == 7 && memcmp(f, "upgrade", 7) == 0)
		ev.action = DPKG_UPGRADE;
	else if (fn == 6 && memcmp(f, "remove", 6) == 0)
		ev.action = DPKG_REMOVE;
	else if (fn == 5 && memcmp(f, "purge", 5) == 0)
		ev.action = DPKG_PURGE;
	else
		return -ENOENT;
	/* package[:arch] old new */
	if (field(&p, end, &f, &fn) < 0 || !printable(f, fn))
		return -EINVAL;
	const char *colon = memchr(f, ':', fn);
	size_t namen = colon ? (size_t)(colon - f) : fn;
	if (namen == 0 || namen >= sizeof(ev.pkg))
		return -EINVAL;
	owl_strncpy0(ev.pkg, sizeof(ev.pkg), f, namen);
	if (colon) {
		size_t an = fn - namen - 1;
		if (an == 0 || an >= sizeof(ev.arch))
			return -EINVAL;
		owl_strncpy0(ev.arch, sizeof(ev.arch), colon + 1, an);
	}
	if (field(&p, end, &f, &fn) < 0 || version(f, fn, ev.old_ver, sizeof(ev.old_ver)) < 0)
		return -EINVAL;
	if (field(&p, end, &f, &fn) < 0 || version(f, fn, ev.new_ver, sizeof(ev.new_ver)) < 0)
		return -EINVAL;
	while (p < end && (*p == ' ' || *p == '\r'))
		p++;
	if (p != end)
		return -EINVAL;
	*ret = ev;
	return 0;
}

void apthist_init(struct apthist *st)
{
	memset(st, 0, sizeof(*st));
}

static bool key_is(const char *line, size_t len, const char *key, const char **val, size_t *valn)
{
	size_t k = strlen(key);
	if (len < k || memcmp(line, key, k) != 0)
		return false;
	const char *v = line + k;
	size_t n = len - k;
	while (n && *v == ' ') {
		v++;
		n--;
	}
	while (n && (v[n - 1] == '\r' || v[n - 1] == ' '))
		n--;
	*val = v;
	*valn = n;
	return true;
}

/* "a:amd64 (1.0), b:amd64 (1.0, automatic)" → 2: commas outside parentheses + 1 */
static unsigned count_pkgs(const char *v, size_t n)
{
	if (!n)
		return 0;
	unsigned c = 1;
	int depth = 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i] == '(')
			depth++;
		else if (v[i] == ')' && depth > 0)
			depth--;
		else if (v[i] == ',' && depth == 0)
			c++;
	}
	return c;
}

static void copy_text(char *dst, size_t dstsz, const char *v, size_t n)
{
	owl_strncpy0(dst, dstsz, v, n);
	/* NULs would cut it short silently; keep the rest for the escaper */
	for (size_t i = 0; i < n && i + 1 < dstsz; i++)
		if (dst[i] == '\0')
			dst[i] = '?';
}

int apthist_feed(struct apthist *st, const char *line, size_t len, struct apt_txn *ret)
{
	const char *v;
	size_t n;
	const char *nl = memchr(line, '\n', len);
	if (nl)
		len = (size_t)(nl - line);
	if (key_is(line, len, "Start-Date:", &v, &n)) {
		memset(&st->cur, 0, sizeof(st->cur));
		st->in_txn = 0;
		if (dpkglog_parse_time(v, n, &st->cur.start_ns) < 0)
			return -EINVAL;
		st->in_txn = 1;
		return 0;
	}
	if (!st->in_txn)
		return 0;
	if (key_is(line, len, "Commandline:", &v, &n))
		copy_text(st->cur.cmdline, sizeof(st->cur.cmdline), v, n);
	else if (key_is(line, len, "Requested-By:", &v, &n))
		copy_text(st->cur.requested_by, sizeof(st->cur.requested_by), v, n);
	else if (key_is(line, len, "Install:", &v, &n))
		st->cur.ninstall += count_pkgs(v, n);
	else if (key_is(line, len, "Upgrade:", &v, &n))
		st->cur.nupgrade += count_pkgs(v, n);
	else if (key_is(line, len, "Remove:", &v, &n))
		st->cur.nremove += count_pkgs(v, n);
	else if (key_is(line, len, "Purge:", &v, &n))
		st->cur.npurge += count_pkgs(v, n);
	else if (key_is(line, len, "Downgrade:", &v, &n))
		st->cur.ndowngrade += count_pkgs(v, n);
	else if (key_is(line, len, "Reinstall:", &v, &n))
		st->cur.nreinstall += count_pkgs(v, n);
	else if (key_is(line, len, "End-Date:", &v, &n)) {
		st->in_txn = 0;
		*ret = st->cur;
		return 1;
	}
	return 0;
}
