#include "store/bljson.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/util.h"
#include "render/escape.h"

void baseline_ports_text(uint16_t lo, uint16_t hi, char *buf, size_t n)
{
	if (lo == 0 && hi == 65535)
		snprintf(buf, n, "*");
	else if (lo == hi)
		snprintf(buf, n, "%u", lo);
	else
		snprintf(buf, n, "%u-%u", lo, hi);
}

/* A JSON string for s: exact when s is valid UTF-8 (the output is ASCII
 * with \uXXXX escapes, so it is as safe on a terminal as owl_escape()'s),
 * owl_escape()'s form otherwise (invalid bytes cannot travel in JSON). */
static json_t *jstr(const char *s)
{
	json_t *v = json_string(s);
	if (v)
		return v;
	char esc[BL_NOTE_MAX * 4 + 16];
	owl_escape_to(esc, sizeof(esc), s, strlen(s), OWL_ESC_TEXT);
	return json_string(esc);
}

static void set_str(json_t *o, const char *key, const char *s)
{
	if (s && s[0])
		json_object_set_new(o, key, jstr(s));
}

void baseline_json_write(struct owl_buf *b, const struct baseline_rule *e, bool with_id)
{
	char ports[16];
	json_t *o = json_object();
	if (!o) {
		b->oom = 1;
		return;
	}
	if (with_id)
		json_object_set_new(o, "id", json_integer(e->id));
	json_object_set_new(o, "kind", json_string(baseline_kind_name(e->kind)));
	set_str(o, "executable", e->exe);
	set_str(o, "package", e->package);
	set_str(o, "sha256", e->digest);
	set_str(o, "user", e->user);
	set_str(o, "unit", e->unit);
	set_str(o, "container", e->container);
	set_str(o, "destination", e->dest);
	baseline_ports_text(e->port_lo, e->port_hi, ports, sizeof(ports));
	json_object_set_new(o, "ports", json_string(ports));
	set_str(o, "transport", e->transport);
	set_str(o, "note", e->note);
	json_object_set_new(o, "host", jstr(e->host));
	json_object_set_new(o, "first_seen", json_integer(e->first_seen));
	json_object_set_new(o, "last_seen", json_integer(e->last_seen));
	json_object_set_new(o, "count", json_integer(e->count));
	char *text = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!text) {
		b->oom = 1;
		return;
	}
	owl_buf_puts(b, text);
	owl_buf_putc(b, '\n');
	free(text);
}

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

int baseline_json_parse(const char *line, size_t len, struct baseline_entry *e, const char **why, char *detail,
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

