/* The checks of verify that need the file system: the name rule's
 * resolver and unit files. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attribute/procinfo.h"
#include "core/util.h"
#include "verify/rules.h"
#include "verify/unit.h"
#include "verify/verify_int.h"
#include "verify/vroot.h"

struct name_env {
	struct verify_ctx *c;
	int root_fd;
	bool is_host;
	const struct stat *exe_st;
};

static const char *const path_dirs[] = {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin",
					"/bin", "/usr/lib/systemd", "/usr/libexec", "/usr/lib/postgresql"};

static bool same_file_in_root(int root_fd, const char *path, const struct stat *want)
{
	int fd = vroot_open(root_fd, path, O_PATH);
	if (fd < 0)
		return false;
	struct stat st;
	bool same = fstat(fd, &st) == 0 && st.st_dev == want->st_dev && st.st_ino == want->st_ino;
	close(fd);
	return same;
}

/* The claimed name, looked up as a path or on the standard PATH (through
 * alternatives and compatibility symlinks), is the running image itself. */
static bool resolves_to(void *ud, const char *name, const char *exe)
{
	struct name_env *e = ud;
	(void)exe;
	if (!e->exe_st)
		return false;
	if (strchr(name, '/'))
		return name[0] == '/' && same_file_in_root(e->root_fd, name, e->exe_st);
	for (size_t i = 0; i < OWL_ARRAY_SIZE(path_dirs); i++) {
		char p[OWL_PATH_MAX];
		if ((size_t)snprintf(p, sizeof(p), "%s/%s", path_dirs[i], name) >= sizeof(p))
			continue;
		if (same_file_in_root(e->root_fd, p, e->exe_st))
			return true;
	}
	return false;
}

static bool packaged(void *ud, const char *path)
{
	struct name_env *e = ud;
	struct verify_pkg pk;
	return e->is_host && verify_path_owner(e->c, path, &pk) == 0;
}

void verify_check_name(struct verify_ctx *c, const struct owl_proc *p, int root_fd, bool is_host,
		       const struct stat *exe_st, const char *exe_path, struct verify_info *vi)
{
	struct name_env e = {.c = c, .root_fd = root_fd, .is_host = is_host, .exe_st = exe_st};
	struct vrule_env env = {.resolves_to = resolves_to, .packaged = packaged, .ud = &e};
	struct vrule_proc rp = {.comm = p->comm, .exe = exe_path};
	rp.argv0 = procinfo_arg(p, 0, &rp.argv0_len);
	rp.argv1 = procinfo_arg(p, 1, &rp.argv1_len);
	if (vrule_name_mismatch(&rp, &env, vi->name_mismatch, sizeof(vi->name_mismatch))) {
		vi->flags |= VERIFY_F_NAME_MISMATCH;
		return;
	}
	/* an executable named like a system program that no package installed */
	const char *base = vrule_basename(exe_path);
	if (vi->owner == VERIFY_OWNER_NONE && vi->disk != VERIFY_DISK_MEMFD && vrule_is_system_name(base)) {
		vi->flags |= VERIFY_F_NAME_MISMATCH;
		snprintf(vi->name_mismatch, sizeof(vi->name_mismatch),
			 "executable %s is named like the system program '%s' but no package installed it", exe_path,
			 base);
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void list_dir_units(struct verify_ctx *c, int root_fd, const char *dir)
{
	int fd = vroot_open(root_fd, dir, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL && c->nunits < 8192) {
		if (de->d_name[0] == '.' || !strchr(de->d_name, '.'))
			continue;
		char **nu = realloc(c->units, (c->nunits + 1) * sizeof(*nu));
		if (!nu)
			break;
		c->units = nu;
		if ((c->units[c->nunits] = strdup(de->d_name)) != NULL)
			c->nunits++;
	}
	closedir(d);
}

static void list_units_locked(struct verify_ctx *c)
{
	if (c->units_listed)
		return;
	c->units_listed = true;
	for (size_t i = 0; i < OWL_ARRAY_SIZE(vunit_pkg_dirs); i++) {
		list_dir_units(c, c->unit_root_fd, vunit_pkg_dirs[i]);
		if (!c->unit_root_is_host)
			list_dir_units(c, c->host_root_fd, vunit_pkg_dirs[i]);
	}
	qsort(c->units, c->nunits, sizeof(*c->units), cmp_str);
}

static void list_units(struct verify_ctx *c)
{
	pthread_mutex_lock(&c->mu);
	list_units_locked(c);
	pthread_mutex_unlock(&c->mu);
}

void verify_unit_info(struct verify_ctx *c, const struct owl_proc *p, struct verify_unit *ret)
{
	/* ret is zeroed (part of a new verify_info): not cleared again, so that
	 * its 4 KiB of path stay untouched pages for most processes */
	const char *u = p->cg.unit;
	/* scopes and slices are transient: they have no unit file */
	size_t ul = strlen(u);
	if (ul < 9 || strcmp(u + ul - 8, ".service") != 0 || c->unit_root_fd < 0 || p->cg.container_id[0])
		return;
	struct stat st;
	if (vunit_find(c->unit_root_fd, u, ret->path, sizeof(ret->path), &st) < 0)
		return;
	ret->found = true;
	uint64_t m = (uint64_t)st.st_mtim.tv_sec * 1000000000ull + (uint64_t)st.st_mtim.tv_nsec;
	uint64_t ct = (uint64_t)st.st_ctim.tv_sec * 1000000000ull + (uint64_t)st.st_ctim.tv_nsec;
	ret->mtime_ns = m > ct ? m : ct;
	struct verify_pkg pk;
	struct digest_key k;
	digest_key_from_stat(&st, &k);
	int rc = verify_path_owner_key(c, ret->path, &k, &pk);
	if (rc == 0) {
		ret->owner = VERIFY_OWNER_PACKAGE;
		ret->pkg = pk;
		return;
	}
	ret->owner = rc == -ENOENT ? VERIFY_OWNER_NONE : VERIFY_OWNER_UNKNOWN;
	if (ret->owner != VERIFY_OWNER_NONE)
		return;
	list_units(c);
	const char *slash = strrchr(ret->path, '/');
	(void)vunit_imitates(slash ? slash + 1 : u, (const char *const *)c->units, c->nunits, ret->imitates,
			     sizeof(ret->imitates));
}
