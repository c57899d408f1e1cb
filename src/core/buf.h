/* A growable byte buffer for building output lines. */
#ifndef OWL_BUF_H
#define OWL_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

struct owl_buf {
	char *data;   /* always NUL-terminated when len > 0 or after any put */
	size_t len, cap;
	int oom;      /* set once an allocation failed; further puts are dropped */
};

void owl_buf_init(struct owl_buf *b);
void owl_buf_reset(struct owl_buf *b);      /* len = 0, keep memory */
void owl_buf_free(struct owl_buf *b);
void owl_buf_putn(struct owl_buf *b, const char *s, size_t n);
void owl_buf_puts(struct owl_buf *b, const char *s);
void owl_buf_putc(struct owl_buf *b, char c);
void owl_buf_printf(struct owl_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The contents as a C string ("" when empty). */
const char *owl_buf_str(const struct owl_buf *b);

#endif
