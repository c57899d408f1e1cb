/* The owner map from a BPF task_file iterator (bpf/owl_fditer.bpf.c).
 *
 * The kernel walks every file table once and writes {tgid, fd, inode} for
 * each socket; no /proc lookups, no readlink.  The program, its link and the
 * iterator live behind file descriptors of this process and are closed
 * before fdmap_build_bpf returns; nothing is pinned.
 *
 * Valid only in the initial pid namespace (task->tgid is the init
 * namespace's number) and for the real /proc (a fake proc_root in the tests
 * is walked instead). */
#include "attribute/fdmap.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/types.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "attribute/bpf/owl_fditer.h"
#include "attribute/bpf/owl_fditer.skel.h"
#include "core/util.h"

#define PROC_PID_INIT_INO 0xEFFFFFFCu  /* include/linux/proc_ns.h */
#define READ_BUF (256u << 10)
#define MAX_RECORDS (64u << 20)       /* 1 GiB of records: something is wrong */
#define MAX_EAGAIN 64
#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

/* libbpf's last warning, kept for --verbose (library code does not print) */
static char last_msg[160];

__attribute__((format(printf, 2, 0))) static int keep_msg(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (getenv("OWL_DEBUG_BPF")) {
		va_list aq;
		va_copy(aq, ap);
		vfprintf(stderr, fmt, aq);
		va_end(aq);
	}
	if (level == LIBBPF_WARN) {
		vsnprintf(last_msg, sizeof(last_msg), fmt, ap);
		size_t n = strlen(last_msg);
		while (n && (last_msg[n - 1] == '\n' || last_msg[n - 1] == ' '))
			last_msg[--n] = 0;
	}
	return 0;
}

static bool has_cap(const struct __user_cap_data_struct d[2], int cap)
{
	return d[cap / 32].effective & (1u << (cap % 32));
}

int fdmap_bpf_usable(const char *proc_root, const char **step)
{
	if (!proc_root || strcmp(proc_root, "/proc") != 0) {
		*step = "not the real /proc";
		return -ENOTSUP;
	}
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct d[2];
	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d) < 0 ||
	    !(has_cap(d, CAP_SYS_ADMIN) || (has_cap(d, CAP_BPF) && has_cap(d, CAP_PERFMON)))) {
		*step = "no CAP_BPF+CAP_PERFMON";
		return -EPERM;
	}
	/* the iterator reports init-namespace pids: owl must live there, and
	 * /proc must be that namespace's (its "self" is this process) */
	struct stat st;
	if (stat("/proc/self/ns/pid", &st) < 0 || st.st_ino != PROC_PID_INIT_INO) {
		*step = "not in the initial pid namespace";
		return -ENOTSUP;
	}
	char self[32];
	ssize_t n = readlink("/proc/self", self, sizeof(self) - 1);
	long long pid;
	if (n <= 0 || owl_strtonum((self[n] = 0, self), 1, 0x7fffffff, &pid) < 0 || pid != (long long)getpid()) {
		*step = "/proc is another pid namespace's";
		return -ENOTSUP;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK) < 0) {
		*step = "no kernel BTF";
		return -ENOTSUP;
	}
	return 0;
}

/* Building the map as records stream in.  Records come in task order, so
 * the owners of an inode mostly arrive in ascending pid order: an owner is
 * appended at the chain's tail (tail[] of the head entry), and inserted in
 * order only when a pid comes out of order (a thread with its own file
 * table, reported under its tgid). */
struct builder {
	struct fdmap *m;
	uint32_t *tail;          /* for head entries: the chain's last entry */
	struct owl_u64map tgids; /* tgid+1 of every process walked */
};

static int new_owner(struct builder *b, uint32_t pid, int32_t fd, uint32_t next, uint32_t *ret)
{
	struct fdmap *m = b->m;
	if (m->nowners == m->cap) {
		size_t nc = m->cap ? m->cap * 2 : 4096;
		if (nc > UINT32_MAX - 1)
			return -E2BIG;
		struct fdmap_owner *no = realloc(m->owners, nc * sizeof(*no));
		if (!no)
			return -ENOMEM;
		m->owners = no;
		uint32_t *nt = realloc(b->tail, nc * sizeof(*nt));
		if (!nt)
			return -ENOMEM;
		b->tail = nt;
		m->cap = nc;
	}
	uint32_t i = (uint32_t)m->nowners++;
	m->owners[i] = (struct fdmap_owner){.pid = pid, .next = next, .fd = fd};
	b->tail[i] = i;
	*ret = i;
	return 0;
}

static int add_owner(struct builder *b, uint64_t ino, uint32_t pid, int32_t fd)
{
	struct fdmap *m = b->m;
	uint32_t h, o;
	int rc;
	if (!owl_u64map_get(&m->head, ino, &h)) {
		if ((rc = new_owner(b, pid, fd, UINT32_MAX, &o)) < 0)
			return rc;
		return owl_u64map_put(&m->head, ino, o);
	}
	uint32_t t = b->tail[h];
	struct fdmap_owner *to = &m->owners[t];
	if (to->pid == pid) {
		if (fd < to->fd)
			to->fd = fd;
		return 0;
	}
	if (to->pid < pid) {
		if ((rc = new_owner(b, pid, fd, UINT32_MAX, &o)) < 0)
			return rc;
		m->owners[t].next = o;
		b->tail[h] = o;
		return 0;
	}
	/* out of order: find the place (chains are short; bounded by nowners) */
	uint32_t prev = UINT32_MAX, j = h;
	for (size_t steps = 0; j != UINT32_MAX && m->owners[j].pid < pid && steps < m->nowners; steps++) {
		prev = j;
		j = m->owners[j].next;
	}
	if (j != UINT32_MAX && m->owners[j].pid == pid) {
		if (fd < m->owners[j].fd)
			m->owners[j].fd = fd;
		return 0;
	}
	if ((rc = new_owner(b, pid, fd, j, &o)) < 0)
		return rc;
	if (prev != UINT32_MAX) {
		m->owners[prev].next = o;
		return 0;
	}
	b->tail[o] = b->tail[h]; /* o is the new head */
	return owl_u64map_put(&m->head, ino, o);
}

static int take(struct builder *b, const struct owl_fditer_rec *r, const struct owl_u64map *want)
{
	uint32_t dummy;
	if (r->fd < 0) {
		if (owl_u64map_get(&b->tgids, (uint64_t)r->tgid + 1, &dummy))
			return 0;
		b->m->pids_seen++;
		return owl_u64map_put(&b->tgids, (uint64_t)r->tgid + 1, 0);
	}
	if (!r->ino || !r->tgid || (want && !owl_u64map_get(want, r->ino, &dummy)))
		return 0;
	return add_owner(b, r->ino, r->tgid, r->fd);
}

static int read_iter(int fd, struct builder *b, const struct owl_u64map *want, uint64_t *read_ns)
{
	char *buf = malloc(READ_BUF);
	if (!buf)
		return -ENOMEM;
	size_t have = 0, total = 0;
	int eagain = 0, rc = 0;
	for (;;) {
		uint64_t t0 = owl_mono_ns();
		ssize_t n = read(fd, buf + have, READ_BUF - have);
		*read_ns += owl_mono_ns() - t0;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* the kernel gives up a read that saw very many objects
			 * and wrote nothing; the next read goes on from there */
			if (errno == EAGAIN && ++eagain < MAX_EAGAIN)
				continue;
			rc = -errno;
			break;
		}
		if (n == 0)
			break;
		have += (size_t)n;
		size_t nrec = have / sizeof(struct owl_fditer_rec);
		for (size_t i = 0; i < nrec && !rc; i++) {
			struct owl_fditer_rec r;
			memcpy(&r, buf + i * sizeof(r), sizeof(r));
			rc = getenv("XX") ? 0 : take(b, &r, want);
		}
		if (rc)
			break;
		total += nrec;
		if (total > MAX_RECORDS) {
			rc = -EFBIG;
			break;
		}
		size_t used = nrec * sizeof(struct owl_fditer_rec);
		memmove(buf, buf + used, have - used);
		have -= used;
	}
	free(buf);
	return rc;
}

int fdmap_build_bpf(struct fdmap *m, const struct owl_u64map *want, struct fdmap_how *how)
{
	struct owl_fditer *skel = NULL;
	struct bpf_link *link = NULL;
	int ifd = -1, rc;
	uint64_t t0 = owl_mono_ns();
	struct builder b = {.m = m};

	memset(m, 0, sizeof(*m));
	last_msg[0] = 0;
	libbpf_print_fn_t old = libbpf_set_print(keep_msg);
	how->bpf_step = "open";
	skel = owl_fditer__open();
	if (!skel) {
		rc = errno ? -errno : -EINVAL;
		goto out;
	}
	how->bpf_step = "load";
	rc = owl_fditer__load(skel);
	if (rc < 0)
		goto out;
	how->bpf_step = "attach";
	link = bpf_program__attach_iter(skel->progs.owl_fditer, NULL);
	if (!link) {
		rc = errno ? -errno : -EINVAL;
		goto out;
	}
	ifd = bpf_iter_create(bpf_link__fd(link));
	if (ifd < 0) {
		rc = errno ? -errno : -EINVAL;
		goto out;
	}
	uint64_t t1 = owl_mono_ns();
	how->load_ns = t1 - t0;
	how->bpf_step = "read";
	size_t expect = want ? want->n : 4096;
	rc = owl_u64map_init(&m->head, expect + 16);
	if (rc == 0)
		rc = owl_u64map_init(&b.tgids, 1024);
	if (rc == 0)
		rc = read_iter(ifd, &b, want, &how->read_ns);
	how->walk_ns = owl_mono_ns() - t1;
out:
	if (ifd >= 0)
		close(ifd);
	bpf_link__destroy(link);
	owl_fditer__destroy(skel);
	libbpf_set_print(old);
	free(b.tail);
	owl_u64map_free(&b.tgids);
	if (rc < 0) {
		rc = rc == -1 ? -EPERM : rc;
		how->bpf_err = rc;
		snprintf(how->bpf_msg, sizeof(how->bpf_msg), "%s", last_msg);
		fdmap_free(m);
		return rc;
	}
	how->bpf_step = NULL;
	how->bpf_err = 0;
	m->pids_denied = 0;
	return 0;
}

int fdmap_build_any(struct fdmap *m, const char *proc_root, const struct owl_u64map *want, int threads,
		    enum fdmap_backend mode, struct fdmap_how *how)
{
	memset(how, 0, sizeof(*how));
	if (mode != FDMAP_PROC) {
		const char *step = NULL;
		int rc = fdmap_bpf_usable(proc_root, &step);
		if (rc == 0)
			rc = fdmap_build_bpf(m, want, how);
		else {
			how->bpf_err = rc;
			how->bpf_step = step;
		}
		if (rc == 0) {
			how->used = FDMAP_BPF;
			return 0;
		}
		if (mode == FDMAP_BPF)
			return rc;
	}
	how->used = FDMAP_PROC;
	uint64_t t0 = owl_mono_ns();
	int rc = fdmap_build(m, proc_root, want, threads);
	how->walk_ns = owl_mono_ns() - t0;
	return rc;
}
