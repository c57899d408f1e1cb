/* verify — is the program behind a process the one the system installed?
 *
 * For a process this stage answers, from evidence only:
 *   - which package owns its executable (dpkg; rpm when built with librpm),
 *     and at which version;
 *   - whether the RUNNING image (read through /proc/PID/exe, so a deleted
 *     file or a file mounted over the path is still the one that runs)
 *     matches the digest the package manager recorded;
 *   - where the image lives (present on disk, deleted, memfd);
 *   - preload, name, reverse-shell and network-tool signs;
 *   - the systemd unit file behind the process and who owns it.
 * "ok" is only ever said with evidence: no record, no database, no
 * readable image → "unknown".
 *
 * Use:
 *   scan:  the stage verify_stage_run() (src/pipeline/stages.c) fills
 *          owl_proc.verify for every owner and adds findings to records;
 *          the run-wide context sits in scan_result.verify.
 *   watch: verify_ctx_new() once, then verify_proc() per new process and
 *          verify_judge() per event record; verify_ctx_free() at the end.
 *   origin (recent-binary): verify_path_owner() — package owning a path and
 *          when its file list was written.
 *   store (baselines, known agents): verify_identity() — the digest,
 *          package and state to match, and whether the process passed.
 *
 * Every function returns 0 or -errno; out-parameters are untouched on
 * failure.  Nothing here prints.  A process that vanishes mid-way yields
 * -ENOENT/-ESRCH from verify_proc(), which callers treat as normal.
 */
#ifndef OWL_VERIFY_H
#define OWL_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/hashmap.h"
#include "core/model.h"
#include "verify/cimage.h"

struct jsonw;
struct scan_opts;
struct scan_result;

/* Digest state of the running image against the package manager's record. */
enum verify_state {
	VERIFY_UNKNOWN = 0, /* no record to compare with (unpackaged, no db, unreadable image) */
	VERIFY_OK,          /* digest equals the record */
	VERIFY_MODIFIED,    /* digest differs from the record */
};

/* Where the running image lives. */
enum verify_disk {
	VERIFY_DISK_UNKNOWN = 0, /* /proc/PID/exe unreadable (kernel thread, EACCES) */
	VERIFY_DISK_PRESENT,
	VERIFY_DISK_DELETED,     /* unlinked (or replaced) since exec */
	VERIFY_DISK_MEMFD,       /* memfd / anonymous file: nothing on disk */
};

/* Whether a package owns the executable. */
enum verify_owner {
	VERIFY_OWNER_UNKNOWN = 0, /* could not tell (no package db for this root, rpm host) */
	VERIFY_OWNER_PACKAGE,     /* owned: see verify_pkg */
	VERIFY_OWNER_NONE,        /* a package db was consulted and owns no such path */
};

#define VERIFY_PKG_MAX 128
#define VERIFY_VERSION_MAX 128
#define VERIFY_NOTE_MAX 160

/* A package and when its file list was written (≈ installed/upgraded). */
struct verify_pkg {
	char manager[8];                 /* "dpkg", "rpm", "" */
	char name[VERIFY_PKG_MAX];       /* e.g. "netcat-openbsd" ("" = none) */
	char arch[32];                   /* "amd64", "all", "" */
	char version[VERIFY_VERSION_MAX];/* e.g. "1.219-1" */
	uint64_t installed_ns;           /* mtime of info/<pkg>.list, 0 if unknown */
};

/* The systemd unit file behind a process (owl_proc.cg.unit). */
struct verify_unit {
	bool found;                      /* a unit file was found for cg.unit */
	char path[OWL_PATH_MAX];         /* where, as seen from the unit root */
	uint8_t owner;                   /* enum verify_owner of the unit file */
	struct verify_pkg pkg;           /* when owner == VERIFY_OWNER_PACKAGE */
	uint64_t mtime_ns;               /* when the file appeared (max of mtime, ctime) */
	char imitates[OWL_UNIT_MAX];     /* "" or what its name imitates ("systemd-*", "ssh.service") */
};

/* Bits of verify_info.flags. */
enum {
	VERIFY_F_PRELOAD_ENV = 1u << 0,   /* LD_PRELOAD set in /proc/PID/environ */
	VERIFY_F_PRELOAD_FILE = 1u << 1,  /* /etc/ld.so.preload non-empty (in the process's root) */
	VERIFY_F_MAP_DELETED = 1u << 2,   /* a deleted file is mapped executable */
	VERIFY_F_MAP_WRITABLE = 1u << 3,  /* a library is mapped from a writable location */
	VERIFY_F_STDIO_NET = 1u << 4,     /* fd 0, 1 or 2 is a TCP/UDP socket (looked at for shells
					   * and interpreters only) */
	VERIFY_F_CONTAINER = 1u << 5,     /* root differs from owl's: resolved through /proc/PID/root */
	VERIFY_F_HASHED = 1u << 6,        /* md5/sha256 below are valid */
	VERIFY_F_CACHED = 1u << 7,        /* digests came from the digest cache (key re-validated) */
	VERIFY_F_NAME_MISMATCH = 1u << 8, /* comm/argv[0] pretend to be another program: name_mismatch */
	VERIFY_F_MAP_UPGRADED = 1u << 9,  /* every deleted library is back at its path as a packaged
					   * file: an upgrade the process outlived */
};

/* What verify learnt about one process; owned by the verify context (scan)
 * or by the caller of verify_proc() (free with verify_info_free()). */
struct verify_info {
	uint8_t state;                   /* enum verify_state */
	uint8_t disk;                    /* enum verify_disk */
	uint8_t owner;                   /* enum verify_owner */
	uint32_t flags;                  /* VERIFY_F_* */
	uint8_t md5[16];
	uint8_t sha256[32];
	char sha256_hex[65];             /* "" unless VERIFY_F_HASHED */
	char expected_md5[33];           /* the package's record, "" if none */
	char path[OWL_PATH_MAX];         /* the path looked up in the db (after /usr merge, diversion) */
	char diverted_by[VERIFY_PKG_MAX];/* package that diverted the path away, "" */
	struct verify_pkg pkg;           /* valid when owner == VERIFY_OWNER_PACKAGE */
	struct verify_unit unit;
	char preload[OWL_PATH_MAX];      /* first preloaded/suspicious library, for the reason */
	char stdio_net[64];              /* "fd 0 is a TCP socket" when VERIFY_F_STDIO_NET */
	char note[VERIFY_NOTE_MAX];      /* why state is unknown, when it is */
	char name_mismatch[OWL_REASON_MAX]; /* the name rule's reason when VERIFY_F_NAME_MISMATCH */
	char exe_path[OWL_PATH_MAX];     /* the executable as the process sees it: without " (deleted)"
					  * and, in a chroot/container, relative to its root */
	struct cimage_info container;    /* image and name from the container runtime (found = it knew) */
};

/* Settings of a verify context.  NULL/0 fields take the defaults shown. */
struct verify_opts {
	const char *proc_root;   /* "/proc" */
	const char *cache_path;  /* digest cache file: NULL = "/var/cache/owl/digests"; "" = no cache file
				  * (the scan stage takes it from $OWL_DIGEST_CACHE) */
	const char *unit_root;   /* root under which unit files are looked up: "/" ($OWL_UNIT_ROOT) */
	int threads;             /* threads of the scan stage; 0 = CPUs (max 4) */
	const char *runtime_root;/* prefix of the container runtimes' state (src/verify/cimage.h):
				  * NULL = $OWL_RUNTIME_ROOT, else "/" */
};

struct verify_ctx;

/* Create a context: indexes the host's package database lazily (once, at
 * first use) and loads the digest cache.  Returns 0, -ENOMEM.  A missing
 * or unreadable database or cache is not an error (answers become
 * "unknown" / hashes are recomputed). */
int verify_ctx_new(const struct verify_opts *o, struct verify_ctx **ret);

/* Write the digest cache back (when it changed) and free everything,
 * including the verify_info of every process verified by the stage.
 * Accepts NULL. */
void verify_ctx_free(struct verify_ctx *c);

/* Tell the context which socket inodes are TCP/UDP (from a scan or a live
 * event stream), so a stdio fd can be recognised as a network socket
 * without a further look.  Optional: inodes not in the set are looked up
 * through pidfd_getfd(2).  The map values are enum owl_transport. */
void verify_ctx_set_sockets(struct verify_ctx *c, const struct owl_u64map *inode_transport);

/* Verify one process.  *ret is a new verify_info the caller frees with
 * verify_info_free() (set p->verify to it before verify_judge()).  May be
 * called from several threads on one context.  Returns 0, -ESRCH when the
 * process is gone, -ENOMEM. */
int verify_proc(struct verify_ctx *c, const struct owl_proc *p, struct verify_info **ret);
void verify_info_free(struct verify_info *vi);

/* Add the findings of p (p->verify must be set) to rec through judge_add():
 * exe-deleted, exe-memfd, exe-writable-location, exe-unpackaged,
 * exe-modified, name-mismatch, preload, reverse-shell, network-tool,
 * unit-unpackaged.  Severities: docs/verify.md. */
void verify_judge(const struct owl_proc *p, struct owl_record *rec);

/* Called by scan_run() before it collects: when this run will likely
 * need the host's package index (no digest cache file, or dpkg changed the
 * database after the file was written), start building it in a thread of
 * its own, so it overlaps collection and attribution; the stage picks it
 * up.  Does nothing with --no-verify or a warm cache. */
void verify_stage_prestart(const struct scan_opts *o);
/* Read the digest cache file now (the stage takes it over).  scan calls it
 * when collection is done and the owner map may still be loading. */
void verify_stage_preload(const struct scan_opts *o);

/* Verify every owner of r and judge every record (the scan stage). */
int verify_stage_run(const struct scan_opts *o, struct scan_result *r);

/* Which package owns `path` (absolute, as the kernel reports it) on the
 * host, after the /usr merge and diversions; *ret gets name, version and
 * installed_ns.  Returns 0, -ENOENT when no package owns it, -ENODATA when
 * there is no package database. */
int verify_path_owner(struct verify_ctx *c, const char *path, struct verify_pkg *ret);

/* The verified identity of a process, for baselines and the known-agent
 * catalogue.  passed is true only when the running image matched its
 * package record (state ok), it is on disk, and no integrity finding
 * (preload, name-mismatch, reverse-shell, deleted, memfd) applies. */
struct verify_identity {
	bool passed;
	uint8_t state;                   /* enum verify_state */
	char sha256_hex[65];             /* "" when not hashed */
	char package[VERIFY_PKG_MAX];    /* "" when unpackaged/unknown */
	char version[VERIFY_VERSION_MAX];
};
/* Fill *ret from p->verify.  Returns 0, -ENODATA when p was not verified. */
int verify_identity(const struct owl_proc *p, struct verify_identity *ret);

/* JSON: "hash":{"sha256"} inside an open "process" object; "package":{…}
 * at the top level; "verify":{…} inside the open "owl" object.  Each does
 * nothing when p is NULL or was not verified. */
void verify_json_process(struct jsonw *w, const struct owl_proc *p);
void verify_json_package(struct jsonw *w, const struct owl_proc *p);
void verify_json_owl(struct jsonw *w, const struct owl_proc *p);
/* Inside the open "container" object: name, image {name, tag, hash.all};
 * inside "orchestrator": namespace; inside its "resource": name (the pod).
 * Nothing when the runtime did not say. */
void verify_json_container(struct jsonw *w, const struct owl_proc *p);
void verify_json_orchestrator(struct jsonw *w, const struct owl_proc *p);
void verify_json_pod(struct jsonw *w, const struct owl_proc *p);
/* "nginx:1.25" / "" — the container image for a person, escaped later. */
const char *verify_container_image(const struct owl_proc *p);

const char *verify_state_name(int s); /* "ok", "modified", "unknown" */
const char *verify_disk_name(int d);  /* "present", "deleted", "memfd", "unknown" */

#endif
