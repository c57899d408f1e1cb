/* The sections `owl explain` shows about how a connection came about:
 * the ancestry tree, the origin with its evidence, the timeline and the
 * system changes that preceded the process.  Each writes plain text for
 * people (every untrusted string escaped) and does nothing when the origin
 * stage did not run for the process. */
#ifndef OWL_EXPLAIN_ORIGIN_H
#define OWL_EXPLAIN_ORIGIN_H

#include <stdio.h>

#include "pipeline/scan.h"

/* "ancestry:" and the chain as a tree, pid 1 at the top, the process last. */
void explain_ancestry(FILE *out, const struct owl_proc *p);

/* "origin:" kind, evidence, and for user-driven processes which user and
 * which session (tty, audit session, session scope, ssh client). */
void explain_origin(FILE *out, const struct owl_proc *p);

/* "timeline:" process start, executable mtime/ctime/birth, package
 * install/upgrade, the connection's first sighting (store), in time order. */
void explain_timeline(FILE *out, const struct scan_result *s, const struct owl_record *rec);

/* "changes before it started:" the system changes in the window before the
 * process started (at most max lines, the latest; 0 = all). */
void explain_changes(FILE *out, const struct scan_result *s, const struct owl_proc *p, size_t max);

#endif
