/* The dpkg database: parsers for its files and a per-root index built once.
 *
 * Files read (all under <root>/var/lib/dpkg/):
 *   info/<pkg>[:<arch>].md5sums  "<32 hex>  <path without leading />" per line
 *   info/<pkg>[:<arch>].list     one absolute path per line (files, dirs, links)
 *   status                       RFC-822 stanzas: Package, Architecture,
 *                                Version, Status, Conffiles
 *   diversions                   triples of lines: from, to, diverting package
 *                                (":" = a local diversion by the admin)
 * Paths are canonicalised for the /usr merge: when <root>/bin is a link to
 * usr/bin, "/bin/nc.openbsd" (as dpkg recorded it) and "/usr/bin/nc.openbsd"
 * (as the kernel reports it) are one key.  The same for sbin, lib, lib32,
 * lib64 and libx32.
 *
 * The parsers are pure (no I/O), accept any bytes, skip malformed lines and
 * report the number they skipped. */
#ifndef OWL_VERIFY_DPKG_H
#define OWL_VERIFY_DPKG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DPKG_PATH_MAX 4096

/* ---- parsers ---- */

/* One md5sums line.  path is relative as dpkg writes it (no leading '/'). */
typedef int (*dpkg_md5_fn)(void *ud, const char *path, size_t len, const uint8_t md5[16]);
/* Parse an md5sums file.  The callback returning < 0 stops the parse and
 * that value is returned.  Returns the number of entries, and the number of
 * malformed lines in *ret_bad (may be NULL). */
int dpkg_parse_md5sums(const char *buf, size_t len, dpkg_md5_fn fn, void *ud, unsigned *ret_bad);

typedef int (*dpkg_path_fn)(void *ud, const char *path, size_t len);
/* Parse a .list file: one absolute path per line; lines that are empty, not
 * absolute or longer than DPKG_PATH_MAX are counted bad. */
int dpkg_parse_list(const char *buf, size_t len, dpkg_path_fn fn, void *ud, unsigned *ret_bad);

typedef int (*dpkg_div_fn)(void *ud, const char *from, size_t fromlen, const char *to, size_t tolen,
			   const char *pkg, size_t pkglen);
/* Parse the diversions file (triples of lines).  A trailing incomplete
 * triple or a non-absolute path counts as bad. */
int dpkg_parse_diversions(const char *buf, size_t len, dpkg_div_fn fn, void *ud, unsigned *ret_bad);

struct dpkg_stanza {
	const char *package, *arch, *version, *status;
	size_t package_len, arch_len, version_len, status_len;
	const char *conffiles; /* the raw continuation lines of Conffiles:, or NULL */
	size_t conffiles_len;
};
typedef int (*dpkg_stanza_fn)(void *ud, const struct dpkg_stanza *s);
/* Parse the status file into stanzas (separated by blank lines). */
int dpkg_parse_status(const char *buf, size_t len, dpkg_stanza_fn fn, void *ud, unsigned *ret_bad);

/* Parse 32 hex digits into 16 bytes.  Returns 0 or -EINVAL. */
int dpkg_parse_md5hex(const char *s, size_t len, uint8_t ret[16]);

/* Canonical form of an absolute path for lookups: collapses "//", drops
 * "./" and maps /bin, /sbin, /lib* to /usr/... when usrmerge is set.
 * Returns the length written to out (< outsz), or -ENAMETOOLONG/-EINVAL. */
int dpkg_canon_path(const char *path, size_t len, bool usrmerge, char *out, size_t outsz);

/* ---- index ---- */

struct dpkg_db;

struct dpkg_pkginfo {
	const char *name;     /* "netcat-openbsd" */
	const char *arch;     /* "amd64", or "" */
	const char *version;  /* "" if the status file did not name it */
	uint64_t installed_ns;/* mtime of info/<pkg>.list, 0 if unknown */
};

/* Open the database under root_fd (a directory fd of the root, e.g. of
 * /proc/PID/root; AT_FDCWD-like -1 means "/").  Reads status, diversions and
 * every md5sums file now; the .list files at the first lookup that needs
 * them.  Symlinks inside the database are not followed, and paths are
 * resolved inside the root (openat2 RESOLVE_IN_ROOT), so a container cannot
 * point owl at the host's files.  Returns 0, -ENOENT when there is no dpkg
 * database under root, -ENOMEM. */
int dpkg_db_open(int root_fd, struct dpkg_db **ret);
void dpkg_db_free(struct dpkg_db *db);

/* Identity of the status file (dev, ino), to tell one root's database from
 * another's. */
void dpkg_db_id(const struct dpkg_db *db, uint64_t *ret_dev, uint64_t *ret_ino);

/* Look up the file at on-disk path `path` (absolute, as the process sees
 * it).  Applies diversions.  On success sets *ret_pkg (index for
 * dpkg_db_pkg()), *ret_has_md5 and ret_md5, and the recorded path in
 * ret_recorded (may be NULL, size DPKG_PATH_MAX) and the diverting package
 * in ret_diverted_by (may be NULL, size 128, "" when none).
 * Returns 0, -ENOENT when no package owns it. */
int dpkg_db_lookup(struct dpkg_db *db, const char *path, uint32_t *ret_pkg, bool *ret_has_md5,
		   uint8_t ret_md5[16], char *ret_recorded, char *ret_diverted_by);

/* True when md5 equals any record of `path` (several packages may ship the
 * same path, e.g. Multi-Arch: same). */
bool dpkg_db_md5_matches(struct dpkg_db *db, const char *path, const uint8_t md5[16]);

/* Package by index (from dpkg_db_lookup).  Returns 0 or -ENOENT. */
int dpkg_db_pkg(struct dpkg_db *db, uint32_t idx, struct dpkg_pkginfo *ret);

/* Installed package names (for near-miss unit names): the number of
 * packages and the i-th name. */
size_t dpkg_db_npkgs(const struct dpkg_db *db);
bool dpkg_db_usrmerge(const struct dpkg_db *db);

#endif
