#include "render/jsonw.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "render/escape.h"

void jsonw_init(struct jsonw *w, struct owl_buf *b)
{
	memset(w, 0, sizeof(*w));
	w->b = b;
}

/* Keys are owl's own string literals (plain ASCII, no quotes): copied as
 * they are, in one append. */
static void key(struct jsonw *w, const char *k)
{
	char tmp[80];
	size_t n = 0;
	if (w->need_comma[w->depth])
		tmp[n++] = ',';
	w->need_comma[w->depth] = true;
	if (k) {
		size_t kl = strlen(k);
		if (kl > sizeof(tmp) - 4) {
			owl_buf_putn(w->b, tmp, n);
			owl_buf_putc(w->b, '"');
			owl_escape(w->b, k, kl, OWL_ESC_JSON);
			owl_buf_putn(w->b, "\":", 2);
			return;
		}
		tmp[n++] = '"';
		memcpy(tmp + n, k, kl);
		n += kl;
		tmp[n++] = '"';
		tmp[n++] = ':';
	}
	owl_buf_putn(w->b, tmp, n);
}

static void put_u64(struct owl_buf *b, uint64_t v)
{
	char tmp[24];
	size_t i = sizeof(tmp);
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	owl_buf_putn(b, tmp + i, sizeof(tmp) - i);
}

static void open_(struct jsonw *w, const char *k, char c)
{
	key(w, k);
	owl_buf_putc(w->b, c);
	if (w->depth < JSONW_DEPTH - 1)
		w->depth++;
	w->need_comma[w->depth] = false;
}

static void close_(struct jsonw *w, char c)
{
	owl_buf_putc(w->b, c);
	if (w->depth > 0)
		w->depth--;
}

void jsonw_init_members(struct jsonw *w, struct owl_buf *b)
{
	jsonw_init(w, b);
	w->depth = 1;
}

void jsonw_members(struct jsonw *w, const char *frag, size_t len)
{
	if (!len)
		return;
	if (w->need_comma[w->depth])
		owl_buf_putc(w->b, ',');
	owl_buf_putn(w->b, frag, len);
	w->need_comma[w->depth] = true;
}

void jsonw_obj_open(struct jsonw *w, const char *k) { open_(w, k, '{'); }
void jsonw_obj_close(struct jsonw *w) { close_(w, '}'); }
void jsonw_arr_open(struct jsonw *w, const char *k) { open_(w, k, '['); }
void jsonw_arr_close(struct jsonw *w) { close_(w, ']'); }

void jsonw_strn(struct jsonw *w, const char *k, const char *val, size_t len)
{
	key(w, k);
	owl_buf_putc(w->b, '"');
	owl_escape(w->b, val, len, OWL_ESC_JSON);
	owl_buf_putc(w->b, '"');
}

void jsonw_str(struct jsonw *w, const char *k, const char *val)
{
	jsonw_strn(w, k, val ? val : "", val ? strlen(val) : 0);
}

void jsonw_u64(struct jsonw *w, const char *k, uint64_t v)
{
	key(w, k);
	put_u64(w->b, v);
}

void jsonw_i64(struct jsonw *w, const char *k, int64_t v)
{
	key(w, k);
	if (v < 0) {
		owl_buf_putc(w->b, '-');
		put_u64(w->b, (uint64_t)0 - (uint64_t)v);
	} else {
		put_u64(w->b, (uint64_t)v);
	}
}

void jsonw_double(struct jsonw *w, const char *k, double v)
{
	key(w, k);
	if (isfinite(v))
		owl_buf_printf(w->b, "%.6g", v);
	else
		owl_buf_puts(w->b, "null");
}

void jsonw_bool(struct jsonw *w, const char *k, bool v)
{
	key(w, k);
	owl_buf_puts(w->b, v ? "true" : "false");
}

void jsonw_null(struct jsonw *w, const char *k)
{
	key(w, k);
	owl_buf_puts(w->b, "null");
}
