/* The scan pipeline: collect → attribute → judge, as plain structs.
 * Later stages (verify, endpoint, store) plug into scan_run(). */
#ifndef OWL_SCAN_H
#define OWL_SCAN_H

#include <stdbool.h>
#include <stddef.h>

#include "attribute/fdmap.h"
#include "collect/collect.h"
#include "core/model.h"

struct scan_opts {
	struct collect_opts collect;
	const char *proc_root;   /* "/proc" */
	int threads;             /* for the /proc/PID/fd walk; 0 = number of CPUs (max 4) */
	bool all;                /* keep every socket (else the default view) */
	/* options of the later stages (see contract.md) */
	bool no_verify;          /* --no-verify */
	const char *const *intel;/* --intel FILE... */
	size_t nintel;
	const char *db_path;     /* --db FILE */
	const char *geoip;       /* --geoip FILE */
	bool resolve;            /* --resolve */
	/* endpoint stage (issue 4) */
	const char *intel_dir;   /* --intel-dir DIR: NULL = /etc/owl/intel.d, "" = none */
	const char *const *geoips; /* --geoip FILE... (geoip is the first of them) */
	size_t ngeoip;
	const struct endpoint_limits *endpoint_limits; /* --limit NAME=VALUE; NULL = defaults */
	enum fdmap_backend owners; /* --owners auto|bpf|proc: who builds the owner map */
};

struct scan_result;

/* An enrichment stage: adds fields and findings to r->recs / r->procs.
 * Runs after attribution and before the verdict, in the order of
 * scan_stages[].  Returns 0 or -errno (the scan then fails with exit 2, so
 * return an error only when the user's request cannot be honoured, e.g. an
 * unreadable --intel file). */
struct scan_stage {
	const char *name;
	int (*run)(const struct scan_opts *o, struct scan_result *r);
};

struct scan_result {
	struct collect_result col;
	struct owl_record *recs;     /* sorted, most suspicious first */
	size_t nrecs;                /* records shown */
	size_t ntotal;               /* sockets found before the view filter */
	size_t nalloc;               /* records allocated */
	struct owl_proc *procs;      /* every owner process, sorted by pid */
	size_t nprocs;
	uint32_t *pidpool;           /* storage behind recs[].pids */
	unsigned pids_seen, pids_denied;
	unsigned procs_gone;         /* owners that exited mid-scan */
	bool is_root;                /* had what it needs to see everything */
	uint64_t time_ns;            /* when the scan started */
	/* where the time went, ns (for --verbose and the benchmark) */
	uint64_t t_collect, t_attribute, t_stages, t_judge;
	uint64_t t_stage[8];         /* each of scan_stages[], in order (first 8) */
	long kb_collect, kb_attribute, kb_stages; /* peak RSS (KiB) after each phase, for --verbose */
	const char *failed_stage;    /* the stage that failed, when scan_run fails there */
	/* per-stage state that outlives the stage (freed by scan_result_free) */
	struct verify_ctx *verify;
	struct endpoint_ctx *endpoint;
	struct store_ctx *store;
	struct origin_ctx *origin;   /* src/attribute/origin_stage (issue 7) */
	struct fdmap_how owners_how; /* which backend built the owner map, and why */
};

/* Run a scan.  Returns 0, or -errno when nothing could be collected at all
 * (e.g. -ENOENT for a --netns that names no namespace). */
int scan_run(const struct scan_opts *o, struct scan_result *ret);
void scan_result_free(struct scan_result *r);

/* The process with this pid among r->procs, or NULL. */
struct owl_proc *scan_find_proc(const struct scan_result *r, pid_t pid);

/* Where p stands in r->procs: true and *ret set when p is one of this
 * scan's processes. */
bool scan_proc_index(const struct scan_result *r, const struct owl_proc *p, size_t *ret);

/* Give each record the findings of tmpl[i], the template judged once for
 * its owner r->procs[i] (a stage whose findings are the process's, not the
 * socket's).  Records owned by no process of r get none. */
void scan_give_proc_findings(struct scan_result *r, const struct owl_record *tmpl);

/* The namespace record for an inode, or NULL. */
const struct owl_netns *scan_find_netns(const struct scan_result *r, uint64_t ino);

#endif
