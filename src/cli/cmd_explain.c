#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attribute/procinfo.h"
#include "cli/cli.h"
#include "cli/endpoint_cli.h"
#include "explain/explain.h"
#include "pipeline/scan.h"
#include "render/escape.h"
#include "verify/verify.h"

static void explain_usage(FILE *out)
{
	fprintf(out,
		"usage: owl explain PID | IP[:PORT] [--json] [--intel FILE]... [--intel-dir DIR]\n"
		"                   [--geoip FILE.mmdb]... [--resolve] [--limit NAME=VALUE]... [--db FILE]\n"
		"\n"
		"Everything owl knows about one process or one remote endpoint, written for a\n"
		"person: who the process is and how it came to run, every connection with what\n"
		"is known about the other end, each finding with its reason, and the next\n"
		"steps as commands.  IPv6 with a port: [2001:db8::1]:443.\n"
		"\n"
		"  -j, --json           the same, as one JSON object\n"
		"      --intel FILE, --intel-dir DIR, --geoip FILE, --resolve, --limit N=V\n"
		"                       as for 'owl scan'\n"
		"      --db FILE        baseline store, as for 'owl scan' (default /var/lib/owl/owl.db)\n"
		"  -h, --help           this text\n"
		"\n"
		"exit status: 0 explained; 2 no such process, no connection to that endpoint,\n"
		"or owl failed.\n");
}

static int explain_main(int argc, char **argv);

const struct owl_command cmd_explain = {
	.name = "explain",
	.summary = "the whole story of one process or remote endpoint, and what to do next",
	.run = explain_main,
	.usage = explain_usage,
};

enum { OPT_DB = 256 };

static const struct option longopts[] = {
	{"json", no_argument, NULL, 'j'},
	{"help", no_argument, NULL, 'h'},
	ENDPOINT_CLI_LONGOPTS,
	{"db", required_argument, NULL, OPT_DB},
	{NULL, 0, NULL, 0},
};

static bool pid_exists(pid_t pid)
{
	char p[32];
	snprintf(p, sizeof(p), "/proc/%d", (int)pid);
	struct stat st;
	return stat(p, &st) == 0;
}

static int explain_main(int argc, char **argv)
{
	struct scan_opts o = {.collect = {.with_info = COLLECT_INFO_EGRESS}, .all = true};
	struct endpoint_cli ep;
	endpoint_cli_init(&ep, argc);
	bool json = false;
	const char *target = NULL;
	int c;

	optind = 1;
	opterr = 0;
	/* options may come before or after the target (getopt permutes) */
	while ((c = getopt_long(argc, argv, ":jh", longopts, NULL)) != -1) {
		int eo = endpoint_cli_option(&ep, &cmd_explain, c, optarg);
		if (eo < 0)
			return OWL_EXIT_ERROR;
		if (eo > 0)
			continue;
		switch (c) {
		case 'j': json = true; break;
		case OPT_DB: o.db_path = optarg; break;
		case 'h': explain_usage(stdout); return OWL_EXIT_OK;
		case ':':
			return cli_usage_error(&cmd_explain, "option '%s' needs a value", argv[optind - 1]);
		default:
			return cli_usage_error(&cmd_explain, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		target = argv[optind++];
	if (optind < argc)
		return cli_usage_error(&cmd_explain, "unexpected argument '%s'", argv[optind]);
	if (!target)
		return cli_usage_error(&cmd_explain, "what to explain? a PID or an IP[:PORT]");
	struct explain_target t;
	if (explain_parse_target(target, &t) < 0) {
		char esc[256];
		owl_escape_to(esc, sizeof(esc), target, strlen(target), OWL_ESC_TEXT);
		return cli_usage_error(&cmd_explain, "'%s' is neither a PID nor an IP address (IPv6 with a port: "
						     "[2001:db8::1]:443)", esc);
	}
	if (t.kind == EXPLAIN_PID && !pid_exists(t.pid)) {
		cli_err("no process with pid %d (it may have exited); 'owl scan' lists the current ones", (int)t.pid);
		return OWL_EXIT_ERROR;
	}

	endpoint_cli_apply(&ep, &o);
	struct scan_result r;
	int rc = scan_run(&o, &r);
	if (rc < 0) {
		if (r.failed_stage && strcmp(r.failed_stage, "baseline") == 0)
			cli_baseline_store_error(o.db_path, rc);
		else if (!endpoint_cli_failed(&r))
			cli_err("explain failed: could not scan the sockets: %s", strerror(-rc));
		scan_result_free(&r);
		return OWL_EXIT_ERROR;
	}
	endpoint_cli_warnings(&r, false);

	struct explain_ctx x = {.target_text = target, .proc_root = "/proc", .have_command = cli_have_command};
	struct owl_proc *own = NULL;
	const struct owl_proc *proc = NULL;
	if (t.kind == EXPLAIN_PID) {
		proc = scan_find_proc(&r, t.pid);
		if (!proc) {
			/* a process without sockets: still worth explaining */
			own = calloc(1, sizeof(*own));
			if (!own || procinfo_load("/proc", t.pid, own) < 0 || own->gone) {
				cli_err("no process with pid %d (it exited while owl looked)", (int)t.pid);
				free(own);
				scan_result_free(&r);
				return OWL_EXIT_ERROR;
			}
			/* and verified like the scan's own processes */
			struct verify_info *vi = NULL;
			if (r.verify && verify_proc(r.verify, own, &vi) == 0)
				own->verify = vi;
			proc = own;
		}
	}
	rc = explain_select(&x, &r, &t, proc);
	int status = OWL_EXIT_OK;
	if (rc < 0) {
		cli_err("explain failed: %s", strerror(-rc));
		status = OWL_EXIT_ERROR;
	} else if (t.kind == EXPLAIN_ENDPOINT && x.nrecs == 0) {
		char esc[256];
		owl_escape_to(esc, sizeof(esc), target, strlen(target), OWL_ESC_TEXT);
		cli_err("no connection to %s in any network namespace right now ('owl scan --all' lists them all)", esc);
		status = OWL_EXIT_ERROR;
	} else {
		struct owl_buf out;
		owl_buf_init(&out);
		explain_write(&x, json, &out);
		fwrite(out.data, 1, out.len, stdout);
		owl_buf_free(&out);
		if (fflush(stdout) != 0) {
			cli_err("writing the explanation failed: %s", strerror(errno));
			status = OWL_EXIT_ERROR;
		}
	}
	explain_ctx_free(&x);
	if (own)
		verify_info_free(own->verify);
	free(own);
	scan_result_free(&r);
	endpoint_cli_free(&ep);
	return status;
}
