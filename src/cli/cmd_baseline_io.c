/* owl baseline list | export | import */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cmd_baseline.h"
#include "core/buf.h"
#include "core/util.h"
#include "render/escape.h"
#include "render/jsonw.h"
#include "store/baseline.h"
#include "store/bljson.h"

enum { OPT_DB = 256, OPT_OUT, OPT_LEARNED, OPT_ALLOWED, OPT_JSON };

#define IMPORT_ERRORS_SHOWN 20

static int load_all(const char *db, struct baseline_set *set)
{
	struct store *s;
	if (bl_open(db, STORE_RDONLY, &s) < 0)
		return -1;
	int rc = baseline_load(s, set);
	if (rc < 0)
		bl_store_err("reading the baseline", rc, s);
	store_close(s);
	return rc;
}

static void esc(char *dst, size_t n, const char *s)
{
	owl_escape_to(dst, n, s, strlen(s), OWL_ESC_TEXT);
}

int bl_list_main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"db", required_argument, NULL, OPT_DB},
		{"json", no_argument, NULL, OPT_JSON},
		{"learned", no_argument, NULL, OPT_LEARNED},
		{"allowed", no_argument, NULL, OPT_ALLOWED},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *db = NULL;
	bool json = false;
	int kind = -1, c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":jh", lo, NULL)) != -1) {
		switch (c) {
		case OPT_DB: db = optarg; break;
		case 'j':
		case OPT_JSON: json = true; break;
		case OPT_LEARNED: kind = BASELINE_LEARNED; break;
		case OPT_ALLOWED: kind = BASELINE_ALLOWED; break;
		case 'h': cmd_baseline.usage(stdout); return OWL_EXIT_OK;
		case ':': return cli_usage_error(&cmd_baseline, "option '%s' needs a value", argv[optind - 1]);
		default: return cli_usage_error(&cmd_baseline, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error(&cmd_baseline, "unexpected argument '%s'", argv[optind]);
	struct baseline_set set = {0};
	if (load_all(db, &set) < 0)
		return OWL_EXIT_ERROR;
	struct owl_buf b;
	owl_buf_init(&b);
	if (!json)
		printf("%-5s %-7s %-36s %-16s %-24s %-11s %-6s %-20s %-12s %s\n", "ID", "KIND", "PROGRAM", "SHA256",
		       "DESTINATION", "PORT", "COUNT", "LAST SEEN", "HOST", "NOTE");
	for (size_t i = 0; i < set.n; i++) {
		const struct baseline_rule *e = &set.e[i];
		if (kind >= 0 && e->kind != kind)
			continue;
		if (json) {
			owl_buf_reset(&b);
			baseline_json_write(&b, e, true);
			fwrite(b.data, 1, b.len, stdout);
			continue;
		}
		char prog[BL_EXE_MAX * 4], dest[BL_DEST_MAX * 4], host[BL_HOST_MAX * 4], note[BL_NOTE_MAX * 4];
		char ports[32], seen[40], digest[16], pp[16];
		if (e->exe[0] && e->package[0]) {
			char both[BL_EXE_MAX + BL_PKG_MAX + 4];
			snprintf(both, sizeof(both), "%s (%s)", e->exe, e->package);
			esc(prog, sizeof(prog), both);
		} else {
			esc(prog, sizeof(prog), e->exe[0] ? e->exe : e->package);
		}
		esc(dest, sizeof(dest), e->dest[0] ? e->dest : "*");
		esc(host, sizeof(host), e->host);
		esc(note, sizeof(note), e->note[0] ? e->note : "-");
		baseline_ports_text(e->port_lo, e->port_hi, pp, sizeof(pp));
		snprintf(ports, sizeof(ports), "%s/%s", pp, e->transport[0] ? e->transport : "*");
		snprintf(digest, sizeof(digest), "%.12s", e->digest[0] ? e->digest : "-");
		owl_format_time((uint64_t)e->last_seen * 1000000000ull, seen, sizeof(seen));
		seen[19] = '\0'; /* to the second */
		printf("%-5lld %-7s %-36s %-16s %-24s %-11s %-6lld %-20s %-12s %s\n", (long long)e->id,
		       baseline_kind_name(e->kind), prog, digest, dest, ports, (long long)e->count, seen, host, note);
	}
	owl_buf_free(&b);
	baseline_set_free(&set);
	if (fflush(stdout) != 0) {
		cli_err("writing the list failed: %s", strerror(errno));
		return OWL_EXIT_ERROR;
	}
	return OWL_EXIT_OK;
}

int bl_export_main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"db", required_argument, NULL, OPT_DB},
		{"out", required_argument, NULL, OPT_OUT},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *db = NULL, *out = NULL;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:h", lo, NULL)) != -1) {
		switch (c) {
		case OPT_DB: db = optarg; break;
		case 'o':
		case OPT_OUT: out = optarg; break;
		case 'h': cmd_baseline.usage(stdout); return OWL_EXIT_OK;
		case ':': return cli_usage_error(&cmd_baseline, "option '%s' needs a value", argv[optind - 1]);
		default: return cli_usage_error(&cmd_baseline, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error(&cmd_baseline, "unexpected argument '%s'", argv[optind]);
	struct baseline_set set = {0};
	if (load_all(db, &set) < 0)
		return OWL_EXIT_ERROR;
	FILE *f = stdout;
	if (out && strcmp(out, "-") != 0) {
		f = fopen(out, "we");
		if (!f) {
			char e[OWL_PATH_MAX];
			esc(e, sizeof(e), out);
			cli_err("cannot write %s: %s", e, strerror(errno));
			baseline_set_free(&set);
			return OWL_EXIT_ERROR;
		}
	}
	struct owl_buf b;
	owl_buf_init(&b);
	for (size_t i = 0; i < set.n; i++) {
		owl_buf_reset(&b);
		baseline_json_write(&b, &set.e[i], false);
		fwrite(b.data, 1, b.len, f);
	}
	int bad = b.oom || ferror(f) || fflush(f) != 0;
	if (f != stdout && fclose(f) != 0)
		bad = 1;
	owl_buf_free(&b);
	baseline_set_free(&set);
	if (bad) {
		cli_err("writing the export failed: %s", strerror(errno));
		return OWL_EXIT_ERROR;
	}
	return OWL_EXIT_OK;
}

/* ---------------------------------------------------------------- import */

/* One import: every line of every file parsed and checked inside one
 * write transaction; entries are written while no line has failed, and
 * the transaction is rolled back when one has. */
struct import_run {
	struct store *s;
	struct baseline_entry e;   /* scratch: one line at a time */
	size_t applied, nerr;
	int store_err;
};

/* One line into buf (at most cap - 1 bytes kept, NUL-terminated); *too_long
 * when it was longer (its rest is not read).  -1 at end of file. */
static ssize_t read_line_bounded(FILE *f, char *buf, size_t cap, bool *too_long)
{
	size_t n = 0;
	int ch;
	*too_long = false;
	while ((ch = getc(f)) != EOF) {
		if (ch == '\n')
			break;
		if (n + 1 >= cap) {
			*too_long = true;
			break;
		}
		buf[n++] = (char)ch;
	}
	if (ch == EOF && n == 0)
		return -1;
	buf[n] = '\0';
	return (ssize_t)n;
}

static int read_import(struct import_run *ir, const char *name, FILE *f)
{
	size_t cap = BLJSON_LINE_MAX + 2, lineno = 0;
	char *line = malloc(cap);
	ssize_t len;
	bool too_long;
	char fname[512];
	if (!line)
		return -ENOMEM;
	esc(fname, sizeof(fname), name);
	while ((len = read_line_bounded(f, line, cap, &too_long)) >= 0) {
		lineno++;
		if (too_long) {
			/* the rest of an endless line (/dev/zero) would never end:
			 * report it and read no further in this file */
			ir->nerr++;
			cli_err("%s:%zu: line too long (more than %d bytes); the rest of the file is not read", fname,
				lineno, (int)BLJSON_LINE_MAX);
			break;
		}
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		size_t k = 0;
		while (k < (size_t)len && (line[k] == ' ' || line[k] == '\t'))
			k++;
		if (k == (size_t)len)
			continue; /* blank lines are fine */
		const char *why = NULL;
		char detail[256];
		int rc = (size_t)len > BLJSON_LINE_MAX ? (why = "line too long", -EINVAL)
						      : baseline_json_parse(line, (size_t)len, &ir->e, &why, detail, sizeof(detail));
		if (rc < 0) {
			if (++ir->nerr <= IMPORT_ERRORS_SHOWN) {
				char w[1024];
				esc(w, sizeof(w), why ? why : "invalid");
				cli_err("%s:%zu: %s", fname, lineno, w);
			}
			continue;
		}
		if (ir->nerr || ir->store_err)
			continue; /* keep checking the rest; nothing more is written */
		rc = baseline_upsert(ir->s, &ir->e, BASELINE_MAX, NULL);
		if (rc < 0)
			ir->store_err = rc;
		else
			ir->applied++;
	}
	int err = ferror(f) ? -EIO : 0;
	free(line);
	return err;
}

int bl_import_main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"db", required_argument, NULL, OPT_DB},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *db = NULL;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		switch (c) {
		case OPT_DB: db = optarg; break;
		case 'h': cmd_baseline.usage(stdout); return OWL_EXIT_OK;
		case ':': return cli_usage_error(&cmd_baseline, "option '%s' needs a value", argv[optind - 1]);
		default: return cli_usage_error(&cmd_baseline, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_usage_error(&cmd_baseline, "import: give one or more files ('-' for standard input)");
	struct import_run *ir = calloc(1, sizeof(*ir));
	if (!ir) {
		cli_err("out of memory");
		return OWL_EXIT_ERROR;
	}
	if (bl_open(db, STORE_CREATE, &ir->s) < 0) {
		free(ir);
		return OWL_EXIT_ERROR;
	}
	int status = OWL_EXIT_OK;
	int rc = store_tx_begin(ir->s);
	if (rc < 0) {
		bl_store_err("import failed, nothing imported", rc, ir->s);
		status = OWL_EXIT_ERROR;
	}
	for (int i = optind; i < argc && status == OWL_EXIT_OK; i++) {
		bool std = strcmp(argv[i], "-") == 0;
		FILE *f = std ? stdin : fopen(argv[i], "re");
		if (!f) {
			char e[OWL_PATH_MAX];
			esc(e, sizeof(e), argv[i]);
			cli_err("cannot read %s: %s; nothing imported", e, strerror(errno));
			status = OWL_EXIT_ERROR;
			break;
		}
		rc = read_import(ir, std ? "<stdin>" : argv[i], f);
		if (!std)
			fclose(f);
		if (rc < 0) {
			cli_err("reading the import failed: %s; nothing imported", strerror(-rc));
			status = OWL_EXIT_ERROR;
		}
	}
	if (status == OWL_EXIT_OK && ir->nerr) {
		if (ir->nerr > IMPORT_ERRORS_SHOWN)
			cli_err("... and %zu more", ir->nerr - IMPORT_ERRORS_SHOWN);
		cli_err("%zu bad line%s: nothing imported", ir->nerr, ir->nerr == 1 ? "" : "s");
		status = OWL_EXIT_ERROR;
	}
	if (status == OWL_EXIT_OK && ir->store_err) {
		bl_store_err("import failed, nothing imported", ir->store_err, ir->s);
		status = OWL_EXIT_ERROR;
	}
	if (status == OWL_EXIT_OK && (rc = store_tx_commit(ir->s)) < 0) {
		bl_store_err("import failed, nothing imported", rc, ir->s);
		status = OWL_EXIT_ERROR;
	}
	if (status == OWL_EXIT_OK)
		printf("imported %zu entr%s\n", ir->applied, ir->applied == 1 ? "y" : "ies");
	store_tx_rollback(ir->s); /* nothing when committed */
	store_close(ir->s);
	free(ir);
	return status;
}
