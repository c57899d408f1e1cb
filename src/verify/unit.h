/* systemd unit files: where a unit's file is, and whether its name
 * imitates a system or packaged unit. */
#ifndef OWL_VERIFY_UNIT_H
#define OWL_VERIFY_UNIT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

/* Unit directories in systemd's order of precedence (relative to a root). */
extern const char *const vunit_dirs[4];
/* Packaged unit directories (the ones dpkg installs into). */
extern const char *const vunit_pkg_dirs[2];

/* Is `unit` a sane unit name ("foo.service", "foo@bar.service")?  No '/',
 * no leading '.', bounded. */
bool vunit_name_ok(const char *unit);

/* Find the unit file for `unit` under root_fd (openat2, resolved inside the
 * root): the first of vunit_dirs holding it, or its template
 * ("foo@.service" for "foo@bar.service").  *ret_path gets the path as seen
 * from the root ("/etc/systemd/system/foo.service"), *ret_st its lstat.
 * Returns 0 or -ENOENT. */
int vunit_find(int root_fd, const char *unit, char *ret_path, size_t pathsz, struct stat *ret_st);

/* Damerau-Levenshtein distance of a and b, capped at cap+1. */
unsigned vunit_distance(const char *a, const char *b, unsigned cap);

/* What a unit name imitates, given the names of packaged units:
 * "systemd-*" / "dbus-*" prefixes, or a packaged unit's name within edit
 * distance 2 (different from it, stems of 4+ characters).  Writes a
 * description into out and returns true; false when it imitates nothing.
 * names: array of n unit file names ("ssh.service"). */
bool vunit_imitates(const char *unit, const char *const *names, size_t n, char *out, size_t outsz);

#endif
