/* The endpoint stage alone on N synthetic connections (many processes,
 * many endpoints, some groups of hundreds): shows the per-(process,
 * endpoint) aggregation is linear.  Built and run by bench-endpoint.sh. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "endpoint/endpoint.h"
#include "judge/judge.h"
#include "pipeline/scan.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double run(size_t n)
{
	struct scan_result r;
	memset(&r, 0, sizeof(r));
	size_t nprocs = n / 50 + 1;
	r.procs = calloc(nprocs, sizeof(*r.procs));
	r.recs = calloc(n, sizeof(*r.recs));
	r.nprocs = nprocs;
	for (size_t i = 0; i < nprocs; i++) {
		r.procs[i].pid = (pid_t)(1000 + i);
		snprintf(r.procs[i].comm, sizeof(r.procs[i].comm), "worker%zu", i);
	}
	for (size_t i = 0; i < n; i++) {
		struct owl_record *rec = &r.recs[i];
		struct owl_conn *c = &rec->conn;
		c->transport = OWL_TP_TCP;
		c->family = AF_INET;
		c->state = OWL_TCP_ESTABLISHED;
		c->direction = OWL_DIR_EGRESS;
		c->inode = 100000 + i;
		c->netns_ino = 4026531840u;
		c->has_tcpinfo = true;
		c->bytes_acked = 1000 + i;
		c->bytes_received = 5000;
		uint32_t a = htonl(0xcb007100u | (uint32_t)(i % 200)); /* 203.0.113.0/24: 200 hosts */
		c->laddr.family = c->raddr.family = AF_INET;
		memcpy(c->raddr.bytes, &a, 4);
		c->rport = (uint16_t)(443 + i % 7);
		c->lport = (uint16_t)(10000 + i % 50000);
		rec->proc = &r.procs[i % nprocs];
	}
	r.nrecs = n;
	struct scan_opts o = {.intel_dir = ""};
	double t0 = now();
	int rc = endpoint_stage_run(&o, &r);
	double t = now() - t0;
	if (rc < 0)
		fprintf(stderr, "stage failed: %d\n", rc);
	judge_free_findings(r.recs, r.nrecs);
	endpoint_ctx_free(r.endpoint);
	free(r.procs);
	free(r.recs);
	return t;
}

int main(void)
{
	size_t sizes[] = {5000, 50000, 500000};
	for (size_t i = 0; i < 3; i++) {
		double t = run(sizes[i]);
		printf("endpoint stage: %7zu connections in %7.1f ms (%.2f us each)\n", sizes[i], t * 1e3,
		       t * 1e6 / (double)sizes[i]);
	}
	return 0;
}
