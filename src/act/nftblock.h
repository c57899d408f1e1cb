/* `owl contain block`: destinations blocked with nftables, in owl's own
 * table `inet owl` and nowhere else.
 *
 * The table holds four sets (dst4/dst6: whole destinations; svc4/svc6:
 * address . protocol . port) with interval and timeout flags, so a CIDR and
 * an expiry are one element each, and two base chains (output and forward,
 * so traffic of containers and other namespaces routed through this host
 * is covered too) whose rules reject packets to those sets with an ICMP
 * administratively-prohibited (the connecting program fails at once
 * instead of hanging).  The nft text of every change is built here, shown
 * to the user before it is applied, and applied by `nft -f -` in one
 * atomic transaction. */
#ifndef OWL_ACT_NFTBLOCK_H
#define OWL_ACT_NFTBLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/model.h"
#include "core/util.h"

#define NFTBLOCK_FAMILY "inet"
#define NFTBLOCK_TABLE "owl"

struct block_spec {
	struct owl_addr addr;  /* network address (host bits zero) */
	uint8_t prefix;        /* 32 / 128 for one address */
	int transport;         /* -1 any, OWL_TP_TCP, OWL_TP_UDP */
	uint16_t port;         /* 0 = any port */
	uint64_t timeout;      /* seconds; 0 = until unblocked */
};

/* The destination as the user reads it: "192.0.2.0/25 tcp port 80". */
void block_spec_text(const struct block_spec *b, char *buf, size_t bufsz);

/* nft text that creates owl's table, sets, chains and rules when missing
 * and (re)writes its two chains' rules; existing set elements survive. */
void nftblock_script_setup(struct owl_buf *out);
/* nft text adding / deleting the element(s) of one block. */
void nftblock_script_add(const struct block_spec *b, struct owl_buf *out);
void nftblock_script_del(const struct block_spec *b, struct owl_buf *out);
/* nft text removing owl's table (and with it every block). */
void nftblock_script_flush(struct owl_buf *out);

/* Run nft with args (NULL-terminated, args[0] ignored) and stdin_text on
 * its standard input.  Output is collected (bounded to 1 MiB each).
 * Returns nft's exit status (>= 0), or -ENOENT when nft is not installed,
 * or -errno. */
int nftblock_run(const char *const *args, const char *stdin_text, struct owl_buf *ret_out,
		 struct owl_buf *ret_err);

/* Apply a script (nft -f -).  Returns 0, -ENOENT when an element to delete
 * does not exist, -EPERM without CAP_NET_ADMIN, -EIO for another nft error
 * (its message in err), or -errno. */
int nftblock_apply(const char *script, struct owl_buf *err);

/* `nft list table inet owl` as text into out; returns 0, -ENOENT when the
 * table does not exist, or -errno. */
int nftblock_show(struct owl_buf *out);

/* One active element of owl's sets. */
struct block_entry {
	char set[8];           /* dst4 dst6 svc4 svc6 */
	char dest[64];         /* "192.0.2.130" or "192.0.2.0/25" */
	char proto[16];        /* "tcp", "udp", "" = any */
	char port[32];         /* "80", "" = any */
	uint64_t timeout;      /* seconds, 0 = none */
	uint64_t expires;      /* seconds left, 0 = none */
};

/* Parse `nft -j list table inet owl` output into entries (struct
 * block_entry, appended to ret, which the caller initialised).  Returns the
 * number of entries, or -EINVAL when the text is not nft JSON. */
int nftblock_parse_json(const char *json, size_t len, struct owl_vec *ret);

/* List the active blocks (entries appended to ret).  Returns the count, 0
 * when owl's table does not exist, or -errno. */
int nftblock_list(struct owl_vec *ret);

/* Does entry e cover address a (any protocol, any port)? */
bool block_entry_covers(const struct block_entry *e, const struct owl_addr *a);

#endif
