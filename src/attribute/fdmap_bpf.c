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
#include <pthread.h>
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
	if (!fmt)
		return 0;
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
	long long pid = 0;
	if (n > 0) {
		self[n] = '\0';
		if (owl_strtonum(self, 1, 0x7fffffff, &pid) < 0)
			pid = 0;
	}
	if (pid != (long long)getpid()) {
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

static int builder_init(struct builder *b, struct fdmap *m, size_t expect)
{
	memset(m, 0, sizeof(*m));
	memset(b, 0, sizeof(*b));
	b->m = m;
	int rc = owl_u64map_init(&m->head, expect + 16);
	if (rc == 0)
		rc = owl_u64map_init(&b->tgids, 1024);
	return rc;
}

static int builder_feed(struct builder *b, const char *buf, size_t nrec, const struct owl_u64map *want)
{
	int rc = 0;
	for (size_t i = 0; i < nrec && !rc; i++) {
		struct owl_fditer_rec r;
		memcpy(&r, buf + i * sizeof(r), sizeof(r));
		rc = take(b, &r, want);
	}
	return rc;
}

/* the map stays in b->m; on failure it is freed */
static int builder_end(struct builder *b, int rc)
{
	free(b->tail);
	owl_u64map_free(&b->tgids);
	b->tail = NULL;
	if (rc < 0)
		fdmap_free(b->m);
	return rc;
}

int fdmap_from_records(struct fdmap *m, const void *buf, size_t len, const struct owl_u64map *want)
{
	struct builder b;
	size_t nrec = len / sizeof(struct owl_fditer_rec);
	if (nrec > MAX_RECORDS)
		return -EFBIG;
	/* the map grows as needed: no table sized by an input's length */
	int rc = builder_init(&b, m, want ? want->n : nrec < 65536 ? nrec : 65536);
	if (rc == 0)
		rc = builder_feed(&b, buf, nrec, want);
	return builder_end(&b, rc);
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
		rc = builder_feed(b, buf, nrec, want);
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

/* The iterator, loaded: fdmap_prepare starts the load on a thread (most of
 * it is libbpf parsing the kernel's BTF, milliseconds) so that it overlaps
 * the socket collection; fdmap_build_any waits for it and reads. */
struct fdmap_pre {
	pthread_t tid;
	bool started, print_set;
	libbpf_print_fn_t old_print;
	struct owl_fditer *skel;
	struct bpf_link *link;
	int ifd;
	int rc;                /* of the checks and the load */
	const char *step;
	char msg[sizeof(((struct fdmap_how *)0)->bpf_msg)];
	uint64_t load_ns;
};

static void pre_load(struct fdmap_pre *p)
{
	uint64_t t0 = owl_mono_ns();
	p->step = "open";
	p->skel = owl_fditer__open();
	if (!p->skel) {
		p->rc = errno ? -errno : -EINVAL;
		goto out;
	}
	p->step = "load";
	p->rc = owl_fditer__load(p->skel);
	if (p->rc < 0)
		goto out;
	p->step = "attach";
	p->link = bpf_program__attach_iter(p->skel->progs.owl_fditer, NULL);
	if (!p->link) {
		p->rc = errno ? -errno : -EINVAL;
		goto out;
	}
	p->ifd = bpf_iter_create(bpf_link__fd(p->link));
	if (p->ifd < 0)
		p->rc = errno ? -errno : -EINVAL;
out:
	if (p->rc == -1)
		p->rc = -EPERM;
	p->load_ns = owl_mono_ns() - t0;
}

static void *pre_thread(void *arg)
{
	pre_load(arg);
	return NULL;
}

/* wait for the load; libbpf's printer back as it was */
static void pre_join(struct fdmap_pre *p)
{
	if (p->started)
		pthread_join(p->tid, NULL);
	p->started = false;
	if (p->print_set) {
		libbpf_set_print(p->old_print);
		p->print_set = false;
		if (p->rc < 0)
			snprintf(p->msg, sizeof(p->msg), "%s", last_msg);
	}
}

static void pre_close(struct fdmap_pre *p)
{
	if (p->ifd >= 0)
		close(p->ifd);
	p->ifd = -1;
	bpf_link__destroy(p->link);
	p->link = NULL;
	owl_fditer__destroy(p->skel);
	p->skel = NULL;
}

/* checks, then the load, on a thread when `async` */
static void pre_start(struct fdmap_pre *p, const char *proc_root, bool async)
{
	memset(p, 0, sizeof(*p));
	p->ifd = -1;
	p->rc = fdmap_bpf_usable(proc_root, &p->step);
	if (p->rc < 0)
		return;
	last_msg[0] = 0;
	p->old_print = libbpf_set_print(keep_msg);
	p->print_set = true;
	if (async)
		p->started = pthread_create(&p->tid, NULL, pre_thread, p) == 0;
	if (!p->started)
		pre_load(p);
}

struct fdmap_pre *fdmap_prepare(const char *proc_root, enum fdmap_backend mode)
{
	if (mode == FDMAP_PROC)
		return NULL;
	struct fdmap_pre *p = malloc(sizeof(*p));
	if (p)
		pre_start(p, proc_root, true);
	return p;
}

void fdmap_prepare_drop(struct fdmap_pre *p)
{
	if (!p)
		return;
	pre_join(p);
	pre_close(p);
	free(p);
}

/* Read the loaded iterator into m.  Returns 0 or -errno. */
static int pre_read(struct fdmap_pre *p, struct fdmap *m, const struct owl_u64map *want, struct fdmap_how *how)
{
	uint64_t t0 = owl_mono_ns();
	pre_join(p);
	how->wait_ns = owl_mono_ns() - t0;
	how->load_ns = p->load_ns;
	memset(m, 0, sizeof(*m));
	int rc = p->rc;
	if (rc == 0) {
		struct builder b;
		p->step = "read";
		t0 = owl_mono_ns();
		rc = builder_init(&b, m, want ? want->n : 4096);
		if (rc == 0)
			rc = read_iter(p->ifd, &b, want, &how->read_ns);
		rc = builder_end(&b, rc);
		how->walk_ns = owl_mono_ns() - t0;
	}
	pre_close(p);
	if (rc < 0) {
		how->bpf_err = rc;
		how->bpf_step = p->step;
		snprintf(how->bpf_msg, sizeof(how->bpf_msg), "%s", p->msg);
		fdmap_free(m);
		return rc;
	}
	how->bpf_step = NULL;
	how->bpf_err = 0;
	return 0;
}

int fdmap_build_bpf(struct fdmap *m, const struct owl_u64map *want, struct fdmap_how *how)
{
	struct fdmap_pre p;
	pre_start(&p, "/proc", false);
	return pre_read(&p, m, want, how);
}

int fdmap_build_any(struct fdmap *m, const char *proc_root, const struct owl_u64map *want, int threads,
		    enum fdmap_backend mode, struct fdmap_pre *pre, struct fdmap_how *how)
{
	memset(how, 0, sizeof(*how));
	if (mode == FDMAP_PROC)
		fdmap_prepare_drop(pre);
	else {
		struct fdmap_pre local;
		if (!pre)
			pre_start(&local, proc_root, false);
		int rc = pre_read(pre ? pre : &local, m, want, how);
		free(pre);
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
