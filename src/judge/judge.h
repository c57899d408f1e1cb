/* The judge stage: findings on records, the verdict, the default view and
 * the order of the report. */
#ifndef OWL_JUDGE_H
#define OWL_JUDGE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/model.h"

/* Add a finding (reason printf-style, truncated to one line of
 * OWL_REASON_MAX).  Findings live in shared, immutable sets (judge/fset.c):
 * only the functions here change a record's findings.  Does nothing once OWL_FINDINGS_MAX findings are held,
 * except that a more severe finding replaces the least severe one. */
void judge_add(struct owl_record *rec, const char *id, enum owl_severity sev, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Drop the findings of n records (the records themselves stay). */
void judge_free_findings(struct owl_record *recs, size_t n);

/* Change the severity of rec's i-th finding. */
void judge_set_severity(struct owl_record *rec, uint32_t i, enum owl_severity sev);

/* Add every finding of src to dst (shares src's set when dst has none):
 * findings worked out once per process, given to each of its sockets. */
void judge_add_all(struct owl_record *dst, const struct owl_record *src);

/* judge_add_all through a memo of (dst's findings, src's findings) ->
 * result: 100,000 sockets going from the same findings to the same
 * findings cost one merge.  A memo lives for one stage run; it holds
 * references, dropped by judge_memo_free.  m == NULL: no memo. */
struct judge_memo;
struct judge_memo *judge_memo_new(void);
void judge_memo_free(struct judge_memo *m);
void judge_add_all_memo(struct judge_memo *m, struct owl_record *dst, const struct owl_record *src);

/* dst carries the same findings as src (dst's own are dropped). */
void judge_share_findings(struct owl_record *dst, const struct owl_record *src);

/* True when rec holds a finding with this id. */
bool judge_has(const struct owl_record *rec, const char *id);

/* Run every rule over the records and set each verdict. */
void judge_records(struct owl_record *recs, size_t n);

/* Recompute rec->severity from its findings. */
void judge_verdict(struct owl_record *rec);

/* The default view: egress to non-loopback destinations, plus any socket
 * with a finding at medium or above.  all keeps everything.  Compacts recs
 * in place and returns the new count. */
size_t judge_filter_view(struct owl_record *recs, size_t n, bool all);

/* Most suspicious first, then by process, then by endpoint. */
void judge_sort(struct owl_record *recs, size_t n);

const char *judge_severity_name(enum owl_severity s);
/* Parse "info", "low", ... Returns the severity or -EINVAL. */
int judge_severity_parse(const char *s);

#endif
