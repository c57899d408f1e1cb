/* The endpoint stage: what is known about the remote end of every socket
 * (scope, threat-intel, port, GeoIP/ASN, reverse DNS, bytes) and the
 * findings that follow from it: ioc-match, port-unusual, metadata-service,
 * high-volume, large-upload, repeated-attempts, raw-socket.
 * Rules and severities: docs/endpoint.md. */
#ifndef OWL_ENDPOINT_H
#define OWL_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/model.h"
#include "endpoint/geo.h"
#include "endpoint/intel.h"
#include "endpoint/ports.h"
#include "endpoint/resolve.h"
#include "endpoint/scope.h"

struct scan_opts;
struct scan_result;

#define ENDPOINT_INTEL_DIR "/etc/owl/intel.d"

/* Thresholds (scan --limit NAME=VALUE; defaults in docs/endpoint.md). */
struct endpoint_limits {
	unsigned high_volume;      /* connections from one process to one endpoint */
	uint64_t large_upload;     /* bytes sent ... */
	unsigned upload_ratio;     /* ... and at least this many times what was received */
	unsigned attempts;         /* SYN-SENT sockets from one process to one endpoint */
	unsigned resolve_ms;       /* --resolve budget for the whole scan */
};

#define ENDPOINT_HIGH_VOLUME 100
#define ENDPOINT_LARGE_UPLOAD (8ull << 20)
#define ENDPOINT_UPLOAD_RATIO 10
#define ENDPOINT_ATTEMPTS 3
#define ENDPOINT_RESOLVE_MS 2000

void endpoint_limits_default(struct endpoint_limits *ret);
/* Apply "name=value" (high-volume=N, large-upload=SIZE with K/M/G suffixes
 * in powers of 1024, upload-ratio=N, attempts=N, resolve-ms=N).  Returns 0,
 * -ENOENT for an unknown name or -EINVAL for a bad value (l unaltered). */
int endpoint_limit_set(struct endpoint_limits *l, const char *kv);

/* Facts about one distinct remote address. */
struct endpoint_addr {
	struct owl_addr addr;
	uint8_t scope;                 /* enum ep_scope */
	bool has_intel, has_geo;
	struct intel_match intel;
	struct geo_info geo;
	char domain[RESOLVE_NAME_MAX]; /* reverse DNS (--resolve), "" if none; raw */
};

/* Behind owl_record.endpoint. */
struct endpoint_info {
	const struct endpoint_addr *remote;  /* NULL: no remote end (listening, packet, unconnected) */
	uint8_t port_class;                  /* enum port_class; valid when port_checked */
	bool port_checked;
	const char *port_name;               /* service name or NULL */
	const char *port_why;                /* abuse reason or NULL */
	/* the (process, endpoint) group this socket belongs to (egress only),
	 * shared by its sockets; NULL when it belongs to none */
	const struct endpoint_group *group;
};

/* Sockets of one process to one remote endpoint (address, port, transport,
 * namespace). */
struct endpoint_group {
	uint32_t conns, synsent;
	uint64_t out, in;
};

/* A TCP socket's byte counts from tcp_info (the record's own; not kept
 * twice).  out is what the application wrote: acked + still queued. */
struct endpoint_bytes {
	uint64_t out, acked, in;
};
static inline bool endpoint_bytes(const struct owl_conn *c, struct endpoint_bytes *b)
{
	if (c->transport != OWL_TP_TCP || !c->has_tcpinfo)
		return false;
	b->acked = c->bytes_acked;
	b->in = c->bytes_received;
	b->out = c->bytes_acked + c->wqueue;
	return true;
}

/* Behind scan_result.endpoint. */
struct endpoint_ctx {
	struct endpoint_limits lim;
	struct intel intel;
	struct geo geo;
	struct ports ports;
	struct endpoint_addr *addrs;
	size_t naddrs;
	struct endpoint_info *infos;         /* shared by the sockets with the same facts */
	size_t ninfos;
	struct endpoint_group *groups;       /* behind infos[].group */
	bool resolved;
	struct resolve_stats resolve;
	/* why the stage failed (for the CLI's message) */
	const char *failed_what;             /* "intel list", "GeoIP database" */
	char failed_path[OWL_PATH_MAX];
	int failed_err;
};

/* The stage (scan_stages[]). */
int endpoint_stage_run(const struct scan_opts *o, struct scan_result *r);
void endpoint_ctx_free(struct endpoint_ctx *x);

/* One line about the remote end for the table: "documentation NL AS64500
 * host.example" style, escaped, into buf. */
void endpoint_where(const struct owl_record *rec, char *buf, size_t bufsz);

#endif
