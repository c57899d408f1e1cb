#include "explain/explain_out.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "render/escape.h"

void exo_init(struct explain_out *o, struct owl_buf *b, bool json)
{
	memset(o, 0, sizeof(*o));
	o->json = json;
	o->b = b;
	if (json) {
		jsonw_init(&o->w, b);
		jsonw_obj_open(&o->w, NULL);
	}
}

static void indent(struct explain_out *o)
{
	for (int i = 0; i < o->depth; i++)
		owl_buf_puts(o->b, "  ");
	if (o->in_item) {
		/* the "- " replaces the last level of indentation */
		if (o->b->len >= 2)
			o->b->len -= 2;
		owl_buf_puts(o->b, "- ");
		o->in_item = false;
	}
}

void exo_section(struct explain_out *o, const char *key, const char *title)
{
	if (o->json) {
		jsonw_obj_open(&o->w, key);
		return;
	}
	if (o->b->len)
		owl_buf_putc(o->b, '\n');
	owl_buf_printf(o->b, "%s\n", title);
	o->depth = 1;
}

void exo_section_end(struct explain_out *o)
{
	if (o->json)
		jsonw_obj_close(&o->w);
	o->depth = 0;
}

void exo_list(struct explain_out *o, const char *key, const char *title)
{
	if (o->json) {
		jsonw_arr_open(&o->w, key);
		return;
	}
	if (title) {
		indent(o);
		owl_buf_printf(o->b, "%s:\n", title);
		o->depth++;
	}
	o->titled[o->nlists++ & 7] = title != NULL;
}

void exo_list_end(struct explain_out *o)
{
	if (o->json)
		jsonw_arr_close(&o->w);
	else if (o->nlists && o->titled[--o->nlists & 7])
		o->depth--;
}

void exo_item(struct explain_out *o)
{
	if (o->json) {
		jsonw_obj_open(&o->w, NULL);
		return;
	}
	o->depth++;
	o->in_item = true;
}

void exo_item_end(struct explain_out *o)
{
	if (o->json) {
		jsonw_obj_close(&o->w);
		return;
	}
	o->depth--;
	o->in_item = false;
}

void exo_str(struct explain_out *o, const char *key, const char *label, const char *val)
{
	if (o->json) {
		jsonw_str(&o->w, key, val);
		return;
	}
	indent(o);
	if (label)
		owl_buf_printf(o->b, "%s: ", label);
	owl_escape(o->b, val, strlen(val), OWL_ESC_TEXT);
	owl_buf_putc(o->b, '\n');
}

void exo_fmt(struct explain_out *o, const char *key, const char *label, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	exo_str(o, key, label, buf);
}

void exo_u64(struct explain_out *o, const char *key, const char *label, uint64_t v)
{
	if (o->json) {
		jsonw_u64(&o->w, key, v);
		return;
	}
	indent(o);
	owl_buf_printf(o->b, "%s: %llu\n", label, (unsigned long long)v);
}

void exo_json_u64(struct explain_out *o, const char *key, uint64_t v)
{
	if (o->json)
		jsonw_u64(&o->w, key, v);
}

void exo_text(struct explain_out *o, const char *fmt, ...)
{
	if (o->json)
		return;
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	indent(o);
	owl_buf_puts(o->b, buf);
	owl_buf_putc(o->b, '\n');
}

void exo_strings_item(struct explain_out *o, const char *val)
{
	if (o->json) {
		jsonw_str(&o->w, NULL, val);
		return;
	}
	indent(o);
	owl_escape(o->b, val, strlen(val), OWL_ESC_TEXT);
	owl_buf_putc(o->b, '\n');
}
