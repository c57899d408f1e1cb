/* A small ustar writer into a gzip stream (zlib), for `owl evidence --tar`.
 *
 * Why not libarchive: the bundle holds a handful of regular files with
 * short, owl-chosen names; ustar for that is one 512-byte header per file,
 * and zlib is already on every system owl runs on. */
#ifndef OWL_ACT_TAR_H
#define OWL_ACT_TAR_H

#include <stdint.h>
#include <time.h>

#define TAR_BLOCK 512
#define TAR_NAME_MAX 99

struct tarw;

/* Fill one ustar header block.  typeflag '0' (file) or '5' (directory).
 * Returns 0, or -ENAMETOOLONG for a name over TAR_NAME_MAX bytes,
 * -EINVAL for an empty name or one holding "..", or -ERANGE for a size
 * over the 8 GiB ustar limit. */
int tar_header(unsigned char block[TAR_BLOCK], const char *name, uint64_t size, unsigned mode,
	       time_t mtime, char typeflag);

/* Create path (must not exist) as a .tar.gz.  Returns 0 or -errno. */
int tarw_open(const char *path, struct tarw **ret);
/* Add a directory entry. */
int tarw_add_dir(struct tarw *t, const char *name, unsigned mode, time_t mtime);
/* Add size bytes read from fd as a regular file (short reads are padded with
 * zeros, so the archive stays well-formed; -EIO is returned then). */
int tarw_add_file(struct tarw *t, const char *name, int fd, uint64_t size, unsigned mode, time_t mtime);
/* Write the end-of-archive blocks and close.  Returns 0 or -errno (the
 * file is then incomplete).  Frees t in every case. */
int tarw_close(struct tarw *t);

#endif
