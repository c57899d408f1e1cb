/* owl watch: connections as they happen (src/trace/). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/endpoint_cli.h"
#include "endpoint/endpoint.h"
#include "core/names.h"
#include "core/util.h"
#include "judge/judge.h"
#include "render/escape.h"
#include "render/jsonw.h"
#include "render/report.h"
#include "trace/trace.h"
#include "trace/watch.h"


static void watch_usage(FILE *out)
{
	fprintf(out,
		"usage: owl watch [--json] [--duration SECONDS] [--intel FILE]... [--db FILE]\n"
		"                 [--intel-dir DIR] [--geoip FILE.mmdb]... [--limit NAME=VALUE]...\n"
		"                 [--backend auto|ebpf|poll] [--output FILE] [--interval MS]\n"
		"                 [--pid PID] [--uid UID] [--no-loopback] [--buffer-kb N]\n"
		"\n"
		"Show connections as they happen, in every network namespace: each TCP connect\n"
		"and its outcome, accepted connections, closes with duration and bytes, UDP\n"
		"datagrams to new destinations, with the process behind each (captured in the\n"
		"kernel, so programs that exit at once are still named) and the name it\n"
		"resolved.  Findings over time: repeated-attempts, beaconing, high-volume.\n"
		"\n"
		"  -j, --json           NDJSON, one object per event (Elastic Common Schema names)\n"
		"  -d, --duration S     stop after S seconds (default: until SIGINT/SIGTERM)\n"
		"      --intel FILE     threat-intel list for the endpoint stage (repeatable)\n"
		"      --intel-dir DIR  where more *.list files are (default /etc/owl/intel.d)\n"
		"      --geoip FILE     a MaxMind/DB-IP MMDB database (repeatable), as in scan\n"
		"      --limit N=V      an endpoint threshold, as in scan (repeatable)\n"
		"      --db FILE        baseline store (default /var/lib/owl/owl.db)\n"
		"      --backend B      ebpf (tracepoints), poll (sock_diag snapshots and the\n"
		"                       proc connector: misses short connections), or auto\n"
		"                       (ebpf, else poll; default)\n"
		"  -o, --output FILE    append events to FILE instead of standard output\n"
		"      --interval MS    poll backend: snapshot interval (default 1000)\n"
		"      --pid PID        only this process (filtered in the kernel)\n"
		"      --uid UID        only this user (filtered in the kernel)\n"
		"      --no-loopback    leave out connections to 127.0.0.0/8 and ::1 (in the kernel)\n"
		"      --buffer-kb N    ebpf: kernel ring buffer size, a power of two from 4 to\n"
		"                       1048576 KiB (default 16384)\n"
		"  -h, --help           this text\n"
		"\n"
		"At exit (SIGINT, SIGTERM or --duration) owl detaches, drains what the kernel\n"
		"still holds and prints a summary: events, events lost, findings.  Lost events\n"
		"are also reported in the stream as they happen (event.action events-lost).\n");
}

static int watch_main(int argc, char **argv);

const struct owl_command cmd_watch = {
	.name = "watch",
	.summary = "show connections as they happen (live, eBPF)",
	.run = watch_main,
	.usage = watch_usage,
};

enum { OPT_DB = 256, OPT_BACKEND, OPT_INTERVAL, OPT_PID, OPT_UID, OPT_NO_LOOPBACK, OPT_BUFFER };

static const struct option longopts[] = {
	{"json", no_argument, NULL, 'j'},
	{"duration", required_argument, NULL, 'd'},
	ENDPOINT_CLI_LONGOPTS_LIVE,
	{"db", required_argument, NULL, OPT_DB},
	{"backend", required_argument, NULL, OPT_BACKEND},
	{"output", required_argument, NULL, 'o'},
	{"interval", required_argument, NULL, OPT_INTERVAL},
	{"pid", required_argument, NULL, OPT_PID},
	{"uid", required_argument, NULL, OPT_UID},
	{"no-loopback", no_argument, NULL, OPT_NO_LOOPBACK},
	{"buffer-kb", required_argument, NULL, OPT_BUFFER},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

struct out_ctx {
	FILE *out;
	bool json;
	bool color;
	int width;
	struct owl_buf line;
	bool failed;
};

static const char *sev_color(int sev)
{
	switch (sev) {
	case OWL_SEV_LOW: return "\033[36m";
	case OWL_SEV_MEDIUM: return "\033[33m";
	case OWL_SEV_HIGH: return "\033[31m";
	case OWL_SEV_CRITICAL: return "\033[1;31m";
	default: return "";
	}
}

static const char *short_action(int a)
{
	static const char *const n[WATCH__ACTIONS] = {"attempt", "connect", "failed", "close", "accept", "udp"};
	return a >= 0 && a < WATCH__ACTIONS ? n[a] : "?";
}

static void table_line(struct out_ctx *o, const struct owl_record *rec)
{
	const struct trace_info *t = rec->trace;
	char ts[40], local[128], remote[128], proc[320], dom[600], exe[600];
	owl_format_time(t->time_ns, ts, sizeof(ts));
	report_endpoint(&rec->conn, false, local, sizeof(local));
	report_endpoint(&rec->conn, true, remote, sizeof(remote));
	if (rec->proc)
		report_proc_label(rec->proc, proc, sizeof(proc));
	else
		snprintf(proc, sizeof(proc), "-");
	dom[0] = exe[0] = '\0';
	if (t->domain[0]) {
		char d[520];
		owl_escape_to(d, sizeof(d), t->domain, strlen(t->domain), OWL_ESC_TEXT);
		snprintf(dom, sizeof(dom), " (%s)", d);
	}
	if (rec->proc && rec->proc->exe[0])
		owl_escape_to(exe, sizeof(exe), rec->proc->exe, strlen(rec->proc->exe), OWL_ESC_TEXT);
	struct owl_buf *b = &o->line;
	owl_buf_reset(b);
	bool col = o->color && rec->severity >= OWL_SEV_LOW;
	if (col)
		owl_buf_puts(b, sev_color(rec->severity));
	owl_buf_printf(b, "%s %-7s %-8s %-3s %s %s %s%s  %s %s", ts + 11, short_action(t->action),
		       rec->nfindings ? judge_severity_name(rec->severity) : "-", owl_transport_name(rec->conn.transport),
		       local, rec->conn.direction == OWL_DIR_INGRESS ? "<-" : "->", remote, dom, proc, exe);
	if (t->action == WATCH_FAILED)
		owl_buf_printf(b, " [%s]", t->result == OWL_CONN_REFUSED ? "refused" :
				t->result == OWL_CONN_TIMEDOUT ? "timed out" : t->result == OWL_CONN_UNREACHABLE ?
				"unreachable" : t->result == OWL_CONN_ABORTED ? "abandoned" : "error");
	if (t->action == WATCH_CLOSED && t->has_bytes)
		owl_buf_printf(b, " [%.3fs, sent %llu, received %llu]", (double)t->duration_ns / 1e9,
			       (unsigned long long)t->bytes_sent, (unsigned long long)t->bytes_received);
	for (uint32_t i = 0; i < rec->nfindings; i++) {
		char reason[OWL_REASON_MAX * 4];
		const struct owl_finding *f = &rec->findings[i];
		owl_escape_to(reason, sizeof(reason), f->reason, strlen(f->reason), OWL_ESC_TEXT);
		owl_buf_printf(b, "\n    %s %s: %s", judge_severity_name(f->severity), f->id, reason);
	}
	if (col)
		owl_buf_puts(b, "\033[0m");
	owl_buf_putc(b, '\n');
	if (fwrite(b->data, 1, b->len, o->out) != b->len)
		o->failed = true;
}

static void emit(const struct scan_result *s, const struct owl_record *rec, void *ud)
{
	struct out_ctx *o = ud;
	if (!o->json) {
		table_line(o, rec);
		return;
	}
	struct jsonw w;
	owl_buf_reset(&o->line);
	jsonw_init(&w, &o->line);
	jsonw_obj_open(&w, NULL);
	report_record_fields(&w, s, rec, watch_action_name(rec->trace->action));
	jsonw_obj_close(&w);
	owl_buf_putc(&o->line, '\n');
	if (fwrite(o->line.data, 1, o->line.len, o->out) != o->line.len)
		o->failed = true;
}

struct feed_ctx {
	struct watch *w;
	struct out_ctx *out;
};

static void on_record(const struct owl_ev_hdr *ev, void *ud)
{
	struct feed_ctx *f = ud;
	watch_feed(f->w, ev, emit, f->out);
}

static void json_head(struct jsonw *w, const char *action)
{
	char ts[40];
	owl_format_time(owl_now_ns(), ts, sizeof(ts));
	jsonw_obj_open(w, NULL);
	jsonw_str(w, "@timestamp", ts);
	jsonw_obj_open(w, "event");
	jsonw_str(w, "kind", "metric");
	jsonw_str(w, "action", action);
	jsonw_obj_close(w);
}

static void report_loss(struct out_ctx *o, uint64_t delta, uint64_t total)
{
	if (o->json) {
		struct jsonw w;
		owl_buf_reset(&o->line);
		jsonw_init(&w, &o->line);
		json_head(&w, "events-lost");
		jsonw_obj_open(&w, "owl");
		jsonw_u64(&w, "lost", delta);
		jsonw_u64(&w, "lost_total", total);
		jsonw_obj_close(&w);
		jsonw_obj_close(&w);
		owl_buf_putc(&o->line, '\n');
		fwrite(o->line.data, 1, o->line.len, o->out);
	} else {
		fprintf(o->out, "!! %llu events lost (kernel buffer full; %llu in all)\n", (unsigned long long)delta,
			(unsigned long long)total);
	}
}

static void summary(struct out_ctx *o, const struct watch_stats *st, const struct trace_counters *tc,
		    const char *backend, double secs)
{
	uint64_t events = 0;
	for (int i = 0; i < WATCH__ACTIONS; i++)
		events += st->events[i];
	if (o->json) {
		struct jsonw w;
		owl_buf_reset(&o->line);
		jsonw_init(&w, &o->line);
		json_head(&w, "watch-summary");
		jsonw_obj_open(&w, "owl");
		jsonw_obj_open(&w, "watch");
		jsonw_str(&w, "backend", backend);
		jsonw_double(&w, "seconds", secs);
		jsonw_u64(&w, "events", events);
		jsonw_obj_open(&w, "actions");
		for (int i = 0; i < WATCH__ACTIONS; i++)
			jsonw_u64(&w, watch_action_name(i), st->events[i]);
		jsonw_obj_close(&w);
		jsonw_u64(&w, "lost", tc->lost);
		jsonw_u64(&w, "untracked", tc->untracked);
		jsonw_u64(&w, "records", st->records);
		jsonw_u64(&w, "dns_answers", st->dns_answers);
		jsonw_u64(&w, "execs", st->execs);
		jsonw_u64(&w, "exits", st->exits);
		jsonw_u64(&w, "enrichments", st->enrich_runs);
		jsonw_u64(&w, "enrichments_deferred", st->enrich_deferred);
		jsonw_u64(&w, "alerts", st->alerts);
		jsonw_obj_open(&w, "findings");
		for (size_t i = 0; i < st->nfindings; i++)
			jsonw_u64(&w, st->finding_id[i], st->finding_events[i]);
		jsonw_obj_close(&w);
		jsonw_obj_close(&w);
		jsonw_obj_close(&w);
		jsonw_obj_close(&w);
		owl_buf_putc(&o->line, '\n');
		fwrite(o->line.data, 1, o->line.len, o->out);
	}
	fprintf(stderr, "owl: watched %.1f s (%s): %llu events (", secs, backend, (unsigned long long)events);
	for (int i = 0; i < WATCH__ACTIONS; i++)
		fprintf(stderr, "%s%s %llu", i ? ", " : "", short_action(i), (unsigned long long)st->events[i]);
	fprintf(stderr, "), %llu lost, %llu alerts", (unsigned long long)tc->lost, (unsigned long long)st->alerts);
	if (st->nfindings) {
		fprintf(stderr, "; findings:");
		for (size_t i = 0; i < st->nfindings; i++)
			fprintf(stderr, " %s %llu", st->finding_id[i], (unsigned long long)st->finding_events[i]);
	}
	fputc('\n', stderr);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int watch_main(int argc, char **argv)
{
	struct trace_opts to = {.uid = -1};
	struct scan_opts so = {.collect = {.with_info = true}};
	struct endpoint_cli ep;
	endpoint_cli_init(&ep, argc);
	const char *output = NULL;
	bool json = false;
	long long duration = 0, v;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":jd:o:h", longopts, NULL)) != -1) {
		int eo = endpoint_cli_option(&ep, &cmd_watch, c, optarg);
		if (eo < 0)
			return OWL_EXIT_ERROR;
		if (eo > 0)
			continue;
		switch (c) {
		case 'j': json = true; break;
		case 'h': watch_usage(stdout); return OWL_EXIT_OK;
		case 'd':
			if (owl_strtonum(optarg, 1, 365LL * 86400, &duration) < 0)
				return cli_usage_error(&cmd_watch, "--duration: '%s' is not a number of seconds (1 or more)",
						       optarg);
			break;
		case 'o': output = optarg; break;
		case OPT_DB: so.db_path = optarg; break;
		case OPT_BACKEND:
			if (strcmp(optarg, "auto") == 0)
				to.backend = TRACE_BACKEND_AUTO;
			else if (strcmp(optarg, "ebpf") == 0)
				to.backend = TRACE_BACKEND_EBPF;
			else if (strcmp(optarg, "poll") == 0)
				to.backend = TRACE_BACKEND_POLL;
			else
				return cli_usage_error(&cmd_watch, "--backend: '%s' is not auto, ebpf or poll", optarg);
			break;
		case OPT_INTERVAL:
			if (owl_strtonum(optarg, 10, 3600000, &v) < 0)
				return cli_usage_error(&cmd_watch, "--interval: '%s' is not a number of ms from 10 to 3600000",
						       optarg);
			to.interval_ms = (int)v;
			break;
		case OPT_PID:
			if (owl_strtonum(optarg, 1, 0x7fffffff, &v) < 0)
				return cli_usage_error(&cmd_watch, "--pid: '%s' is not a process id", optarg);
			to.pid = (uint32_t)v;
			break;
		case OPT_UID:
			if (owl_strtonum(optarg, 0, 0xfffffffe, &v) < 0)
				return cli_usage_error(&cmd_watch, "--uid: '%s' is not a user id", optarg);
			to.uid = v;
			break;
		case OPT_NO_LOOPBACK: to.no_loopback = true; break;
		case OPT_BUFFER:
			if (owl_strtonum(optarg, 4, 1048576, &v) < 0 || (v & (v - 1)))
				return cli_usage_error(&cmd_watch, "--buffer-kb: '%s' is not a power of two from 4 to 1048576",
						       optarg);
			to.ringbuf_bytes = (uint32_t)(v * 1024);
			break;
		case ':':
			return cli_usage_error(&cmd_watch, "option '%s' needs a value", argv[optind - 1]);
		default:
			return cli_usage_error(&cmd_watch, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error(&cmd_watch, "unexpected argument '%s'", argv[optind]);
	endpoint_cli_apply(&ep, &so);

	struct out_ctx o = {.out = stdout, .json = json};
	if (output) {
		int fd = open(output, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
		if (fd < 0 || !(o.out = fdopen(fd, "a"))) {
			cli_err("cannot open --output %s: %s", output, strerror(errno));
			if (fd >= 0)
				close(fd);
			return OWL_EXIT_ERROR;
		}
	} else {
		o.color = cli_use_color();
		o.width = cli_term_width();
	}
	owl_buf_init(&o.line);

	struct watch_opts wo = {.scan = &so};
	watch_params_default(&wo.params);
	struct watch *w = NULL;
	const char *failed_stage = NULL;
	int rc = watch_new(&wo, &w, &failed_stage);
	if (rc < 0 && failed_stage && strcmp(failed_stage, "baseline") == 0) {
		cli_baseline_store_error(so.db_path, rc);
		return OWL_EXIT_ERROR;
	}
	if (rc < 0 && failed_stage && strcmp(failed_stage, "endpoint") == 0) {
		/* the stage once more, on nothing, to say which file it could not
		 * use (the failed run's details went with watch_new's cleanup) */
		struct scan_result fs;
		memset(&fs, 0, sizeof(fs));
		bool said = false;
		if (endpoint_stage_run(&so, &fs) < 0) {
			fs.failed_stage = "endpoint";
			said = endpoint_cli_failed(&fs);
		}
		scan_result_free(&fs);
		if (said)
			return OWL_EXIT_ERROR;
	}
	if (rc < 0) {
		cli_err("the %s stage cannot start: %s (check --intel / --db)", failed_stage ? failed_stage : "enrichment",
			strerror(-rc));
		return OWL_EXIT_ERROR;
	}

	struct trace *t = NULL;
	int ebpf_err = 0;
	rc = trace_open(&to, &t, &ebpf_err);
	if (rc < 0) {
		if (to.backend == TRACE_BACKEND_EBPF || ebpf_err)
			cli_err("cannot load the eBPF programs: %s (needs root or CAP_BPF+CAP_PERFMON, and kernel BTF "
				"in /sys/kernel/btf/vmlinux; try --backend poll)", strerror(-(ebpf_err ? ebpf_err : rc)));
		if (to.backend != TRACE_BACKEND_EBPF)
			cli_err("cannot start the poll backend: %s", strerror(-rc));
		watch_free(w);
		return OWL_EXIT_ERROR;
	}
	const char *backend = trace_backend(t) == TRACE_BACKEND_EBPF ? "ebpf" : "poll";
	if (trace_backend(t) == TRACE_BACKEND_POLL) {
		if (ebpf_err)
			cli_err("eBPF unavailable (%s): falling back to polling", strerror(-ebpf_err));
		cli_err("%s", trace_blind_spots(t));
	}

	/* tells a person (and the tests) that the kernel side is in place */
	fprintf(stderr, "owl: watching (%s backend)%s\n", backend, duration ? "" : "; stop with Ctrl-C");
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	static char obuf[1 << 16];
	setvbuf(o.out, obuf, _IOFBF, sizeof(obuf));
	struct feed_ctx fc = {.w = w, .out = &o};
	uint64_t t0 = mono_ns();
	uint64_t end = duration ? t0 + (uint64_t)duration * 1000000000ULL : 0;
	uint64_t lost_seen = 0;
	struct trace_counters tc = {0};
	int status = OWL_EXIT_OK;
	while (!stop_signal) {
		uint64_t now = mono_ns();
		if (end && now >= end)
			break;
		int ms = end ? (int)OWL_MIN((end - now) / 1000000 + 1, 1000) : 1000;
		rc = trace_poll(t, ms, on_record, &fc);
		if (rc < 0 && rc != -EINTR) {
			cli_err("reading events failed: %s", strerror(-rc));
			status = OWL_EXIT_ERROR;
			break;
		}
		struct timespec bt;
		clock_gettime(CLOCK_BOOTTIME, &bt);
		watch_tick(w, (uint64_t)bt.tv_sec * 1000000000ULL + (uint64_t)bt.tv_nsec, emit, &o);
		if (trace_counters(t, &tc) == 0 && tc.lost > lost_seen) {
			report_loss(&o, tc.lost - lost_seen, tc.lost);
			lost_seen = tc.lost;
		}
		if (fflush(o.out) != 0 || o.failed) {
			cli_err("writing events failed: %s", strerror(errno));
			status = OWL_EXIT_ERROR;
			break;
		}
	}
	/* stop: detach first, then take what the kernel still holds */
	trace_detach(t);
	trace_drain(t, on_record, &fc);
	watch_tick(w, 0, emit, &o); /* attempts still without an answer */
	if (trace_counters(t, &tc) == 0 && tc.lost > lost_seen)
		report_loss(&o, tc.lost - lost_seen, tc.lost);
	struct watch_stats st;
	watch_get_stats(w, &st);
	summary(&o, &st, &tc, backend, (double)(mono_ns() - t0) / 1e9);
	if (fflush(o.out) != 0)
		status = OWL_EXIT_ERROR;
	trace_close(t);
	watch_free(w);
	owl_buf_free(&o.line);
	if (output)
		fclose(o.out);
	return status;
}
