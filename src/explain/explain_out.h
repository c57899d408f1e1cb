/* A small writer that lets one function per explain section produce both
 * the text for a person and the JSON object: sections, key/value fields,
 * lists of items.  Values are untrusted (escaped here); keys, labels and
 * titles are owl's own. */
#ifndef OWL_EXPLAIN_OUT_H
#define OWL_EXPLAIN_OUT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "render/jsonw.h"

struct explain_out {
	bool json;
	struct owl_buf *b;
	struct jsonw w;
	int depth;        /* text indentation level */
	bool in_item;     /* text: the next field opens a "- " item */
	bool titled[8];   /* text: open lists that have a title line (indent their items) */
	unsigned nlists;
};

void exo_init(struct explain_out *o, struct owl_buf *b, bool json);
/* A section: text "TITLE" heading, JSON key → object. */
void exo_section(struct explain_out *o, const char *key, const char *title);
void exo_section_end(struct explain_out *o);
/* A list: text "title:" then items, JSON key → array. */
void exo_list(struct explain_out *o, const char *key, const char *title);
void exo_list_end(struct explain_out *o);
/* An item of a list: an object in JSON, a "- " entry in text. */
void exo_item(struct explain_out *o);
void exo_item_end(struct explain_out *o);
/* A field: "label: value" in text, "key": "value" in JSON.  label NULL =
 * text shows the value alone (a sentence). */
void exo_str(struct explain_out *o, const char *key, const char *label, const char *val);
void exo_fmt(struct explain_out *o, const char *key, const char *label, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void exo_u64(struct explain_out *o, const char *key, const char *label, uint64_t v);
/* A JSON-only number / text-only line. */
void exo_json_u64(struct explain_out *o, const char *key, uint64_t v);
void exo_text(struct explain_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A list of plain strings in JSON; lines in text. */
void exo_strings_item(struct explain_out *o, const char *val);

#endif
