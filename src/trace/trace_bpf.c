/* The eBPF backend: load owl_trace.bpf.c (CO-RE skeleton), attach its
 * tracepoints, drain the ring buffer on a timer.
 *
 * Everything the kernel holds for owl lives behind file descriptors of this
 * process (program, map and link fds): when owl exits, however it exits
 * (SIGKILL included), the kernel detaches and frees it all.  Nothing is
 * pinned. */
#include "trace/trace.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trace/owl_trace.skel.h"

struct bpf_priv {
	struct owl_trace *skel;
	struct ring_buffer *rb;
	int drain_ms;
	trace_cb cb;
	void *ud;
	int delivered;
	bool attached;
};

/* libbpf must not print on owl's stderr: library code does not log. */
__attribute__((format(printf, 2, 0))) static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (getenv("OWL_DEBUG_BPF"))
		return vfprintf(stderr, fmt, ap);
	return 0;
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct bpf_priv *p = ctx;
	const struct owl_ev_hdr *h = data;
	if (size < sizeof(*h) || h->size > size)
		return 0; /* not a record of ours: skip it */
	p->cb(h, p->ud);
	p->delivered++;
	return 0;
}

static int drain(struct trace *t, trace_cb cb, void *ud)
{
	struct bpf_priv *p = t->priv;
	p->cb = cb;
	p->ud = ud;
	p->delivered = 0;
	int rc = ring_buffer__consume(p->rb);
	if (rc < 0)
		return rc;
	return p->delivered;
}

static int bpf_poll(struct trace *t, int timeout_ms, trace_cb cb, void *ud)
{
	struct bpf_priv *p = t->priv;
	int ms = p->drain_ms < timeout_ms || timeout_ms < 0 ? p->drain_ms : timeout_ms;
	/* records are submitted without wakeup: sleep, then take what is there */
	if (poll(NULL, 0, ms) < 0 && errno == EINTR)
		return -EINTR;
	return drain(t, cb, ud);
}

static void detach(struct trace *t)
{
	struct bpf_priv *p = t->priv;
	if (p->attached) {
		owl_trace__detach(p->skel);
		p->attached = false;
	}
}

static int counters(struct trace *t, struct trace_counters *ret)
{
	struct bpf_priv *p = t->priv;
	int ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	uint64_t *vals = calloc((size_t)ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	uint64_t sum[OWL_STAT__MAX] = {0};
	int fd = bpf_map__fd(p->skel->maps.stats);
	for (uint32_t k = 0; k < OWL_STAT__MAX; k++) {
		if (bpf_map_lookup_elem(fd, &k, vals) < 0) {
			int e = -errno;
			free(vals);
			return e;
		}
		for (int c = 0; c < ncpu; c++)
			sum[k] += vals[c];
	}
	free(vals);
	ret->lost = sum[OWL_STAT_LOST];
	ret->untracked = sum[OWL_STAT_SOCKMAP_FULL];
	return 0;
}

static void bpf_close(struct trace *t)
{
	struct bpf_priv *p = t->priv;
	if (!p)
		return;
	ring_buffer__free(p->rb);
	owl_trace__destroy(p->skel);
	free(p);
	t->priv = NULL;
}

static const struct trace_ops bpf_ops = {
	.poll = bpf_poll,
	.drain = drain,
	.detach = detach,
	.counters = counters,
	.close = bpf_close,
	.blind_spots = "",
};

int trace_bpf_open(const struct trace_opts *o, struct trace *t)
{
	int rc;
	if (access("/sys/kernel/btf/vmlinux", R_OK) < 0)
		return -errno == -ENOENT ? -ENOTSUP : -errno;
	libbpf_set_print(quiet);
	struct bpf_priv *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->drain_ms = o->drain_ms > 0 ? o->drain_ms : 50;
	p->skel = owl_trace__open();
	if (!p->skel) {
		rc = -errno ? -errno : -EINVAL;
		free(p);
		return rc;
	}
	p->skel->rodata->self_tgid = (uint32_t)getpid();
	p->skel->rodata->targ_tgid = o->pid;
	p->skel->rodata->targ_uid = o->uid >= 0 ? (uint32_t)o->uid : (uint32_t)-1;
	p->skel->rodata->skip_loopback = o->no_loopback;
	uint32_t rb = o->ringbuf_bytes ? o->ringbuf_bytes : 16u << 20;
	rc = bpf_map__set_max_entries(p->skel->maps.events, rb);
	if (rc == 0)
		rc = owl_trace__load(p->skel);
	if (rc == 0)
		rc = owl_trace__attach(p->skel);
	if (rc == 0) {
		p->attached = true;
		p->rb = ring_buffer__new(bpf_map__fd(p->skel->maps.events), on_record, p, NULL);
		if (!p->rb)
			rc = -errno ? -errno : -ENOMEM;
	}
	if (rc < 0) {
		rc = rc == -1 ? -EPERM : rc;
		ring_buffer__free(p->rb);
		owl_trace__destroy(p->skel);
		free(p);
		return rc;
	}
	t->ops = &bpf_ops;
	t->backend = TRACE_BACKEND_EBPF;
	t->priv = p;
	return 0;
}
