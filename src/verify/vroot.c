#include "verify/vroot.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/util.h"

int vroot_open(int root_fd, const char *path, int flags)
{
	struct open_how how = {
		/* openat2 rejects O_NOCTTY together with O_PATH */
		.flags = (uint64_t)(flags | O_CLOEXEC | ((flags & O_PATH) ? 0 : O_NOCTTY)),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	while (*path == '/')
		path++;
	if (!*path)
		path = ".";
	long fd = syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
	if (fd < 0)
		return -errno;
	return (int)fd;
}

/* Most of what is read here (environ, maps, small state files) fits in a
 * few KiB: read into the stack first and allocate once, to size.  A 64 KiB
 * malloc per read made glibc grow and trim the heap, and each regrowth
 * faulted in fresh zeroed pages (a third of the warm verify stage). */
#define VROOT_STACK_READ 16384

static int read_some(int fd, char *buf, size_t room, size_t *len)
{
	for (;;) {
		ssize_t r = read(fd, buf + *len, room - *len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return 0; /* end of file */
		*len += (size_t)r;
		if (*len == room)
			return 1; /* full: there may be more */
	}
}

int vroot_read_fd(int fd, size_t max, char **ret_buf, size_t *ret_len)
{
	char stack[VROOT_STACK_READ];
	size_t len = 0;
	int rc = read_some(fd, stack, sizeof(stack), &len);
	if (rc < 0)
		return rc;
	char *buf;
	if (rc == 0) {
		if (len > max)
			return -EFBIG;
		buf = malloc(len + 1);
		if (!buf)
			return -ENOMEM;
		memcpy(buf, stack, len);
	} else {
		size_t cap = 4 * sizeof(stack);
		buf = malloc(cap);
		if (!buf)
			return -ENOMEM;
		memcpy(buf, stack, len);
		for (;;) {
			if (len + 1 >= cap) {
				if (cap > max) {
					free(buf);
					return -EFBIG;
				}
				char *nb = realloc(buf, cap * 2);
				if (!nb) {
					free(buf);
					return -ENOMEM;
				}
				buf = nb;
				cap *= 2;
			}
			rc = read_some(fd, buf, cap - 1, &len);
			if (rc < 0) {
				free(buf);
				return rc;
			}
			if (rc == 0)
				break;
		}
	}
	buf[len] = '\0';
	*ret_buf = buf;
	*ret_len = len;
	return 0;
}

int vroot_read(int root_fd, const char *path, size_t max, char **ret_buf, size_t *ret_len)
{
	_cleanup_close_ int fd = vroot_open(root_fd, path, O_RDONLY);
	if (fd < 0)
		return fd;
	return vroot_read_fd(fd, max, ret_buf, ret_len);
}
