#include "core/buf.h"

#include <stdlib.h>
#include <string.h>

void owl_buf_init(struct owl_buf *b)
{
	memset(b, 0, sizeof(*b));
}

void owl_buf_reset(struct owl_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void owl_buf_free(struct owl_buf *b)
{
	free(b->data);
	owl_buf_init(b);
}

static int grow(struct owl_buf *b, size_t need)
{
	if (b->oom)
		return -1;
	if (b->len + need + 1 <= b->cap)
		return 0;
	size_t ncap = b->cap ? b->cap : 256;
	while (ncap < b->len + need + 1) {
		if (ncap > ((size_t)-1) / 2) {
			b->oom = 1;
			return -1;
		}
		ncap *= 2;
	}
	char *n = realloc(b->data, ncap);
	if (!n) {
		b->oom = 1;
		return -1;
	}
	b->data = n;
	b->cap = ncap;
	return 0;
}

void owl_buf_putn(struct owl_buf *b, const char *s, size_t n)
{
	if ((b->len + n + 1 > b->cap || b->oom) && grow(b, n) < 0)
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void owl_buf_puts(struct owl_buf *b, const char *s)
{
	owl_buf_putn(b, s, strlen(s));
}

void owl_buf_putc(struct owl_buf *b, char c)
{
	owl_buf_putn(b, &c, 1);
}

void owl_buf_printf(struct owl_buf *b, const char *fmt, ...)
{
	va_list ap;
	char small[256];
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		owl_buf_putn(b, small, (size_t)n);
		return;
	}
	if (grow(b, (size_t)n) < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

const char *owl_buf_str(const struct owl_buf *b)
{
	return b->data ? b->data : "";
}
