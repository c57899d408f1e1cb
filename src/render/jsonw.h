/* A small JSON writer over struct owl_buf.  Keys are owl's own (trusted,
 * plain ASCII); every string value passes owl_escape(). */
#ifndef OWL_JSONW_H
#define OWL_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define JSONW_DEPTH 16

struct jsonw {
	struct owl_buf *b;
	int depth;
	bool need_comma[JSONW_DEPTH];
};

void jsonw_init(struct jsonw *w, struct owl_buf *b);
/* key may be NULL inside arrays (and for the top-level value). */
void jsonw_obj_open(struct jsonw *w, const char *key);
void jsonw_obj_close(struct jsonw *w);
void jsonw_arr_open(struct jsonw *w, const char *key);
void jsonw_arr_close(struct jsonw *w);
void jsonw_str(struct jsonw *w, const char *key, const char *val);
void jsonw_strn(struct jsonw *w, const char *key, const char *val, size_t len);
void jsonw_u64(struct jsonw *w, const char *key, uint64_t v);
void jsonw_i64(struct jsonw *w, const char *key, int64_t v);
void jsonw_double(struct jsonw *w, const char *key, double v);
void jsonw_bool(struct jsonw *w, const char *key, bool v);
void jsonw_null(struct jsonw *w, const char *key);

/* Members recorded earlier by a jsonw that started inside an object or
 * array (see report_json's per-process cache): frag holds zero or more
 * complete, comma-separated members; they are appended at the current
 * level with the comma they need. */
void jsonw_members(struct jsonw *w, const char *frag, size_t len);
/* Start recording such members into b (an object level, no comma yet). */
void jsonw_init_members(struct jsonw *w, struct owl_buf *b);

#endif
