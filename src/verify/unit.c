#include "verify/unit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/model.h"
#include "core/util.h"
#include "verify/vroot.h"

const char *const vunit_dirs[4] = {"/etc/systemd/system", "/run/systemd/system", "/usr/lib/systemd/system",
				   "/lib/systemd/system"};
const char *const vunit_pkg_dirs[2] = {"/usr/lib/systemd/system", "/lib/systemd/system"};

bool vunit_name_ok(const char *unit)
{
	size_t n = strnlen(unit, 256);
	return n > 0 && n < 256 && unit[0] != '.' && !strchr(unit, '/') && strchr(unit, '.');
}

int vunit_find(int root_fd, const char *unit, char *ret_path, size_t pathsz, struct stat *ret_st)
{
	if (!vunit_name_ok(unit))
		return -EINVAL;
	char tmpl[256];
	tmpl[0] = '\0';
	const char *at = strchr(unit, '@'), *dot = strrchr(unit, '.');
	if (at && dot && dot > at + 1)
		snprintf(tmpl, sizeof(tmpl), "%.*s@%s", (int)(at - unit), unit, dot);
	for (int pass = 0; pass < 2; pass++) {
		const char *name = pass == 0 ? unit : tmpl;
		if (!name[0])
			continue;
		for (size_t i = 0; i < OWL_ARRAY_SIZE(vunit_dirs); i++) {
			char p[OWL_PATH_MAX];
			snprintf(p, sizeof(p), "%s/%s", vunit_dirs[i], name);
			int fd = vroot_open(root_fd, p, O_PATH | O_NOFOLLOW);
			if (fd < 0)
				continue;
			struct stat st;
			int r = fstat(fd, &st);
			close(fd);
			if (r != 0)
				continue;
			owl_strlcpy(ret_path, p, pathsz);
			*ret_st = st;
			return 0;
		}
	}
	return -ENOENT;
}

unsigned vunit_distance(const char *a, const char *b, unsigned cap)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 64 || lb > 64)
		return cap + 1;
	if ((la > lb ? la - lb : lb - la) > cap)
		return cap + 1;
	unsigned d[65][65];
	for (size_t i = 0; i <= la; i++)
		d[i][0] = (unsigned)i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			unsigned c = a[i - 1] == b[j - 1] ? 0 : 1;
			unsigned v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + c < v)
				v = d[i - 1][j - 1] + c;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	return d[la][lb] > cap ? cap + 1 : d[la][lb];
}

/* "foo@bar.service" → "foo", "foo.service" → "foo" */
static void stem(const char *unit, char *out, size_t outsz)
{
	size_t n = strcspn(unit, "@");
	const char *dot = strrchr(unit, '.');
	if (dot && (size_t)(dot - unit) < n)
		n = (size_t)(dot - unit);
	owl_strncpy0(out, outsz, unit, n);
}

bool vunit_imitates(const char *unit, const char *const *names, size_t n, char *out, size_t outsz)
{
	char s[256];
	stem(unit, s, sizeof(s));
	if (strncmp(s, "systemd-", 8) == 0) {
		snprintf(out, outsz, "systemd's own units (systemd-*)");
		return true;
	}
	if (strncmp(s, "dbus-", 5) == 0 || strcmp(s, "dbus") == 0) {
		snprintf(out, outsz, "D-Bus units (dbus-*)");
		return true;
	}
	const char *best = NULL;
	unsigned bd = 3;
	for (size_t i = 0; i < n; i++) {
		char t[256];
		stem(names[i], t, sizeof(t));
		if (strlen(t) < 3 || strcmp(t, s) == 0)
			continue;
		unsigned d = vunit_distance(s, t, 2);
		/* short stems are near everything: ask for one edit below 5 chars */
		if (d < bd && (d == 1 || (strlen(s) >= 5 && strlen(t) >= 5))) {
			bd = d;
			best = names[i];
		}
	}
	if (best) {
		snprintf(out, outsz, "packaged unit %s", best);
		return true;
	}
	return false;
}
