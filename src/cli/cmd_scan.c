#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/endpoint_cli.h"
#include "collect/procnet.h"
#include "core/names.h"
#include "judge/judge.h"
#include "pipeline/scan.h"
#include "pipeline/stages.h"
#include "render/escape.h"
#include "render/report.h"
#include "store/stage.h"

static void scan_usage(FILE *out)
{
	fprintf(out,
		"usage: owl scan [--all] [--json] [--netns all|NAME] [--source auto|diag|proc]\n"
		"                [--fail-on SEV] [--threads N] [--verbose] [--no-verify] [--db FILE]\n"
		"                [--intel FILE]... [--intel-dir DIR] [--geoip FILE.mmdb]...\n"
		"                [--resolve] [--limit NAME=VALUE]... [--owners auto|bpf|proc]\n"
		"\n"
		"List the outbound connections of every network namespace to non-loopback\n"
		"destinations, with the process behind each, most suspicious first.\n"
		"\n"
		"  -a, --all            every socket: loopback, inbound, listening, raw, packet\n"
		"  -j, --json           NDJSON, one object per socket (Elastic Common Schema names)\n"
		"  -n, --netns NS       only this namespace: an 'ip netns' name, 'host', 'pid N'\n"
		"                       or an inode number (default: all)\n"
		"      --source SRC     auto (sock_diag, /proc/net where a diag module is\n"
		"                       missing), diag, or proc (/proc/net only)\n"
		"      --fail-on SEV    exit 1 when a record reaches SEV: info, low, medium,\n"
		"                       high (default) or critical\n"
		"      --threads N      threads for the /proc walk (default: CPUs, max 4)\n"
		"      --no-verify      skip package/digest verification of the processes\n"
		"      --db FILE        baseline store (default " STORE_DEFAULT_PATH "; used when it\n"
		"                       exists): adds documented / new-destination\n"
		"  -v, --verbose        say which source served each kind of socket\n"
		"      --intel FILE     a threat-intel list (one address or CIDR a line, '#'\n"
		"                       comments; FireHOL .netset and Tor exit lists load);\n"
		"                       repeatable.  Every *.list in the intel directory loads too\n"
		"      --intel-dir DIR  where the *.list files are (default /etc/owl/intel.d;\n"
		"                       '' for none)\n"
		"      --geoip FILE     a MaxMind/DB-IP MMDB database (country, city or ASN);\n"
		"                       repeatable.  Without one, the country comes from Tor's\n"
		"                       /usr/share/tor/geoip{,6} when tor-geoipdb is installed\n"
		"      --resolve        reverse DNS of remote addresses, in parallel, within one\n"
		"                       time budget for the whole scan (limit resolve-ms)\n"
		"      --limit N=V      a threshold: high-volume=100 (connections from one process\n"
		"                       to one endpoint), large-upload=8M and upload-ratio=10\n"
		"                       (bytes sent, and sent/received), attempts=3 (SYN-SENT\n"
		"                       sockets to one endpoint), resolve-ms=2000\n"
		"      --owners HOW     who finds each socket's processes: auto (a BPF\n"
		"                       task_file iterator when root in the initial pid\n"
		"                       namespace, else the /proc walk), bpf (fail if the\n"
		"                       iterator cannot run) or proc (/proc/PID/fd walk)\n"
		"  -h, --help           this text\n"
		"\n"
		"Run as root to see every namespace and every process.\n");
}

static int scan_main(int argc, char **argv);

const struct owl_command cmd_scan = {
	.name = "scan",
	.summary = "list connections and who makes them (a snapshot)",
	.run = scan_main,
	.usage = scan_usage,
};

enum { OPT_SOURCE = 256, OPT_FAIL_ON, OPT_THREADS, OPT_NO_VERIFY, OPT_DB, OPT_OWNERS };

static const struct option longopts[] = {
	{"all", no_argument, NULL, 'a'},
	{"json", no_argument, NULL, 'j'},
	{"netns", required_argument, NULL, 'n'},
	{"source", required_argument, NULL, OPT_SOURCE},
	{"fail-on", required_argument, NULL, OPT_FAIL_ON},
	{"threads", required_argument, NULL, OPT_THREADS},
	{"db", required_argument, NULL, OPT_DB},
	{"verbose", no_argument, NULL, 'v'},
	{"no-verify", no_argument, NULL, OPT_NO_VERIFY},
	{"help", no_argument, NULL, 'h'},
	ENDPOINT_CLI_LONGOPTS,
	{"owners", required_argument, NULL, OPT_OWNERS},
	{NULL, 0, NULL, 0},
};

/* which backend built the owner map, and why the BPF iterator did not */
static void print_owners_how(const struct fdmap_how *h)
{
	char why[sizeof(h->bpf_msg) * 4 + 64] = "";
	if (h->bpf_err) {
		char msg[sizeof(h->bpf_msg) * 4];
		owl_escape_to(msg, sizeof(msg), h->bpf_msg, strlen(h->bpf_msg), OWL_ESC_TEXT);
		snprintf(why, sizeof(why), "%s: %s%s%s", h->bpf_step ? h->bpf_step : "?", strerror(-h->bpf_err),
			 msg[0] ? ": " : "", msg);
	}
	if (h->used == FDMAP_BPF)
		fprintf(stderr, "owl: owners: BPF task_file iterator (load %.1f ms during collect, waited %.1f ms; "
			"walk %.1f ms, of which the kernel %.1f ms)\n", (double)h->load_ns / 1e6, (double)h->wait_ns / 1e6,
			(double)h->walk_ns / 1e6, (double)h->read_ns / 1e6);
	else if (h->used != FDMAP_PROC)
		fprintf(stderr, "owl: owners: BPF iterator failed: %s\n", why);
	else if (h->bpf_err)
		fprintf(stderr, "owl: owners: /proc/PID/fd walk (%.1f ms); BPF iterator not used: %s\n",
			(double)h->walk_ns / 1e6, why);
	else
		fprintf(stderr, "owl: owners: /proc/PID/fd walk (%.1f ms; --owners proc)\n", (double)h->walk_ns / 1e6);
}

static void print_verbose(const struct scan_result *r)
{
	for (size_t i = 0; i < r->col.nns; i++) {
		const struct owl_netns *ns = &r->col.ns[i];
		char name[OWL_NSNAME_MAX * 4];
		owl_escape_to(name, sizeof(name), ns->name, strlen(ns->name), OWL_ESC_TEXT);
		if (r->col.ns_err[i]) {
			fprintf(stderr, "owl: netns %s (%llu): not entered: %s\n", name,
				(unsigned long long)ns->ino, strerror(-r->col.ns_err[i]));
			continue;
		}
		fprintf(stderr, "owl: netns %s (%llu):", name, (unsigned long long)ns->ino);
		const struct collect_note *notes = r->col.notes.data;
		for (size_t k = 0; k < r->col.notes.len; k++) {
			const struct collect_note *n = &notes[k];
			if (n->ns_index != i)
				continue;
			if (n->count < 0)
				fprintf(stderr, " %s: unavailable (%s);", sockdiag_kind_name(n->kind), strerror(-n->count));
			else if (n->source == OWL_SRC_DIAG)
				fprintf(stderr, " %s: %d from sock_diag;", sockdiag_kind_name(n->kind), n->count);
			else if (n->diag_err)
				fprintf(stderr, " %s: %d from /proc/net/%s (sock_diag: %s);", sockdiag_kind_name(n->kind),
					n->count, procnet_file(n->kind), strerror(-n->diag_err));
			else
				fprintf(stderr, " %s: %d from /proc/net/%s;", sockdiag_kind_name(n->kind), n->count,
					procnet_file(n->kind));
		}
		fputc('\n', stderr);
	}
	fprintf(stderr, "owl: %zu sockets in %zu network namespace%s, %u processes walked, %zu own sockets, %zu shown\n",
		r->ntotal, r->col.nns, r->col.nns == 1 ? "" : "s", r->pids_seen, r->nprocs, r->nrecs);
	fprintf(stderr, "owl: time: collect %.1f ms, attribute %.1f ms, stages %.1f ms (",
		(double)r->t_collect / 1e6, (double)r->t_attribute / 1e6, (double)r->t_stages / 1e6);
	for (size_t i = 0; scan_stages[i].name && i < OWL_ARRAY_SIZE(r->t_stage); i++)
		fprintf(stderr, "%s%s %.1f", i ? ", " : "", scan_stages[i].name, (double)r->t_stage[i] / 1e6);
	fprintf(stderr, "), judge %.1f ms\n", (double)r->t_judge / 1e6);
	fprintf(stderr, "owl: peak RSS: %.1f MB after collect, %.1f MB after attribute, %.1f MB after the stages\n",
		(double)r->kb_collect / 1024, (double)r->kb_attribute / 1024, (double)r->kb_stages / 1024);
	print_owners_how(&r->owners_how);
}

static void warn_missing(const struct scan_result *r)
{
	size_t skipped = 0;
	for (size_t i = 0; i < r->col.nns; i++)
		if (r->col.ns_err[i])
			skipped++;
	if (r->is_root && !skipped && !r->pids_denied)
		return;
	/* one line, said once */
	fprintf(stderr, "owl: partial view:");
	if (!r->is_root)
		fprintf(stderr, " not running as root, so the network namespaces of other users' processes are not found;");
	if (r->pids_denied)
		fprintf(stderr, " %u processes could not be inspected (their sockets show no owner);", r->pids_denied);
	if (skipped)
		fprintf(stderr, " %zu network namespaces could not be entered;", skipped);
	fprintf(stderr, " run as root (sudo owl scan) for the full picture\n");
}

static int scan_main(int argc, char **argv)
{
	struct scan_opts o = {.collect = {.with_info = COLLECT_INFO_EGRESS}};
	struct endpoint_cli ep;
	endpoint_cli_init(&ep, argc);
	bool json = false, verbose = false;
	int fail_on = OWL_SEV_HIGH;
	int c;
	long long v;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":ajn:vh", longopts, NULL)) != -1) {
		int eo = endpoint_cli_option(&ep, &cmd_scan, c, optarg);
		if (eo < 0)
			return OWL_EXIT_ERROR;
		if (eo > 0)
			continue;
		switch (c) {
		case 'a': o.all = true; break;
		case 'j': json = true; break;
		case 'n': o.collect.netns = optarg; break;
		case 'v': verbose = true; break;
		case 'h': scan_usage(stdout); return OWL_EXIT_OK;
		case OPT_NO_VERIFY: o.no_verify = true; break;
		case OPT_SOURCE:
			if (strcmp(optarg, "auto") == 0)
				o.collect.source = COLLECT_SRC_AUTO;
			else if (strcmp(optarg, "diag") == 0)
				o.collect.source = COLLECT_SRC_DIAG;
			else if (strcmp(optarg, "proc") == 0)
				o.collect.source = COLLECT_SRC_PROC;
			else
				return cli_usage_error(&cmd_scan, "--source: '%s' is not auto, diag or proc", optarg);
			break;
		case OPT_FAIL_ON:
			fail_on = judge_severity_parse(optarg);
			if (fail_on < 0)
				return cli_usage_error(&cmd_scan,
						       "--fail-on: '%s' is not info, low, medium, high or critical", optarg);
			break;
		case OPT_THREADS:
			if (owl_strtonum(optarg, 1, 64, &v) < 0)
				return cli_usage_error(&cmd_scan, "--threads: '%s' is not a number from 1 to 64", optarg);
			o.threads = (int)v;
			break;
		case OPT_DB: o.db_path = optarg; break;
		case OPT_OWNERS:
			if (strcmp(optarg, "auto") == 0)
				o.owners = FDMAP_AUTO;
			else if (strcmp(optarg, "bpf") == 0)
				o.owners = FDMAP_BPF;
			else if (strcmp(optarg, "proc") == 0)
				o.owners = FDMAP_PROC;
			else
				return cli_usage_error(&cmd_scan, "--owners: '%s' is not auto, bpf or proc", optarg);
			break;
		case ':':
			return cli_usage_error(&cmd_scan, "option '%s' needs a value", argv[optind - 1]);
		default:
			return cli_usage_error(&cmd_scan, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error(&cmd_scan, "unexpected argument '%s'", argv[optind]);

	endpoint_cli_apply(&ep, &o);
	struct scan_result r;
	int rc = scan_run(&o, &r);
	if (rc == -ENOENT && o.collect.netns && !r.failed_stage) {
		cli_err("no network namespace named '%s' (see 'ip netns list', or use 'host', 'pid N' or an inode)",
			o.collect.netns);
		scan_result_free(&r);
		return OWL_EXIT_ERROR;
	}
	if (rc < 0 && r.failed_stage && strcmp(r.failed_stage, "baseline") == 0) {
		cli_baseline_store_error(o.db_path, rc);
		scan_result_free(&r);
		endpoint_cli_free(&ep);
		return OWL_EXIT_ERROR;
	}
	if (rc < 0 && endpoint_cli_failed(&r)) {
		scan_result_free(&r);
		endpoint_cli_free(&ep);
		return OWL_EXIT_ERROR;
	}
	if (rc < 0 && o.owners == FDMAP_BPF && r.owners_how.bpf_err == rc && !r.failed_stage) {
		print_owners_how(&r.owners_how);
		cli_err("--owners bpf: the BPF iterator cannot run here: %s", strerror(-rc));
		scan_result_free(&r);
		endpoint_cli_free(&ep);
		return OWL_EXIT_ERROR;
	}
	if (rc < 0) {
		cli_err("scan failed: %s", strerror(-rc));
		scan_result_free(&r);
		return OWL_EXIT_ERROR;
	}
	if (o.collect.netns && strcmp(o.collect.netns, "all") != 0 && r.col.nns == 1 && r.col.ns_err[0]) {
		/* the one namespace asked for was not seen: an empty table would
		 * read as an all-clear */
		char name[OWL_NSNAME_MAX * 4];
		owl_escape_to(name, sizeof(name), o.collect.netns, strlen(o.collect.netns), OWL_ESC_TEXT);
		cli_err("cannot enter network namespace '%s': %s%s", name, strerror(-r.col.ns_err[0]),
			r.is_root ? "" : " (run as root: sudo owl scan --netns ...)");
		scan_result_free(&r);
		endpoint_cli_free(&ep);
		return OWL_EXIT_ERROR;
	}
	cli_catalogue_errors(r.store ? r.store->cat : NULL);
	warn_missing(&r);
	endpoint_cli_warnings(&r, verbose);
	uint64_t t_render = owl_mono_ns();

	static char obuf[1 << 16];
	setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
	if (json) {
		struct owl_buf out;
		struct report_cache *cache = report_cache_new(); /* NULL: written uncached */
		owl_buf_init(&out);
		for (size_t i = 0; i < r.nrecs; i++) {
			report_json_line_cached(&out, &r, &r.recs[i], cache);
			if (out.len >= (1u << 18) || i + 1 == r.nrecs) {
				fwrite(out.data, 1, out.len, stdout);
				owl_buf_reset(&out);
			}
		}
		owl_buf_free(&out);
		report_cache_free(cache);
	} else {
		struct table_opts to = {.width = cli_term_width(), .color = cli_use_color()};
		report_table(stdout, &r, &to);
	}
	fflush(stdout);
	if (verbose) {
		print_verbose(&r);
		fprintf(stderr, "owl: time: render %.1f ms\n", (double)(owl_mono_ns() - t_render) / 1e6);
	}
	int status = OWL_EXIT_OK;
	for (size_t i = 0; i < r.nrecs; i++)
		if (r.recs[i].nfindings && r.recs[i].severity >= fail_on)
			status = OWL_EXIT_FOUND;
	if (fflush(stdout) != 0) {
		cli_err("writing the report failed: %s", strerror(errno));
		status = OWL_EXIT_ERROR;
	}
	scan_result_free(&r);
	endpoint_cli_free(&ep);
	return status;
}
