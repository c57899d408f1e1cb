/* The one place that makes attacker-controlled bytes safe to show.
 *
 * Everything printed that came from a process, a socket or a file (comm,
 * argv, paths, unit names, user names, reasons quoting them) goes through
 * owl_escape().  Output is always valid UTF-8 with no control characters:
 *  - printable ASCII stays, except '\\' which doubles (in JSON too: a JSON
 *    consumer reads "\\\\" for a real backslash, so the \xNN and \u{XXXX}
 *    below are never confused with a name that holds that text);
 *  - C0/C1 controls and DEL become \n \t \r or \xNN (TEXT) / JSON escapes;
 *  - bytes that are not valid UTF-8 (stray continuation bytes, overlong
 *    forms, surrogates, > U+10FFFF, truncated sequences) become \xNN;
 *  - code points that reorder or hide text (bidi overrides and isolates,
 *    zero-width characters, BOM, line/paragraph separators) become \u{XXXX}.
 * So no process can move the cursor, recolour the terminal, hide a line or
 * make its name read backwards. */
#ifndef OWL_ESCAPE_H
#define OWL_ESCAPE_H

#include <stddef.h>

#include "core/buf.h"

enum owl_esc_mode {
	OWL_ESC_TEXT, /* for a terminal or a log line */
	OWL_ESC_JSON, /* inside a JSON string literal (quotes not added) */
};

/* Append the escaped form of src[0..len) to out. */
void owl_escape(struct owl_buf *out, const char *src, size_t len, enum owl_esc_mode mode);

/* Escape into a fixed buffer (always terminated, truncated on a character
 * boundary).  Returns the number of bytes written. */
size_t owl_escape_to(char *dst, size_t dstsz, const char *src, size_t len, enum owl_esc_mode mode);

/* Display columns of an already-escaped (valid UTF-8) string: one per code
 * point, two for East Asian wide ranges. */
size_t owl_display_width(const char *s, size_t len);

/* Length in bytes of the longest prefix of s (escaped, valid UTF-8) that fits
 * in cols display columns. */
size_t owl_display_prefix(const char *s, size_t len, size_t cols);

#endif
