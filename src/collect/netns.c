#include "collect/netns.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"

struct nslist {
	struct owl_netns *v;
	size_t n, cap;
};

static struct owl_netns *find(struct nslist *l, uint64_t ino)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].ino == ino)
			return &l->v[i];
	return NULL;
}

/* Add path's namespace under name unless already known.  Returns 0, or
 * -errno for allocation failure only. */
static int add(struct nslist *l, const char *path, const char *name, int is_host)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return 0;
	struct owl_netns *e = find(l, (uint64_t)st.st_ino);
	if (e) {
		/* a name beats "pid N" */
		if (!e->is_host && strncmp(e->name, "pid ", 4) == 0 && strncmp(name, "pid ", 4) != 0) {
			owl_strlcpy(e->name, name, sizeof(e->name));
			owl_strlcpy(e->path, path, sizeof(e->path));
		}
		return 0;
	}
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 16;
		struct owl_netns *nv = realloc(l->v, nc * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		l->v = nv;
		l->cap = nc;
	}
	e = &l->v[l->n++];
	memset(e, 0, sizeof(*e));
	e->ino = (uint64_t)st.st_ino;
	e->is_host = is_host;
	owl_strlcpy(e->name, name, sizeof(e->name));
	owl_strlcpy(e->path, path, sizeof(e->path));
	return 0;
}

static int is_netns_file(const char *path)
{
	/* open and ask: NS_GET_NSTYPE would do, setns-probing is not needed */
	char link[64];
	ssize_t n = readlink(path, link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = '\0';
		return strncmp(link, "net:[", 5) == 0;
	}
	/* a bind mount is not a symlink: compare its device with a known nsfs file */
	struct stat a, b;
	if (stat(path, &a) < 0 || stat("/proc/self/ns/net", &b) < 0)
		return 0;
	if (a.st_dev != b.st_dev)
		return 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	/* NS_GET_NSTYPE = _IO(0xb7, 0x3) */
	int t = ioctl(fd, (0xb7 << 8) | 0x3);
	close(fd);
	return t == CLONE_NEWNET;
}

/* nsfs bind mounts from mountinfo: field 5 is the mount point, after " - " the fs type. */
static int add_nsfs_mounts(struct nslist *l, const char *proc_root)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/self/mountinfo", proc_root);
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	char *line = NULL;
	size_t cap = 0;
	int r = 0;
	while (getline(&line, &cap, f) > 0) {
		char *sep = strstr(line, " - nsfs ");
		if (!sep)
			continue;
		/* mount id, parent id, major:minor, root, mount point */
		char *p = line;
		for (int i = 0; i < 4 && p; i++) {
			p = strchr(p, ' ');
			if (p)
				p++;
		}
		if (!p || p >= sep)
			continue;
		char *end = strchr(p, ' ');
		if (!end)
			continue;
		*end = '\0';
		/* unescape \040 style octal escapes of mountinfo */
		char mp[4096];
		size_t o = 0;
		for (char *q = p; *q && o < sizeof(mp) - 1; q++) {
			if (q[0] == '\\' && q[1] >= '0' && q[1] <= '3' && q[2] >= '0' && q[2] <= '7' &&
			    q[3] >= '0' && q[3] <= '7') {
				mp[o++] = (char)(((q[1] - '0') << 6) | ((q[2] - '0') << 3) | (q[3] - '0'));
				q += 3;
			} else {
				mp[o++] = *q;
			}
		}
		mp[o] = '\0';
		if (!is_netns_file(mp))
			continue;
		const char *base = strrchr(mp, '/');
		r = add(l, mp, base && base[1] ? base + 1 : mp, 0);
		if (r < 0)
			break;
	}
	free(line);
	fclose(f);
	return r;
}

static int cmp_ns(const void *a, const void *b)
{
	const struct owl_netns *x = a, *y = b;
	int xn = strncmp(x->name, "pid ", 4) != 0, yn = strncmp(y->name, "pid ", 4) != 0;
	if (x->is_host != y->is_host)
		return x->is_host ? -1 : 1;
	if (xn != yn)
		return xn ? -1 : 1;
	if (xn)
		return strcmp(x->name, y->name);
	long px = atol(x->name + 4), py = atol(y->name + 4);
	return (px > py) - (px < py);
}

int netns_list(const char *proc_root, const char *run_netns, struct owl_netns **ret, size_t *ret_n)
{
	struct nslist l = {0};
	char path[512];
	int r = 0;

	/* The host's namespace is pid 1's.  When that link is out of reach
	 * (not root, or an LSM denies it), kthreadd (pid 2) is in the initial
	 * namespace too; failing both, our own is the best guess. */
	static const char *const host_refs[] = {"1/ns/net", "2/ns/net", "self/ns/net"};
	for (size_t i = 0; i < OWL_ARRAY_SIZE(host_refs) && r == 0 && l.n == 0; i++) {
		snprintf(path, sizeof(path), "%s/%s", proc_root, host_refs[i]);
		r = add(&l, path, "host", 1);
	}

	DIR *d = run_netns ? opendir(run_netns) : NULL;
	if (d) {
		struct dirent *de;
		while (r == 0 && (de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", run_netns, de->d_name);
			r = add(&l, path, de->d_name, 0);
		}
		closedir(d);
	}
	if (r == 0)
		r = add_nsfs_mounts(&l, proc_root);

	d = opendir(proc_root);
	if (d) {
		struct dirent *de;
		while (r == 0 && (de = readdir(d))) {
			if (de->d_name[0] < '1' || de->d_name[0] > '9')
				continue;
			char name[32];
			snprintf(path, sizeof(path), "%s/%s/ns/net", proc_root, de->d_name);
			snprintf(name, sizeof(name), "pid %.20s", de->d_name);
			struct stat st;
			if (stat(path, &st) < 0)
				continue;
			struct owl_netns *e = find(&l, (uint64_t)st.st_ino);
			if (e) {
				/* keep the lowest pid as the name of an unnamed namespace */
				if (strncmp(e->name, "pid ", 4) == 0 && atol(de->d_name) < atol(e->name + 4)) {
					owl_strlcpy(e->name, name, sizeof(e->name));
					owl_strlcpy(e->path, path, sizeof(e->path));
				}
				continue;
			}
			r = add(&l, path, name, 0);
		}
		closedir(d);
	}
	if (r < 0) {
		free(l.v);
		return r;
	}
	if (l.n > 1)
		qsort(l.v, l.n, sizeof(*l.v), cmp_ns);
	*ret = l.v;
	*ret_n = l.n;
	return 0;
}

uint64_t netns_self_ino(void)
{
	struct stat st;
	if (stat("/proc/thread-self/ns/net", &st) < 0 && stat("/proc/self/ns/net", &st) < 0)
		return 0;
	return (uint64_t)st.st_ino;
}

int netns_enter(const struct owl_netns *ns, int *ret_back)
{
	int back = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (back < 0)
		return -errno;
	int fd = open(ns->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = -errno;
		close(back);
		return e;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || (uint64_t)st.st_ino != ns->ino) {
		/* the pid behind "pid N" exited and its number was reused */
		close(fd);
		close(back);
		return -ENOENT;
	}
	if (setns(fd, CLONE_NEWNET) < 0) {
		int e = -errno;
		close(fd);
		close(back);
		return e;
	}
	close(fd);
	*ret_back = back;
	return 0;
}

int netns_leave(int back)
{
	int r = setns(back, CLONE_NEWNET) < 0 ? -errno : 0;
	close(back);
	return r;
}
