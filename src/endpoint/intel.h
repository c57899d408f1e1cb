/* Threat-intel lists: files of IPv4/IPv6 addresses and CIDR prefixes, one a
 * line, loaded into one prefix trie per family.
 *
 * Accepted: "#" and ";" comments (whole line or trailing), blank lines,
 * "ADDR" and "ADDR/LEN" (host bits are cleared), FireHOL .netset files, and
 * both Tor exit-list formats (one address a line, or the exit-addresses
 * document: "ExitAddress ADDR DATE TIME"; its ExitNode/Published/LastStatus
 * lines are skipped).  Anything else is a bad line: counted, the first few
 * remembered with their line number, never fatal. */
#ifndef OWL_ENDPOINT_INTEL_H
#define OWL_ENDPOINT_INTEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/model.h"
#include "endpoint/iptrie.h"

#define INTEL_LINE_MAX 512     /* longer lines are bad lines */
#define INTEL_FILE_MAX (256u << 20) /* bytes; a longer source is an error (-EFBIG) */
#define INTEL_BAD_KEEP 5       /* bad lines remembered per file */
#define INTEL_BAD_TEXT 80      /* bytes of a bad line remembered (raw, escape to show) */
#define INTEL_ENTRY_MAX 50     /* "ADDR/LEN" text */

struct intel_bad {
	size_t line;
	char text[INTEL_BAD_TEXT];
};

struct intel_list {
	char path[OWL_PATH_MAX];
	char name[256];            /* file name without directory */
	size_t entries;            /* distinct prefixes this file added (after intel_finish) */
	size_t dups;               /* prefixes already loaded (from this or an earlier list) */
	size_t bad;                /* bad lines */
	struct intel_bad first_bad[INTEL_BAD_KEEP];
	int err;                   /* -errno when the file could not be read (directory lists only) */
};

struct intel {
	struct iptrie v4, v6;
	struct intel_list *lists;
	size_t nlists;
};

/* What matched an address. */
struct intel_match {
	const struct intel_list *list;
	struct owl_addr prefix;        /* the list entry that matched ... */
	unsigned plen;                 /* ... and its length */
};

/* The matched entry as text ("198.51.100.0/24", or "198.51.100.7" for a
 * single address) into buf (INTEL_ENTRY_MAX). */
const char *intel_entry_str(const struct intel_match *m, char buf[INTEL_ENTRY_MAX]);

/* Parse one line (without its newline).  Returns 1 and fills *ret_addr and
 * *ret_plen for an entry, 0 for a line that holds none (blank, comment, Tor
 * metadata), or -EINVAL for a bad line. */
int intel_parse_line(const char *line, size_t len, struct owl_addr *ret_addr, unsigned *ret_plen);

int intel_init(struct intel *in);
void intel_free(struct intel *in);

/* Load one list.  Returns 0 (bad lines are recorded in the list, not
 * errors), or -errno when the file cannot be opened or read (nothing of it
 * is kept), -ENOMEM. */
int intel_load_file(struct intel *in, const char *path);

/* Load every "*.list" file in dir, in name order.  A missing directory is
 * no error.  A file that cannot be read is recorded with its error in
 * in->lists (err != 0) and the others still load.  Returns 0 or -ENOMEM, or
 * -errno when dir exists but cannot be listed. */
int intel_load_dir(struct intel *in, const char *dir);

/* Build the lookup tries from every list loaded so far (call after the
 * last load, before lookups); counts duplicates into the lists.  Returns 0
 * or -ENOMEM. */
int intel_finish(struct intel *in);

/* Total distinct prefixes (after intel_finish). */
size_t intel_count(const struct intel *in);

/* The longest listed prefix containing a.  Returns true and fills *ret. */
bool intel_lookup(const struct intel *in, const struct owl_addr *a, struct intel_match *ret);

#endif
