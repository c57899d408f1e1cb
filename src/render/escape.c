#include "render/escape.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Decode one UTF-8 sequence strictly.  Returns its length (1..4) and the
 * code point, or 0 when s[0] does not start a valid sequence. */
static size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t v, min;
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		v = c & 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		v = c & 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		v = c & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return n;
}

/* Code points that are valid but can hide or reorder what a person reads. */
static int is_deceptive(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) ||        /* C1 controls */
	       cp == 0xad ||                       /* soft hyphen */
	       cp == 0x61c ||                      /* Arabic letter mark */
	       (cp >= 0x200b && cp <= 0x200f) ||   /* zero width, LRM, RLM */
	       (cp >= 0x2028 && cp <= 0x202e) ||   /* separators, bidi embeddings/overrides */
	       (cp >= 0x2060 && cp <= 0x206f) ||   /* word joiner, isolates, invisible ops */
	       cp == 0xfeff ||                     /* BOM / ZWNBSP */
	       (cp >= 0xfff9 && cp <= 0xfffb) ||   /* interlinear annotations */
	       (cp >= 0xe0000 && cp <= 0xe007f);   /* tag characters */
}

void owl_escape(struct owl_buf *out, const char *src, size_t len, enum owl_esc_mode mode)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t i = 0;
	char tmp[16];
	while (i < len) {
		/* copy the longest run of plain printable ASCII at once */
		size_t j = i;
		while (j < len && s[j] >= 0x20 && s[j] < 0x7f && s[j] != '\\' &&
		       !(mode == OWL_ESC_JSON && s[j] == '"'))
			j++;
		if (j > i) {
			owl_buf_putn(out, src + i, j - i);
			i = j;
			continue;
		}
		unsigned char c = s[i];
		if (c == '\\') {
			/* doubled in both modes, so that owl's own escapes (\xNN,
			 * \u{XXXX}) can be told from a name that holds that text:
			 * in JSON the consumer reads "\\" for a real backslash */
			if (mode == OWL_ESC_JSON)
				owl_buf_putn(out, "\\\\\\\\", 4);
			else
				owl_buf_putn(out, "\\\\", 2);
			i++;
			continue;
		}
		if (c == '"') { /* only reached in JSON mode */
			owl_buf_putn(out, "\\\"", 2);
			i++;
			continue;
		}
		if (c < 0x20 || c == 0x7f) {
			const char *e = NULL;
			switch (c) {
			case '\n': e = "\\n"; break;
			case '\t': e = "\\t"; break;
			case '\r': e = "\\r"; break;
			default: break;
			}
			if (e)
				owl_buf_puts(out, e);
			else if (mode == OWL_ESC_JSON)
				owl_buf_printf(out, "\\u%04x", c);
			else
				owl_buf_printf(out, "\\x%02x", c);
			i++;
			continue;
		}
		uint32_t cp;
		size_t n = utf8_decode(s + i, len - i, &cp);
		if (n == 0) {
			/* not UTF-8: show the byte, visibly, in both modes */
			snprintf(tmp, sizeof(tmp), mode == OWL_ESC_JSON ? "\\\\x%02x" : "\\x%02x", c);
			owl_buf_puts(out, tmp);
			i++;
			continue;
		}
		if (is_deceptive(cp)) {
			if (mode == OWL_ESC_JSON)
				owl_buf_printf(out, "\\\\u{%04x}", cp);
			else
				owl_buf_printf(out, "\\u{%04x}", cp);
		} else {
			owl_buf_putn(out, src + i, n);
		}
		i += n;
	}
}

size_t owl_escape_to(char *dst, size_t dstsz, const char *src, size_t len, enum owl_esc_mode mode)
{
	struct owl_buf b;
	if (!dstsz)
		return 0;
	owl_buf_init(&b);
	owl_escape(&b, src, len, mode);
	size_t n = owl_display_prefix(owl_buf_str(&b), b.len, (size_t)-1);
	if (n > dstsz - 1) {
		/* cut on a code point boundary */
		n = dstsz - 1;
		while (n > 0 && ((unsigned char)b.data[n] & 0xc0) == 0x80)
			n--;
	}
	if (n)
		memcpy(dst, b.data, n);
	dst[n] = '\0';
	owl_buf_free(&b);
	return n;
}

static int is_wide(uint32_t cp)
{
	return (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) ||
	       (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
	       (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
	       (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1faff) ||
	       (cp >= 0x20000 && cp <= 0x3fffd);
}

static size_t char_width(uint32_t cp)
{
	if (cp >= 0x300 && cp <= 0x36f) /* combining marks */
		return 0;
	return is_wide(cp) ? 2 : 1;
}

/* Walk s until cols columns are filled; returns the bytes taken and sets
 * *ret_cols to the columns they use.  cols == (size_t)-1: no limit. */
static size_t measure(const char *s, size_t len, size_t cols, size_t *ret_cols)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, w = 0;
	while (i < len) {
		uint32_t cp;
		size_t n = utf8_decode(u + i, len - i, &cp);
		if (n == 0)
			n = 1, cp = '?';
		size_t cw = char_width(cp);
		if (cols != (size_t)-1 && w + cw > cols)
			break;
		w += cw;
		i += n;
	}
	*ret_cols = w;
	return i;
}

size_t owl_display_prefix(const char *s, size_t len, size_t cols)
{
	size_t w;
	return measure(s, len, cols, &w);
}

size_t owl_display_width(const char *s, size_t len)
{
	size_t w;
	measure(s, len, (size_t)-1, &w);
	return w;
}
