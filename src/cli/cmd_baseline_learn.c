/* owl baseline learn: record what this machine does now.
 *
 * One scan records every connection that exists now.  With --duration D,
 * owl then keeps learning for D:
 *   --backend auto|ebpf|poll  through owl watch's live backend (src/trace/):
 *                             every connection as it is made (eBPF), or
 *                             what lives across a snapshot (poll);
 *   --backend scan            by scanning again every --interval.
 * auto falls back to scan when no live backend can start, and says so. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cmd_baseline.h"
#include "core/addr.h"
#include "core/util.h"
#include "pipeline/scan.h"
#include "render/escape.h"
#include "store/baseline.h"
#include "store/stage.h"
#include "store/store.h"
#include "trace/trace.h"
#include "trace/watch.h"

enum aggregate { AGG_ADDR = 0, AGG_PREFIX, AGG_DOMAIN };

enum learn_backend { LB_AUTO = 0, LB_EBPF, LB_POLL, LB_SCAN };

/* Flush learned events to the store at least this often / this many. */
#define LEARN_FLUSH_MS 500
#define LEARN_FLUSH_MAX 1024

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct learner {
	struct store *s;
	char host[BL_HOST_MAX];
	enum aggregate agg;
	struct owl_vec pending;     /* struct baseline_entry, not yet written */
	size_t recorded, skipped, events;
	int err;                    /* first store error */
	bool one_netns;             /* --netns: live events only from ... */
	uint64_t netns_ino;         /* ... this namespace */
};

/* The destination as learned: the address, its /24 or /64, or the domain
 * the process resolved (when known; else the address). */
static void learn_dest(const struct owl_record *rec, enum aggregate agg, char *buf, size_t bufsz)
{
	char ip[OWL_ADDRSTR_MAX];
	struct owl_addr m = rec->conn.raddr;
	if (agg == AGG_DOMAIN && rec->trace && rec->trace->domain[0]) {
		owl_strlcpy(buf, rec->trace->domain, bufsz);
		return;
	}
	if (agg != AGG_PREFIX) {
		snprintf(buf, bufsz, "%s", owl_addr_str(&m, ip));
		return;
	}
	unsigned bits = m.family == AF_INET ? 24 : 64;
	size_t keep = bits / 8;
	memset(m.bytes + keep, 0, owl_addr_len(&m) - keep);
	snprintf(buf, bufsz, "%s/%u", owl_addr_str(&m, ip), bits);
}

/* A learned entry from a record the baseline stage looked at.  Returns 0,
 * or -EINVAL when the record has no identity owl could check later. */
static int entry_from_record(const struct learner *l, const struct owl_record *rec, int64_t now,
			     struct baseline_entry *e)
{
	const struct baseline_match *m = rec->baseline;
	const struct owl_proc *p = rec->proc;
	if (!m || !m->id || !p || !m->id->digest[0] || p->exe[0] != '/' || strlen(p->exe) >= sizeof(e->exe))
		return -EINVAL;
	const struct bm_identity *id = m->id;
	memset(e, 0, sizeof(*e));
	e->kind = BASELINE_LEARNED;
	owl_strlcpy(e->exe, p->exe, sizeof(e->exe));
	owl_strlcpy(e->package, id->package, sizeof(e->package));
	owl_strlcpy(e->digest, id->digest, sizeof(e->digest));
	owl_strlcpy(e->user, id->user, sizeof(e->user));
	owl_strlcpy(e->unit, id->unit, sizeof(e->unit));
	owl_strlcpy(e->container, p->cg.container_id, sizeof(e->container));
	char dest[BL_DEST_MAX];
	learn_dest(rec, l->agg, dest, sizeof(dest));
	if (baseline_parse_dest(dest, e) < 0 && baseline_parse_dest(owl_addr_str(&rec->conn.raddr, dest), e) < 0)
		return -EINVAL;
	e->port_lo = e->port_hi = rec->conn.rport;
	owl_strlcpy(e->transport, baseline_transport(rec), sizeof(e->transport));
	owl_strlcpy(e->host, l->host, sizeof(e->host));
	e->first_seen = e->last_seen = now;
	e->count = 1;
	return baseline_validate(e, NULL);
}

static int write_pending(struct store *s, void *arg)
{
	struct learner *l = arg;
	struct baseline_entry *e = l->pending.data;
	for (size_t i = 0; i < l->pending.len; i++) {
		int rc = baseline_upsert(s, &e[i], BASELINE_ADD, NULL);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int flush(struct learner *l)
{
	if (!l->pending.len)
		return 0;
	int rc = store_tx(l->s, write_pending, l);
	if (rc == 0)
		l->recorded += l->pending.len;
	l->pending.len = 0;
	return rc;
}

static void queue(struct learner *l, const struct owl_record *rec, int64_t now)
{
	struct baseline_entry *e = owl_vec_push(&l->pending);
	if (!e) {
		l->err = l->err ? l->err : -ENOMEM;
		return;
	}
	if (entry_from_record(l, rec, now, e) < 0) {
		l->pending.len--;
		l->skipped++;
	}
}

/* One scan, every candidate record queued and written. */
static int scan_pass(struct learner *l, const struct scan_opts *o, bool first, const char *db)
{
	struct scan_result r;
	int rc = scan_run(o, &r);
	if (rc < 0) {
		if (r.failed_stage && strcmp(r.failed_stage, "baseline") == 0)
			cli_baseline_store_error(db, rc);
		else if (rc == -ENOENT && o->collect.netns)
			cli_err("no network namespace named '%s'", o->collect.netns);
		else
			cli_err("scan failed: %s", strerror(-rc));
		scan_result_free(&r);
		return rc;
	}
	if (first)
		cli_catalogue_errors(r.store ? r.store->cat : NULL);
	if (first && o->collect.netns && r.col.nns == 1) {
		l->one_netns = true;
		l->netns_ino = r.col.ns[0].ino;
	}
	int64_t now = (int64_t)time(NULL);
	for (size_t i = 0; i < r.nrecs; i++)
		if (r.recs[i].baseline)
			queue(l, &r.recs[i], now);
	scan_result_free(&r);
	return flush(l);
}

static int learn_by_scans(struct learner *l, const struct scan_opts *o, const char *db, uint64_t start,
			  uint64_t duration, uint64_t interval, size_t *passes)
{
	while (!stop_requested && mono_ms() - start < duration) {
		uint64_t now = mono_ms(), end = start + duration;
		uint64_t wake = OWL_MIN(now + interval, end);
		if (wake > now) {
			uint64_t ms = wake - now;
			struct timespec ts = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000};
			nanosleep(&ts, NULL); /* a signal cuts it short */
		}
		if (stop_requested)
			break;
		int rc = scan_pass(l, o, false, db);
		if (rc < 0)
			return rc;
		(*passes)++;
	}
	return 0;
}

/* ---- live: owl watch's backend ---- */

struct live {
	struct learner *l;
	struct watch *w;
};

static void on_event_record(const struct scan_result *s, const struct owl_record *rec, void *ud)
{
	struct live *lv = ud;
	(void)s;
	if (!rec->baseline || !rec->trace)
		return;
	if (lv->l->one_netns && rec->conn.netns_ino != lv->l->netns_ino)
		return;
	switch (rec->trace->action) {
	case WATCH_ESTABLISHED:
	case WATCH_ATTEMPTED:
	case WATCH_UDP_SENT:
		break;
	default:
		return; /* failed attempts, closes and accepts are not destinations it uses */
	}
	lv->l->events++;
	queue(lv->l, rec, (int64_t)(rec->trace->time_ns / 1000000000ull));
}

static void on_trace(const struct owl_ev_hdr *ev, void *ud)
{
	struct live *lv = ud;
	watch_feed(lv->w, ev, on_event_record, lv);
}

/* Returns 0, -errno of a store failure, or 1 when no live backend could
 * start (the caller then scans). */
static int learn_live(struct learner *l, const struct scan_opts *o, enum learn_backend b, uint64_t start,
		      uint64_t duration, const char **ret_backend, uint64_t *ret_lost)
{
	struct watch_opts wo = {.scan = o, .proc_root = o->proc_root};
	watch_params_default(&wo.params);
	struct watch *w = NULL;
	const char *failed = NULL;
	int rc = watch_new(&wo, &w, &failed);
	if (rc < 0) {
		cli_err("live learning unavailable (the %s stage cannot start: %s)", failed ? failed : "enrichment",
			strerror(-rc));
		return 1;
	}
	struct trace_opts to = {.uid = -1, .no_loopback = true, .proc_root = o->proc_root,
				.backend = b == LB_EBPF ? TRACE_BACKEND_EBPF : b == LB_POLL ? TRACE_BACKEND_POLL
											 : TRACE_BACKEND_AUTO};
	struct trace *t = NULL;
	int ebpf_err = 0;
	rc = trace_open(&to, &t, &ebpf_err);
	if (rc < 0) {
		cli_err("live learning unavailable (%s)", strerror(-(ebpf_err ? ebpf_err : rc)));
		watch_free(w);
		return 1;
	}
	if (ebpf_err)
		cli_err("eBPF unavailable (%s): learning from sock_diag snapshots", strerror(-ebpf_err));
	*ret_backend = trace_backend(t) == TRACE_BACKEND_EBPF ? "ebpf" : "poll";
	/* tells a person (and the tests) that the kernel side is in place */
	cli_err("learning live (%s backend) for %llu ms", *ret_backend, (unsigned long long)duration);
	struct live lv = {.l = l, .w = w};
	uint64_t last_flush = mono_ms();
	rc = 0;
	while (!stop_requested && !l->err) {
		uint64_t now = mono_ms();
		if (now - start >= duration)
			break;
		int ms = (int)OWL_MIN(start + duration - now, (uint64_t)LEARN_FLUSH_MS);
		int n = trace_poll(t, ms, on_trace, &lv);
		if (n < 0 && n != -EINTR) {
			cli_err("reading events failed: %s", strerror(-n));
			break;
		}
		if (l->pending.len >= LEARN_FLUSH_MAX || mono_ms() - last_flush >= LEARN_FLUSH_MS) {
			if ((rc = flush(l)) < 0)
				break;
			last_flush = mono_ms();
		}
	}
	trace_detach(t);
	trace_drain(t, on_trace, &lv);
	struct trace_counters tc = {0};
	if (trace_counters(t, &tc) == 0)
		*ret_lost = tc.lost;
	if (rc == 0)
		rc = flush(l);
	if (rc == 0 && l->err)
		rc = l->err;
	trace_close(t);
	watch_free(w);
	return rc;
}

enum { OPT_DB = 256, OPT_DURATION, OPT_INTERVAL, OPT_AGGREGATE, OPT_NETNS, OPT_BACKEND };

int bl_learn_main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"db", required_argument, NULL, OPT_DB},
		{"duration", required_argument, NULL, OPT_DURATION},
		{"interval", required_argument, NULL, OPT_INTERVAL},
		{"aggregate", required_argument, NULL, OPT_AGGREGATE},
		{"netns", required_argument, NULL, OPT_NETNS},
		{"backend", required_argument, NULL, OPT_BACKEND},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *db = NULL;
	uint64_t duration = 0, interval = 2000;
	enum aggregate agg = AGG_ADDR;
	enum learn_backend backend = LB_AUTO;
	struct scan_opts o = {.collect = {.with_info = true}, .all = true};
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		switch (c) {
		case OPT_DB: db = optarg; break;
		case OPT_DURATION:
			if (bl_parse_duration(optarg, &duration) < 0)
				return cli_usage_error(&cmd_baseline, "--duration: '%s' is not a duration (30s, 5m, 2h)", optarg);
			break;
		case OPT_INTERVAL:
			if (bl_parse_duration(optarg, &interval) < 0 || interval < 100)
				return cli_usage_error(&cmd_baseline, "--interval: '%s' is not a duration of at least 100ms",
						       optarg);
			break;
		case OPT_AGGREGATE:
			if (strcmp(optarg, "addr") == 0)
				agg = AGG_ADDR;
			else if (strcmp(optarg, "prefix") == 0)
				agg = AGG_PREFIX;
			else if (strcmp(optarg, "domain") == 0)
				agg = AGG_DOMAIN;
			else
				return cli_usage_error(&cmd_baseline, "--aggregate: '%s' is not addr, prefix or domain", optarg);
			break;
		case OPT_BACKEND:
			if (strcmp(optarg, "auto") == 0)
				backend = LB_AUTO;
			else if (strcmp(optarg, "ebpf") == 0)
				backend = LB_EBPF;
			else if (strcmp(optarg, "poll") == 0)
				backend = LB_POLL;
			else if (strcmp(optarg, "scan") == 0)
				backend = LB_SCAN;
			else
				return cli_usage_error(&cmd_baseline, "--backend: '%s' is not auto, ebpf, poll or scan", optarg);
			break;
		case OPT_NETNS: o.collect.netns = optarg; break;
		case 'h': cmd_baseline.usage(stdout); return OWL_EXIT_OK;
		case ':': return cli_usage_error(&cmd_baseline, "option '%s' needs a value", argv[optind - 1]);
		default: return cli_usage_error(&cmd_baseline, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error(&cmd_baseline, "unexpected argument '%s'", argv[optind]);
	if (geteuid() != 0)
		cli_err("not root: the baseline will miss the processes and namespaces of other users");

	struct learner l = {.agg = agg};
	owl_vec_init(&l.pending, sizeof(struct baseline_entry));
	if (bl_open(db, STORE_CREATE, &l.s) < 0)
		return OWL_EXIT_ERROR;
	o.db_path = store_path(l.s);
	store_hostname(l.host, sizeof(l.host));

	struct sigaction sa = {.sa_handler = on_stop};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	uint64_t lost = 0;
	size_t passes = 0;
	const char *how = "scan";
	int rc = scan_pass(&l, &o, true, db);
	if (rc == 0)
		passes++;
	uint64_t start = mono_ms(); /* D counts from the end of the first scan */
	if (rc == 0 && duration && !stop_requested) {
		int live = backend == LB_SCAN ? 1 : learn_live(&l, &o, backend, start, duration, &how, &lost);
		if (live == 1 && backend != LB_AUTO && backend != LB_SCAN) {
			rc = -ENOTSUP; /* the backend asked for by name could not start */
		} else if (live == 1) {
			if (backend == LB_AUTO)
				cli_err("learning by scanning every %llu ms instead: connections shorter than that are missed",
					(unsigned long long)interval);
			how = "scan";
			rc = learn_by_scans(&l, &o, db, start, duration, interval, &passes);
		} else {
			rc = live;
		}
	}
	int status = OWL_EXIT_OK;
	if (rc < 0) {
		if (rc != -ENOTSUP)
			bl_store_err("learning stopped", rc, l.s);
		status = OWL_EXIT_ERROR;
	}
	int64_t total = 0;
	if (baseline_count(l.s, &total) == 0) {
		char esc[OWL_PATH_MAX];
		owl_escape_to(esc, sizeof(esc), store_path(l.s), strlen(store_path(l.s)), OWL_ESC_TEXT);
		printf("learned %zu observations (%zu scan%s", l.recorded, passes, passes == 1 ? "" : "s");
		if (strcmp(how, "scan") != 0)
			printf(", %zu live events from the %s backend, %llu lost", l.events, how, (unsigned long long)lost);
		printf("; %zu without a checkable identity); %s holds %lld entries\n", l.skipped, esc, (long long)total);
	}
	owl_vec_free(&l.pending);
	store_close(l.s);
	return status;
}
