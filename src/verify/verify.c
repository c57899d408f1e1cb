#include "verify/verify.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/util.h"
#include "pipeline/scan.h"
#include "verify/digest.h"
#include "verify/dpkg.h"
#include "verify/rules.h"
#include "verify/unit.h"
#include "verify/verify_int.h"
#include "verify/vproc.h"
#include "verify/vroot.h"

#define ENVIRON_MAX ((size_t)1 << 20)

static void host_db_return(struct verify_ctx *c);
static void pre_join(void);

/* Container answers, like the host's index, outlive a context (watch: one
 * per enrichment, kept alive while its result is cached).  The container
 * cache locks itself, so contexts share one (per runtime root) rather than
 * borrow it. */
static pthread_mutex_t kept_ci_mu = PTHREAD_MUTEX_INITIALIZER;
static struct cimage_ctx *kept_ci;
static unsigned kept_ci_users;

static struct cimage_ctx *cimages_get(const char *root)
{
	struct cimage_ctx *ci = NULL;
	pthread_mutex_lock(&kept_ci_mu);
	if (kept_ci && !cimage_ctx_root_is(kept_ci, root) && !kept_ci_users) {
		cimage_ctx_free(kept_ci);
		kept_ci = NULL;
	}
	if (!kept_ci && cimage_ctx_new(root, &kept_ci) < 0)
		kept_ci = NULL;
	if (kept_ci && cimage_ctx_root_is(kept_ci, root)) {
		ci = kept_ci;
		kept_ci_users++;
	}
	pthread_mutex_unlock(&kept_ci_mu);
	/* another root while the shared one is in use: a cache of its own */
	if (!ci && cimage_ctx_new(root, &ci) < 0)
		ci = NULL;
	return ci;
}

static void cimages_put(struct cimage_ctx *ci)
{
	pthread_mutex_lock(&kept_ci_mu);
	if (ci && ci == kept_ci) {
		kept_ci_users--;
		ci = NULL;
	}
	pthread_mutex_unlock(&kept_ci_mu);
	cimage_ctx_free(ci);
}

#define MAPS_MAX ((size_t)16 << 20)

/* ---- the digest cache file, read ahead: while the scan waits for the
 * owner map's BPF iterator to load on the other CPU, not at the start of
 * the stage (a thread reading it during collection slowed that load more
 * than it saved) */

static pthread_mutex_t cpre_mu = PTHREAD_MUTEX_INITIALIZER;
static char *cpre_path;
static struct digest_cache *cpre_cache;

/* The digest cache a scan uses: OWL_DIGEST_CACHE, else the default (as
 * verify_stage_run passes it to verify_ctx_new). */
static const char *scan_cache_path(void)
{
	const char *cp = getenv("OWL_DIGEST_CACHE");
	return cp ? cp : VERIFY_CACHE_DEFAULT;
}

void verify_stage_preload(const struct scan_opts *o)
{
	if (o->no_verify)
		return;
	const char *cp = scan_cache_path();
	struct digest_cache *dc = NULL;
	char *path = strdup(cp);
	if (!path || digest_cache_new(cp, &dc) < 0) {
		free(path);
		return;
	}
	pthread_mutex_lock(&cpre_mu);
	if (!cpre_cache) {
		cpre_cache = dc;
		cpre_path = path;
		dc = NULL;
		path = NULL;
	}
	pthread_mutex_unlock(&cpre_mu);
	digest_cache_free(dc);
	free(path);
}

/* The cache read ahead for `path`, if any (it is then the caller's). */
static bool cache_pre_take(const char *path, struct digest_cache **ret)
{
	pthread_mutex_lock(&cpre_mu);
	struct digest_cache *dc = cpre_cache;
	bool same = dc && cpre_path && strcmp(cpre_path, path) == 0;
	cpre_cache = NULL;
	free(cpre_path);
	cpre_path = NULL;
	pthread_mutex_unlock(&cpre_mu);
	if (!same) {
		digest_cache_free(dc);
		return false;
	}
	*ret = dc;
	return true;
}

/* ---- the stage's verify_info, one zeroed array.  Each is 18 KiB, mostly
 * room for rare long strings, and a process writes to 3 of its 5 pages:
 * 600 page faults for 200 processes, a sixth of a warm stage.  From 2 MiB
 * on, the array is mapped 2 MiB-aligned and offered to transparent huge
 * pages, so that it faults a handful of times instead. */
#define SLAB_HUGE ((size_t)2 << 20)

int verify_slab_alloc(struct verify_ctx *c, size_t n)
{
	size_t sz = (n ? n : 1) * sizeof(*c->slab);
	if (sz >= SLAB_HUGE) {
		size_t len = (sz + SLAB_HUGE - 1) / SLAB_HUGE * SLAB_HUGE;
		uint8_t *m = mmap(NULL, len + SLAB_HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m != MAP_FAILED) {
			uintptr_t a = ((uintptr_t)m + SLAB_HUGE - 1) & ~(uintptr_t)(SLAB_HUGE - 1);
			size_t head = a - (uintptr_t)m, tail = SLAB_HUGE - head;
			if (head)
				munmap(m, head);
			if (tail)
				munmap((uint8_t *)a + len, tail);
			(void)madvise((void *)a, len, MADV_HUGEPAGE); /* a hint: without THP, plain pages */
			c->slab = (struct verify_info *)a;
			c->slab_mapped = len;
			return 0;
		}
	}
	c->slab = calloc(n ? n : 1, sizeof(*c->slab));
	return c->slab ? 0 : -ENOMEM;
}

void verify_slab_free(struct verify_ctx *c)
{
	if (c->slab_mapped)
		munmap(c->slab, c->slab_mapped);
	else
		free(c->slab);
	c->slab = NULL;
	c->slab_mapped = 0;
}

int verify_ctx_new(const struct verify_opts *o, struct verify_ctx **ret)
{
	struct verify_ctx *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->host_root_fd = c->unit_root_fd = -1;
	pthread_mutex_init(&c->mu, NULL);
	owl_strlcpy(c->proc_root, o && o->proc_root ? o->proc_root : "/proc", sizeof(c->proc_root));
	c->threads = o ? o->threads : 0;
	c->now_ns = owl_now_ns();
	c->host_root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (c->host_root_fd < 0 || fstat(c->host_root_fd, &c->host_root_st) != 0) {
		verify_ctx_free(c);
		return -errno ? -errno : -EIO;
	}
	const char *ur = o && o->unit_root && *o->unit_root ? o->unit_root : "/";
	c->unit_root_is_host = strcmp(ur, "/") == 0;
	c->unit_root_fd = open(ur, O_PATH | O_DIRECTORY | O_CLOEXEC);
	const char *rr = o && o->runtime_root ? o->runtime_root : getenv("OWL_RUNTIME_ROOT");
	c->cimages = cimages_get(rr);
	if (!c->cimages) {
		verify_ctx_free(c);
		return -ENOMEM;
	}
	const char *cp = o && o->cache_path ? o->cache_path : VERIFY_CACHE_DEFAULT;
	int rc = cache_pre_take(cp, &c->cache) ? 0 : digest_cache_new(cp, &c->cache);
	if (rc < 0) {
		verify_ctx_free(c);
		return rc;
	}
	*ret = c;
	return 0;
}

void verify_ctx_free(struct verify_ctx *c)
{
	if (!c)
		return;
	(void)digest_cache_save(c->cache);
	digest_cache_free(c->cache);
	cimages_put(c->cimages);
	host_db_return(c);
	for (size_t i = 0; i < c->nroots; i++) {
		dpkg_db_free(c->roots[i].db);
	}
	verify_slab_free(c);
	for (size_t i = 0; i < c->nunits; i++)
		free(c->units[i]);
	free(c->units);
	if (c->have_sockmap)
		owl_u64map_free(&c->sockmap);
	if (c->host_root_fd >= 0)
		close(c->host_root_fd);
	if (c->unit_root_fd >= 0)
		close(c->unit_root_fd);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

void verify_ctx_set_sockets(struct verify_ctx *c, const struct owl_u64map *inode_transport)
{
	c->sockets = inode_transport;
}

void verify_info_free(struct verify_info *vi)
{
	free(vi);
}

static bool root_gen(int root_fd, uint64_t *ret);

/* The host's package index outlives the context that built it: a process
 * that makes many contexts (owl watch: one per enrichment) indexes the
 * database once, and again only when dpkg changed it (the generation: stat
 * of status, info/ and diversions).  A context borrows the index and gives
 * it back when freed; a second context alive at the same time builds its
 * own (the index is not shared between threads of different contexts). */
static pthread_mutex_t kept_mu = PTHREAD_MUTEX_INITIALIZER;
static struct dpkg_db *kept_db;
static uint64_t kept_gen;
static unsigned host_builds;

unsigned verify_host_index_builds(void)
{
	pthread_mutex_lock(&kept_mu);
	unsigned n = host_builds;
	pthread_mutex_unlock(&kept_mu);
	return n;
}

struct dpkg_db *verify_host_db(struct verify_ctx *c)
{
	if (c->host_db || c->host_db_err)
		return c->host_db;
	pre_join(); /* an index started before the stage (a cold scan) */
	c->host_db_tried = true;
	c->host_db_gen_ok = root_gen(c->host_root_fd, &c->host_db_gen);
	pthread_mutex_lock(&kept_mu);
	if (kept_db && c->host_db_gen_ok && kept_gen == c->host_db_gen) {
		c->host_db = kept_db;
		kept_db = NULL;
	} else if (kept_db && c->host_db_gen_ok) {
		dpkg_db_free(kept_db); /* dpkg ran since: stale */
		kept_db = NULL;
	}
	if (!c->host_db)
		host_builds++;
	pthread_mutex_unlock(&kept_mu);
	if (!c->host_db && (c->host_db_err = dpkg_db_open(c->host_root_fd, &c->host_db)) == 0 && !c->host_db)
		c->host_db_err = -ENODATA;
	return c->host_db;
}

/* ---- a cold scan starts indexing before the stage runs */

static pthread_mutex_t pre_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_t pre_th;
static bool pre_running;

static void *pre_worker(void *arg)
{
	(void)arg;
	int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	uint64_t gen;
	if (root >= 0 && root_gen(root, &gen)) {
		pthread_mutex_lock(&kept_mu);
		bool have = kept_db && kept_gen == gen;
		if (!have)
			host_builds++;
		pthread_mutex_unlock(&kept_mu);
		struct dpkg_db *db = NULL;
		if (!have && dpkg_db_open(root, &db) == 0 && db) {
			pthread_mutex_lock(&kept_mu);
			if (!kept_db) {
				kept_db = db;
				kept_gen = gen;
				db = NULL;
			}
			pthread_mutex_unlock(&kept_mu);
		}
		dpkg_db_free(db);
	}
	if (root >= 0)
		close(root);
	return NULL;
}

static void pre_join(void)
{
	pthread_mutex_lock(&pre_mu);
	if (pre_running) {
		pthread_join(pre_th, NULL);
		pre_running = false;
	}
	pthread_mutex_unlock(&pre_mu);
}

static int64_t ctime_of(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return 0;
	return (int64_t)st.st_ctim.tv_sec * 1000000000ll + st.st_ctim.tv_nsec;
}

/* Will this run need the package index?  Likely when there is no cache
 * file, or dpkg changed the database after it was last written (its owner
 * answers are all of an older generation).  A guess: wrong either way it
 * costs time, never an answer. */
static bool cache_looks_cold(void)
{
	const char *cp = scan_cache_path();
	if (!*cp)
		return true;
	struct stat st;
	if (stat(cp, &st) != 0)
		return true;
	int64_t written = (int64_t)st.st_mtim.tv_sec * 1000000000ll + st.st_mtim.tv_nsec;
	int64_t changed = ctime_of("/var/lib/dpkg/status");
	int64_t c2 = ctime_of("/var/lib/dpkg/info"), c3 = ctime_of("/var/lib/dpkg/diversions");
	if (c2 > changed)
		changed = c2;
	if (c3 > changed)
		changed = c3;
	return changed >= written;
}

void verify_stage_prestart(const struct scan_opts *o)
{
	if (o->no_verify || !cache_looks_cold())
		return;
	pthread_mutex_lock(&pre_mu);
	if (!pre_running && pthread_create(&pre_th, NULL, pre_worker, NULL) == 0)
		pre_running = true;
	pthread_mutex_unlock(&pre_mu);
}

/* Give the host index back for the next context (or free it). */
static void host_db_return(struct verify_ctx *c)
{
	struct dpkg_db *db = c->host_db;
	c->host_db = NULL;
	if (db && c->host_db_gen_ok) {
		pthread_mutex_lock(&kept_mu);
		if (!kept_db) {
			kept_db = db;
			kept_gen = c->host_db_gen;
			db = NULL;
		}
		pthread_mutex_unlock(&kept_mu);
	}
	dpkg_db_free(db);
}

void verify_release_host_db(struct verify_ctx *c)
{
	pthread_mutex_lock(&c->mu);
	host_db_return(c);
	pthread_mutex_unlock(&c->mu);
}

/* The package db of the root the process sees, or NULL (then *note says why). */
static struct dpkg_db *db_for_root(struct verify_ctx *c, int root_fd, bool is_host, const char **note)
{
	if (is_host) {
		struct dpkg_db *db = verify_host_db(c);
		if (!db)
			*note = "the host has no dpkg database";
		return db;
	}
	int sfd = vroot_open(root_fd, "/var/lib/dpkg/status", O_RDONLY);
	struct stat st;
	if (sfd < 0 || fstat(sfd, &st) != 0) {
		if (sfd >= 0)
			close(sfd);
		*note = "no package database in the process's root (container)";
		return NULL;
	}
	close(sfd);
	/* the same database as the host's (a private mount namespace) */
	struct dpkg_db *h = verify_host_db(c);
	if (h) {
		uint64_t d, i;
		dpkg_db_id(h, &d, &i);
		if (d == (uint64_t)st.st_dev && i == (uint64_t)st.st_ino)
			return h;
	}
	for (size_t k = 0; k < c->nroots; k++)
		if (c->roots[k].dev == (uint64_t)st.st_dev && c->roots[k].ino == (uint64_t)st.st_ino)
			return c->roots[k].db;
	if (c->nroots >= VERIFY_ROOTS_MAX) {
		*note = "too many distinct container databases in one run";
		return NULL;
	}
	struct dpkg_db *db = NULL;
	if (dpkg_db_open(root_fd, &db) < 0)
		db = NULL;
	c->roots[c->nroots].dev = (uint64_t)st.st_dev;
	c->roots[c->nroots].ino = (uint64_t)st.st_ino;
	c->roots[c->nroots].db = db;
	c->nroots++;
	if (!db)
		*note = "the container's package database could not be read";
	return db;
}

/* Strip " (deleted)" and classify. */
static void classify_exe(const char *exe, char *path, size_t pathsz, uint8_t *disk)
{
	static const char del[] = " (deleted)";
	size_t n = strlen(exe);
	if (n == 0) {
		*disk = VERIFY_DISK_UNKNOWN;
		path[0] = '\0';
		return;
	}
	bool deleted = n > sizeof(del) - 1 && strcmp(exe + n - (sizeof(del) - 1), del) == 0;
	if (deleted)
		n -= sizeof(del) - 1;
	owl_strncpy0(path, pathsz, exe, n);
	if (strncmp(exe, "/memfd:", 7) == 0 || strncmp(exe, "memfd:", 6) == 0)
		*disk = VERIFY_DISK_MEMFD;
	else
		*disk = deleted ? VERIFY_DISK_DELETED : VERIFY_DISK_PRESENT;
}

/* The cache's digest of the image whose stat is st; its key in *ret_key
 * either way. */
static bool cached_digest(struct verify_ctx *c, const struct stat *st, struct digest_val *ret, bool *ret_from_file,
			  struct digest_key *ret_key)
{
	digest_key_from_stat(st, ret_key);
	pthread_mutex_lock(&c->mu);
	bool hit = digest_cache_get(c->cache, ret_key, ret, ret_from_file);
	pthread_mutex_unlock(&c->mu);
	return hit;
}

int verify_image_digest(struct verify_ctx *c, int fd, const struct stat *st, struct digest_val *ret,
			bool *ret_cached, struct digest_key *ret_key)
{
	struct digest_key k;
	bool from_file = false;
	bool hit = cached_digest(c, st, ret, &from_file, &k);
	*ret_key = k;
	if (hit) {
		*ret_cached = from_file;
		return 0;
	}
	uint64_t t0 = owl_now_ns();
	struct digest_val v;
	int rc = digest_fd(fd, &v);
	if (rc < 0)
		return rc;
	/* the file changed while we read it: do not remember this digest */
	struct stat st2;
	if (fstat(fd, &st2) == 0 && st2.st_ctim.tv_sec == st->st_ctim.tv_sec &&
	    st2.st_ctim.tv_nsec == st->st_ctim.tv_nsec) {
		pthread_mutex_lock(&c->mu);
		(void)digest_cache_put(c->cache, &k, &v, t0);
		pthread_mutex_unlock(&c->mu);
	}
	*ret = v;
	*ret_cached = false;
	return 0;
}

static void set_image_digest(struct verify_info *vi, const struct digest_val *dv, bool from_file)
{
	memcpy(vi->md5, dv->md5, 16);
	memcpy(vi->sha256, dv->sha256, 32);
	digest_hex(vi->sha256, 32, vi->sha256_hex);
	vi->flags |= VERIFY_F_HASHED | (from_file ? VERIFY_F_CACHED : 0);
}

/* The digest of the image whose stat is st, when the cache has it. */
static bool image_from_cache(struct verify_ctx *c, const struct stat *st, struct verify_info *vi,
			     struct digest_key *ret_key)
{
	struct digest_val dv;
	bool from_file = false;
	if (!cached_digest(c, st, &dv, &from_file, ret_key))
		return false;
	set_image_digest(vi, &dv, from_file);
	return true;
}

/* /proc/PID as a directory, opened on first need: a host process whose
 * image digest is cached needs only its maps (opened by path) */
struct pdir {
	char dir[64 + OWL_PATH_MAX];
	int fd; /* -1: not yet, -2: failed */
};

static int pdir_fd(struct pdir *d)
{
	if (d->fd == -1) {
		d->fd = open(d->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (d->fd < 0)
			d->fd = -2;
	}
	return d->fd >= 0 ? d->fd : -1;
}

static void preload_env_in(const char *buf, size_t len, struct verify_info *vi)
{
	size_t vl;
	const char *v = vproc_environ_get(buf, len, "LD_PRELOAD", &vl);
	if (v && vl) {
		vi->flags |= VERIFY_F_PRELOAD_ENV;
		owl_strncpy0(vi->preload, sizeof(vi->preload), v, vl);
	}
}

/* The environment block straight from the process's memory, where the
 * attribute pass found it (stat fields 50/51): one syscall instead of
 * open, read and close of /proc/PID/environ, which reads the same bytes.
 * false: not possible (no addresses, too big, not permitted, a process
 * that exited or replaced its image since) — read the file then. */
static bool preload_env_vm(const struct owl_proc *p, struct verify_info *vi)
{
	if (!p->env_start || p->env_end <= p->env_start || p->env_end - p->env_start > ENVIRON_MAX)
		return false;
	size_t len = (size_t)(p->env_end - p->env_start);
	char stack[16384];
	char *buf = len <= sizeof(stack) ? stack : malloc(len);
	if (!buf)
		return false;
	struct iovec local = {.iov_base = buf, .iov_len = len};
	struct iovec remote = {.iov_base = (void *)(uintptr_t)p->env_start, .iov_len = len};
	ssize_t n = process_vm_readv(p->pid, &local, 1, &remote, 1, 0);
	bool ok = n == (ssize_t)len;
	if (ok)
		preload_env_in(buf, len, vi);
	if (buf != stack)
		free(buf);
	return ok;
}

static void check_preload_env(struct pdir *pd, const struct owl_proc *p, struct verify_info *vi)
{
	if (preload_env_vm(p, vi))
		return;
	int fd = openat(pdir_fd(pd), "environ", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	char *buf = NULL;
	size_t len = 0;
	if (vroot_read_fd(fd, ENVIRON_MAX, &buf, &len) == 0)
		preload_env_in(buf, len, vi);
	free(buf);
	close(fd);
}

static void check_preload_file_locked(struct verify_ctx *c, int root_fd, bool is_host, struct verify_info *vi)
{
	if (is_host && c->preload_file_checked) {
		if (c->host_preload[0]) {
			vi->flags |= VERIFY_F_PRELOAD_FILE;
			if (!vi->preload[0])
				snprintf(vi->preload, sizeof(vi->preload), "%s", c->host_preload);
		}
		return;
	}
	char *buf = NULL;
	size_t len = 0;
	char first[OWL_PATH_MAX] = "";
	if (vroot_read(root_fd, "/etc/ld.so.preload", 1 << 20, &buf, &len) == 0 &&
	    vproc_preload_file_entries(buf, len, first, sizeof(first)))
		;
	else
		first[0] = '\0';
	free(buf);
	if (is_host) {
		c->preload_file_checked = true;
		owl_strlcpy(c->host_preload, first, sizeof(c->host_preload));
	}
	if (first[0]) {
		vi->flags |= VERIFY_F_PRELOAD_FILE;
		if (!vi->preload[0])
			owl_strlcpy(vi->preload, first, sizeof(vi->preload));
	}
}

static void check_preload_file(struct verify_ctx *c, int root_fd, bool is_host, struct verify_info *vi)
{
	pthread_mutex_lock(&c->mu);
	check_preload_file_locked(c, root_fd, is_host, vi);
	pthread_mutex_unlock(&c->mu);
}

#define DELETED_MAX 8

struct maps_ud {
	struct verify_info *vi;
	const char *exe;
	size_t exe_len;
	const char *rootpfx; /* strip this from mapped paths ("" = none) */
	/* distinct deleted libraries, to tell an upgrade from a hidden file */
	char deleted[DELETED_MAX][512];
	int ndeleted;
	bool deleted_overflow;
};

static int maps_cb(void *ud, const struct vproc_map *m)
{
	struct maps_ud *u = ud;
	if (!m->exec)
		return 0;
	if (m->path_len == u->exe_len && memcmp(m->path, u->exe, m->path_len) == 0)
		return 0; /* the executable itself: exe-* findings cover it */
	if (m->path_len >= 7 && memcmp(m->path, "/memfd:", 7) == 0)
		return 0; /* JIT double-mapping (libffi, V8): not a library on disk */
	char p[OWL_PATH_MAX];
	owl_strncpy0(p, sizeof(p), m->path, m->path_len);
	size_t pl = strlen(u->rootpfx);
	if (pl > 1 && strncmp(p, u->rootpfx, pl) == 0 && p[pl] == '/')
		memmove(p, p + pl, strlen(p + pl) + 1);
	if (strcmp(p, u->exe) == 0)
		return 0;
	if (m->deleted) {
		if (!(u->vi->flags & VERIFY_F_MAP_DELETED)) {
			u->vi->flags |= VERIFY_F_MAP_DELETED;
			if (!u->vi->preload[0])
				owl_strlcpy(u->vi->preload, p, sizeof(u->vi->preload));
		}
		bool seen = false;
		for (int i = 0; i < u->ndeleted && !seen; i++)
			seen = strcmp(u->deleted[i], p) == 0;
		if (!seen) {
			if (u->ndeleted < DELETED_MAX && strlen(p) < sizeof(u->deleted[0]))
				owl_strlcpy(u->deleted[u->ndeleted++], p, sizeof(u->deleted[0]));
			else
				u->deleted_overflow = true;
		}
	}
	if (vrule_writable_prefix(p) && !(u->vi->flags & VERIFY_F_MAP_WRITABLE)) {
		u->vi->flags |= VERIFY_F_MAP_WRITABLE;
		if (!u->vi->preload[0] || (u->vi->flags & VERIFY_F_MAP_DELETED))
			owl_strlcpy(u->vi->preload, p, sizeof(u->vi->preload));
	}
	return 0;
}

/* Every deleted library is back at its path as a packaged file: the
 * process outlived a package upgrade (libssl, libc …), nothing hides. */
static bool deleted_by_upgrade(struct verify_ctx *c, int root_fd, bool is_host, const struct maps_ud *u)
{
	if (u->deleted_overflow || !u->ndeleted)
		return false;
	for (int i = 0; i < u->ndeleted; i++) {
		int fd = vroot_open(root_fd, u->deleted[i], O_PATH | O_NOFOLLOW);
		struct stat st;
		if (fd < 0)
			return false;
		bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
		close(fd);
		if (!ok)
			return false;
		struct digest_key k; /* the file now at the path: its answer is cached */
		digest_key_from_stat(&st, &k);
		struct digest_owner o;
		const char *note = NULL;
		if (verify_owner_of(c, root_fd, is_host, u->deleted[i], &k, NULL, &o, &note) < 0 ||
		    o.owner != VERIFY_OWNER_PACKAGE)
			return false;
	}
	return true;
}

/* fd: /proc/PID/maps, open */
static void check_maps(struct verify_ctx *c, int fd, int root_fd, bool is_host, const char *exe_path,
		       const char *rootpfx, struct verify_info *vi)
{
	char *buf = NULL;
	size_t len = 0;
	struct maps_ud *u = calloc(1, sizeof(*u));
	if (u) {
		*u = (struct maps_ud){.vi = vi, .exe = exe_path, .exe_len = strlen(exe_path), .rootpfx = rootpfx};
		/* the kernel's own answer is several times cheaper than the text
		 * (only executable file mappings, no formatting); the text when the
		 * kernel predates the ioctl or a path is too long for it.  maps_cb
		 * only ever sets flags and remembers names once: seeing a mapping
		 * twice changes nothing. */
		int rc = c->no_maps_query ? -ENOTTY : vproc_query_maps(fd, maps_cb, u);
		bool no_ioctl = rc == -ENOTTY || rc == -EINVAL || rc == -EOPNOTSUPP;
		if (no_ioctl)
			c->no_maps_query = true;
		if ((no_ioctl || rc == -ENAMETOOLONG) && vroot_read_fd(fd, MAPS_MAX, &buf, &len) == 0)
			rc = vproc_parse_maps(buf, len, maps_cb, u, NULL);
		if (rc >= 0 && (vi->flags & VERIFY_F_MAP_DELETED) && deleted_by_upgrade(c, root_fd, is_host, u))
			vi->flags |= VERIFY_F_MAP_UPGRADED;
	}
	free(u);
	free(buf);
}

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

/* Transport of socket `ino` held as fd `fd` by pid: from the scan's
 * sockets, else by borrowing the fd (pidfd_getfd) and asking it. */
static int socket_transport(struct verify_ctx *c, pid_t pid, int fd, uint64_t ino)
{
	uint32_t t;
	if (c->sockets && owl_u64map_get(c->sockets, ino, &t))
		return (int)t;
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pfd < 0)
		return -1;
	int s = (int)syscall(SYS_pidfd_getfd, pfd, fd, 0);
	close(pfd);
	if (s < 0)
		return -1;
	int dom = 0, proto = 0;
	socklen_t l = sizeof(dom);
	int rc = -1;
	if (getsockopt(s, SOL_SOCKET, SO_DOMAIN, &dom, &l) == 0 && (dom == AF_INET || dom == AF_INET6)) {
		l = sizeof(proto);
		if (getsockopt(s, SOL_SOCKET, SO_PROTOCOL, &proto, &l) == 0)
			rc = proto == IPPROTO_TCP ? OWL_TP_TCP : proto == IPPROTO_UDP ? OWL_TP_UDP : OWL_TP_RAW;
	}
	close(s);
	return rc;
}

static void check_stdio(struct verify_ctx *c, int pdir, pid_t pid, struct verify_info *vi)
{
	for (int fd = 0; fd <= 2; fd++) {
		char name[16], link[64];
		snprintf(name, sizeof(name), "fd/%d", fd);
		ssize_t n = readlinkat(pdir, name, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		unsigned long long ino;
		if (sscanf(link, "socket:[%llu]", &ino) != 1)
			continue;
		int t = socket_transport(c, pid, fd, ino);
		if (t == OWL_TP_TCP || t == OWL_TP_UDP) {
			vi->flags |= VERIFY_F_STDIO_NET;
			snprintf(vi->stdio_net, sizeof(vi->stdio_net), "fd %d is a %s socket", fd,
				 t == OWL_TP_TCP ? "TCP" : "UDP");
			return;
		}
	}
}


static uint64_t path_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

/* The generation of the package database under root: any dpkg run rewrites
 * status (and usually info/), so a hash of their stat changes with it. */
static bool root_gen(int root_fd, uint64_t *ret)
{
	static const char *const files[] = {"/var/lib/dpkg/status", "/var/lib/dpkg/info", "/var/lib/dpkg/diversions"};
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < OWL_ARRAY_SIZE(files); i++) {
		int fd = vroot_open(root_fd, files[i], O_PATH);
		struct stat st;
		if (fd < 0 || fstat(fd, &st) != 0) {
			if (fd >= 0)
				close(fd);
			if (i == 2)
				continue; /* no diversions file is fine */
			return false;
		}
		close(fd);
		struct digest_key k;
		digest_key_from_stat(&st, &k);
		uint64_t f[5] = {k.dev, k.ino, k.size, (uint64_t)k.mtime_ns, (uint64_t)k.ctime_ns};
		for (size_t j = 0; j < 5; j++) {
			h ^= f[j];
			h *= 1099511628211ull;
			h ^= h >> 31;
		}
	}
	*ret = h ? h : 1;
	return true;
}

/* Who owns `path` (as the process sees it) whose file identity is k (may be
 * NULL: then nothing is cached): from the cache when it holds an entry for
 * this identity, path and database generation, else from the database.
 * md5 (may be NULL): the running image's, to pick the record it matches.
 * Returns 0, -ENODATA (no database; *note says why). */
static int owner_of_locked(struct verify_ctx *c, int root_fd, bool is_host, const char *path,
			   const struct digest_key *k, const uint8_t *md5, struct digest_owner *ret, const char **note)
{
	uint64_t gen = 0, ph = path_hash(path);
	bool have_gen;
	if (is_host) {
		if (!c->host_gen_done) {
			c->host_gen_done = true;
			c->host_gen_ok = root_gen(c->host_root_fd, &c->host_gen);
		}
		have_gen = c->host_gen_ok;
		gen = c->host_gen;
	} else {
		have_gen = root_gen(root_fd, &gen);
	}
	if (k && have_gen && digest_cache_owner_get(c->cache, k, ph, gen, ret))
		return 0;
	struct dpkg_db *db = db_for_root(c, root_fd, is_host, note);
	if (!db)
		return -ENODATA;
	struct digest_owner o;
	memset(&o, 0, sizeof(o));
	uint32_t pk;
	char recorded[DPKG_PATH_MAX];
	int rc = dpkg_db_lookup(db, path, &pk, &o.has_md5, o.md5, recorded, o.diverted_by);
	if (rc == 0) {
		struct dpkg_pkginfo pi;
		o.owner = VERIFY_OWNER_PACKAGE;
		owl_strlcpy(o.recorded, recorded, sizeof(o.recorded));
		if (dpkg_db_pkg(db, pk, &pi) == 0) {
			owl_strlcpy(o.name, pi.name, sizeof(o.name));
			owl_strlcpy(o.version, pi.version, sizeof(o.version));
			owl_strlcpy(o.arch, pi.arch, sizeof(o.arch));
			o.installed_ns = pi.installed_ns;
		}
		/* several packages may ship the path: keep the record it matches */
		if (md5 && o.has_md5 && memcmp(md5, o.md5, 16) != 0 && dpkg_db_md5_matches(db, path, md5))
			memcpy(o.md5, md5, 16);
	} else if (rc == -ENOENT) {
		o.owner = VERIFY_OWNER_NONE;
		owl_strlcpy(o.recorded, path, sizeof(o.recorded));
	} else {
		return rc;
	}
	/* a path too long for the entry is simply not cached */
	if (k && have_gen && strlen(recorded) < sizeof(o.recorded))
		(void)digest_cache_owner_put(c->cache, k, ph, gen, &o, owl_now_ns());
	*ret = o;
	return 0;
}

bool verify_owner_cached(struct verify_ctx *c, const char *path, const struct digest_key *k)
{
	struct digest_owner o;
	pthread_mutex_lock(&c->mu);
	if (!c->host_gen_done) {
		c->host_gen_done = true;
		c->host_gen_ok = root_gen(c->host_root_fd, &c->host_gen);
	}
	bool hit = c->host_gen_ok && digest_cache_owner_get(c->cache, k, path_hash(path), c->host_gen, &o);
	pthread_mutex_unlock(&c->mu);
	return hit;
}

void verify_prepare_host_db(struct verify_ctx *c, char *const *paths, size_t npaths)
{
	pthread_mutex_lock(&c->mu);
	struct dpkg_db *db = verify_host_db(c);
	/* a path in no md5sums makes the first lookup read every .list file:
	 * do it here, beside the hashing, not later under the lock */
	for (size_t i = 0; db && i < npaths; i++) {
		uint32_t pk;
		bool has;
		uint8_t md5[16];
		if (dpkg_db_lookup(db, paths[i], &pk, &has, md5, NULL, NULL) == -ENOENT)
			break;
	}
	pthread_mutex_unlock(&c->mu);
}

int verify_owner_of(struct verify_ctx *c, int root_fd, bool is_host, const char *path, const struct digest_key *k,
		    const uint8_t *md5, struct digest_owner *ret, const char **note)
{
	pthread_mutex_lock(&c->mu);
	int rc = owner_of_locked(c, root_fd, is_host, path, k, md5, ret, note);
	pthread_mutex_unlock(&c->mu);
	return rc;
}

int verify_proc(struct verify_ctx *c, const struct owl_proc *p, struct verify_info **ret)
{
	if (p->gone)
		return -ESRCH;
	struct verify_info *vi = calloc(1, sizeof(*vi));
	if (!vi)
		return -ENOMEM;
	int rc = verify_proc_at(c, p, vi);
	if (rc < 0) {
		free(vi);
		return rc;
	}
	*ret = vi;
	return 0;
}

int verify_proc_at(struct verify_ctx *c, const struct owl_proc *p, struct verify_info *vi)
{
	if (p->gone)
		return -ESRCH;
	struct pdir pd = {.fd = -1};
	snprintf(pd.dir, sizeof(pd.dir), "%s/%d", c->proc_root, (int)p->pid);
	/* maps first: it is needed in every case, and a process that is gone
	 * by now gets no verify_info (as when /proc/PID itself is gone) */
	char mp[sizeof(pd.dir) + 8];
	snprintf(mp, sizeof(mp), "%s/maps", pd.dir);
	int mfd = open(mp, O_RDONLY | O_CLOEXEC);
	if (mfd < 0 && (errno == ENOENT || errno == ESRCH))
		return -ESRCH;
	char path[OWL_PATH_MAX];
	classify_exe(p->exe, path, sizeof(path), &vi->disk);

	/* the root the process sees: the host's, or a container's */
	int root_fd = -1;
	bool is_host = true, own_root = true;
	struct stat rst;
	if (p->have_root_st && p->root_dev == (uint64_t)c->host_root_st.st_dev &&
	    p->root_ino == (uint64_t)c->host_root_st.st_ino) {
		root_fd = c->host_root_fd; /* the host's, as the attribute pass saw: borrowed */
		own_root = false;
	} else if ((root_fd = openat(pdir_fd(&pd), "root", O_PATH | O_DIRECTORY | O_CLOEXEC)) >= 0 &&
		   fstat(root_fd, &rst) == 0) {
		is_host = rst.st_dev == c->host_root_st.st_dev && rst.st_ino == c->host_root_st.st_ino;
	} else if (root_fd < 0) {
		root_fd = fcntl(c->host_root_fd, F_DUPFD_CLOEXEC, 0);
	}
	char rootpfx[OWL_PATH_MAX] = "";
	if (!is_host) {
		vi->flags |= VERIFY_F_CONTAINER;
		/* the kernel names files from owl's root: "/srv/chroot/usr/bin/x" for
		 * a chroot's "/usr/bin/x".  Look it up as the process sees it. */
		ssize_t rl = readlinkat(pdir_fd(&pd), "root", rootpfx, sizeof(rootpfx) - 1);
		rootpfx[rl > 0 ? rl : 0] = '\0';
		size_t pl = strlen(rootpfx);
		if (pl > 1 && strncmp(path, rootpfx, pl) == 0 && path[pl] == '/')
			memmove(path, path + pl, strlen(path + pl) + 1);
		else
			rootpfx[0] = '\0';
	}
	owl_strlcpy(vi->exe_path, path, sizeof(vi->exe_path));

	/* the running image: a digest the cache holds for the identity the
	 * attribute pass stat()ed needs no open */
	struct digest_key ikey;
	struct stat est;
	bool have_est = false;
	int efd;
	if (p->have_exe_st && image_from_cache(c, &p->exe_st, vi, &ikey)) {
		est = p->exe_st;
		have_est = true;
	} else if ((efd = openat(pdir_fd(&pd), "exe", O_RDONLY | O_CLOEXEC | O_NONBLOCK)) >= 0) {
		struct digest_val dv;
		bool cached = false;
		have_est = fstat(efd, &est) == 0;
		if (have_est && verify_image_digest(c, efd, &est, &dv, &cached, &ikey) == 0)
			set_image_digest(vi, &dv, cached);
		close(efd);
	} else if (!p->exe[0]) {
		snprintf(vi->note, sizeof(vi->note), "no executable (kernel thread) or not readable");
	} else {
		snprintf(vi->note, sizeof(vi->note), "running image not readable: %s", strerror(errno));
	}

	/* package ownership and the recorded digest */
	const char *note = NULL;
	vi->owner = VERIFY_OWNER_UNKNOWN;
	if (vi->disk == VERIFY_DISK_PRESENT || vi->disk == VERIFY_DISK_DELETED) {
		struct digest_owner o;
		bool hashed = (vi->flags & VERIFY_F_HASHED) != 0;
		int rc = verify_owner_of(c, root_fd, is_host, path, hashed ? &ikey : NULL, hashed ? vi->md5 : NULL, &o,
					 &note);
		if (rc == 0 && o.owner == VERIFY_OWNER_PACKAGE) {
			vi->owner = VERIFY_OWNER_PACKAGE;
			owl_strlcpy(vi->path, o.recorded, sizeof(vi->path));
			owl_strlcpy(vi->diverted_by, o.diverted_by, sizeof(vi->diverted_by));
			owl_strlcpy(vi->pkg.manager, "dpkg", sizeof(vi->pkg.manager));
			owl_strlcpy(vi->pkg.name, o.name, sizeof(vi->pkg.name));
			owl_strlcpy(vi->pkg.version, o.version, sizeof(vi->pkg.version));
			owl_strlcpy(vi->pkg.arch, o.arch, sizeof(vi->pkg.arch));
			vi->pkg.installed_ns = o.installed_ns;
			if (o.has_md5)
				digest_hex(o.md5, 16, vi->expected_md5);
			if (!hashed)
				note = "running image not readable";
			else if (!o.has_md5)
				note = "the package recorded no digest for this file";
			else if (memcmp(o.md5, vi->md5, 16) == 0)
				vi->state = VERIFY_OK;
			else if (vi->disk == VERIFY_DISK_DELETED)
				note = "the file on disk was replaced; the record describes the new file";
			else
				vi->state = VERIFY_MODIFIED;
		} else if (rc == 0) {
			vi->owner = VERIFY_OWNER_NONE;
			owl_strlcpy(vi->path, path, sizeof(vi->path));
			note = "no installed package owns this file";
		}
	} else if (vi->disk == VERIFY_DISK_MEMFD) {
		note = "runs from a memfd: nothing on disk to compare with";
	}
	if (note && !vi->note[0])
		owl_strlcpy(vi->note, note, sizeof(vi->note));

	check_preload_env(&pd, p, vi);
	check_preload_file(c, root_fd, is_host, vi);
	if (mfd >= 0)
		check_maps(c, mfd, root_fd, is_host, path, rootpfx, vi);
	/* only a shell or interpreter can be a reverse shell: spare the others the look */
	if (vrule_is_shell(vrule_basename(path)) || vrule_is_shell(p->comm))
		check_stdio(c, pdir_fd(&pd), p->pid, vi);
	verify_check_name(c, p, root_fd, is_host, have_est ? &est : NULL, path, vi);
	verify_unit_info(c, p, &vi->unit);
	if (p->cg.container_id[0])
		(void)cimage_lookup(c->cimages, p->cg.runtime, p->cg.container_id, &vi->container);

	if (root_fd >= 0 && own_root)
		close(root_fd);
	if (mfd >= 0)
		close(mfd);
	if (pd.fd >= 0)
		close(pd.fd);
	return 0;
}

int verify_path_owner(struct verify_ctx *c, const char *path, struct verify_pkg *ret)
{
	return verify_path_owner_key(c, path, NULL, ret);
}

int verify_path_owner_key(struct verify_ctx *c, const char *path, const struct digest_key *k, struct verify_pkg *ret)
{
	struct digest_owner o;
	const char *note = NULL;
	int rc = verify_owner_of(c, c->host_root_fd, true, path, k, NULL, &o, &note);
	if (rc < 0)
		return rc;
	if (o.owner != VERIFY_OWNER_PACKAGE)
		return -ENOENT;
	struct verify_pkg p;
	memset(&p, 0, sizeof(p));
	owl_strlcpy(p.manager, "dpkg", sizeof(p.manager));
	owl_strlcpy(p.name, o.name, sizeof(p.name));
	owl_strlcpy(p.version, o.version, sizeof(p.version));
	owl_strlcpy(p.arch, o.arch, sizeof(p.arch));
	p.installed_ns = o.installed_ns;
	*ret = p;
	return 0;
}

int verify_identity(const struct owl_proc *p, struct verify_identity *ret)
{
	const struct verify_info *vi = p ? p->verify : NULL;
	if (!vi)
		return -ENODATA;
	struct verify_identity id;
	memset(&id, 0, sizeof(id));
	id.state = vi->state;
	owl_strlcpy(id.sha256_hex, vi->sha256_hex, sizeof(id.sha256_hex));
	if (vi->owner == VERIFY_OWNER_PACKAGE) {
		owl_strlcpy(id.package, vi->pkg.name, sizeof(id.package));
		owl_strlcpy(id.version, vi->pkg.version, sizeof(id.version));
	}
	id.passed = vi->state == VERIFY_OK && vi->disk == VERIFY_DISK_PRESENT &&
		    !(vi->flags & (VERIFY_F_PRELOAD_ENV | VERIFY_F_PRELOAD_FILE | VERIFY_F_MAP_WRITABLE |
				   VERIFY_F_STDIO_NET)) &&
		    (!(vi->flags & VERIFY_F_MAP_DELETED) || (vi->flags & VERIFY_F_MAP_UPGRADED)) &&
		    !(vi->flags & VERIFY_F_NAME_MISMATCH);
	*ret = id;
	return 0;
}

const char *verify_state_name(int s)
{
	switch (s) {
	case VERIFY_OK: return "ok";
	case VERIFY_MODIFIED: return "modified";
	default: return "unknown";
	}
}

const char *verify_disk_name(int d)
{
	switch (d) {
	case VERIFY_DISK_PRESENT: return "present";
	case VERIFY_DISK_DELETED: return "deleted";
	case VERIFY_DISK_MEMFD: return "memfd";
	default: return "unknown";
	}
}
