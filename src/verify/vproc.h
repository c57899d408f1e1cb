/* Parsers for what verify reads from /proc/PID: environ and maps. */
#ifndef OWL_VERIFY_VPROC_H
#define OWL_VERIFY_VPROC_H

#include <stdbool.h>
#include <stddef.h>

/* Find "NAME=value" among the NUL-separated entries of an environ dump.
 * Returns the value (pointer into buf) and its length in *ret_len, or NULL. */
const char *vproc_environ_get(const char *buf, size_t len, const char *name, size_t *ret_len);

/* One executable file mapping of /proc/PID/maps. */
struct vproc_map {
	const char *path;  /* not NUL-terminated; without " (deleted)" */
	size_t path_len;
	bool deleted;
	bool exec;
};
typedef int (*vproc_map_fn)(void *ud, const struct vproc_map *m);
/* Parse maps: calls fn for every mapping backed by a path ("/..."), in
 * order.  Lines that do not parse are counted in *ret_bad.  Returns the
 * number of mappings passed to fn, or fn's negative value. */
int vproc_parse_maps(const char *buf, size_t len, vproc_map_fn fn, void *ud, unsigned *ret_bad);

/* The same, from the kernel instead of text: the PROCMAP_QUERY ioctl
 * (Linux 6.11) on an open /proc/PID/maps, asked only for executable,
 * file-backed mappings.  fn sees .exec = true for each.  Returns the number
 * passed to fn; -ENOTTY or -EINVAL when the kernel has no such ioctl,
 * -ENAMETOOLONG for a path the ioctl cannot return (read the text then:
 * fn may already have seen some mappings), fn's negative value, or -errno. */
int vproc_query_maps(int maps_fd, vproc_map_fn fn, void *ud);

/* Is /etc/ld.so.preload content "non-empty" (any entry that is not blank
 * or a comment)?  The first entry goes into out (size outsz). */
bool vproc_preload_file_entries(const char *buf, size_t len, char *out, size_t outsz);

#endif
