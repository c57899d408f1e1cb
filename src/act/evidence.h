/* `owl evidence`: a self-describing bundle about one process, collected
 * without disturbing it (read-only /proc access: no ptrace, no signal).
 *
 * Every file in the bundle has a fixed, owl-chosen name; names and paths
 * that came from the process (its executable, mapped files, fd targets)
 * appear only inside JSON values, escaped by jsonw.  A manifest lists every
 * file with its size and SHA-256, and SHA256SUMS lets `sha256sum -c` check
 * the bundle. */
#ifndef OWL_ACT_EVIDENCE_H
#define OWL_ACT_EVIDENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/model.h"

#define EVIDENCE_CAP_DEFAULT (256ull << 20) /* bytes per file */
#define EVIDENCE_FORMAT "owl-evidence/1"

struct evidence_opts {
	const char *proc_root;     /* "/proc" unless testing */
	uint64_t size_cap;         /* bytes per copied file; 0 = EVIDENCE_CAP_DEFAULT */
	bool tar;                  /* write OUT.tar.gz instead of the directory OUT */
};

struct evidence_result {
	char path[OWL_PATH_MAX];   /* the directory or .tar.gz written */
	unsigned nfiles;           /* files in the bundle (manifest and SHA256SUMS included) */
	unsigned nmissing;         /* items that could not be collected */
	unsigned ntruncated;       /* files cut at the size cap */
	unsigned nconns;           /* the process's sockets in connections.ndjson */
	bool process_exited;       /* the process ended before collection finished */
	uint64_t bytes;            /* total bytes of the files */
	char exe_sha256[65];       /* digest of the copied image, "" if none */
};

/* Default bundle name for pid at time ns: "owl-evidence-PID-YYYYmmddTHHMMSSZ". */
void evidence_default_name(pid_t pid, uint64_t ns, char *buf, size_t bufsz);

/* Collect the bundle for pid into the directory out (created; it must not
 * exist), or with o->tar into out.tar.gz (out itself is staged and removed).
 * Returns 0 (a vanished process is not an error: the bundle says so), or
 * -ESRCH when pid does not exist at the start, -EEXIST when out exists, or
 * another -errno when the bundle itself cannot be written. */
int evidence_collect(pid_t pid, const char *out, const struct evidence_opts *o, struct evidence_result *ret);

/* One line of /proc/PID/maps. */
struct maps_entry {
	uint64_t start, end, offset, inode;
	unsigned dev_major, dev_minor;
	char perms[5];
	const char *path;          /* points into the line; "" for anonymous */
	size_t path_len;
	size_t range_len;          /* bytes of "start-end" at the line's head */
};

/* Parse one maps line (without its newline).  Returns 0 or -EINVAL;
 * *ret untouched on failure. */
int evidence_parse_maps_line(const char *line, size_t len, struct maps_entry *ret);

#endif
