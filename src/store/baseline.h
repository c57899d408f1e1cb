/* The baseline: what this machine (or a fleet of them) normally does, as
 * (process identity -> destination) pairs, either learned from what was
 * seen or allowed by a person with a note.
 *
 * Identity   = executable path, owning package, digest of the running
 *              image (sha256), user, systemd unit, container id.
 * Destination= address, CIDR prefix or domain, a port range, a transport.
 *
 * Matching ("identity before trust"):
 *  - an entry pinned to a digest matches only a process whose running
 *    image has that digest (an unknown digest never matches);
 *  - an entry by package matches only when the verify stage says the
 *    executable belongs to that package AND its digest is the package's;
 *  - learned entries match on exe, digest, user, unit and container
 *    exactly; allowed entries treat '' as "any" (but name exe or package);
 *  - allowed entries win over learned ones; among them the most specific
 *    (digest pinned, then longest prefix, then narrowest port range).
 */
#ifndef OWL_BASELINE_H
#define OWL_BASELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/model.h"
#include "store/store.h"

enum baseline_kind {
	BASELINE_LEARNED = 0,
	BASELINE_ALLOWED,
};

#define BL_EXE_MAX 1024        /* longer paths are refused, never truncated */
#define BL_PKG_MAX 128
#define BL_DIGEST_MAX 65      /* sha256 hex + NUL */
#define BL_DEST_MAX 256
#define BL_NOTE_MAX 1024
#define BL_HOST_MAX 256
#define BL_TP_MAX 8

enum bl_dest_type {
	BL_DEST_ANY = 0,
	BL_DEST_CIDR,             /* an address is a /32 or /128 */
	BL_DEST_DOMAIN,           /* "example.com" or "*.example.com" */
};

struct baseline_entry {
	int64_t id;
	uint8_t kind;             /* enum baseline_kind */
	char exe[BL_EXE_MAX];
	char package[BL_PKG_MAX];
	char digest[BL_DIGEST_MAX];
	char user[OWL_USER_MAX];
	char unit[OWL_UNIT_MAX];
	char container[OWL_CONTAINER_MAX];
	char dest[BL_DEST_MAX];
	uint16_t port_lo, port_hi;
	char transport[BL_TP_MAX];
	char note[BL_NOTE_MAX];
	char host[BL_HOST_MAX];
	int64_t first_seen, last_seen; /* unix seconds */
	int64_t count;
	/* parsed dest */
	uint8_t dest_type;        /* enum bl_dest_type */
	struct owl_addr net;      /* BL_DEST_CIDR: network address */
	uint8_t prefix;           /* BL_DEST_CIDR: prefix length */
};

/* An entry as held in a loaded set: the same fields, the strings in the
 * set's arena (a 100,000-entry baseline costs tens of MB, not hundreds). */
struct baseline_rule {
	int64_t id;
	uint8_t kind;
	uint8_t dest_type;
	uint8_t prefix;
	uint16_t port_lo, port_hi;
	char transport[BL_TP_MAX];
	struct owl_addr net;
	const char *exe, *package, *digest, *user, *unit, *container, *dest, *note, *host;
	int64_t first_seen, last_seen, count;
};

/* A rule that points into e (no copy; valid while e is). */
void baseline_rule_view(const struct baseline_entry *e, struct baseline_rule *ret);

/* Parse a destination: '' or '*' (any), an address, a CIDR, or a domain
 * name (letters, digits, '-', '.', optional leading "*."), and put the
 * canonical text back into e->dest.  Returns 0 or -EINVAL. */
int baseline_parse_dest(const char *s, struct baseline_entry *e);

/* Parse "443", "1000-2000" or "" / "*" (any) into lo/hi.  0 or -EINVAL. */
int baseline_parse_ports(const char *s, uint16_t *ret_lo, uint16_t *ret_hi);

/* Check the fields of an entry before it is written (required fields,
 * lengths, transport, digest format).  Returns 0 or -EINVAL with a static
 * explanation in *ret_why. */
int baseline_validate(const struct baseline_entry *e, const char **ret_why);

/* What the baseline knows about one process. */
struct baseline_identity {
	const char *exe;
	const char *package;      /* "" when unknown */
	bool package_verified;    /* verify says: owned by package, digest ok */
	const char *digest;       /* sha256 hex of the running image, "" unknown */
	const char *user;
	const char *unit;
	const char *container;
};

struct baseline_dest {
	struct owl_addr addr;
	uint16_t port;
	const char *transport;    /* "tcp", "udp", "raw" */
	const char *domain;       /* NULL when unknown */
};

/* The whole baseline in memory, for matching during a scan or a watch.
 * baseline_load() also builds an index (entries by executable, and the
 * ones that name only a package), so a match looks at the entries of one
 * program instead of all. */
struct baseline_set {
	struct baseline_rule *e;
	size_t n, cap;
	char **chunks;            /* the string arena */
	size_t nchunks, chunk_used, chunk_size;
	uint32_t *by_exe;         /* indexes of entries with an exe, sorted by exe */
	size_t n_by_exe;
	uint32_t *no_exe;         /* indexes of entries without one */
	size_t n_no_exe;
	bool indexed;             /* else matching is linear (still right) */
};

/* Add a copy of e to the set (unindexed until baseline_index()).
 * 0 or -ENOMEM. */
int baseline_set_add(struct baseline_set *set, const struct baseline_entry *e);

/* (Re)build the index of a set; -ENOMEM leaves it unindexed. */
int baseline_index(struct baseline_set *set);

/* Load every entry.  0 or -errno (store_errmsg() has SQLite's words). */
int baseline_load(struct store *s, struct baseline_set *ret);
void baseline_set_free(struct baseline_set *set);

/* The best entry for this identity and destination, or NULL. */
const struct baseline_rule *baseline_match(const struct baseline_set *set, const struct baseline_identity *id,
					    const struct baseline_dest *d);

/* Does one rule cover id → d?  (The rules above.) */
bool baseline_rule_matches(const struct baseline_rule *e, const struct baseline_identity *id,
			    const struct baseline_dest *d);

enum baseline_merge {
	BASELINE_ADD = 0,  /* learn: counts add up */
	BASELINE_MAX,      /* import: keep the larger count (importing twice changes nothing) */
};

/* Insert an entry, or when one with the same key exists: widen first/last
 * seen, merge the count, take the new note when it has one.  Must run
 * inside a transaction.  Returns 0 and the entry's id in *ret_id (may be
 * NULL), or -errno (-EINVAL when baseline_validate() refuses it). */
int baseline_upsert(struct store *s, const struct baseline_entry *e, enum baseline_merge how, int64_t *ret_id);

/* Delete entries: by id (> 0), or all of one kind (kind >= 0, id == 0), or
 * everything (id == 0, kind < 0).  *ret_n gets the number deleted. */
int baseline_forget(struct store *s, int64_t id, int kind, int64_t *ret_n);

/* Count of entries (all kinds). */
int baseline_count(struct store *s, int64_t *ret_n);

const char *baseline_kind_name(int kind);

#endif
