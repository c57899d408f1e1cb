#include "cli/endpoint_cli.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "render/escape.h"

void endpoint_cli_init(struct endpoint_cli *e, int argc)
{
	memset(e, 0, sizeof(*e));
	endpoint_limits_default(&e->lim);
}

int endpoint_cli_option(struct endpoint_cli *e, const struct owl_command *cmd, int opt, const char *arg)
{
	int rc;
	switch (opt) {
	case ENDPOINT_OPT_INTEL:
		if (e->nintel == ENDPOINT_CLI_INTEL_MAX) {
			cli_usage_error(cmd, "--intel: at most %d lists (put more in one file or in the intel directory)",
					ENDPOINT_CLI_INTEL_MAX);
			return -1;
		}
		e->intel[e->nintel++] = arg;
		return 1;
	case ENDPOINT_OPT_GEOIP:
		if (e->ngeoip == ENDPOINT_CLI_GEOIP_MAX) {
			cli_usage_error(cmd, "--geoip: at most %d databases", ENDPOINT_CLI_GEOIP_MAX);
			return -1;
		}
		e->geoip[e->ngeoip++] = arg;
		return 1;
	case ENDPOINT_OPT_INTEL_DIR:
		e->intel_dir = arg;
		return 1;
	case ENDPOINT_OPT_RESOLVE:
		e->resolve = true;
		return 1;
	case ENDPOINT_OPT_LIMIT:
		rc = endpoint_limit_set(&e->lim, arg);
		if (rc == -ENOENT) {
			cli_usage_error(cmd, "--limit: unknown threshold in '%s' (high-volume, large-upload, upload-ratio, "
					     "attempts, resolve-ms)", arg);
			return -1;
		}
		if (rc < 0) {
			cli_usage_error(cmd, "--limit: '%s' is not NAME=NUMBER (large-upload takes K, M or G)", arg);
			return -1;
		}
		return 1;
	}
	return 0;
}

void endpoint_cli_apply(struct endpoint_cli *e, struct scan_opts *o)
{
	o->intel = e->intel;
	o->nintel = e->nintel;
	o->intel_dir = e->intel_dir;
	o->geoips = e->geoip;
	o->ngeoip = e->ngeoip;
	o->geoip = e->ngeoip ? e->geoip[0] : NULL;
	o->resolve = e->resolve;
	o->endpoint_limits = &e->lim;
}

static void esc(const char *s, char *buf, size_t bufsz)
{
	owl_escape_to(buf, bufsz, s, strlen(s), OWL_ESC_TEXT);
}

bool endpoint_cli_failed(const struct scan_result *r)
{
	const struct endpoint_ctx *x = r->endpoint;
	if (!r->failed_stage || strcmp(r->failed_stage, "endpoint") != 0 || !x || !x->failed_what)
		return false;
	char p[OWL_PATH_MAX * 4];
	esc(x->failed_path, p, sizeof(p));
	if (x->failed_err == -EINVAL)
		cli_err("%s %s: not a readable MMDB database (MaxMind GeoIP2/GeoLite2 or DB-IP .mmdb)", x->failed_what, p);
	else
		cli_err("cannot read %s %s: %s", x->failed_what, p, strerror(-x->failed_err));
	return true;
}

void endpoint_cli_warnings(const struct scan_result *r, bool verbose)
{
	const struct endpoint_ctx *x = r->endpoint;
	if (!x)
		return;
	for (size_t i = 0; i < x->intel.nlists; i++) {
		const struct intel_list *l = &x->intel.lists[i];
		char p[OWL_PATH_MAX * 4];
		esc(l->path, p, sizeof(p));
		if (l->err) {
			cli_err("threat-intel list %s: %s (skipped)", p, strerror(-l->err));
			continue;
		}
		for (size_t k = 0; k < l->bad && k < INTEL_BAD_KEEP; k++) {
			char t[INTEL_BAD_TEXT * 4];
			esc(l->first_bad[k].text, t, sizeof(t));
			cli_err("%s:%zu: not an address or CIDR, ignored: %s", p, l->first_bad[k].line, t);
		}
		if (l->bad > INTEL_BAD_KEEP)
			cli_err("%s: %zu bad lines in all, ignored (first %d shown)", p, l->bad, INTEL_BAD_KEEP);
		if (verbose)
			cli_err("threat-intel list %s: %zu entries (%zu duplicates), %zu bad lines", p, l->entries, l->dups,
				l->bad);
	}
	if (x->resolved && (verbose || x->resolve.timed_out))
		cli_err("reverse DNS: %zu of %zu addresses answered in %u ms%s", x->resolve.answered, x->resolve.asked,
			x->resolve.elapsed_ms,
			x->resolve.timed_out ? " (time budget reached; raise it with --limit resolve-ms=N)" : "");
}

void endpoint_cli_free(struct endpoint_cli *e)
{
	(void)e;
}
