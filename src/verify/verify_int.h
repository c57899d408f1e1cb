/* verify's internals shared between its own files (not for other stages). */
#ifndef OWL_VERIFY_INT_H
#define OWL_VERIFY_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/stat.h>

#include "verify/digest.h"
#include "verify/dpkg.h"
#include "verify/verify.h"

#define VERIFY_CACHE_DEFAULT "/var/cache/owl/digests"
#define VERIFY_ROOTS_MAX 64

/* verify_proc() may run on several threads at once: everything below that
 * changes after verify_ctx_new() (cache, databases, lists) is touched only
 * under mu. */
struct verify_ctx {
	pthread_mutex_t mu;
	char proc_root[OWL_PATH_MAX];
	int threads;
	uint64_t now_ns;
	int host_root_fd;
	struct stat host_root_st;
	struct dpkg_db *host_db;   /* borrowed from the process-wide kept index, or built; NULL
				    * between uses (verify_release_host_db) */
	bool host_db_tried;
	bool host_db_gen_ok;       /* host_db_gen is the generation the index was built at */
	uint64_t host_db_gen;
	bool host_gen_done, host_gen_ok;
	uint64_t host_gen;
	int host_db_err;           /* the host has no readable database: not asked again */
	struct {
		uint64_t dev, ino;
		struct dpkg_db *db;
	} roots[VERIFY_ROOTS_MAX];
	size_t nroots;
	struct digest_cache *cache;
	const struct owl_u64map *sockets;
	bool preload_file_checked;
	_Atomic bool no_maps_query; /* the kernel has no PROCMAP_QUERY: read maps as text */
	char host_preload[OWL_PATH_MAX];
	/* the verify_info the stage made, one per process of the scan, freed
	 * with the context: one zeroed array (verify_slab_alloc) */
	struct verify_info *slab;
	size_t slab_mapped;      /* > 0: mmap()ed, that long */
	/* unit files */
	int unit_root_fd;
	bool unit_root_is_host;
	bool units_listed;
	char **units;            /* names of packaged unit files */
	size_t nunits;
	struct cimage_ctx *cimages; /* container images, cached per container id */
	/* owned by the scan stage */
	struct owl_u64map sockmap;
	bool have_sockmap;
};

struct dpkg_db *verify_host_db(struct verify_ctx *c);
/* How many times this process indexed the host's package database (tests). */
unsigned verify_host_index_builds(void);
/* Give the host's index back to the process-wide slot (the next use, by this
 * context or another, borrows it again).  The scan stage calls it when done:
 * owl watch keeps each enrichment's context alive for as long as it caches
 * the result, and an index held by an idle context would make the next
 * enrichment build its own. */
void verify_release_host_db(struct verify_ctx *c);
/* md5 and sha256 of the open image fd whose fstat is st: from the cache,
 * else hashed (and cached when st's ctime held across the read). */
int verify_image_digest(struct verify_ctx *c, int fd, const struct stat *st, struct digest_val *ret,
			bool *ret_cached, struct digest_key *ret_key);
int verify_owner_of(struct verify_ctx *c, int root_fd, bool is_host, const char *path, const struct digest_key *k,
		    const uint8_t *md5, struct digest_owner *ret, const char **note);
/* Is the owner of the host file `path` with identity k in the cache? */
bool verify_owner_cached(struct verify_ctx *c, const char *path, const struct digest_key *k);
/* Index the host's package database now (so it can overlap hashing), and
 * look the host paths up (so a path that needs the .list files has them
 * read now too). */
void verify_prepare_host_db(struct verify_ctx *c, char *const *paths, size_t npaths);
/* verify_path_owner() with the file's identity, so the answer is cached. */
int verify_path_owner_key(struct verify_ctx *c, const char *path, const struct digest_key *k, struct verify_pkg *ret);
/* ret: zeroed by the caller (it is part of a new verify_info). */
void verify_unit_info(struct verify_ctx *c, const struct owl_proc *p, struct verify_unit *ret);
/* The name rule with the file system behind it (root_fd: the process's root;
 * exe_st: fstat of its running image, may be NULL). */
void verify_check_name(struct verify_ctx *c, const struct owl_proc *p, int root_fd, bool is_host,
		       const struct stat *exe_st, const char *exe_path, struct verify_info *vi);

/* The stage's array of n zeroed verify_info (c->slab), and its release. */
int verify_slab_alloc(struct verify_ctx *c, size_t n);
void verify_slab_free(struct verify_ctx *c);

/* verify_proc into vi, which the caller zeroed and owns (nothing is freed
 * on failure).  Same returns. */
int verify_proc_at(struct verify_ctx *c, const struct owl_proc *p, struct verify_info *vi);

#endif
