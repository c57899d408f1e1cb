/* The endpoint stage's command-line options (--intel, --intel-dir, --geoip,
 * --resolve, --limit), shared by scan and explain, and its messages. */
#ifndef OWL_ENDPOINT_CLI_H
#define OWL_ENDPOINT_CLI_H

#include <stdbool.h>

#include "cli/cli.h"
#include "endpoint/endpoint.h"
#include "pipeline/scan.h"

#define ENDPOINT_CLI_INTEL_MAX 64
#define ENDPOINT_CLI_GEOIP_MAX 8

struct endpoint_cli {
	const char *intel[ENDPOINT_CLI_INTEL_MAX];
	size_t nintel;
	const char *geoip[ENDPOINT_CLI_GEOIP_MAX];
	size_t ngeoip;
	const char *intel_dir;
	bool resolve;
	struct endpoint_limits lim;
};

/* The getopt values of these options, above any command's own. */
enum {
	ENDPOINT_OPT_INTEL = 0x4000,
	ENDPOINT_OPT_INTEL_DIR,
	ENDPOINT_OPT_GEOIP,
	ENDPOINT_OPT_RESOLVE,
	ENDPOINT_OPT_LIMIT,
};

/* Entries for a command's struct option table.  watch leaves out
 * --resolve: reverse DNS has no place on a live event's path. */
#define ENDPOINT_CLI_LONGOPTS_LIVE                                          \
	{"intel", required_argument, NULL, ENDPOINT_OPT_INTEL},              \
	{"intel-dir", required_argument, NULL, ENDPOINT_OPT_INTEL_DIR},      \
	{"geoip", required_argument, NULL, ENDPOINT_OPT_GEOIP},              \
	{"limit", required_argument, NULL, ENDPOINT_OPT_LIMIT}
#define ENDPOINT_CLI_LONGOPTS \
	ENDPOINT_CLI_LONGOPTS_LIVE, {"resolve", no_argument, NULL, ENDPOINT_OPT_RESOLVE}

void endpoint_cli_init(struct endpoint_cli *e, int argc);
/* Take opt (a getopt_long value) when it is one of the ENDPOINT_OPT_*.
 * Returns 1 when taken, 0 when opt is not one of them, -1 on a usage error
 * (printed). */
int endpoint_cli_option(struct endpoint_cli *e, const struct owl_command *cmd, int opt, const char *arg);
void endpoint_cli_apply(struct endpoint_cli *e, struct scan_opts *o);
/* When the scan failed in the endpoint stage: print why, return true. */
bool endpoint_cli_failed(const struct scan_result *r);
/* Bad intel lines (file:line), unreadable directory lists, resolver budget. */
void endpoint_cli_warnings(const struct scan_result *r, bool verbose);
void endpoint_cli_free(struct endpoint_cli *e);

#endif
