#include "verify/vproc.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>

#include "core/util.h"

const char *vproc_environ_get(const char *buf, size_t len, const char *name, size_t *ret_len)
{
	size_t nl = strlen(name);
	const char *p = buf, *end = buf + len;
	while (p < end) {
		const char *z = memchr(p, '\0', (size_t)(end - p));
		const char *e = z ? z : end;
		if ((size_t)(e - p) > nl && memcmp(p, name, nl) == 0 && p[nl] == '=') {
			*ret_len = (size_t)(e - p - (ptrdiff_t)nl - 1);
			return p + nl + 1;
		}
		p = z ? z + 1 : end;
	}
	return NULL;
}

/* skip one whitespace-separated field */
static const char *field(const char *p, const char *le, const char **ret_s, size_t *ret_n)
{
	while (p < le && *p == ' ')
		p++;
	const char *s = p;
	while (p < le && *p != ' ')
		p++;
	*ret_s = s;
	*ret_n = (size_t)(p - s);
	return p;
}

int vproc_parse_maps(const char *buf, size_t len, vproc_map_fn fn, void *ud, unsigned *ret_bad)
{
	const char *p = buf, *end = buf + len;
	unsigned bad = 0;
	int n = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *f[5];
		size_t fn_len[5];
		const char *q = p;
		for (int i = 0; i < 5; i++)
			q = field(q, le, &f[i], &fn_len[i]);
		p = nl ? nl + 1 : end;
		if (fn_len[0] == 0 && q >= le)
			continue; /* blank line */
		/* addr perms offset dev inode [path] */
		if (fn_len[1] != 4 || fn_len[4] == 0 || !memchr(f[0], '-', fn_len[0])) {
			bad++;
			continue;
		}
		while (q < le && *q == ' ')
			q++;
		if (q >= le || *q != '/')
			continue; /* anonymous, [heap], [stack], [vdso] … */
		struct vproc_map m = {.path = q, .path_len = (size_t)(le - q), .exec = f[1][2] == 'x'};
		static const char del[] = " (deleted)";
		if (m.path_len > sizeof(del) - 1 &&
		    memcmp(m.path + m.path_len - (sizeof(del) - 1), del, sizeof(del) - 1) == 0) {
			m.deleted = true;
			m.path_len -= sizeof(del) - 1;
		}
		int rc = fn(ud, &m);
		if (rc < 0)
			return rc;
		n++;
	}
	if (ret_bad)
		*ret_bad = bad;
	return n;
}

/* The ioctl's ABI (include/uapi/linux/fs.h), for headers older than 6.11 */
struct vproc_procmap_query {
	uint64_t size, query_flags, query_addr;
	uint64_t vma_start, vma_end, vma_flags, vma_page_size, vma_offset, inode;
	uint32_t dev_major, dev_minor, vma_name_size, build_id_size;
	uint64_t vma_name_addr, build_id_addr;
};
#define VPROC_PROCMAP_QUERY _IOWR('f', 17, struct vproc_procmap_query)
#define VPROC_Q_EXECUTABLE 0x04u
#define VPROC_Q_COVERING_OR_NEXT 0x10u
#define VPROC_Q_FILE_BACKED 0x20u
/* more mappings than vm.max_map_count allows by default: a bound, not a limit */
#define VPROC_QUERY_MAX (1u << 20)

int vproc_query_maps(int maps_fd, vproc_map_fn fn, void *ud)
{
	char name[4096];
	uint64_t addr = 0;
	int n = 0;
	for (unsigned i = 0; i < VPROC_QUERY_MAX; i++) {
		struct vproc_procmap_query q = {
			.size = sizeof(q),
			.query_flags = VPROC_Q_COVERING_OR_NEXT | VPROC_Q_FILE_BACKED | VPROC_Q_EXECUTABLE,
			.query_addr = addr,
			.vma_name_size = sizeof(name),
			.vma_name_addr = (uint64_t)(uintptr_t)name,
		};
		if (ioctl(maps_fd, VPROC_PROCMAP_QUERY, &q) < 0)
			return errno == ENOENT ? n : -errno; /* ENOENT: no more */
		if (q.vma_end <= addr)
			return -EINVAL; /* cannot happen; never loop */
		addr = q.vma_end;
		size_t len = q.vma_name_size && q.vma_name_size <= sizeof(name) ? q.vma_name_size - 1 : 0;
		name[len] = '\0';
		len = strnlen(name, len);
		struct vproc_map m = {.path = name, .path_len = len, .exec = true};
		static const char del[] = " (deleted)";
		if (len > sizeof(del) - 1 && memcmp(name + len - (sizeof(del) - 1), del, sizeof(del) - 1) == 0) {
			m.deleted = true;
			m.path_len -= sizeof(del) - 1;
		}
		if (!len || name[0] != '/')
			continue; /* as in the text: only paths */
		int rc = fn(ud, &m);
		if (rc < 0)
			return rc;
		n++;
	}
	return n;
}

bool vproc_preload_file_entries(const char *buf, size_t len, char *out, size_t outsz)
{
	/* ld.so splits on whitespace and ':'; '#' starts a comment to end of line */
	const char *p = buf, *end = buf + len;
	while (p < end) {
		char c = *p;
		if (c == '#') {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			p = nl ? nl : end;
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ':' || c == '\0') {
			p++;
			continue;
		}
		const char *s = p;
		while (p < end && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r' && *p != ':' && *p != '#' && *p != '\0')
			p++;
		if (outsz)
			owl_strncpy0(out, outsz, s, (size_t)(p - s));
		return true;
	}
	return false;
}
