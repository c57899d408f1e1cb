/* The common-cause catalogue: programs that routinely talk to the network
 * (update agents, time sync, DNS, monitoring, cloud agents, container
 * runtimes, remote access, user applications) and what they are expected
 * to contact.  Data files, not code: shipped ones under
 * /usr/share/owl/catalogue/, an administrator's under
 * /etc/owl/catalogue.d/ (an entry there replaces a shipped entry of the
 * same name).  Only *.conf files are read, in name order.
 *
 * Format (see data/catalogue/README):
 *
 *     # comment
 *     [chrony]                      entry name: [A-Za-z0-9._-], <= 63 chars
 *     category = time sync          one of cat_category_name()
 *     description = NTP client      optional, free text
 *     executables = /usr/sbin/chronyd /usr/lib/apt/methods/h*   (fnmatch)
 *     packages = chrony             either or both of these two
 *     ports = udp/123 tcp/4460 tcp/1000-2000 any/53
 *     scopes = public private       optional: any scope when absent
 *     domains = *.pool.ntp.org      optional: checked when the domain is known
 *
 * A malformed line is an error reported as file:line; the entry it is in
 * is dropped (never half-loaded), and parsing goes on at the next entry.
 *
 * A match only counts when the process passed verification; the judge
 * side of that rule lives in the baseline stage (src/store/stage.c).
 */
#ifndef OWL_CATALOGUE_H
#define OWL_CATALOGUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/model.h"

#define CAT_NAME_MAX 64
#define CAT_DESC_MAX 256
#define CAT_LIST_MAX 32          /* items per list */
#define CAT_ITEM_MAX 256         /* bytes per item */
#define CAT_ENTRIES_MAX 4096
#define CAT_FILE_MAX (1 << 20)
#define CAT_LINE_MAX 4096
#define CAT_ERR_MAX 512

enum cat_category {
	CAT_UPDATE_AGENT = 0,
	CAT_TIME_SYNC,
	CAT_DNS,
	CAT_MONITORING,
	CAT_CLOUD_AGENT,
	CAT_CONTAINER_RUNTIME,
	CAT_REMOTE_ACCESS,
	CAT_USER_APPLICATION,
	CAT__MAX,
};

/* Address scopes a catalogue can name. */
enum cat_scope {
	CAT_SCOPE_PUBLIC = 0,
	CAT_SCOPE_PRIVATE,
	CAT_SCOPE_LOOPBACK,
	CAT_SCOPE_LINK_LOCAL,
	CAT_SCOPE_METADATA,
	CAT_SCOPE_MULTICAST,
	CAT_SCOPE_CGNAT,
	CAT_SCOPE_DOCUMENTATION,
	CAT_SCOPE_OTHER,            /* unspecified, reserved, broadcast, ... */
	CAT_SCOPE__MAX,
};

struct cat_ports {
	uint8_t transport;          /* 0 any, 1 tcp, 2 udp */
	uint16_t lo, hi;
};

struct cat_entry {
	char name[CAT_NAME_MAX];
	uint8_t category;           /* enum cat_category */
	char description[CAT_DESC_MAX];
	char file[256];             /* where it was defined (file:line) */
	char (*exes)[CAT_ITEM_MAX];
	size_t nexes;
	char (*packages)[CAT_ITEM_MAX];
	size_t npackages;
	struct cat_ports *ports;
	size_t nports;
	uint32_t scopes;            /* bit set of enum cat_scope; 0 = any */
	char (*domains)[CAT_ITEM_MAX];
	size_t ndomains;
};

struct catalogue {
	struct cat_entry *e;
	size_t n, cap;
	char (*errors)[CAT_ERR_MAX]; /* "file:line: message", untrusted file names escaped at print */
	size_t nerrors, errcap;
};

void cat_init(struct catalogue *c);
void cat_free(struct catalogue *c);

/* Parse one file's contents (fname is only used in messages).  Entries go
 * into c (replacing an entry of the same name when replace is true, else a
 * duplicate is an error); errors go into c->errors.  Returns the number of
 * entries added, or -ENOMEM. */
int cat_parse(struct catalogue *c, const char *fname, const char *buf, size_t len, bool replace);

/* Load every *.conf of dir, in name order.  A missing dir is fine (0).
 * Unreadable files become errors in c->errors.  Returns entries added or
 * -ENOMEM. */
int cat_load_dir(struct catalogue *c, const char *dir, bool replace);

/* The shipped and the local directory, honouring OWL_CATALOGUE_DIR and
 * OWL_CATALOGUE_LOCAL_DIR from the environment (tests). */
const char *cat_default_dir(void);
const char *cat_local_dir(void);

/* Load the shipped directory, then the local one (which may replace). */
int cat_load_default(struct catalogue *c);

/* The first entry covering this program and destination, or NULL.
 * exe/package may be "" (unknown); domain NULL when unknown. */
const struct cat_entry *cat_match(const struct catalogue *c, const char *exe, const char *package,
				  const char *transport, uint16_t port, enum cat_scope scope, const char *domain);

/* Does e cover this program (exe or package)? */
bool cat_covers_program(const struct cat_entry *e, const char *exe, const char *package);

const char *cat_category_name(int cat);  /* "update agent", ... */
const char *cat_scope_name(int scope);   /* "public", "link-local", ... */

/* The scope of an address, from the endpoint stage's table. */
enum cat_scope cat_scope_of(const struct owl_addr *a);

#endif
