#include "act/evidence.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "act/sha256.h"
#include "act/tar.h"
#include "attribute/fdmap.h"
#include "attribute/procinfo.h"
#include "attribute/users.h"
#include "core/buf.h"
#include "core/hashmap.h"
#include "core/names.h"
#include "core/util.h"
#include "explain/explain.h"
#include "pipeline/scan.h"
#include "render/jsonw.h"
#include "render/report.h"
#include "verify/verify.h"

#define NAME_MAX_LEN 48

struct bfile {
	char name[NAME_MAX_LEN];
	const char *source;        /* static text: where it came from */
	uint64_t size;
	bool truncated;
	char sha256[ACT_SHA256_HEX_LEN];
};

struct bmissing {
	char name[NAME_MAX_LEN];
	const char *source;
	int err;
};

struct bundle {
	int dirfd;
	int procfd;
	uint64_t cap;
	struct owl_vec files;      /* struct bfile */
	struct owl_vec missing;    /* struct bmissing */
	struct owl_vec notes;      /* char[256] */
	int err;                   /* first error writing the bundle itself */
};

static void note(struct bundle *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct bundle *b, const char *fmt, ...)
{
	char *n = owl_vec_push(&b->notes);
	if (!n)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(n, 256, fmt, ap);
	va_end(ap);
}

static void add_missing(struct bundle *b, const char *name, const char *source, int err)
{
	struct bmissing *m = owl_vec_push(&b->missing);
	if (!m)
		return;
	owl_strlcpy(m->name, name, sizeof(m->name));
	m->source = source;
	m->err = err;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

static int create_file(struct bundle *b, const char *name)
{
	int fd = openat(b->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	return fd < 0 ? -errno : fd;
}

static void record_file(struct bundle *b, const char *name, const char *source, uint64_t size, bool trunc,
			const char *hex)
{
	struct bfile *f = owl_vec_push(&b->files);
	if (!f) {
		b->err = -ENOMEM;
		return;
	}
	owl_strlcpy(f->name, name, sizeof(f->name));
	f->source = source;
	f->size = size;
	f->truncated = trunc;
	owl_strlcpy(f->sha256, hex, sizeof(f->sha256));
}

/* Write a buffer owl made as a bundle file. */
static void put_buf(struct bundle *b, const char *name, const char *source, const char *data, size_t len)
{
	/* files owl writes itself are bounded by construction, and cutting
	 * JSON would make it unreadable: the cap is for copied content */
	bool trunc = false;
	int fd = create_file(b, name);
	if (fd < 0) {
		b->err = b->err ? b->err : fd;
		return;
	}
	int r = write_all(fd, data, len);
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r < 0) {
		b->err = b->err ? b->err : r;
		return;
	}
	struct act_sha256 *d = act_sha256_new();
	char hex[ACT_SHA256_HEX_LEN];
	if (!d) {
		b->err = -ENOMEM;
		return;
	}
	act_sha256_update(d, data, len);
	act_sha256_final_hex(d, hex);
	record_file(b, name, source, len, trunc, hex);
}

/* Copy at most cap bytes from src into a bundle file, hashing on the way.
 * An error reading src (the process died) keeps what was read and notes it. */
static int copy_fd(struct bundle *b, const char *name, const char *source, int src)
{
	static char buf[1 << 16];
	int out = create_file(b, name);
	if (out < 0) {
		b->err = b->err ? b->err : out;
		return out;
	}
	struct act_sha256 *d = act_sha256_new();
	if (!d) {
		close(out);
		b->err = -ENOMEM;
		return -ENOMEM;
	}
	uint64_t got = 0;
	bool trunc = false;
	int rerr = 0;
	for (;;) {
		size_t want = sizeof(buf);
		if (b->cap - got < want)
			want = (size_t)(b->cap - got);
		if (want == 0) {
			char one;
			trunc = read(src, &one, 1) > 0;
			break;
		}
		ssize_t n = read(src, buf, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rerr = -errno;
			break;
		}
		if (n == 0)
			break;
		int w = write_all(out, buf, (size_t)n);
		if (w < 0) {
			b->err = b->err ? b->err : w;
			act_sha256_free(d);
			close(out);
			return w;
		}
		act_sha256_update(d, buf, (size_t)n);
		got += (uint64_t)n;
	}
	if (close(out) < 0 && !b->err)
		b->err = -errno;
	char hex[ACT_SHA256_HEX_LEN];
	act_sha256_final_hex(d, hex);
	record_file(b, name, source, got, trunc, hex);
	if (rerr < 0)
		note(b, "%s: reading stopped after %llu bytes: %s", name, (unsigned long long)got, strerror(-rerr));
	return rerr;
}

/* Copy /proc/PID/<rel> into the bundle as name. */
static void copy_proc(struct bundle *b, const char *name, const char *rel, const char *source)
{
	int fd = openat(b->procfd, rel, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		add_missing(b, name, source, -errno);
		return;
	}
	copy_fd(b, name, source, fd);
	close(fd);
}

int evidence_parse_maps_line(const char *line, size_t len, struct maps_entry *ret)
{
	struct maps_entry e;
	size_t i = 0, s;
	memset(&e, 0, sizeof(e));
#define FIELD(stop)                                          \
	do {                                                 \
		s = i;                                       \
		while (i < len && line[i] != (stop))         \
			i++;                                 \
		if (i >= len || i == s)                      \
			return -EINVAL;                      \
	} while (0)
	FIELD('-');
	if (owl_parse_u64(line + s, i - s, 16, &e.start) < 0)
		return -EINVAL;
	i++;
	FIELD(' ');
	if (owl_parse_u64(line + s, i - s, 16, &e.end) < 0 || e.end < e.start)
		return -EINVAL;
	e.range_len = i;
	i++;
	FIELD(' ');
	if (i - s != 4)
		return -EINVAL;
	memcpy(e.perms, line + s, 4);
	e.perms[4] = '\0';
	i++;
	FIELD(' ');
	if (owl_parse_u64(line + s, i - s, 16, &e.offset) < 0)
		return -EINVAL;
	i++;
	FIELD(':');
	uint64_t v;
	if (owl_parse_u64(line + s, i - s, 16, &v) < 0 || v > 0xfffff)
		return -EINVAL;
	e.dev_major = (unsigned)v;
	i++;
	FIELD(' ');
	if (owl_parse_u64(line + s, i - s, 16, &v) < 0 || v > 0xfffff)
		return -EINVAL;
	e.dev_minor = (unsigned)v;
	i++;
	s = i;
	while (i < len && line[i] != ' ')
		i++;
	if (i == s || owl_parse_u64(line + s, i - s, 10, &e.inode) < 0)
		return -EINVAL;
#undef FIELD
	while (i < len && line[i] == ' ')
		i++;
	e.path = line + i;
	e.path_len = len - i;
	*ret = e;
	return 0;
}

/* Digests of every distinct mapped file, read through map_files/ so a
 * deleted or replaced library is hashed as mapped, not as now on disk. */
static void write_libraries(struct bundle *b, const struct owl_buf *maps)
{
	struct owl_buf out;
	struct jsonw w;
	struct owl_u64map seen;
	owl_buf_init(&out);
	jsonw_init(&w, &out);
	if (owl_u64map_init(&seen, 256) < 0) {
		b->err = -ENOMEM;
		return;
	}
	jsonw_arr_open(&w, NULL);
	const char *p = owl_buf_str(maps), *end = p + maps->len;
	unsigned n = 0, failed = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		struct maps_entry e;
		if (evidence_parse_maps_line(p, len, &e) == 0 && e.inode && e.path_len) {
			uint64_t key = e.inode * 1000003u ^ ((uint64_t)e.dev_major << 40) ^ ((uint64_t)e.dev_minor << 20);
			uint32_t dummy;
			if (!owl_u64map_get(&seen, key, &dummy) && n < 4096) {
				owl_u64map_put(&seen, key, 0);
				n++;
				char rel[64];
				snprintf(rel, sizeof(rel), "map_files/%.*s", (int)e.range_len, p);
				jsonw_obj_open(&w, NULL);
				jsonw_strn(&w, "path", e.path, e.path_len);
				char dev[32];
				snprintf(dev, sizeof(dev), "%x:%x", e.dev_major, e.dev_minor);
				jsonw_str(&w, "device", dev);
				jsonw_u64(&w, "inode", e.inode);
				static const char del[] = " (deleted)";
				bool deleted = e.path_len > sizeof(del) - 1 &&
					       memcmp(e.path + e.path_len - (sizeof(del) - 1), del, sizeof(del) - 1) == 0;
				jsonw_bool(&w, "deleted", deleted);
				int fd = openat(b->procfd, rel, O_RDONLY | O_CLOEXEC);
				char hex[ACT_SHA256_HEX_LEN];
				uint64_t size;
				bool trunc;
				int r = fd < 0 ? -errno : act_sha256_fd(fd, b->cap, hex, &size, &trunc);
				if (fd >= 0)
					close(fd);
				if (r == 0) {
					jsonw_str(&w, "sha256", hex);
					jsonw_u64(&w, "size", size);
					if (trunc)
						jsonw_bool(&w, "truncated", true);
				} else {
					failed++;
					jsonw_str(&w, "error", strerror(-r));
				}
				jsonw_obj_close(&w);
			}
		}
		p += len + 1;
	}
	jsonw_arr_close(&w);
	owl_buf_putc(&out, '\n');
	owl_u64map_free(&seen);
	if (failed)
		note(b, "libraries.json: %u of %u mapped files could not be hashed", failed, n);
	put_buf(b, "libraries.json", "/proc/PID/map_files/* (SHA-256 of each distinct mapped file)",
		owl_buf_str(&out), out.len);
	owl_buf_free(&out);
}

/* Read a whole /proc file of the process into a buffer, bounded by cap. */
static int slurp_proc(struct bundle *b, const char *rel, struct owl_buf *ret)
{
	int fd = openat(b->procfd, rel, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	char buf[8192];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = -errno;
			close(fd);
			return e;
		}
		if (n == 0 || ret->len + (size_t)n > b->cap)
			break;
		owl_buf_putn(ret, buf, (size_t)n);
	}
	close(fd);
	return 0;
}

static const struct owl_record *find_by_inode(const struct scan_result *s, uint64_t ino)
{
	for (size_t i = 0; ino && i < s->nrecs; i++)
		if (s->recs[i].conn.inode == ino)
			return &s->recs[i];
	return NULL;
}

static void conn_fields(struct jsonw *w, const struct scan_result *s, const struct owl_record *rec)
{
	char ep[128];
	const struct owl_conn *c = &rec->conn;
	jsonw_str(w, "transport", owl_transport_name(c->transport));
	if (owl_network_type(c))
		jsonw_str(w, "type", owl_network_type(c));
	jsonw_str(w, "state", owl_state_name(c));
	jsonw_str(w, "direction", owl_direction_name(c->direction));
	report_endpoint(c, false, ep, sizeof(ep));
	jsonw_str(w, "local", ep);
	report_endpoint(c, true, ep, sizeof(ep));
	jsonw_str(w, "remote", ep);
	jsonw_u64(w, "netns_inode", c->netns_ino);
	const struct owl_netns *ns = scan_find_netns(s, c->netns_ino);
	if (ns)
		jsonw_str(w, "netns", ns->name);
	if (c->cookie)
		jsonw_u64(w, "cookie", c->cookie);
}

/* fd number → target, position and flags, and for sockets what sock_diag knows. */
static void write_fds(struct bundle *b, const struct scan_result *s, bool have_scan)
{
	int dfd = openat(b->procfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		add_missing(b, "fds.json", "/proc/PID/fd", -errno);
		return;
	}
	DIR *d = fdopendir(dfd);
	if (!d) {
		add_missing(b, "fds.json", "/proc/PID/fd", -errno);
		close(dfd);
		return;
	}
	struct owl_buf out;
	struct jsonw w;
	owl_buf_init(&out);
	jsonw_init(&w, &out);
	jsonw_arr_open(&w, NULL);
	struct dirent *de;
	unsigned n = 0;
	while ((de = readdir(d)) && n < 65536) {
		long long fdno;
		if (owl_strtonum(de->d_name, 0, 0x7fffffff, &fdno) < 0)
			continue;
		char target[OWL_PATH_MAX];
		ssize_t l = readlinkat(dfd, de->d_name, target, sizeof(target) - 1);
		if (l < 0)
			continue; /* closed meanwhile */
		target[l] = '\0';
		n++;
		jsonw_obj_open(&w, NULL);
		jsonw_u64(&w, "fd", (uint64_t)fdno);
		jsonw_strn(&w, "target", target, (size_t)l);
		char rel[64], info[512];
		snprintf(rel, sizeof(rel), "fdinfo/%lld", fdno);
		ssize_t il = owl_read_fileat(b->procfd, rel, info, sizeof(info));
		if (il > 0) {
			char *pos = strstr(info, "pos:\t"), *fl = strstr(info, "flags:\t");
			if (pos)
				jsonw_strn(&w, "pos", pos + 5, strcspn(pos + 5, "\n"));
			if (fl)
				jsonw_strn(&w, "flags", fl + 7, strcspn(fl + 7, "\n"));
		}
		uint64_t ino = fdmap_parse_socket_link(target, (size_t)l);
		if (ino) {
			jsonw_u64(&w, "socket_inode", ino);
			const struct owl_record *rec = have_scan ? find_by_inode(s, ino) : NULL;
			if (rec) {
				jsonw_obj_open(&w, "socket");
				conn_fields(&w, s, rec);
				jsonw_obj_close(&w);
			}
		}
		jsonw_obj_close(&w);
	}
	closedir(d);
	jsonw_arr_close(&w);
	owl_buf_putc(&out, '\n');
	put_buf(b, "fds.json", "/proc/PID/fd, /proc/PID/fdinfo, sock_diag", owl_buf_str(&out), out.len);
	owl_buf_free(&out);
}

static bool rec_has_pid(const struct owl_record *rec, pid_t pid)
{
	for (uint32_t i = 0; i < rec->npids; i++)
		if (rec->pids[i] == (uint32_t)pid)
			return true;
	return false;
}

/* The process's sockets, as `owl scan --json --all` shows them. */
static unsigned write_connections(struct bundle *b, const struct scan_result *s, pid_t pid)
{
	struct owl_buf out;
	owl_buf_init(&out);
	unsigned n = 0;
	for (size_t i = 0; i < s->nrecs; i++) {
		if (!rec_has_pid(&s->recs[i], pid))
			continue;
		report_json_line(&out, s, &s->recs[i]);
		n++;
	}
	put_buf(b, "connections.ndjson", "owl scan --all --json, the records of this pid", owl_buf_str(&out), out.len);
	owl_buf_free(&out);
	return n;
}

/* What `owl explain PID` says (text and JSON), from the same scan. */
static void write_explain(struct bundle *b, const struct scan_result *s, pid_t pid, const struct owl_proc *own)
{
	struct explain_ctx x = {.target_text = "", .proc_root = "/proc"};
	struct explain_target t = {.kind = EXPLAIN_PID, .pid = pid};
	const struct owl_proc *proc = scan_find_proc(s, pid);
	char pidtext[24];
	snprintf(pidtext, sizeof(pidtext), "%d", (int)pid);
	x.target_text = pidtext;
	int r = explain_select(&x, s, &t, proc ? proc : own);
	if (r < 0) {
		add_missing(b, "explain.txt", "owl explain PID", r);
		return;
	}
	struct owl_buf out;
	owl_buf_init(&out);
	explain_write(&x, false, &out);
	put_buf(b, "explain.txt", "owl explain PID", owl_buf_str(&out), out.len);
	owl_buf_reset(&out);
	explain_write(&x, true, &out);
	put_buf(b, "explain.json", "owl explain PID --json", owl_buf_str(&out), out.len);
	owl_buf_free(&out);
	explain_ctx_free(&x);
}

/* The parent chain up to pid 1, nearest first, from /proc (ppid links). */
static void write_ancestry(struct bundle *b, const char *proc_root, pid_t pid)
{
	struct owl_buf out;
	struct jsonw w;
	owl_buf_init(&out);
	jsonw_init(&w, &out);
	jsonw_arr_open(&w, NULL);
	struct owl_proc *p = malloc(sizeof(*p));
	if (!p) {
		b->err = -ENOMEM;
		return;
	}
	pid_t cur = pid;
	for (int depth = 0; cur > 0 && depth < 128; depth++) {
		if (procinfo_load(proc_root, cur, p) < 0 || p->gone)
			break;
		jsonw_obj_open(&w, NULL);
		report_process_fields(&w, p);
		if (p->have_status) {
			jsonw_u64(&w, "uid", p->uid);
			if (p->user[0])
				jsonw_str(&w, "user", p->user);
		}
		if (p->cgroup_path[0])
			jsonw_str(&w, "cgroup", p->cgroup_path);
		jsonw_obj_close(&w);
		if (p->ppid == cur)
			break;
		cur = p->ppid;
	}
	free(p);
	jsonw_arr_close(&w);
	owl_buf_putc(&out, '\n');
	put_buf(b, "ancestry.json", "/proc/PID/stat ppid chain up to pid 1, nearest first", owl_buf_str(&out), out.len);
	owl_buf_free(&out);
}

static void write_namespaces(struct bundle *b)
{
	static const char *const ns[] = {"cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"};
	struct owl_buf out;
	owl_buf_init(&out);
	for (size_t i = 0; i < OWL_ARRAY_SIZE(ns); i++) {
		char rel[32], link[128];
		snprintf(rel, sizeof(rel), "ns/%s", ns[i]);
		ssize_t l = readlinkat(b->procfd, rel, link, sizeof(link) - 1);
		if (l < 0)
			continue;
		link[l] = '\0';
		owl_buf_printf(&out, "%s %s\n", ns[i], link);
	}
	put_buf(b, "namespaces.txt", "readlink /proc/PID/ns/*", owl_buf_str(&out), out.len);
	owl_buf_free(&out);
}

static bool process_alive(const struct bundle *b, uint64_t start_ticks)
{
	char buf[1024];
	ssize_t n = owl_read_fileat(b->procfd, "stat", buf, sizeof(buf));
	struct proc_stat st;
	if (n <= 0 || procinfo_parse_stat(buf, (size_t)n, &st) < 0)
		return false;
	return st.starttime == start_ticks && st.state != 'Z' && st.state != 'X';
}

/* The running image's inode as the kernel holds it (nlink 0 = deleted). */
static void exe_stat_fields(struct jsonw *w, const struct stat *st)
{
	char t[40], dev[32];
	jsonw_obj_open(w, "executable_file");
	snprintf(dev, sizeof(dev), "%u:%u", major(st->st_dev), minor(st->st_dev));
	jsonw_str(w, "device", dev);
	jsonw_u64(w, "inode", (uint64_t)st->st_ino);
	jsonw_u64(w, "size", (uint64_t)st->st_size);
	jsonw_u64(w, "links", (uint64_t)st->st_nlink);
	snprintf(t, sizeof(t), "%04o", (unsigned)(st->st_mode & 07777));
	jsonw_str(w, "mode", t);
	jsonw_u64(w, "uid", st->st_uid);
	jsonw_u64(w, "gid", st->st_gid);
	owl_format_time((uint64_t)st->st_mtim.tv_sec * 1000000000ull + (uint64_t)st->st_mtim.tv_nsec, t, sizeof(t));
	jsonw_str(w, "mtime", t);
	owl_format_time((uint64_t)st->st_ctim.tv_sec * 1000000000ull + (uint64_t)st->st_ctim.tv_nsec, t, sizeof(t));
	jsonw_str(w, "ctime", t);
	jsonw_obj_close(w);
}

static void write_manifest(struct bundle *b, pid_t pid, const struct owl_proc *p, uint64_t t0,
			   bool exited, const char *exe_link, const struct stat *exe_st)
{
	struct owl_buf out;
	struct jsonw w;
	char t[40];
	struct utsname u;
	owl_buf_init(&out);
	jsonw_init(&w, &out);
	jsonw_obj_open(&w, NULL);
	jsonw_str(&w, "format", EVIDENCE_FORMAT);
	jsonw_str(&w, "owl_version", OWL_VERSION);
	jsonw_obj_open(&w, "host");
	if (uname(&u) == 0) {
		jsonw_str(&w, "name", u.nodename);
		jsonw_str(&w, "kernel", u.release);
		jsonw_str(&w, "machine", u.machine);
	}
	char boot_id[64];
	ssize_t bl = owl_read_file("/proc/sys/kernel/random/boot_id", boot_id, sizeof(boot_id));
	if (bl > 0)
		jsonw_strn(&w, "boot_id", boot_id, strcspn(boot_id, "\n"));
	jsonw_obj_close(&w);
	owl_format_time(t0, t, sizeof(t));
	jsonw_str(&w, "started", t);
	owl_format_time(owl_now_ns(), t, sizeof(t));
	jsonw_str(&w, "completed", t);
	jsonw_obj_open(&w, "collector");
	jsonw_u64(&w, "uid", (uint64_t)getuid());
	char user[OWL_USER_MAX];
	if (users_name((uint32_t)getuid(), user, sizeof(user)) == 0)
		jsonw_str(&w, "user", user);
	const char *su = getenv("SUDO_USER");
	if (su)
		jsonw_str(&w, "sudo_user", su);
	jsonw_obj_close(&w);
	jsonw_obj_open(&w, "process");
	jsonw_u64(&w, "pid", (uint64_t)pid);
	jsonw_str(&w, "name", p->comm);
	if (exe_link[0])
		jsonw_str(&w, "executable", exe_link);
	if (p->start_time_ns) {
		owl_format_time(p->start_time_ns, t, sizeof(t));
		jsonw_str(&w, "start", t);
	}
	jsonw_u64(&w, "start_ticks", p->start_ticks);
	if (exe_st)
		exe_stat_fields(&w, exe_st);
	jsonw_bool(&w, "exited_during_collection", exited);
	jsonw_obj_close(&w);
	jsonw_u64(&w, "size_cap_bytes", b->cap);
	jsonw_str(&w, "size_cap_applies_to", "each file copied from the process (exe, proc/*) and each mapped file hashed; a file cut at the cap has truncated=true and its sha256 covers the bytes kept; files owl writes itself (*.json, *.ndjson, *.txt) are not cut");
	jsonw_bool(&w, "complete", b->missing.len == 0 && !exited);
	jsonw_arr_open(&w, "files");
	for (size_t i = 0; i < b->files.len; i++) {
		const struct bfile *f = OWL_VEC_AT(&b->files, struct bfile, i);
		jsonw_obj_open(&w, NULL);
		jsonw_str(&w, "name", f->name);
		jsonw_u64(&w, "size", f->size);
		jsonw_str(&w, "sha256", f->sha256);
		jsonw_bool(&w, "truncated", f->truncated);
		jsonw_str(&w, "source", f->source);
		jsonw_obj_close(&w);
	}
	jsonw_arr_close(&w);
	jsonw_arr_open(&w, "missing");
	for (size_t i = 0; i < b->missing.len; i++) {
		const struct bmissing *m = OWL_VEC_AT(&b->missing, struct bmissing, i);
		jsonw_obj_open(&w, NULL);
		jsonw_str(&w, "name", m->name);
		jsonw_str(&w, "source", m->source);
		jsonw_str(&w, "error", strerror(-m->err));
		jsonw_obj_close(&w);
	}
	jsonw_arr_close(&w);
	jsonw_arr_open(&w, "notes");
	for (size_t i = 0; i < b->notes.len; i++)
		jsonw_str(&w, NULL, (const char *)b->notes.data + i * 256);
	jsonw_arr_close(&w);
	jsonw_str(&w, "verify", "sha256sum -c SHA256SUMS (in the bundle directory)");
	jsonw_obj_close(&w);
	owl_buf_putc(&out, '\n');
	put_buf(b, "manifest.json", "owl", owl_buf_str(&out), out.len);
	owl_buf_free(&out);
}

static void write_sums(struct bundle *b)
{
	struct owl_buf out;
	owl_buf_init(&out);
	for (size_t i = 0; i < b->files.len; i++) {
		const struct bfile *f = OWL_VEC_AT(&b->files, struct bfile, i);
		owl_buf_printf(&out, "%s  %s\n", f->sha256, f->name);
	}
	/* SHA256SUMS does not list itself */
	int fd = create_file(b, "SHA256SUMS");
	if (fd < 0) {
		b->err = b->err ? b->err : fd;
	} else {
		int r = write_all(fd, owl_buf_str(&out), out.len);
		if (close(fd) < 0 && r == 0)
			r = -errno;
		if (r < 0 && !b->err)
			b->err = r;
	}
	owl_buf_free(&out);
}

void evidence_default_name(pid_t pid, uint64_t ns, char *buf, size_t bufsz)
{
	time_t sec = (time_t)(ns / 1000000000ull);
	struct tm tm;
	char ts[32] = "19700101T000000Z";
	if (gmtime_r(&sec, &tm))
		strftime(ts, sizeof(ts), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(buf, bufsz, "owl-evidence-%d-%s", (int)pid, ts);
}

/* Remove the files of the staging directory (after packing it). */
static void remove_staging(struct bundle *b, const char *out)
{
	for (size_t i = 0; i < b->files.len; i++)
		unlinkat(b->dirfd, OWL_VEC_AT(&b->files, struct bfile, i)->name, 0);
	unlinkat(b->dirfd, "SHA256SUMS", 0);
	unlinkat(b->dirfd, "proc", AT_REMOVEDIR);
	rmdir(out);
}

static int pack(struct bundle *b, pid_t pid, const char *tarpath)
{
	struct tarw *t;
	int r = tarw_open(tarpath, &t);
	if (r < 0)
		return r;
	char top[64], name[160];
	snprintf(top, sizeof(top), "owl-evidence-%d", (int)pid);
	time_t now = time(NULL);
	r = tarw_add_dir(t, top, 0700, now);
	snprintf(name, sizeof(name), "%s/proc", top);
	if (r == 0)
		r = tarw_add_dir(t, name, 0700, now);
	for (size_t i = 0; r == 0 && i <= b->files.len; i++) {
		const char *fn = i < b->files.len ? OWL_VEC_AT(&b->files, struct bfile, i)->name : "SHA256SUMS";
		int fd = openat(b->dirfd, fn, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		struct stat st;
		if (fd < 0) {
			r = -errno;
			break;
		}
		if (fstat(fd, &st) < 0) {
			r = -errno;
			close(fd);
			break;
		}
		snprintf(name, sizeof(name), "%s/%s", top, fn);
		r = tarw_add_file(t, name, fd, (uint64_t)st.st_size, 0600, now);
		close(fd);
	}
	int c = tarw_close(t);
	if (r == 0)
		r = c;
	if (r < 0)
		unlink(tarpath);
	return r;
}

int evidence_collect(pid_t pid, const char *out, const struct evidence_opts *o, struct evidence_result *ret)
{
	const char *proc_root = o->proc_root ? o->proc_root : "/proc";
	struct bundle b = {.dirfd = -1, .procfd = -1};
	struct evidence_result res;
	char path[512];
	int rc = 0;
	memset(&res, 0, sizeof(res));
	b.cap = o->size_cap ? o->size_cap : EVIDENCE_CAP_DEFAULT;
	owl_vec_init(&b.files, sizeof(struct bfile));
	owl_vec_init(&b.missing, sizeof(struct bmissing));
	owl_vec_init(&b.notes, 256);
	uint64_t t0 = owl_now_ns();

	/* Pin the process: every read below goes through this directory fd,
	 * so a pid reused after the process exits is never read by mistake
	 * (the kernel answers ESRCH for a dead task's entries). */
	snprintf(path, sizeof(path), "%s/%d", proc_root, (int)pid);
	b.procfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (b.procfd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	struct owl_proc *p = calloc(1, sizeof(*p));
	if (!p) {
		close(b.procfd);
		return -ENOMEM;
	}
	if (procinfo_load(proc_root, pid, p) < 0 || p->gone) {
		free(p);
		close(b.procfd);
		return -ESRCH;
	}
	char tarpath[OWL_PATH_MAX];
	if (o->tar) {
		int n = snprintf(tarpath, sizeof(tarpath), "%s.tar.gz", out);
		if (n < 0 || (size_t)n >= sizeof(tarpath)) {
			rc = -ENAMETOOLONG;
			goto fail;
		}
		if (access(tarpath, F_OK) == 0) {
			rc = -EEXIST;
			goto fail;
		}
	}
	if (mkdir(out, 0700) < 0) {
		rc = -errno;
		goto fail;
	}
	b.dirfd = open(out, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (b.dirfd < 0) {
		rc = -errno;
		goto fail;
	}
	if (mkdirat(b.dirfd, "proc", 0700) < 0) {
		rc = -errno;
		goto fail;
	}

	/* the running image first: it is what matters most if the process ends */
	char exe_link[OWL_PATH_MAX] = "";
	ssize_t l = readlinkat(b.procfd, "exe", exe_link, sizeof(exe_link) - 1);
	if (l >= 0)
		exe_link[l] = '\0';
	struct stat exe_st;
	bool have_exe_st = fstatat(b.procfd, "exe", &exe_st, 0) == 0;
	copy_proc(&b, "exe", "exe", "/proc/PID/exe (the running image; works when deleted or a memfd)");
	if (b.files.len && strcmp(OWL_VEC_AT(&b.files, struct bfile, b.files.len - 1)->name, "exe") == 0)
		owl_strlcpy(res.exe_sha256, OWL_VEC_AT(&b.files, struct bfile, b.files.len - 1)->sha256,
			    sizeof(res.exe_sha256));
	if (l >= 0)
		put_buf(&b, "exe.link", "readlink /proc/PID/exe (raw bytes, may hold any character)", exe_link,
			(size_t)l);

	static const struct {
		const char *name, *rel, *source;
	} files[] = {
		{"proc/cmdline", "cmdline", "/proc/PID/cmdline (NUL-separated)"},
		{"proc/environ", "environ", "/proc/PID/environ (NUL-separated)"},
		{"proc/status", "status", "/proc/PID/status"},
		{"proc/stat", "stat", "/proc/PID/stat"},
		{"proc/limits", "limits", "/proc/PID/limits"},
		{"proc/cgroup", "cgroup", "/proc/PID/cgroup"},
		{"proc/mountinfo", "mountinfo", "/proc/PID/mountinfo"},
		{"proc/maps", "maps", "/proc/PID/maps"},
		{"proc/loginuid", "loginuid", "/proc/PID/loginuid"},
		{"proc/sessionid", "sessionid", "/proc/PID/sessionid"},
	};
	for (size_t i = 0; i < OWL_ARRAY_SIZE(files); i++)
		copy_proc(&b, files[i].name, files[i].rel, files[i].source);
	write_namespaces(&b);

	struct owl_buf maps;
	owl_buf_init(&maps);
	int mr = slurp_proc(&b, "maps", &maps);
	if (mr == 0)
		write_libraries(&b, &maps);
	else
		add_missing(&b, "libraries.json", "/proc/PID/maps", mr);
	owl_buf_free(&maps);

	struct scan_opts so = {.collect = {.with_info = true}, .proc_root = o->proc_root, .all = true};
	struct scan_result s;
	int sr = scan_run(&so, &s);
	if (sr < 0)
		note(&b, "scan failed (%s): connections.ndjson is missing and fds.json has no socket details",
		     strerror(-sr));
	write_fds(&b, &s, sr == 0);
	if (sr == 0) {
		res.nconns = write_connections(&b, &s, pid);
		/* a process without sockets is not in the scan: verify it here,
		 * as explain does, so the explanation checks its image too */
		struct verify_info *vi = NULL;
		if (!scan_find_proc(&s, pid) && s.verify && verify_proc(s.verify, p, &vi) == 0)
			p->verify = vi;
		write_explain(&b, &s, pid, p);
		verify_info_free(p->verify);
		p->verify = NULL;
	} else {
		add_missing(&b, "connections.ndjson", "owl scan", sr);
		add_missing(&b, "explain.txt", "owl explain PID", sr);
	}
	scan_result_free(&s);

	write_ancestry(&b, proc_root, pid);

	bool exited = !process_alive(&b, p->start_ticks);
	if (exited)
		note(&b, "the process exited during collection: the bundle holds what was collected before that");
	write_manifest(&b, pid, p, t0, exited, exe_link, have_exe_st ? &exe_st : NULL);
	write_sums(&b);
	if (b.err) {
		rc = b.err;
		goto fail;
	}

	res.process_exited = exited;
	res.nmissing = (unsigned)b.missing.len;
	res.nfiles = (unsigned)b.files.len + 1;
	for (size_t i = 0; i < b.files.len; i++) {
		const struct bfile *f = OWL_VEC_AT(&b.files, struct bfile, i);
		res.bytes += f->size;
		res.ntruncated += f->truncated;
	}
	if (o->tar) {
		rc = pack(&b, pid, tarpath);
		remove_staging(&b, out);
		if (rc < 0)
			goto fail;
		owl_strlcpy(res.path, tarpath, sizeof(res.path));
	} else {
		owl_strlcpy(res.path, out, sizeof(res.path));
	}
	*ret = res;
fail:
	if (b.dirfd >= 0)
		close(b.dirfd);
	close(b.procfd);
	free(p);
	owl_vec_free(&b.files);
	owl_vec_free(&b.missing);
	owl_vec_free(&b.notes);
	return rc;
}
