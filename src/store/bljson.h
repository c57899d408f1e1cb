/* Baseline entries as JSON lines: what `owl baseline export` writes and
 * `import` reads.  One object per line:
 *   {"kind":"learned"|"allowed", "executable", "package", "sha256", "user",
 *    "unit", "container", "destination", "ports":"N"|"LO-HI"|"*",
 *    "transport", "note", "host", "first_seen", "last_seen", "count"}
 * Empty text fields are left out on write and read as "".  The reader is
 * strict: an unknown field, a duplicate key, a wrong type, a value too long
 * for its field or an entry baseline_validate() refuses is an error, so a
 * typo can never widen an allowance. */
#ifndef OWL_BLJSON_H
#define OWL_BLJSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "store/baseline.h"

/* Lines longer than this are refused. */
#define BLJSON_LINE_MAX (64 * 1024)

/* "443", "1000-2000" or "*" into buf. */
void baseline_ports_text(uint16_t lo, uint16_t hi, char *buf, size_t n);

/* One line (with '\n') for e; with_id adds "id" (list --json).  The line
 * is ASCII (\uXXXX escapes); a string that is not valid UTF-8 is written
 * in owl_escape()'s visible form (lossy: it cannot travel in JSON). */
void baseline_json_write(struct owl_buf *b, const struct baseline_rule *e, bool with_id);

/* Parse one line (no newline needed) into *e.  Returns 0, or -EINVAL with
 * *why pointing at a static string or at detail (detailsz bytes). */
int baseline_json_parse(const char *line, size_t len, struct baseline_entry *e, const char **why, char *detail,
			size_t detailsz);

#endif
