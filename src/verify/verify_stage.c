/* The verify stage of a scan, its findings and its JSON. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "judge/judge.h"
#include "pipeline/scan.h"
#include "render/jsonw.h"
#include "verify/digest_batch.h"
#include "verify/rules.h"
#include "verify/verify_int.h"

#define DAY_NS (86400ull * 1000000000ull)
#define UNIT_RECENT_NS (3 * DAY_NS)

static void fmt_time(uint64_t ns, char *buf, size_t bufsz)
{
	if (!ns)
		owl_strlcpy(buf, "an unknown time", bufsz);
	else
		owl_format_time(ns, buf, bufsz);
}

void verify_judge(const struct owl_proc *p, struct owl_record *rec)
{
	const struct verify_info *vi = p ? p->verify : NULL;
	if (!vi)
		return;
	char path[OWL_PATH_MAX];
	owl_strlcpy(path, vi->exe_path, sizeof(path));
	const char *base = vrule_basename(path);

	if (vi->state == VERIFY_MODIFIED)
		judge_add(rec, "exe-modified", OWL_SEV_CRITICAL,
			  "running image of %s differs from the md5 recorded by package %s %s", path, vi->pkg.name,
			  vi->pkg.version);

	if (vi->disk == VERIFY_DISK_MEMFD) {
		judge_add(rec, "exe-memfd", OWL_SEV_HIGH, "runs from %s, an anonymous in-memory file: nothing on disk",
			  path);
	} else if (vi->disk == VERIFY_DISK_DELETED) {
		/* the everyday case: a package upgrade replaced the file after the process started */
		bool upgraded = vi->owner == VERIFY_OWNER_PACKAGE && vi->pkg.installed_ns &&
				p->start_time_ns && vi->pkg.installed_ns > p->start_time_ns;
		if (upgraded && vi->state != VERIFY_MODIFIED) {
			char t[40];
			fmt_time(vi->pkg.installed_ns, t, sizeof(t));
			judge_add(rec, "exe-deleted", OWL_SEV_LOW,
				  "%s was replaced on disk after the process started (package %s upgraded at %s)",
				  path, vi->pkg.name, t);
		} else {
			judge_add(rec, "exe-deleted", OWL_SEV_HIGH,
				  "running executable %s was deleted from disk while the process runs", path);
		}
	}

	if (vi->disk != VERIFY_DISK_MEMFD && path[0]) {
		const char *wp = vrule_writable_prefix(path);
		if (wp)
			judge_add(rec, "exe-writable-location", OWL_SEV_HIGH,
				  "executable %s lives in %s, a directory anyone can write", path, wp);
	}

	if (vi->owner == VERIFY_OWNER_NONE && vi->disk != VERIFY_DISK_MEMFD)
		judge_add(rec, "exe-unpackaged", OWL_SEV_LOW, "no installed package owns %s", path);

	if (vi->flags & VERIFY_F_NAME_MISMATCH)
		judge_add(rec, "name-mismatch", OWL_SEV_HIGH, "%s", vi->name_mismatch);

	if (vi->flags & VERIFY_F_PRELOAD_ENV)
		judge_add(rec, "preload", OWL_SEV_HIGH, "LD_PRELOAD=%s in the process environment", vi->preload);
	else if (vi->flags & VERIFY_F_PRELOAD_FILE)
		judge_add(rec, "preload", OWL_SEV_HIGH, "/etc/ld.so.preload loads %s into every program", vi->preload);
	else if (vi->flags & VERIFY_F_MAP_WRITABLE)
		judge_add(rec, "preload", OWL_SEV_HIGH, "library %s is mapped from a writable location", vi->preload);
	else if ((vi->flags & VERIFY_F_MAP_DELETED) && (vi->flags & VERIFY_F_MAP_UPGRADED))
		judge_add(rec, "preload", OWL_SEV_LOW,
			  "library %s was replaced by a package upgrade after the process started (restart it)",
			  vi->preload);
	else if (vi->flags & VERIFY_F_MAP_DELETED)
		judge_add(rec, "preload", OWL_SEV_MEDIUM,
			  "library %s is mapped but deleted from disk (an upgrade, or something hiding)", vi->preload);

	if ((vi->flags & VERIFY_F_STDIO_NET) && vrule_is_shell(base))
		judge_add(rec, "reverse-shell", OWL_SEV_CRITICAL, "%s is a shell or interpreter and its %s", base,
			  vi->stdio_net);

	if (vrule_is_network_tool(base) || vrule_is_network_tool(p->comm))
		judge_add(rec, "network-tool", OWL_SEV_MEDIUM, "%s is a network tool (%s) holding a connection",
			  vrule_is_network_tool(base) ? base : p->comm, path);

	const struct verify_unit *u = &vi->unit;
	if (u->found && u->owner == VERIFY_OWNER_NONE) {
		bool recent = u->mtime_ns + UNIT_RECENT_NS > owl_now_ns();
		char t[40];
		fmt_time(u->mtime_ns, t, sizeof(t));
		if (u->imitates[0])
			judge_add(rec, "unit-unpackaged", OWL_SEV_MEDIUM,
				  "unit file %s belongs to no package and its name imitates %s", u->path, u->imitates);
		else if (recent)
			judge_add(rec, "unit-unpackaged", OWL_SEV_MEDIUM,
				  "unit file %s belongs to no package and appeared recently (%s)", u->path, t);
		else
			judge_add(rec, "unit-unpackaged", OWL_SEV_LOW, "unit file %s belongs to no package", u->path);
	}
}

/* ---- parallel hashing of the images a scan needs, before verify_proc */

static int vthreads(const struct verify_ctx *c, size_t n)
{
	int threads = c->threads;
	if (threads <= 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		threads = cpus > 4 ? 4 : cpus < 1 ? 1 : (int)cpus;
	}
	if ((size_t)threads > n)
		threads = n ? (int)n : 1;
	return threads;
}

#define PREPARE_PATHS_MAX 256

struct dbjob {
	struct verify_ctx *c;
	char *paths[PREPARE_PATHS_MAX]; /* executables whose owner is not cached */
	size_t n;
};

static void *dbworker(void *arg)
{
	struct dbjob *dj = arg;
	verify_prepare_host_db(dj->c, dj->paths, dj->n);
	return NULL;
}

/* The running image (/proc/PID/exe) open for reading, and its stat. */
static int open_image(const char *path, struct stat *ret)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, ret) != 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

/* md5 and sha256 of every distinct image not in the cache (digest_batch:
 * md5 in SIMD lanes on one thread, sha256 on the others), into the cache
 * when the file did not change while it was read */
static void prehash(struct verify_ctx *c, struct scan_result *r)
{
	size_t cap = r->nprocs ? r->nprocs : 1;
	struct digest_job *jobs = calloc(cap, sizeof(*jobs));
	struct digest_key *keys = calloc(cap, sizeof(*keys));
	if (!jobs || !keys) {
		free(jobs);
		free(keys);
		return;
	}
	size_t n = 0;
	bool need_db = false;
	struct dbjob dj = {.c = c};
	struct owl_u64map seen;
	if (owl_u64map_init(&seen, r->nprocs + 16) < 0) {
		free(jobs);
		free(keys);
		return;
	}
	for (size_t i = 0; i < r->nprocs; i++) {
		const struct owl_proc *p = &r->procs[i];
		if (p->gone || !p->exe[0])
			continue;
		char path[OWL_PATH_MAX + 32];
		snprintf(path, sizeof(path), "%s/%d/exe", c->proc_root, (int)p->pid);
		/* the attribute pass already stat()ed the image: a warm run opens
		 * nothing here */
		int fd = -1;
		struct stat st;
		struct digest_val v;
		struct digest_key k;
		uint32_t dummy;
		if (p->have_exe_st)
			st = p->exe_st;
		else if ((fd = open_image(path, &st)) < 0)
			continue;
		digest_key_from_stat(&st, &k);
		if (!need_db || dj.n < PREPARE_PATHS_MAX) {
			char epath[OWL_PATH_MAX];
			owl_strlcpy(epath, p->exe, sizeof(epath));
			size_t pl = strlen(epath);
			if (pl > 10 && strcmp(epath + pl - 10, " (deleted)") == 0)
				epath[pl - 10] = '\0';
			if (!verify_owner_cached(c, epath, &k)) {
				need_db = true;
				/* a container's path means nothing in the host's database */
				if (dj.n < PREPARE_PATHS_MAX && !p->cg.container_id[0] && (dj.paths[dj.n] = strdup(epath)))
					dj.n++;
			}
		}
		uint64_t h = (k.dev * 0x9e3779b97f4a7c15ull) ^ k.ino ^ ((uint64_t)k.ctime_ns << 1);
		if (!h)
			h = 1;
		if (digest_cache_get(c->cache, &k, &v, NULL) || owl_u64map_get(&seen, h, &dummy) ||
		    owl_u64map_put(&seen, h, 0) < 0) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		if (fd < 0) { /* to be hashed: the key is the open file's */
			if ((fd = open_image(path, &st)) < 0)
				continue;
			digest_key_from_stat(&st, &k);
		}
		jobs[n].fd = fd;
		jobs[n].size = k.size;
		keys[n] = k;
		n++;
	}
	owl_u64map_free(&seen);
	pthread_t dbth;
	/* a cold run indexes the package database while the images are hashed */
	bool dbthread = need_db && pthread_create(&dbth, NULL, dbworker, &dj) == 0;
	uint64_t t0 = owl_now_ns();
	digest_batch(jobs, n, vthreads(c, n), md5mb_pick(), -1);
	if (dbthread)
		pthread_join(dbth, NULL);
	for (size_t i = 0; i < dj.n; i++)
		free(dj.paths[i]);
	for (size_t i = 0; i < n; i++) {
		/* ctime unchanged across the reads (the digests describe the key) */
		struct stat st;
		bool stable = fstat(jobs[i].fd, &st) == 0 &&
			      st.st_ctim.tv_sec * 1000000000ll + st.st_ctim.tv_nsec == keys[i].ctime_ns;
		if (jobs[i].rc == 0 && stable)
			(void)digest_cache_put(c->cache, &keys[i], &jobs[i].v, t0);
		close(jobs[i].fd);
	}
	free(jobs);
	free(keys);
}

struct vpool {
	struct verify_ctx *c;
	struct scan_result *r;
	size_t next;
	int rc;
	pthread_mutex_t mu;
};

static void *vworker(void *arg)
{
	struct vpool *vp = arg;
	for (;;) {
		pthread_mutex_lock(&vp->mu);
		size_t i = vp->next++;
		pthread_mutex_unlock(&vp->mu);
		if (i >= vp->r->nprocs)
			return NULL;
		struct owl_proc *p = &vp->r->procs[i];
		struct verify_info *vi = &vp->c->slab[i];
		int rc = verify_proc_at(vp->c, p, vi);
		if (rc == 0) {
			p->verify = vi;
		} else if (rc == -ENOMEM) {
			pthread_mutex_lock(&vp->mu);
			vp->rc = rc;
			pthread_mutex_unlock(&vp->mu);
		}
		/* other errors: gone, or unreadable: nothing to say */
	}
}


int verify_stage_run(const struct scan_opts *o, struct scan_result *r)
{
	if (o->no_verify)
		return 0;
	struct verify_opts vo = {
		.proc_root = o->proc_root,
		.cache_path = getenv("OWL_DIGEST_CACHE"),
		.unit_root = getenv("OWL_UNIT_ROOT"),
		.threads = o->threads,
	};
	struct verify_ctx *c;
	int rc = verify_ctx_new(&vo, &c);
	if (rc < 0)
		return rc;
	r->verify = c;

	/* which socket inodes are TCP/UDP, for the reverse-shell check */
	const struct owl_conn *conns = r->col.conns.data;
	if (owl_u64map_init(&c->sockmap, r->col.conns.len + 16) == 0) {
		c->have_sockmap = true;
		for (size_t i = 0; i < r->col.conns.len; i++)
			if (conns[i].inode)
				(void)owl_u64map_put(&c->sockmap, conns[i].inode, conns[i].transport);
		verify_ctx_set_sockets(c, &c->sockmap);
	}

	if (verify_slab_alloc(c, r->nprocs) < 0)
		return -ENOMEM;
	prehash(c, r);
	/* the per-process reads (maps, the environment, and for some processes
	 * /proc/PID/{exe,root,environ,fd}) run on the scan's threads; the
	 * context serialises what it shares */
	struct vpool vp = {.c = c, .r = r};
	pthread_mutex_init(&vp.mu, NULL);
	int threads = vthreads(c, r->nprocs);
	pthread_t th[4];
	int started = 0;
	for (int t = 1; t < threads && t < 4; t++)
		if (pthread_create(&th[started], NULL, vworker, &vp) == 0)
			started++;
	vworker(&vp);
	for (int t = 0; t < started; t++)
		pthread_join(th[t], NULL);
	pthread_mutex_destroy(&vp.mu);
	/* done with the package index: back to the process-wide slot; and the
	 * new digests to the cache file now, not when the context is freed
	 * (watch keeps contexts alive: the next enrichment would hash again) */
	verify_release_host_db(c);
	(void)digest_cache_save(c->cache);
	if (vp.rc < 0)
		return vp.rc;
	/* the findings are the process's: judged once per process, shared by
	 * its sockets */
	struct owl_record *tmpl = calloc(r->nprocs ? r->nprocs : 1, sizeof(*tmpl));
	if (!tmpl)
		return -ENOMEM;
	for (size_t i = 0; i < r->nprocs; i++)
		verify_judge(&r->procs[i], &tmpl[i]);
	scan_give_proc_findings(r, tmpl);
	judge_free_findings(tmpl, r->nprocs);
	free(tmpl);
	return 0;
}

/* ---- JSON */

void verify_json_process(struct jsonw *w, const struct owl_proc *p)
{
	const struct verify_info *vi = p ? p->verify : NULL;
	if (!vi || !(vi->flags & VERIFY_F_HASHED))
		return;
	char md5[33];
	digest_hex(vi->md5, 16, md5);
	jsonw_obj_open(w, "hash");
	jsonw_str(w, "sha256", vi->sha256_hex);
	jsonw_str(w, "md5", md5);
	jsonw_obj_close(w);
}

void verify_json_package(struct jsonw *w, const struct owl_proc *p)
{
	const struct verify_info *vi = p ? p->verify : NULL;
	if (!vi || vi->owner != VERIFY_OWNER_PACKAGE)
		return;
	char t[40];
	jsonw_obj_open(w, "package");
	jsonw_str(w, "name", vi->pkg.name);
	if (vi->pkg.version[0])
		jsonw_str(w, "version", vi->pkg.version);
	if (vi->pkg.arch[0])
		jsonw_str(w, "architecture", vi->pkg.arch);
	jsonw_str(w, "type", strcmp(vi->pkg.manager, "rpm") == 0 ? "rpm" : "deb");
	if (vi->pkg.installed_ns) {
		owl_format_time(vi->pkg.installed_ns, t, sizeof(t));
		jsonw_str(w, "installed", t);
	}
	jsonw_obj_close(w);
}

static void json_owl_container(struct jsonw *w, const struct verify_info *vi);

static const char *owner_name(int o)
{
	return o == VERIFY_OWNER_PACKAGE ? "package" : o == VERIFY_OWNER_NONE ? "none" : "unknown";
}

void verify_json_owl(struct jsonw *w, const struct owl_proc *p)
{
	const struct verify_info *vi = p ? p->verify : NULL;
	if (!vi)
		return;
	char t[40];
	jsonw_obj_open(w, "verify");
	jsonw_str(w, "state", verify_state_name(vi->state));
	jsonw_str(w, "on_disk", verify_disk_name(vi->disk));
	jsonw_str(w, "owner", owner_name(vi->owner));
	if (vi->owner == VERIFY_OWNER_PACKAGE) {
		jsonw_str(w, "package", vi->pkg.name);
		if (vi->pkg.version[0])
			jsonw_str(w, "version", vi->pkg.version);
	}
	if (vi->path[0])
		jsonw_str(w, "path", vi->path);
	if (vi->expected_md5[0])
		jsonw_str(w, "recorded_md5", vi->expected_md5);
	if (vi->diverted_by[0])
		jsonw_str(w, "diverted_by", vi->diverted_by);
	if (vi->flags & VERIFY_F_HASHED)
		jsonw_bool(w, "digest_cached", (vi->flags & VERIFY_F_CACHED) != 0);
	if (vi->flags & VERIFY_F_CONTAINER)
		jsonw_bool(w, "container_root", true);
	if (vi->note[0])
		jsonw_str(w, "note", vi->note);
	if (vi->flags & (VERIFY_F_PRELOAD_ENV | VERIFY_F_PRELOAD_FILE | VERIFY_F_MAP_DELETED | VERIFY_F_MAP_WRITABLE)) {
		jsonw_obj_open(w, "preload");
		jsonw_bool(w, "env", (vi->flags & VERIFY_F_PRELOAD_ENV) != 0);
		jsonw_bool(w, "ld_so_preload", (vi->flags & VERIFY_F_PRELOAD_FILE) != 0);
		jsonw_bool(w, "deleted_library", (vi->flags & VERIFY_F_MAP_DELETED) != 0);
		if (vi->flags & VERIFY_F_MAP_DELETED)
			jsonw_bool(w, "replaced_by_upgrade", (vi->flags & VERIFY_F_MAP_UPGRADED) != 0);
		jsonw_bool(w, "writable_library", (vi->flags & VERIFY_F_MAP_WRITABLE) != 0);
		jsonw_str(w, "library", vi->preload);
		jsonw_obj_close(w);
	}
	if (vi->flags & VERIFY_F_STDIO_NET)
		jsonw_str(w, "stdio_network", vi->stdio_net);
	const struct verify_unit *u = &vi->unit;
	if (u->found) {
		jsonw_obj_open(w, "unit");
		jsonw_str(w, "file", u->path);
		jsonw_str(w, "owner", owner_name(u->owner));
		if (u->owner == VERIFY_OWNER_PACKAGE) {
			jsonw_str(w, "package", u->pkg.name);
			if (u->pkg.version[0])
				jsonw_str(w, "version", u->pkg.version);
		}
		owl_format_time(u->mtime_ns, t, sizeof(t));
		jsonw_str(w, "appeared", t);
		if (u->imitates[0])
			jsonw_str(w, "imitates", u->imitates);
		jsonw_obj_close(w);
	}
	jsonw_obj_close(w);
	json_owl_container(w, vi);
}

/* ---- the container's image (src/verify/cimage.c) */

static const struct cimage_info *cinfo(const struct owl_proc *p)
{
	const struct verify_info *vi = p ? p->verify : NULL;
	return vi && vi->container.found ? &vi->container : NULL;
}

const char *verify_container_image(const struct owl_proc *p)
{
	const struct cimage_info *ci = cinfo(p);
	return ci ? ci->image : "";
}

void verify_json_container(struct jsonw *w, const struct owl_proc *p)
{
	const struct cimage_info *ci = cinfo(p);
	if (!ci)
		return;
	if (ci->name[0])
		jsonw_str(w, "name", ci->name);
	if (!ci->image_name[0] && !ci->image_digest[0])
		return;
	jsonw_obj_open(w, "image");
	if (ci->image_name[0])
		jsonw_str(w, "name", ci->image_name);
	if (ci->image_tag[0]) {
		jsonw_arr_open(w, "tag");
		jsonw_str(w, NULL, ci->image_tag);
		jsonw_arr_close(w);
	}
	if (ci->image_digest[0]) {
		jsonw_obj_open(w, "hash");
		jsonw_arr_open(w, "all");
		jsonw_str(w, NULL, ci->image_digest);
		jsonw_arr_close(w);
		jsonw_obj_close(w);
	}
	jsonw_obj_close(w);
}

void verify_json_orchestrator(struct jsonw *w, const struct owl_proc *p)
{
	const struct cimage_info *ci = cinfo(p);
	if (ci && ci->pod_namespace[0])
		jsonw_str(w, "namespace", ci->pod_namespace);
}

void verify_json_pod(struct jsonw *w, const struct owl_proc *p)
{
	const struct cimage_info *ci = cinfo(p);
	if (ci && ci->pod_name[0])
		jsonw_str(w, "name", ci->pod_name);
}

/* owl.container: what ECS has no field for */
static void json_owl_container(struct jsonw *w, const struct verify_info *vi)
{
	const struct cimage_info *ci = &vi->container;
	if (!ci->found)
		return;
	jsonw_obj_open(w, "container");
	jsonw_str(w, "source", ci->source);
	if (ci->image[0])
		jsonw_str(w, "image_reference", ci->image);
	if (ci->image_id[0])
		jsonw_str(w, "image_id", ci->image_id);
	jsonw_obj_close(w);
}
