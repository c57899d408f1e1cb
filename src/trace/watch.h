/* Events → records: what `owl watch` does with each trace record.
 *
 * For a connection event it builds an owl_record (owl_conn from the event,
 * owl_proc from a per-process cache filled by procinfo_load() or, for a
 * process already gone, by its exec record), runs the scan's enrichment
 * stages (scan_stages[]) and judge over it — cached per (program, endpoint)
 * so a burst of connections costs one enrichment, and rate-limited, since a
 * stage run may be heavy (verify loads the package index) — then adds the findings
 * that only time shows: repeated-attempts, beaconing, high-volume (a rate).
 * DNS answers, exec and exit records update the caches and emit nothing. */
#ifndef OWL_TRACE_WATCH_H
#define OWL_TRACE_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/model.h"
#include "pipeline/scan.h"
#include "trace/bpf/owl_trace.h"

enum watch_action {
	WATCH_ATTEMPTED = 0, /* poll backend: a connect still in SYN-SENT */
	WATCH_ESTABLISHED,
	WATCH_FAILED,
	WATCH_CLOSED,
	WATCH_ACCEPTED,
	WATCH_UDP_SENT,
	WATCH__ACTIONS,
};

/* "connection-attempted", ..., "udp-sent" */
const char *watch_action_name(int action);

/* What the event adds to a record (owl_record.trace). */
struct trace_info {
	uint8_t action;        /* enum watch_action */
	uint8_t result;        /* enum owl_conn_result */
	int32_t err;           /* errno of a failed connect */
	uint64_t time_ns;      /* wall clock of the event */
	bool has_duration;
	uint64_t duration_ns;  /* connect: time to the outcome; close: lifetime */
	bool has_bytes;
	uint64_t bytes_sent, bytes_received;
	char domain[256];      /* the name the process resolved to this address, "" if none */
};

/* Thresholds of the findings over time (see watch.c for the defaults). */
struct watch_params {
	uint32_t repeat_window_s;   /* repeated-attempts: window */
	uint32_t repeat_low;        /* failed attempts in the window for low */
	uint32_t repeat_medium;     /* ... for medium */
	uint32_t volume_window_s;   /* high-volume: window */
	uint32_t volume_rate;       /* connections per second over the window */
	uint32_t dns_min_ttl_s, dns_max_ttl_s;
	uint32_t enrich_ttl_s;      /* re-run the stages for a pair after this */
	uint32_t enrich_per_s;      /* stage runs a second at most (a run loads e.g. */
	uint32_t enrich_burst;      /* the dpkg index), and in a burst */
	uint32_t attempt_hold_ms;   /* show a connect with no outcome after this long */
};

void watch_params_default(struct watch_params *ret);

struct watch_opts {
	const struct scan_opts *scan;  /* passed to the stages (--intel, --db) */
	const char *proc_root;         /* "/proc" */
	struct watch_params params;
};

/* A finished record for the output.  s is the scan_result the stages filled
 * (for report_record_fields); valid during the callback only. */
typedef void (*watch_emit_cb)(const struct scan_result *s, const struct owl_record *rec, void *ud);

#define WATCH_FINDING_IDS 32

struct watch_stats {
	uint64_t records;                   /* trace records handled */
	uint64_t events[WATCH__ACTIONS];    /* records emitted, per action */
	uint64_t dns_answers, execs, exits;
	uint64_t enrich_runs, stage_errors;
	uint64_t enrich_deferred;           /* events shown without (fresh) stage findings: rate limit */
	uint64_t alerts;                    /* events at medium or above */
	size_t nfindings;
	const char *finding_id[WATCH_FINDING_IDS];
	uint64_t finding_events[WATCH_FINDING_IDS]; /* events that carried it */
};

struct watch;

/* Create.  Runs the stages once on an empty scan, so that an option they
 * cannot honour (an unreadable --intel file) fails here, with the stage's
 * name in *ret_failed_stage.  Returns 0 or -errno. */
int watch_new(const struct watch_opts *o, struct watch **ret, const char **ret_failed_stage);

/* Handle one trace record; emit() is called for each output record. */
void watch_feed(struct watch *w, const struct owl_ev_hdr *ev, watch_emit_cb emit, void *ud);

/* Emit the attempts still without an outcome after the hold time (the
 * destination does not answer), as connection-attempted.  Call after each
 * drain; now_boot_ns is CLOCK_BOOTTIME (0 = emit them all, at stop). */
void watch_tick(struct watch *w, uint64_t now_boot_ns, watch_emit_cb emit, void *ud);

void watch_get_stats(const struct watch *w, struct watch_stats *ret);

/* Wall clock (ns since the epoch) of a boot-clock timestamp from the kernel. */
uint64_t watch_wall_ns(const struct watch *w, uint64_t boot_ns);

void watch_free(struct watch *w);

#endif
