/* owl baseline: learn | allow | list | forget | export | import | catalogue */
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
#include "judge/catalogue.h"
#include "pipeline/scan.h"
#include "render/escape.h"
#include "store/baseline.h"
#include "store/imgdigest.h"
#include "store/stage.h"
#include "store/store.h"

static void baseline_usage(FILE *out)
{
	fprintf(out,
		"usage: owl baseline learn     [--db FILE] [--duration D] [--backend auto|ebpf|poll|scan]\n"
		"                              [--interval D] [--aggregate addr|prefix|domain] [--netns all|NAME]\n"
		"       owl baseline allow     (--exe PATH | --package NAME) --note TEXT [--dest ADDR|CIDR|DOMAIN]\n"
		"                              [--port N|LO-HI] [--transport tcp|udp] [--user U] [--unit UNIT]\n"
		"                              [--container ID] [--digest SHA256] [--db FILE]\n"
		"       owl baseline list      [--db FILE] [--json] [--learned|--allowed]\n"
		"       owl baseline forget    [--db FILE] (ID... | --learned | --allowed | --all)\n"
		"       owl baseline export    [--db FILE] [--out FILE]\n"
		"       owl baseline import    [--db FILE] FILE...   ('-' reads standard input)\n"
		"       owl baseline catalogue [--check]\n"
		"\n"
		"Document what is normal, so that what is not stands out.  With a baseline in\n"
		"the store, 'owl scan' marks each outbound connection 'documented' (an\n"
		"allowance's note is the reason) or 'new-destination'.\n"
		"\n"
		"  learn      record the (process identity -> destination) pairs of what runs\n"
		"             now (one scan), then with --duration keep learning for D: live,\n"
		"             through owl watch's backend (--backend auto: eBPF, else sock_diag\n"
		"             snapshots), or --backend scan: a scan every --interval (default\n"
		"             2s; shorter connections are missed).  auto falls back to scan\n"
		"             when no live backend starts, and says so.  Identity is the\n"
		"             executable, the sha256 of its running image, its package, the\n"
		"             user, the systemd unit (not login sessions) and the container;\n"
		"             destination is the address (--aggregate prefix: its /24 or /64;\n"
		"             domain: the name the process resolved, seen live), port and\n"
		"             transport.  Loopback is not learned.  --netns NS: only that\n"
		"             namespace (scans and live events).\n"
		"  allow      document an expected behaviour with a note (why, who, ticket).\n"
		"             --exe pins the sha256 of the file at PATH now (or --digest): a\n"
		"             different binary at that path is not covered.  --package covers\n"
		"             the package's executables when the verify stage finds them intact.\n"
		"             Ports: N or LO-HI.  Destination: an address, a CIDR or a domain\n"
		"             (*.example.com for subdomains; matched when the domain is known).\n"
		"  list       the entries (ID, kind, program, destination, counts, host, note)\n"
		"  forget     delete entries by ID, or every learned / allowed entry, or all\n"
		"  export     every entry as JSON lines (keeps the host each came from)\n"
		"  import     merge exported files: all lines are checked first; a bad line is\n"
		"             reported as FILE:LINE and nothing of that import is applied\n"
		"  catalogue  the common-cause catalogue (%s,\n"
		"             then %s); --check exits 2 on any file:line error\n"
		"\n"
		"  --db FILE  the store (default " STORE_DEFAULT_PATH ")\n"
		"  D          a duration: 30, 30s, 500ms, 5m, 2h\n",
		cat_default_dir(), cat_local_dir());
}

static int baseline_main(int argc, char **argv);

const struct owl_command cmd_baseline = {
	.name = "baseline",
	.summary = "learn, document and share what this machine normally does",
	.run = baseline_main,
	.usage = baseline_usage,
};

void cli_baseline_store_error(const char *path, int err)
{
	char esc[OWL_PATH_MAX];
	const char *p = path ? path : STORE_DEFAULT_PATH;
	owl_escape_to(esc, sizeof(esc), p, strlen(p), OWL_ESC_TEXT);
	cli_err("store %s: %s", esc, store_strerror(err));
}

void cli_catalogue_errors(const struct catalogue *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nerrors; i++) {
		char esc[CAT_ERR_MAX * 4];
		owl_escape_to(esc, sizeof(esc), c->errors[i], strlen(c->errors[i]), OWL_ESC_TEXT);
		cli_err("catalogue: %s", esc);
	}
}

void bl_store_err(const char *what, int rc, const struct store *s)
{
	const char *m = s ? store_errmsg(s) : NULL;
	if (m && m[0])
		cli_err("%s: %s (%s)", what, store_strerror(rc), m);
	else
		cli_err("%s: %s", what, store_strerror(rc));
}

int bl_open(const char *path, unsigned flags, struct store **ret)
{
	int rc = store_open(path, flags, ret);
	if (rc < 0)
		cli_baseline_store_error(path, rc);
	return rc;
}

/* "30", "30s", "500ms", "1.5m", "2h" → milliseconds. */
int bl_parse_duration(const char *s, uint64_t *ret_ms)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || errno || v < 0 || v != v)
		return -EINVAL;
	double mul;
	if (!*end || strcmp(end, "s") == 0)
		mul = 1000;
	else if (strcmp(end, "ms") == 0)
		mul = 1;
	else if (strcmp(end, "m") == 0)
		mul = 60000;
	else if (strcmp(end, "h") == 0)
		mul = 3600000;
	else
		return -EINVAL;
	v *= mul;
	if (v > 366.0 * 24 * 3600 * 1000)
		return -ERANGE;
	*ret_ms = (uint64_t)v;
	return 0;
}

/* ---------------------------------------------------------------- allow */

enum { OPT_DB = 256 };
enum { OPT_EXE = 300, OPT_PACKAGE, OPT_NOTE, OPT_DEST, OPT_PORT, OPT_TRANSPORT, OPT_USER, OPT_UNIT, OPT_CONTAINER,
       OPT_DIGEST };

static int copy_opt(char *dst, size_t n, const char *val, const char *name)
{
	if (owl_strlcpy(dst, val, n) >= n) {
		cli_usage_error(&cmd_baseline, "--%s: longer than %zu bytes", name, n - 1);
		return -EINVAL;
	}
	return 0;
}

static int allow_main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"db", required_argument, NULL, OPT_DB},
		{"exe", required_argument, NULL, OPT_EXE},
		{"package", required_argument, NULL, OPT_PACKAGE},
		{"note", required_argument, NULL, OPT_NOTE},
		{"dest", required_argument, NULL, OPT_DEST},
		{"port", required_argument, NULL, OPT_PORT},
		{"transport", required_argument, NULL, OPT_TRANSPORT},
		{"user", required_argument, NULL, OPT_USER},
		{"unit", required_argument, NULL, OPT_UNIT},
		{"container", required_argument, NULL, OPT_CONTAINER},
		{"digest", required_argument, NULL, OPT_DIGEST},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static struct baseline_entry e;
	memset(&e, 0, sizeof(e));
	e.kind = BASELINE_ALLOWED;
	e.port_hi = 65535;
	const char *db = NULL;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		int rc = 0;
		switch (c) {
		case OPT_DB: db = optarg; break;
		case OPT_EXE: rc = copy_opt(e.exe, sizeof(e.exe), optarg, "exe"); break;
		case OPT_PACKAGE: rc = copy_opt(e.package, sizeof(e.package), optarg, "package"); break;
		case OPT_NOTE: rc = copy_opt(e.note, sizeof(e.note), optarg, "note"); break;
		case OPT_USER: rc = copy_opt(e.user, sizeof(e.user), optarg, "user"); break;
		case OPT_UNIT: rc = copy_opt(e.unit, sizeof(e.unit), optarg, "unit"); break;
		case OPT_CONTAINER: rc = copy_opt(e.container, sizeof(e.container), optarg, "container"); break;
		case OPT_DIGEST: rc = copy_opt(e.digest, sizeof(e.digest), optarg, "digest"); break;
		case OPT_DEST:
			if (baseline_parse_dest(optarg, &e) < 0)
				return cli_usage_error(&cmd_baseline, "--dest: '%s' is not an address, a CIDR or a domain",
						       optarg);
			break;
		case OPT_PORT:
			if (baseline_parse_ports(optarg, &e.port_lo, &e.port_hi) < 0)
				return cli_usage_error(&cmd_baseline, "--port: '%s' is not a port or a range LO-HI", optarg);
			break;
		case OPT_TRANSPORT:
			if (strcmp(optarg, "tcp") && strcmp(optarg, "udp"))
				return cli_usage_error(&cmd_baseline, "--transport: '%s' is not tcp or udp", optarg);
			owl_strlcpy(e.transport, optarg, sizeof(e.transport));
			break;
		case 'h': baseline_usage(stdout); return OWL_EXIT_OK;
		case ':': return cli_usage_error(&cmd_baseline, "option '%s' needs a value", argv[optind - 1]);
		default: return cli_usage_error(&cmd_baseline, "unknown option '%s'", argv[optind - 1]);
		}
		if (rc < 0)
			return OWL_EXIT_ERROR;
	}
	if (optind < argc)
		return cli_usage_error(&cmd_baseline, "unexpected argument '%s'", argv[optind]);
	if (!e.exe[0] && !e.package[0])
		return cli_usage_error(&cmd_baseline, "allow: name the program with --exe PATH or --package NAME");
	if (!e.note[0])
		return cli_usage_error(&cmd_baseline, "allow: --note is required (why, who, ticket)");
	if (e.exe[0] && e.exe[0] != '/')
		return cli_usage_error(&cmd_baseline, "allow: --exe takes an absolute path (as the kernel reports it)");
	if (e.exe[0] && !e.digest[0]) {
		char esc[OWL_PATH_MAX];
		owl_escape_to(esc, sizeof(esc), e.exe, strlen(e.exe), OWL_ESC_TEXT);
		int rc = imgdigest_path(e.exe, e.digest);
		if (rc < 0) {
			cli_err("cannot read %s to pin its digest: %s; give --digest SHA256, or allow by --package", esc,
				strerror(-rc));
			return OWL_EXIT_ERROR;
		}
	}
	store_hostname(e.host, sizeof(e.host));
	e.first_seen = e.last_seen = (int64_t)time(NULL);
	e.count = 1;
	const char *why = NULL;
	if (baseline_validate(&e, &why) < 0)
		return cli_usage_error(&cmd_baseline, "allow: %s", why);

	struct store *s;
	if (bl_open(db, STORE_CREATE, &s) < 0)
		return OWL_EXIT_ERROR;
	int64_t id = 0;
	int rc = store_tx_begin(s);
	if (rc == 0)
		rc = baseline_upsert(s, &e, BASELINE_MAX, &id);
	if (rc == 0)
		rc = store_tx_commit(s);
	else
		store_tx_rollback(s);
	if (rc < 0) {
		bl_store_err("recording the allowance failed", rc, s);
		store_close(s);
		return OWL_EXIT_ERROR;
	}
	printf("allowed #%lld\n", (long long)id);
	store_close(s);
	return OWL_EXIT_OK;
}

/* ---------------------------------------------------------------- forget */

static int forget_main(int argc, char **argv)
{
	enum { F_LEARNED = 400, F_ALLOWED, F_ALL };
	static const struct option lo[] = {
		{"db", required_argument, NULL, OPT_DB},
		{"learned", no_argument, NULL, F_LEARNED},
		{"allowed", no_argument, NULL, F_ALLOWED},
		{"all", no_argument, NULL, F_ALL},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *db = NULL;
	int kind = -2; /* -2 none, -1 all */
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		switch (c) {
		case OPT_DB: db = optarg; break;
		case F_LEARNED: kind = BASELINE_LEARNED; break;
		case F_ALLOWED: kind = BASELINE_ALLOWED; break;
		case F_ALL: kind = -1; break;
		case 'h': baseline_usage(stdout); return OWL_EXIT_OK;
		case ':': return cli_usage_error(&cmd_baseline, "option '%s' needs a value", argv[optind - 1]);
		default: return cli_usage_error(&cmd_baseline, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if ((kind == -2) == (optind >= argc))
		return cli_usage_error(&cmd_baseline, "forget: give entry IDs, or one of --learned, --allowed, --all");
	for (int i = optind; i < argc; i++) {
		long long v;
		if (owl_strtonum(argv[i], 1, INT64_MAX, &v) < 0)
			return cli_usage_error(&cmd_baseline, "forget: '%s' is not an entry ID", argv[i]);
	}
	struct store *s;
	if (bl_open(db, 0, &s) < 0)
		return OWL_EXIT_ERROR;
	int64_t total = 0, n = 0;
	int rc = store_tx_begin(s);
	if (rc == 0 && kind != -2) {
		rc = baseline_forget(s, 0, kind, &n);
		total += n;
	}
	for (int i = optind; rc == 0 && i < argc; i++) {
		long long v;
		owl_strtonum(argv[i], 1, INT64_MAX, &v);
		rc = baseline_forget(s, v, -1, &n);
		if (rc == 0 && n == 0) {
			cli_err("no entry #%lld (see 'owl baseline list'); nothing forgotten", v);
			store_tx_rollback(s);
			store_close(s);
			return OWL_EXIT_ERROR;
		}
		total += n;
	}
	if (rc == 0)
		rc = store_tx_commit(s);
	else
		store_tx_rollback(s);
	if (rc < 0) {
		bl_store_err("forget failed", rc, s);
		store_close(s);
		return OWL_EXIT_ERROR;
	}
	printf("forgot %lld entr%s\n", (long long)total, total == 1 ? "y" : "ies");
	store_close(s);
	return OWL_EXIT_OK;
}

/* ---------------------------------------------------------------- catalogue */

static int catalogue_main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"check", no_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	bool check = false;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":ch", lo, NULL)) != -1) {
		switch (c) {
		case 'c': check = true; break;
		case 'h': baseline_usage(stdout); return OWL_EXIT_OK;
		default: return cli_usage_error(&cmd_baseline, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error(&cmd_baseline, "unexpected argument '%s'", argv[optind]);
	struct catalogue cat;
	cat_init(&cat);
	int rc = cat_load_default(&cat);
	if (rc < 0) {
		cli_err("loading the catalogue: %s", strerror(-rc));
		cat_free(&cat);
		return OWL_EXIT_ERROR;
	}
	cli_catalogue_errors(&cat);
	bool shipped_missing = access(cat_default_dir(), F_OK) < 0;
	if (shipped_missing) {
		/* a build tree that was never installed: no known-agent at all */
		char d[OWL_PATH_MAX * 4];
		owl_escape_to(d, sizeof(d), cat_default_dir(), strlen(cat_default_dir()), OWL_ESC_TEXT);
		cli_err("catalogue: no shipped catalogue in %s (install owl, or set OWL_CATALOGUE_DIR to the source's "
			"data/catalogue)", d);
	}
	if (!check) {
		printf("%-22s %-18s %-40s %s\n", "NAME", "CATEGORY", "PROGRAMS", "PORTS");
		for (size_t i = 0; i < cat.n; i++) {
			const struct cat_entry *e = &cat.e[i];
			char progs[4096] = "", ports[1024] = "";
			size_t pl = 0, ql = 0;
			for (size_t k = 0; k < e->npackages && pl < sizeof(progs); k++)
				pl += (size_t)snprintf(progs + pl, sizeof(progs) - pl, "%s%s", pl ? " " : "", e->packages[k]);
			for (size_t k = 0; k < e->nexes && pl < sizeof(progs); k++)
				pl += (size_t)snprintf(progs + pl, sizeof(progs) - pl, "%s%s", pl ? " " : "", e->exes[k]);
			for (size_t k = 0; k < e->nports && ql < sizeof(ports); k++) {
				const struct cat_ports *p = &e->ports[k];
				const char *tp = p->transport == 1 ? "tcp" : p->transport == 2 ? "udp" : "any";
				if (p->lo == p->hi)
					ql += (size_t)snprintf(ports + ql, sizeof(ports) - ql, "%s%s/%u", ql ? " " : "", tp, p->lo);
				else
					ql += (size_t)snprintf(ports + ql, sizeof(ports) - ql, "%s%s/%u-%u", ql ? " " : "", tp,
							       p->lo, p->hi);
			}
			char a[4096], b[4096], d[1024];
			owl_escape_to(a, sizeof(a), e->name, strlen(e->name), OWL_ESC_TEXT);
			owl_escape_to(b, sizeof(b), progs, strlen(progs), OWL_ESC_TEXT);
			owl_escape_to(d, sizeof(d), ports, strlen(ports), OWL_ESC_TEXT);
			printf("%-22s %-18s %-40s %s\n", a, cat_category_name(e->category), b, d);
		}
	} else {
		printf("%zu entries, %zu errors\n", cat.n, cat.nerrors);
	}
	int status = check && (cat.nerrors || shipped_missing) ? OWL_EXIT_ERROR : OWL_EXIT_OK;
	cat_free(&cat);
	return status;
}

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
} subs[] = {
	{"learn", bl_learn_main},   {"allow", allow_main},   {"list", bl_list_main},        {"forget", forget_main},
	{"export", bl_export_main}, {"import", bl_import_main}, {"catalogue", catalogue_main},
};

static int baseline_main(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error(&cmd_baseline, "baseline: which one? learn, allow, list, forget, export, import or "
						      "catalogue");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		baseline_usage(stdout);
		return OWL_EXIT_OK;
	}
	for (size_t i = 0; i < OWL_ARRAY_SIZE(subs); i++)
		if (strcmp(argv[1], subs[i].name) == 0)
			return subs[i].run(argc - 1, argv + 1);
	return cli_usage_error(&cmd_baseline, "baseline: unknown command '%s'", argv[1]);
}
