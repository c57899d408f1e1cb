#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "act/evidence.h"
#include "cli/cli.h"
#include "core/util.h"
#include "render/escape.h"

static void evidence_usage(FILE *out)
{
	fprintf(out,
		"usage: owl evidence PID [--out DIR] [--tar] [--max-size BYTES]\n"
		"\n"
		"Collect a self-describing evidence bundle about one process, without\n"
		"disturbing it (read-only /proc access: no ptrace, no signal): the running\n"
		"executable image (also when deleted or a memfd), cmdline, environ, status,\n"
		"limits, cgroup, mountinfo, maps and the digests of mapped files, the fd\n"
		"list with socket details, its connections and owl's verdict (as\n"
		"'owl scan --json'), its ancestry, what 'owl explain PID' says (text and\n"
		"JSON), a manifest.json and a SHA256SUMS file\n"
		"that 'sha256sum -c SHA256SUMS' verifies.\n"
		"\n"
		"  -o, --out DIR         the bundle directory to create (must not exist);\n"
		"                        default ./owl-evidence-PID-YYYYmmddTHHMMSSZ\n"
		"  -t, --tar             write DIR.tar.gz instead of the directory\n"
		"      --max-size BYTES  cap per copied file (default %llu); stated in the manifest\n"
		"  -h, --help            this text\n"
		"\n"
		"Exit status: 0 bundle written (complete, or the process ended and the\n"
		"bundle says so), 2 nothing written (no such process, DIR exists, ...).\n",
		(unsigned long long)EVIDENCE_CAP_DEFAULT);
}

static int evidence_main(int argc, char **argv);

const struct owl_command cmd_evidence = {
	.name = "evidence",
	.summary = "collect an evidence bundle about a process",
	.run = evidence_main,
	.usage = evidence_usage,
};

enum { OPT_MAX_SIZE = 256 };

static const struct option longopts[] = {
	{"out", required_argument, NULL, 'o'},
	{"tar", no_argument, NULL, 't'},
	{"max-size", required_argument, NULL, OPT_MAX_SIZE},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static int evidence_main(int argc, char **argv)
{
	struct evidence_opts o = {0};
	const char *out = NULL;
	long long v;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:th", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 't': o.tar = true; break;
		case 'h': evidence_usage(stdout); return OWL_EXIT_OK;
		case OPT_MAX_SIZE:
			if (owl_strtonum(optarg, 1, 1ll << 40, &v) < 0)
				return cli_usage_error(&cmd_evidence, "--max-size: '%s' is not a number of bytes from 1 to 2^40",
						       optarg);
			o.size_cap = (uint64_t)v;
			break;
		case ':':
			return cli_usage_error(&cmd_evidence, "option '%s' needs a value", argv[optind - 1]);
		default:
			return cli_usage_error(&cmd_evidence, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_usage_error(&cmd_evidence, "which process? give a PID");
	if (optind + 1 < argc)
		return cli_usage_error(&cmd_evidence, "unexpected argument '%s'", argv[optind + 1]);
	if (owl_strtonum(argv[optind], 1, 0x3fffffff, &v) < 0)
		return cli_usage_error(&cmd_evidence, "'%s' is not a process id", argv[optind]);
	pid_t pid = (pid_t)v;

	char defname[128];
	if (!out) {
		evidence_default_name(pid, owl_now_ns(), defname, sizeof(defname));
		out = defname;
	}
	if (geteuid() != 0)
		cli_err("not root: parts of the bundle (environ, exe, map_files, other users' fds) may be missing");

	struct evidence_result r;
	int rc = evidence_collect(pid, out, &o, &r);
	char esc[OWL_PATH_MAX];
	owl_escape_to(esc, sizeof(esc), out, strlen(out), OWL_ESC_TEXT);
	if (rc == -ESRCH) {
		cli_err("no process %d (it may have exited)", (int)pid);
		return OWL_EXIT_ERROR;
	}
	if (rc == -EEXIST) {
		cli_err("%s%s already exists: choose another --out", esc, o.tar ? ".tar.gz" : "");
		return OWL_EXIT_ERROR;
	}
	if (rc < 0) {
		cli_err("writing the evidence bundle %s%s failed: %s", esc, o.tar ? ".tar.gz" : "", strerror(-rc));
		return OWL_EXIT_ERROR;
	}
	owl_escape_to(esc, sizeof(esc), r.path, strlen(r.path), OWL_ESC_TEXT);
	printf("evidence for pid %d: %s\n", (int)pid, esc);
	printf("  %u files, %llu bytes", r.nfiles, (unsigned long long)r.bytes);
	if (r.ntruncated)
		printf(", %u cut at the size cap", r.ntruncated);
	if (r.nmissing)
		printf(", %u items could not be collected (see manifest.json \"missing\")", r.nmissing);
	printf("\n  %u sockets of the process in connections.ndjson\n", r.nconns);
	if (r.exe_sha256[0])
		printf("  executable image sha256 %s\n", r.exe_sha256);
	if (r.process_exited)
		printf("  the process exited during collection: the bundle holds what was collected before\n");
	printf("  verify: %s\n", o.tar ? "tar xzf the archive, then sha256sum -c SHA256SUMS in its directory"
				       : "cd into the bundle and run sha256sum -c SHA256SUMS");
	if (fflush(stdout) != 0)
		return OWL_EXIT_ERROR;
	return OWL_EXIT_OK;
}
