/* Pieces of `owl baseline` shared between its two files. */
#ifndef OWL_CMD_BASELINE_H
#define OWL_CMD_BASELINE_H

#include <stdint.h>

#include "store/store.h"

/* store_open() that explains a failure on stderr. */
int bl_open(const char *path, unsigned flags, struct store **ret);
/* "owl: WHAT: <store_strerror(rc)> (<the store's message>)"; the
 * parenthesis only when the store has a message. */
void bl_store_err(const char *what, int rc, const struct store *s);
/* "30", "30s", "500ms", "5m", "2h" → ms.  0 or -EINVAL/-ERANGE. */
int bl_parse_duration(const char *s, uint64_t *ret_ms);

/* cmd_baseline_learn.c */
int bl_learn_main(int argc, char **argv);

/* cmd_baseline_io.c */
int bl_list_main(int argc, char **argv);
int bl_export_main(int argc, char **argv);
int bl_import_main(int argc, char **argv);

#endif
