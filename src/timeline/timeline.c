#include "timeline/timeline.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/model.h"
#include "core/util.h"
#include "timeline/changes.h"

static uint64_t sx_ns(const struct statx_timestamp *t)
{
	return (uint64_t)t->tv_sec * 1000000000ull + t->tv_nsec;
}

bool timeline_writable_location(const char *path)
{
	static const char *const dirs[] = {"/tmp/", "/var/tmp/", "/dev/shm/", "/run/user/", "/run/lock/",
					   "/var/crash/", "/var/lock/", NULL};
	for (const char *const *d = dirs; *d; d++)
		if (strncmp(path, *d, strlen(*d)) == 0)
			return true;
	/* any world-writable directory on the way (without the sticky bit
	 * helping: anyone could have put it there) */
	char dir[OWL_PATH_MAX];
	owl_strlcpy(dir, path, sizeof(dir));
	for (;;) {
		char *sl = strrchr(dir, '/');
		if (!sl || sl == dir)
			break;
		*sl = '\0';
		struct stat st;
		if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & S_IWOTH))
			return true;
	}
	return false;
}

int timeline_exe(const char *proc_root, pid_t pid, const char *exe, struct proc_timeline *tl)
{
	char path[256];
	struct statx sx;
	snprintf(path, sizeof(path), "%s/%d/exe", proc_root ? proc_root : "/proc", (int)pid);
	if (statx(AT_FDCWD, path, 0, STATX_BASIC_STATS | STATX_BTIME, &sx) < 0)
		return -errno;
	tl->exe_stat_ok = true;
	tl->exe_mtime_ns = sx_ns(&sx.stx_mtime);
	tl->exe_ctime_ns = sx_ns(&sx.stx_ctime);
	tl->exe_btime_ns = (sx.stx_mask & STATX_BTIME) ? sx_ns(&sx.stx_btime) : 0;
	if (exe && exe[0] == '/')
		tl->exe_writable_location = timeline_writable_location(exe);
	return 0;
}

uint64_t timeline_changed_ns(const struct proc_timeline *tl)
{
	uint64_t t = tl->exe_mtime_ns > tl->exe_ctime_ns ? tl->exe_mtime_ns : tl->exe_ctime_ns;
	return t > tl->exe_btime_ns ? t : tl->exe_btime_ns;
}

int timeline_package_logged(const struct changes *ch, const char *pkg, uint64_t *ret_ns)
{
	char name[160];
	owl_strlcpy(name, pkg, sizeof(name));
	char *colon = strchr(name, ':');
	if (colon)
		*colon = '\0';
	uint64_t best = 0;
	for (size_t i = 0; ch && i < ch->n; i++) {
		const struct sys_change *c = &ch->v[i];
		if ((c->kind == CHANGE_PKG_INSTALL || c->kind == CHANGE_PKG_UPGRADE) && strcmp(c->subject, name) == 0 &&
		    c->time_ns > best)
			best = c->time_ns;
	}
	if (!best)
		return -ENOENT;
	*ret_ns = best;
	return 0;
}

int timeline_package_time(const struct changes *ch, const char *root, const char *pkg, uint64_t *ret_ns,
			  const char **ret_source)
{
	if (timeline_package_logged(ch, pkg, ret_ns) == 0) {
		*ret_source = "dpkg.log";
		return 0;
	}
	const char *colon = strchr(pkg, ':');
	/* dpkg rewrites <pkg>.list (or <pkg>:<arch>.list) on every unpack */
	const char *r = root && strcmp(root, "/") != 0 ? root : "";
	static const char *const archs[] = {"", ":amd64", ":arm64", ":i386", ":all", ":armhf", NULL};
	for (const char *const *a = archs; *a; a++) {
		char path[OWL_PATH_MAX];
		struct stat st;
		if ((size_t)snprintf(path, sizeof(path), "%s/var/lib/dpkg/info/%s%s.list", r, pkg, colon ? "" : *a) >=
		    sizeof(path))
			continue;
		if (stat(path, &st) == 0) {
			*ret_ns = (uint64_t)st.st_mtim.tv_sec * 1000000000ull + (uint64_t)st.st_mtim.tv_nsec;
			*ret_source = "dpkg info .list mtime";
			return 0;
		}
		if (colon)
			break;
	}
	return -ENOENT;
}
