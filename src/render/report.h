/* Rendering scan results: NDJSON for machines, a table for people. */
#ifndef OWL_REPORT_H
#define OWL_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "core/buf.h"
#include "pipeline/scan.h"
#include "render/jsonw.h"

/* Write the fields of one record into an open JSON object (no braces), so
 * that explain and watch can embed the same fields. */
void report_record_fields(struct jsonw *w, const struct scan_result *s, const struct owl_record *rec,
			  const char *action);

/* One NDJSON line (with '\n') for a record. */
void report_json_line(struct owl_buf *out, const struct scan_result *s, const struct owl_record *rec);

/* The same, with the per-process parts (process, verify, origin, timeline)
 * and each distinct finding set written once and copied after: a report of
 * 100,000 sockets held by 200 processes formats 200 processes, not 100,000.
 * A cache serves the records of one scan_result only (the first it sees). */
struct report_cache;
struct report_cache *report_cache_new(void);
void report_cache_free(struct report_cache *c);
void report_json_line_cached(struct owl_buf *out, const struct scan_result *s, const struct owl_record *rec,
			     struct report_cache *cache);

/* The process fields (pid, name, executable, args, parent, start) into an
 * open "process" object. */
void report_process_fields(struct jsonw *w, const struct owl_proc *p);

struct table_opts {
	int width;      /* terminal columns; 0 = unlimited */
	bool color;
};

/* The table for people: header, one row per record, and nothing else. */
void report_table(FILE *out, const struct scan_result *s, const struct table_opts *o);

/* "pid 1234 (nginx)"-style text of a process, escaped, into buf. */
void report_proc_label(const struct owl_proc *p, char *buf, size_t bufsz);

/* Local/remote endpoint text ("10.0.0.1:443", "[2001:db8::1]:80", "*:*",
 * "eth0 ip" for packet sockets). */
void report_endpoint(const struct owl_conn *c, bool remote, char *buf, size_t bufsz);

#endif
