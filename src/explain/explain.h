/* `owl explain PID | IP[:PORT]`: the whole path for one process or one
 * remote endpoint, for a person under pressure — who the process is, how it
 * came to run, every connection it holds with what is known about the
 * other end, each finding with its reason, and the next steps as commands
 * owl offers in this build.
 *
 * The explanation is a list of sections, one function each (explain.c,
 * explain_sections[]): a later stage adds its section there.  Each section
 * writes through struct explain_out, so the same function produces the
 * text and the --json object. */
#ifndef OWL_EXPLAIN_H
#define OWL_EXPLAIN_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/model.h"
#include "explain/explain_out.h"
#include "pipeline/scan.h"

enum explain_kind {
	EXPLAIN_PID,
	EXPLAIN_ENDPOINT,
};

struct explain_target {
	enum explain_kind kind;
	pid_t pid;
	struct owl_addr addr;
	uint16_t port;
	bool has_port;
};

/* "1234", "198.51.100.7", "198.51.100.7:443", "2001:db8::1",
 * "[2001:db8::1]:443".  Returns 0 or -EINVAL. */
int explain_parse_target(const char *s, struct explain_target *ret);

/* Everything a section may look at. */
struct explain_ctx {
	const struct scan_result *r;          /* a scan with every socket (--all) */
	struct explain_target tgt;
	const char *target_text;              /* as the user typed it */
	const struct owl_proc *proc;          /* PID target: the process */
	const struct owl_record **recs;       /* the records that concern the target */
	size_t nrecs;
	uint8_t verdict;                      /* max severity over recs */
	const char *proc_root;
	/* is this owl subcommand built in?  (next steps offer only those) */
	bool (*have_command)(const char *name);
};

struct explain_section {
	const char *key;
	void (*write)(const struct explain_ctx *x, struct explain_out *o);
};

/* Terminated by {NULL, NULL}. */
extern const struct explain_section explain_sections[];

/* Select the records of the target out of a scan.  For a PID target,
 * proc is the process (from the scan, or loaded by the caller when it holds
 * no socket).  Returns 0, or -ENOMEM; x->nrecs 0 = nothing found. */
int explain_select(struct explain_ctx *x, const struct scan_result *r, const struct explain_target *t,
		   const struct owl_proc *proc);
void explain_ctx_free(struct explain_ctx *x);

/* Write every section: text, or one JSON object (with trailing newline). */
void explain_write(const struct explain_ctx *x, bool json, struct owl_buf *out);

#endif
