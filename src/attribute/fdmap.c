#include "attribute/fdmap.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"

uint64_t fdmap_parse_socket_link(const char *s, size_t len)
{
	uint64_t ino;
	if (len < 10 || memcmp(s, "socket:[", 8) != 0 || s[len - 1] != ']')
		return 0;
	if (owl_parse_u64(s + 8, len - 9, 10, &ino) < 0)
		return 0;
	return ino;
}

struct pair {
	uint64_t ino;
	uint32_t pid;
	int32_t fd;
};

struct work {
	const char *proc_root;
	const struct owl_u64map *want;
	uint32_t *pids;
	size_t npids;
	struct pair *out;
	size_t nout, cap;
	unsigned denied;
	int err;
};

static int push_pair(struct work *w, uint64_t ino, uint32_t pid, int32_t fd)
{
	if (w->nout == w->cap) {
		size_t nc = w->cap ? w->cap * 2 : 1024;
		struct pair *n = realloc(w->out, nc * sizeof(*n));
		if (!n)
			return -ENOMEM;
		w->out = n;
		w->cap = nc;
	}
	w->out[w->nout++] = (struct pair){ino, pid, fd};
	return 0;
}

static bool pid_is_live(int procfd, uint32_t pid)
{
	char path[32], buf[512];
	snprintf(path, sizeof(path), "%u/stat", pid);
	ssize_t n = owl_read_fileat(procfd, path, buf, sizeof(buf));
	if (n <= 0)
		return false;
	const char *close = strrchr(buf, ')');
	return close && close[1] == ' ' && close[2] != 'Z' && close[2] != 'X' && close[2] != 'x';
}

static void walk_pid(struct work *w, int procfd, uint32_t pid)
{
	char path[32];
	snprintf(path, sizeof(path), "%u/fd", pid);
	int dfd = openat(procfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		/* EACCES also comes from a process that is exiting (its mm is
		 * gone): only a live, non-zombie process counts as denied */
		if ((errno == EACCES || errno == EPERM) && pid_is_live(procfd, pid))
			w->denied++;
		return; /* ENOENT: the process exited; normal */
	}
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return;
	}
	struct dirent *de;
	char link[64];
	while ((de = readdir(d))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		ssize_t n = readlinkat(dfd, de->d_name, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		uint64_t ino = fdmap_parse_socket_link(link, (size_t)n);
		if (!ino)
			continue;
		uint32_t dummy;
		if (w->want && !owl_u64map_get(w->want, ino, &dummy))
			continue;
		if (push_pair(w, ino, pid, (int32_t)atoi(de->d_name)) < 0) {
			w->err = -ENOMEM;
			break;
		}
	}
	closedir(d);
}

static void *walk_thread(void *arg)
{
	struct work *w = arg;
	int procfd = open(w->proc_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (procfd < 0) {
		w->err = -errno;
		return NULL;
	}
	for (size_t i = 0; i < w->npids && !w->err; i++)
		walk_pid(w, procfd, w->pids[i]);
	close(procfd);
	return NULL;
}

static int list_pids(const char *proc_root, uint32_t **ret, size_t *ret_n)
{
	DIR *d = opendir(proc_root);
	if (!d)
		return -errno;
	uint32_t *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		uint64_t pid;
		if (owl_parse_u64(de->d_name, strlen(de->d_name), 10, &pid) < 0 || pid == 0 || pid > 0x7fffffff)
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 512;
			uint32_t *nv = realloc(v, nc * sizeof(*nv));
			if (!nv) {
				free(v);
				closedir(d);
				return -ENOMEM;
			}
			v = nv;
			cap = nc;
		}
		v[n++] = (uint32_t)pid;
	}
	closedir(d);
	*ret = v;
	*ret_n = n;
	return 0;
}

static int cmp_pair(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return (x->fd > y->fd) - (x->fd < y->fd);
}

int fdmap_build(struct fdmap *m, const char *proc_root, const struct owl_u64map *want, int threads)
{
	uint32_t *pids = NULL;
	size_t npids = 0;
	int rc;
	memset(m, 0, sizeof(*m));
	rc = list_pids(proc_root, &pids, &npids);
	if (rc < 0)
		return rc;
	if (threads < 1)
		threads = 1;
	if (threads > 8)
		threads = 8;
	if ((size_t)threads > npids / 16 + 1)
		threads = (int)(npids / 16 + 1);

	struct work w[8];
	pthread_t tid[8];
	bool started[8] = {0};
	memset(w, 0, sizeof(w));
	/* interleave pids so each thread gets a fair share of big processes */
	uint32_t *split = malloc((npids ? npids : 1) * sizeof(*split));
	if (!split) {
		free(pids);
		return -ENOMEM;
	}
	size_t off = 0;
	for (int t = 0; t < threads; t++) {
		w[t].proc_root = proc_root;
		w[t].want = want;
		w[t].pids = split + off;
		for (size_t i = (size_t)t; i < npids; i += (size_t)threads)
			w[t].pids[w[t].npids++] = pids[i];
		off += w[t].npids;
	}
	for (int t = 1; t < threads; t++)
		started[t] = pthread_create(&tid[t], NULL, walk_thread, &w[t]) == 0;
	walk_thread(&w[0]);
	for (int t = 1; t < threads; t++) {
		if (started[t])
			pthread_join(tid[t], NULL);
		else
			walk_thread(&w[t]);
	}
	m->pids_seen = (unsigned)npids;
	free(pids);
	free(split);

	/* merge */
	size_t total = 0;
	for (int t = 0; t < threads; t++) {
		if (w[t].err && !rc)
			rc = w[t].err;
		total += w[t].nout;
		m->pids_denied += w[t].denied;
	}
	struct pair *all = NULL;
	if (!rc) {
		all = malloc((total ? total : 1) * sizeof(*all));
		if (!all)
			rc = -ENOMEM;
	}
	if (!rc) {
		size_t o = 0;
		for (int t = 0; t < threads; t++) {
			if (w[t].nout)
				memcpy(all + o, w[t].out, w[t].nout * sizeof(*all));
			o += w[t].nout;
		}
	}
	for (int t = 0; t < threads; t++)
		free(w[t].out);
	if (rc) {
		free(all);
		return rc;
	}
	qsort(all, total, sizeof(*all), cmp_pair);

	rc = owl_u64map_init(&m->head, total / 2 + 16);
	m->owners = malloc((total ? total : 1) * sizeof(*m->owners));
	if (rc < 0 || !m->owners) {
		free(all);
		fdmap_free(m);
		return -ENOMEM;
	}
	/* one owner entry per (inode, pid), lowest fd kept; chained in pid order */
	for (size_t i = 0; i < total; i++) {
		if (i > 0 && all[i].ino == all[i - 1].ino && all[i].pid == all[i - 1].pid)
			continue;
		struct fdmap_owner *o = &m->owners[m->nowners];
		o->pid = all[i].pid;
		o->fd = all[i].fd;
		o->next = UINT32_MAX;
		if (i > 0 && all[i].ino == all[i - 1].ino)
			m->owners[m->nowners - 1].next = (uint32_t)m->nowners;
		else if (owl_u64map_put(&m->head, all[i].ino, (uint32_t)m->nowners) < 0) {
			free(all);
			fdmap_free(m);
			return -ENOMEM;
		}
		m->nowners++;
	}
	free(all);
	return 0;
}

void fdmap_free(struct fdmap *m)
{
	if (!m)
		return;
	owl_u64map_free(&m->head);
	free(m->owners);
	memset(m, 0, sizeof(*m));
}
