/* owl baseline list | export | import */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/cmd_baseline.h"
#include "core/buf.h"
#include "core/util.h"
#include "render/escape.h"
#include "render/jsonw.h"
#include "store/baseline.h"

enum { OPT_DB = 256, OPT_OUT, OPT_LEARNED, OPT_ALLOWED, OPT_JSON };

#define IMPORT_LINE_MAX (64 * 1024)
#define IMPORT_ERRORS_SHOWN 20

static void ports_text(const struct baseline_entry *e, char *buf, size_t n)
{
	if (e->port_lo == 0 && e->port_hi == 65535)
		snprintf(buf, n, "*");
	else if (e->port_lo == e->port_hi)
		snprintf(buf, n, "%u", e->port_lo);
	else
		snprintf(buf, n, "%u-%u", e->port_lo, e->port_hi);
}

/* One entry as an export line (also list --json). */
static void entry_json(struct owl_buf *b, const struct baseline_entry *e, bool with_id)
{
	struct jsonw w;
	char ports[16];
	jsonw_init(&w, b);
	jsonw_obj_open(&w, NULL);
	if (with_id)
		jsonw_u64(&w, "id", (uint64_t)e->id);
	jsonw_str(&w, "kind", baseline_kind_name(e->kind));
	if (e->exe[0])
		jsonw_str(&w, "executable", e->exe);
	if (e->package[0])
		jsonw_str(&w, "package", e->package);
	if (e->digest[0])
		jsonw_str(&w, "sha256", e->digest);
	if (e->user[0])
		jsonw_str(&w, "user", e->user);
	if (e->unit[0])
		jsonw_str(&w, "unit", e->unit);
	if (e->container[0])
		jsonw_str(&w, "container", e->container);
	if (e->dest[0])
		jsonw_str(&w, "destination", e->dest);
	ports_text(e, ports, sizeof(ports));
	jsonw_str(&w, "ports", ports);
	if (e->transport[0])
		jsonw_str(&w, "transport", e->transport);
	if (e->note[0])
		jsonw_str(&w, "note", e->note);
	jsonw_str(&w, "host", e->host);
	jsonw_i64(&w, "first_seen", e->first_seen);
	jsonw_i64(&w, "last_seen", e->last_seen);
	jsonw_i64(&w, "count", e->count);
	jsonw_obj_close(&w);
	owl_buf_putc(b, '\n');
}

static int load_all(const char *db, struct baseline_set *set)
{
	struct store *s;
	if (bl_open(db, 0, &s) < 0)
		return -1;
	int rc = baseline_load(s, set);
	if (rc < 0)
		cli_err("reading the baseline: %s (%s)", strerror(-rc), store_errmsg(s));
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
		const struct baseline_entry *e = &set.e[i];
		if (kind >= 0 && e->kind != kind)
			continue;
		if (json) {
			owl_buf_reset(&b);
			entry_json(&b, e, true);
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
		ports_text(e, pp, sizeof(pp));
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
		entry_json(&b, &set.e[i], false);
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

static int get_text(json_t *o, const char *key, char *dst, size_t n, bool required, const char **why)
{
	json_t *v = json_object_get(o, key);
	if (!v) {
		if (required) {
			*why = "missing a required field";
			return -EINVAL;
		}
		dst[0] = '\0';
		return 0;
	}
	if (!json_is_string(v)) {
		*why = "a field that should be a string is not";
		return -EINVAL;
	}
	size_t len = json_string_length(v);
	const char *s = json_string_value(v);
	if (len >= n || memchr(s, '\0', len)) {
		*why = "a string field is too long or holds a NUL";
		return -EINVAL;
	}
	memcpy(dst, s, len + 1);
	return 0;
}

static int get_int(json_t *o, const char *key, int64_t *ret, const char **why)
{
	json_t *v = json_object_get(o, key);
	if (!v) {
		*why = "missing a required field (first_seen, last_seen, count)";
		return -EINVAL;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		*why = "first_seen, last_seen and count are non-negative integers";
		return -EINVAL;
	}
	*ret = json_integer_value(v);
	return 0;
}

static const char *const known_keys[] = {
	"id", "kind", "executable", "package", "sha256", "user", "unit", "container", "destination", "ports",
	"transport", "note", "host", "first_seen", "last_seen", "count",
};

/* One line → entry.  Returns 0, or -EINVAL with *why pointing at a static
 * string or at detail. */
static int parse_line(const char *line, size_t len, struct baseline_entry *e, const char **why, char *detail,
		      size_t detailsz)
{
	json_error_t jerr;
	json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!o) {
		snprintf(detail, detailsz, "not JSON: %s (column %d)", jerr.text, jerr.column);
		*why = detail;
		return -EINVAL;
	}
	int rc = -EINVAL;
	char kind[16], dest[BL_DEST_MAX], ports[32];
	if (!json_is_object(o)) {
		*why = "not a JSON object";
		goto out;
	}
	const char *key;
	json_t *val;
	json_object_foreach(o, key, val) {
		bool ok = false;
		for (size_t i = 0; i < OWL_ARRAY_SIZE(known_keys); i++)
			if (strcmp(key, known_keys[i]) == 0)
				ok = true;
		if (!ok) {
			char k[64];
			owl_escape_to(k, sizeof(k), key, strlen(key), OWL_ESC_TEXT);
			snprintf(detail, detailsz, "unknown field \"%s\"", k);
			*why = detail;
			goto out;
		}
	}
	memset(e, 0, sizeof(*e));
	if (get_text(o, "kind", kind, sizeof(kind), true, why) < 0 ||
	    get_text(o, "executable", e->exe, sizeof(e->exe), false, why) < 0 ||
	    get_text(o, "package", e->package, sizeof(e->package), false, why) < 0 ||
	    get_text(o, "sha256", e->digest, sizeof(e->digest), false, why) < 0 ||
	    get_text(o, "user", e->user, sizeof(e->user), false, why) < 0 ||
	    get_text(o, "unit", e->unit, sizeof(e->unit), false, why) < 0 ||
	    get_text(o, "container", e->container, sizeof(e->container), false, why) < 0 ||
	    get_text(o, "destination", dest, sizeof(dest), false, why) < 0 ||
	    get_text(o, "ports", ports, sizeof(ports), false, why) < 0 ||
	    get_text(o, "transport", e->transport, sizeof(e->transport), false, why) < 0 ||
	    get_text(o, "note", e->note, sizeof(e->note), false, why) < 0 ||
	    get_text(o, "host", e->host, sizeof(e->host), true, why) < 0 ||
	    get_int(o, "first_seen", &e->first_seen, why) < 0 || get_int(o, "last_seen", &e->last_seen, why) < 0 ||
	    get_int(o, "count", &e->count, why) < 0)
		goto out;
	if (strcmp(kind, "learned") == 0)
		e->kind = BASELINE_LEARNED;
	else if (strcmp(kind, "allowed") == 0)
		e->kind = BASELINE_ALLOWED;
	else {
		*why = "kind is learned or allowed";
		goto out;
	}
	if (baseline_parse_dest(dest, e) < 0) {
		*why = "destination is not an address, a CIDR or a domain";
		goto out;
	}
	if (baseline_parse_ports(ports, &e->port_lo, &e->port_hi) < 0) {
		*why = "ports is not N, LO-HI or *";
		goto out;
	}
	if (e->first_seen > e->last_seen) {
		*why = "first_seen is after last_seen";
		goto out;
	}
	rc = baseline_validate(e, why);
out:
	json_decref(o);
	return rc;
}

struct import_set {
	struct baseline_entry *e;
	size_t n;
};

static int import_apply(struct store *s, void *arg)
{
	struct import_set *is = arg;
	for (size_t i = 0; i < is->n; i++) {
		int rc = baseline_upsert(s, &is->e[i], BASELINE_MAX, NULL);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Read every line of one file into v; errors counted in *nerr. */
static int read_import(const char *name, FILE *f, struct owl_vec *v, size_t *nerr)
{
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t len;
	char fname[512];
	esc(fname, sizeof(fname), name);
	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		size_t k = 0;
		while (k < (size_t)len && (line[k] == ' ' || line[k] == '\t'))
			k++;
		if (k == (size_t)len)
			continue; /* blank lines are fine */
		const char *why = NULL;
		char detail[256];
		struct baseline_entry *e = owl_vec_push(v);
		if (!e) {
			free(line);
			return -ENOMEM;
		}
		int rc = (size_t)len > IMPORT_LINE_MAX ? (why = "line too long", -EINVAL)
						      : parse_line(line, (size_t)len, e, &why, detail, sizeof(detail));
		if (rc < 0) {
			v->len--;
			if (++*nerr <= IMPORT_ERRORS_SHOWN) {
				char w[1024];
				esc(w, sizeof(w), why ? why : "invalid");
				cli_err("%s:%zu: %s", fname, lineno, w);
			}
		}
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
	struct owl_vec v;
	owl_vec_init(&v, sizeof(struct baseline_entry));
	size_t nerr = 0;
	int status = OWL_EXIT_OK;
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
		int rc = read_import(std ? "<stdin>" : argv[i], f, &v, &nerr);
		if (!std)
			fclose(f);
		if (rc < 0) {
			cli_err("reading the import failed: %s; nothing imported", strerror(-rc));
			status = OWL_EXIT_ERROR;
		}
	}
	if (status == OWL_EXIT_OK && nerr) {
		if (nerr > IMPORT_ERRORS_SHOWN)
			cli_err("... and %zu more", nerr - IMPORT_ERRORS_SHOWN);
		cli_err("%zu bad line%s: nothing imported", nerr, nerr == 1 ? "" : "s");
		status = OWL_EXIT_ERROR;
	}
	if (status == OWL_EXIT_OK) {
		struct store *s;
		if (bl_open(db, STORE_CREATE, &s) < 0) {
			status = OWL_EXIT_ERROR;
		} else {
			struct import_set is = {.e = v.data, .n = v.len};
			int rc = store_tx(s, import_apply, &is);
			if (rc < 0) {
				cli_err("import failed, nothing imported: %s (%s)", store_strerror(rc), store_errmsg(s));
				status = OWL_EXIT_ERROR;
			} else {
				printf("imported %zu entr%s\n", v.len, v.len == 1 ? "y" : "ies");
			}
			store_close(s);
		}
	}
	owl_vec_free(&v);
	return status;
}
