#include "attribute/procinfo.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "attribute/cgroup.h"
#include "attribute/users.h"
#include "core/util.h"

int procinfo_parse_stat(const char *buf, size_t len, struct proc_stat *ret)
{
	const char *open = memchr(buf, '(', len);
	const char *close = NULL;
	for (size_t i = len; i > 0; i--) {
		if (buf[i - 1] == ')') {
			close = buf + i - 1;
			break;
		}
	}
	if (!open || !close || close < open)
		return -EINVAL;
	struct proc_stat s;
	memset(&s, 0, sizeof(s));
	owl_strncpy0(s.comm, sizeof(s.comm), open + 1, (size_t)(close - open - 1));
	/* fields after ") ": state(3) ppid(4) pgrp(5) session(6) tty_nr(7) ...
	 * starttime(22) ... env_start(50) env_end(51); the ones after 22 may be
	 * missing (older kernels) */
	const char *p = close + 1, *end = buf + len;
	char field[32];
	for (int f = 3; f <= 51; f++) {
		while (p < end && *p == ' ')
			p++;
		const char *st = p;
		while (p < end && *p != ' ' && *p != '\n')
			p++;
		size_t n = (size_t)(p - st);
		if (n == 0 && f > 22)
			break;
		if (n == 0 || n >= sizeof(field))
			return -EINVAL;
		memcpy(field, st, n);
		field[n] = '\0';
		long long v;
		switch (f) {
		case 3:
			if (n != 1)
				return -EINVAL;
			s.state = field[0];
			break;
		case 4:
			if (owl_strtonum(field, 0, 0x7fffffff, &v) < 0)
				return -EINVAL;
			s.ppid = (int32_t)v;
			break;
		case 7:
			if (owl_strtonum(field, -0x80000000ll, 0x7fffffff, &v) < 0)
				return -EINVAL;
			s.tty_nr = (int32_t)v;
			break;
		case 22: {
			uint64_t u;
			if (owl_parse_u64(field, n, 10, &u) < 0)
				return -EINVAL;
			s.starttime = u;
			break;
		}
		case 50:
		case 51: {
			uint64_t u;
			if (owl_parse_u64(field, n, 10, &u) < 0)
				break; /* not needed: a bad one is only not used */
			*(f == 50 ? &s.env_start : &s.env_end) = u;
			break;
		}
		default:
			break;
		}
	}
	*ret = s;
	return 0;
}

static int parse_id_line(const char *buf, size_t len, const char *key, uint32_t *a, uint32_t *b)
{
	size_t kl = strlen(key);
	const char *p = buf, *end = buf + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		if ((size_t)(le - p) > kl && memcmp(p, key, kl) == 0) {
			uint64_t v[2];
			const char *q = p + kl;
			for (int i = 0; i < 2; i++) {
				while (q < le && (*q == '\t' || *q == ' '))
					q++;
				const char *st = q;
				while (q < le && *q >= '0' && *q <= '9')
					q++;
				if (owl_parse_u64(st, (size_t)(q - st), 10, &v[i]) < 0 || v[i] > 0xffffffffu)
					return -EINVAL;
			}
			*a = (uint32_t)v[0];
			if (b)
				*b = (uint32_t)v[1];
			return 0;
		}
		p = le + 1;
	}
	return -EINVAL;
}

int procinfo_parse_status(const char *buf, size_t len, uint32_t *uid, uint32_t *euid, uint32_t *gid)
{
	uint32_t u, e, g, dummy;
	if (parse_id_line(buf, len, "Uid:", &u, &e) < 0 || parse_id_line(buf, len, "Gid:", &g, &dummy) < 0)
		return -EINVAL;
	*uid = u;
	*euid = e;
	*gid = g;
	return 0;
}

uint64_t procinfo_boot_ns(void)
{
	static uint64_t cached;
	if (!cached) {
		struct timespec rt, bt;
		clock_gettime(CLOCK_REALTIME, &rt);
		clock_gettime(CLOCK_BOOTTIME, &bt);
		uint64_t r = (uint64_t)rt.tv_sec * 1000000000ull + (uint64_t)rt.tv_nsec;
		uint64_t b = (uint64_t)bt.tv_sec * 1000000000ull + (uint64_t)bt.tv_nsec;
		cached = r - b;
	}
	return cached;
}

const char *procinfo_arg(const struct owl_proc *p, int i, size_t *ret_len)
{
	size_t off = 0;
	if (i < 0 || i >= p->argc)
		return NULL;
	for (int k = 0; k < i; k++) {
		const char *z = memchr(p->args + off, '\0', p->args_len - off);
		if (!z)
			return NULL;
		off = (size_t)(z - p->args) + 1;
		if (off >= p->args_len)
			return NULL;
	}
	const char *z = memchr(p->args + off, '\0', p->args_len - off);
	*ret_len = z ? (size_t)(z - (p->args + off)) : p->args_len - off;
	return p->args + off;
}

/* A file holding one unsigned 32-bit number (loginuid, sessionid); *ret
 * untouched when unreadable or malformed. */
static void read_u32_file(int dfd, const char *name, uint32_t *ret)
{
	char buf[32];
	long long v;
	if (owl_read_fileat(dfd, name, buf, sizeof(buf)) <= 0)
		return;
	buf[strcspn(buf, "\n")] = '\0';
	if (owl_strtonum(buf, 0, 0xffffffffll, &v) == 0)
		*ret = (uint32_t)v;
}

static uint64_t ns_ino(int dfd, const char *name)
{
	struct stat st;
	if (fstatat(dfd, name, &st, 0) < 0)
		return 0;
	return (uint64_t)st.st_ino;
}

int procinfo_load(const char *proc_root, pid_t pid, struct owl_proc *p)
{
	return procinfo_load_ex(proc_root, pid, 0, p);
}

int procinfo_load_ex(const char *proc_root, pid_t pid, unsigned flags, struct owl_proc *p)
{
	char path[256], buf[4096];
	ssize_t n;
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->loginuid = UINT32_MAX;
	p->sessionid = UINT32_MAX;
	snprintf(path, sizeof(path), "%s/%d", proc_root, (int)pid);
	_cleanup_close_ int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		p->gone = true;
		return errno == ENOENT ? -ENOENT : -errno;
	}

	n = owl_read_fileat(dfd, "stat", buf, sizeof(buf));
	if (n < 0) {
		p->gone = true;
		return n == -ENOENT || n == -ESRCH ? -ESRCH : (int)n;
	}
	struct proc_stat st;
	if (procinfo_parse_stat(buf, (size_t)n, &st) == 0) {
		memcpy(p->comm, st.comm, sizeof(p->comm));
		p->ppid = st.ppid;
		p->tty_nr = st.tty_nr;
		p->start_ticks = st.starttime;
		if (st.env_end > st.env_start) {
			p->env_start = st.env_start;
			p->env_end = st.env_end;
		}
		long hz = sysconf(_SC_CLK_TCK);
		if (hz <= 0)
			hz = 100;
		p->start_time_ns = procinfo_boot_ns() + st.starttime * (1000000000ull / (uint64_t)hz);
	}

	n = owl_read_fileat(dfd, "status", buf, sizeof(buf));
	if (n > 0 && procinfo_parse_status(buf, (size_t)n, &p->uid, &p->euid, &p->gid) == 0)
		p->have_status = true;

	n = readlinkat(dfd, "exe", p->exe, sizeof(p->exe) - 1);
	if (n >= 0)
		p->exe[n] = '\0';
	else
		p->exe_unreadable = true;
	if (flags & PROCINFO_F_VERIFY) {
		struct stat rst;
		p->have_exe_st = n >= 0 && fstatat(dfd, "exe", &p->exe_st, 0) == 0;
		if (fstatat(dfd, "root", &rst, 0) == 0) {
			p->have_root_st = true;
			p->root_dev = (uint64_t)rst.st_dev;
			p->root_ino = (uint64_t)rst.st_ino;
		}
	}

	/* one byte more than p->args keeps: a command line that fills it
	 * exactly is whole, one that does not fit is truncated */
	char cmdline[sizeof(p->args) + 1];
	n = owl_read_fileat(dfd, "cmdline", cmdline, sizeof(cmdline));
	if (n > 0) {
		p->args_truncated = (size_t)n > sizeof(p->args) - 1;
		p->args_len = OWL_MIN((size_t)n, sizeof(p->args) - 1);
		memcpy(p->args, cmdline, p->args_len);
		p->args[p->args_len] = '\0';
		n = (ssize_t)p->args_len;
		/* drop one trailing NUL, count the rest as separators */
		if (p->args[p->args_len - 1] == '\0')
			p->args_len--;
		p->argc = 1;
		for (size_t i = 0; i < p->args_len; i++)
			if (p->args[i] == '\0' && p->argc < OWL_ARGC_MAX)
				p->argc++;
	}

	read_u32_file(dfd, "loginuid", &p->loginuid);
	read_u32_file(dfd, "sessionid", &p->sessionid);

	n = owl_read_fileat(dfd, "cgroup", buf, sizeof(buf));
	if (n > 0 && cgroup_pick_path(buf, (size_t)n, p->cgroup_path, sizeof(p->cgroup_path)) == 0)
		cgroup_parse_path(p->cgroup_path, &p->cg);

	p->netns_ino = ns_ino(dfd, "ns/net");
	p->mntns_ino = ns_ino(dfd, "ns/mnt");
	p->pidns_ino = ns_ino(dfd, "ns/pid");

	if (p->have_status)
		users_name(p->uid, p->user, sizeof(p->user));

	/* the process may have exited between reads: stat gone means all is suspect */
	if (faccessat(dfd, "stat", F_OK, 0) < 0 && errno == ENOENT)
		p->gone = true;
	return 0;
}
