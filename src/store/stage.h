/* The "baseline" scan stage: for every outbound connection with an owner,
 * the process identity (with the digest of its running image), then
 *   - the baseline (when the store holds one): `documented` (info; an
 *     allowance's note is the reason) or `new-destination` (low);
 *   - the common-cause catalogue, only for a process the verify stage
 *     found intact (package-owned, digest ok): `known-agent` (info).
 * A benign match lowers the destination findings (port-unusual,
 * metadata-service, high-volume, large-upload, repeated-attempts,
 * beaconing, new-destination) to info; it never touches the findings
 * about the process itself, and it is not made at all when the record
 * carries an integrity finding (exe-modified, exe-deleted, exe-memfd,
 * preload, name-mismatch, reverse-shell, ioc-match).
 */
#ifndef OWL_STORE_STAGE_H
#define OWL_STORE_STAGE_H

#include <stdbool.h>

#include "judge/catalogue.h"
#include "pipeline/scan.h"
#include "render/jsonw.h"
#include "store/baseline.h"
#include "store/imgdigest.h"

enum bm_status {
	BM_NOT_CHECKED = 0, /* not an outbound connection with an owner */
	BM_NO_BASELINE,     /* identity known, but no baseline to compare with */
	BM_DOCUMENTED,      /* covered by an entry */
	BM_NEW,             /* a baseline exists and does not cover it */
	BM_HELD_BACK,       /* an entry covers it, but an integrity finding forbids trust */
};

/* A process's identity as `baseline learn` records it: one per process,
 * shared by all its sockets. */
struct bm_identity {
	bool verified;                        /* the verify stage vouched for the image */
	char digest[IMGDIGEST_HEX_MAX];          /* "" when it could not be read */
	char package[BL_PKG_MAX];
	char user[OWL_USER_MAX];
	char unit[OWL_UNIT_MAX];
};

/* Behind owl_record.baseline (one per outbound socket with an owner). */
struct baseline_match {
	uint8_t status;                       /* enum bm_status */
	const struct baseline_rule *entry;    /* BM_DOCUMENTED / BM_HELD_BACK */
	const struct cat_entry *agent;        /* known-agent entry, or NULL */
	const struct bm_identity *id;         /* never NULL once judged */
};

struct bl_gen;

/* Behind scan_result.store. */
struct store_ctx {
	struct bl_gen *gen;                   /* the loaded baseline + catalogue (shared, counted) */
	const struct baseline_set *set;       /* inside gen: every entry (n = 0: no baseline) */
	const struct catalogue *cat;          /* inside gen: the catalogue and its file:line errors */
	bool have_db;                         /* a store was opened */
	struct baseline_match *m;             /* one per candidate record */
	size_t nm;
	struct bm_identity *ids;              /* one per process of the scan */
};

/* The stage (scan_stages[]).  The store, the baseline and the catalogue
 * are loaded once per process and kept (for watch, which runs the stages
 * once per new connection pair): the baseline is reloaded when another
 * connection changed the database (PRAGMA data_version), the catalogue
 * every STAGE_CATALOGUE_TTL_S seconds.  Records keep what they matched even
 * after a reload.  Not thread-safe: run the stages from one thread. */
#define STAGE_CATALOGUE_TTL_S 10
int baseline_stage_run(const struct scan_opts *o, struct scan_result *r);

/* Drop the process-wide store and caches.  Registered with atexit() on
 * first use; safe to call any time. */
void baseline_stage_reset(void);

/* Frees ctx and everything behind it (NULL is fine). */
void store_ctx_free(struct store_ctx *ctx);

/* The JSON fields of a record: "baseline": {...} and "known_agent": {...}
 * inside the open "owl" object (nothing when the stage did not run). */
void baseline_report_json(struct jsonw *w, const struct owl_record *rec);

/* The rules of the stage for one candidate record whose identity is
 * already in m (digest, package, verified, user, unit): sets m->status,
 * m->entry, m->agent, adds documented / new-destination / known-agent and
 * lowers the destination findings after a benign match. */
void baseline_judge_record(const struct baseline_set *set, const struct catalogue *cat, struct owl_record *rec,
			   struct baseline_match *m);

/* Apply the benign-match rule again to a record whose findings grew after
 * the stage ran (watch adds beaconing, repeated-attempts, high-volume per
 * event): when rec->baseline says documented or known-agent and no
 * integrity finding is present, destination findings drop to info. */
void baseline_settle(struct owl_record *rec);

/* Does the stage consider this record (outbound, an owner, a remote end)? */
bool baseline_candidate(const struct owl_record *rec);

/* The transport name of a record as stored ("tcp", "udp", "raw"). */
const char *baseline_transport(const struct owl_record *rec);

#endif
