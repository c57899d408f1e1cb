#include "act/freeze.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "attribute/procinfo.h"
#include "core/util.h"

#define OWL_V1_DIR "owl"

const char *freeze_method_name(int m)
{
	switch (m) {
	case FREEZE_CGROUP_V2: return "cgroup-v2";
	case FREEZE_CGROUP_V1: return "cgroup-v1";
	case FREEZE_SIGNAL: return "signal";
	default: return "auto";
	}
}

/* The mount point of the cgroup2 hierarchy (v2) or of the v1 hierarchy
 * holding the freezer controller, from mountinfo.  Returns 0 or -ENOENT. */
static int find_mount(bool v2, char *ret, size_t retsz)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -errno;
	char *line = NULL;
	size_t cap = 0;
	int r = -ENOENT;
	while (getline(&line, &cap, f) > 0) {
		char *sep = strstr(line, " - ");
		if (!sep)
			continue;
		char fstype[32], source[64], opts[512];
		if (sscanf(sep + 3, "%31s %63s %511s", fstype, source, opts) != 3)
			continue;
		if (v2 ? strcmp(fstype, "cgroup2") != 0 : strcmp(fstype, "cgroup") != 0)
			continue;
		if (!v2) {
			bool has = false;
			for (char *save, *t = strtok_r(opts, ",", &save); t; t = strtok_r(NULL, ",", &save))
				if (strcmp(t, "freezer") == 0)
					has = true;
			if (!has)
				continue;
		}
		/* fields: id parent maj:min root mountpoint */
		char root[8], mp[OWL_PATH_MAX];
		if (sscanf(line, "%*s %*s %*s %7s %4095s", root, mp) != 2 || strcmp(root, "/") != 0)
			continue;
		if (strchr(mp, '\\'))
			continue; /* octal escapes: not a place a cgroup fs lives */
		owl_strlcpy(ret, mp, retsz);
		r = 0;
		break;
	}
	free(line);
	fclose(f);
	return r;
}

/* The process's path in the v2 ("0::") or the v1 freezer hierarchy. */
static int proc_cgroup(const char *proc_root, pid_t pid, bool v2, char *ret, size_t retsz)
{
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "%s/%d/cgroup", proc_root, (int)pid);
	ssize_t n = owl_read_file(path, buf, sizeof(buf));
	if (n < 0)
		return n == -ENOENT ? -ESRCH : (int)n;
	for (char *save, *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(l, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c1 = '\0';
		*c2 = '\0';
		bool match = false;
		if (v2)
			match = strcmp(l, "0") == 0 && c1 + 1 == c2;
		else
			for (char *s2, *t = strtok_r(c1 + 1, ",", &s2); t; t = strtok_r(NULL, ",", &s2))
				if (strcmp(t, "freezer") == 0)
					match = true;
		if (match) {
			if (strstr(c2 + 1, "/.."))
				return -EINVAL;
			owl_strlcpy(ret, c2 + 1, retsz);
			return 0;
		}
	}
	return -ENOENT;
}

static int proc_identity(const char *proc_root, pid_t pid, uint64_t *ret_ticks, char *ret_state)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "%s/%d/stat", proc_root, (int)pid);
	ssize_t n = owl_read_file(path, buf, sizeof(buf));
	struct proc_stat st;
	if (n <= 0 || procinfo_parse_stat(buf, (size_t)n, &st) < 0)
		return -ESRCH;
	if (st.state == 'Z' || st.state == 'X')
		return -ESRCH;
	*ret_ticks = st.starttime;
	if (ret_state)
		*ret_state = st.state;
	return 0;
}

static int join(char *dst, size_t dstsz, const char *a, const char *b)
{
	int n = snprintf(dst, dstsz, "%s%s%s", a, b[0] == '/' ? "" : "/", b);
	if (n < 0 || (size_t)n >= dstsz)
		return -ENAMETOOLONG;
	/* "/sys/fs/cgroup/freezer" + "/" → drop the trailing slash */
	size_t l = strlen(dst);
	if (l > 1 && dst[l - 1] == '/')
		dst[l - 1] = '\0';
	return 0;
}

static bool file_exists(const char *dir, const char *name)
{
	char p[OWL_PATH_MAX + 64];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return access(p, F_OK) == 0;
}

int freeze_plan_freeze(const char *proc_root, pid_t pid, bool whole, int force, struct freeze_plan *ret)
{
	struct freeze_plan p;
	char mnt[OWL_PATH_MAX];
	memset(&p, 0, sizeof(p));
	p.pid = pid;
	p.whole_cgroup = whole;
	int r = proc_identity(proc_root, pid, &p.start_ticks, NULL);
	if (r < 0)
		return r;
	/* a kernel thread has no executable and no command line: not ours to stop */
	char path[64], link[8], cmd[8];
	snprintf(path, sizeof(path), "%s/%d/exe", proc_root, (int)pid);
	if (readlink(path, link, sizeof(link)) < 0 && errno == ENOENT) {
		snprintf(path, sizeof(path), "%s/%d/cmdline", proc_root, (int)pid);
		if (owl_read_file(path, cmd, sizeof(cmd)) == 0)
			return -EPERM;
	}
	bool root_seen = false;
	if (whole && (force == FREEZE_AUTO || force == FREEZE_CGROUP_V2) && find_mount(true, mnt, sizeof(mnt)) == 0 &&
	    proc_cgroup(proc_root, pid, true, p.cgroup, sizeof(p.cgroup)) == 0) {
		if (strcmp(p.cgroup, "/") == 0) {
			root_seen = true;
		} else if (join(p.dir, sizeof(p.dir), mnt, p.cgroup) == 0 && file_exists(p.dir, "cgroup.freeze")) {
			p.method = FREEZE_CGROUP_V2;
			*ret = p;
			return 0;
		}
	}
	if ((force == FREEZE_AUTO || force == FREEZE_CGROUP_V1) && find_mount(false, mnt, sizeof(mnt)) == 0 &&
	    proc_cgroup(proc_root, pid, false, p.cgroup, sizeof(p.cgroup)) == 0) {
		if (whole) {
			if (strcmp(p.cgroup, "/") == 0) {
				root_seen = true;
			} else if (join(p.dir, sizeof(p.dir), mnt, p.cgroup) == 0 && file_exists(p.dir, "freezer.state")) {
				p.method = FREEZE_CGROUP_V1;
				*ret = p;
				return 0;
			}
		} else {
			owl_strlcpy(p.orig, p.cgroup, sizeof(p.orig));
			snprintf(p.cgroup, sizeof(p.cgroup), "/" OWL_V1_DIR "/pid-%d", (int)pid);
			if (join(p.dir, sizeof(p.dir), mnt, p.cgroup) == 0) {
				p.method = FREEZE_CGROUP_V1;
				p.move = true;
				*ret = p;
				return 0;
			}
		}
	}
	if (whole)
		return root_seen ? -EINVAL : -EOPNOTSUPP;
	if (force == FREEZE_AUTO || force == FREEZE_SIGNAL) {
		p.cgroup[0] = p.dir[0] = p.orig[0] = '\0';
		p.method = FREEZE_SIGNAL;
		*ret = p;
		return 0;
	}
	return -EOPNOTSUPP;
}

int freeze_state(const char *proc_root, pid_t pid, char *ret_cgroup, size_t cgsz)
{
	char mnt[OWL_PATH_MAX], cg[OWL_PATH_MAX], dir[OWL_PATH_MAX], buf[256];
	uint64_t ticks;
	char state;
	int r = proc_identity(proc_root, pid, &ticks, &state);
	if (r < 0)
		return r;
	if (find_mount(true, mnt, sizeof(mnt)) == 0 && proc_cgroup(proc_root, pid, true, cg, sizeof(cg)) == 0 &&
	    strcmp(cg, "/") != 0 && join(dir, sizeof(dir), mnt, cg) == 0) {
		char p[OWL_PATH_MAX + 32];
		snprintf(p, sizeof(p), "%s/cgroup.freeze", dir);
		if (owl_read_file(p, buf, sizeof(buf)) > 0 && buf[0] == '1') {
			owl_strlcpy(ret_cgroup, cg, cgsz);
			return FREEZE_CGROUP_V2;
		}
	}
	if (find_mount(false, mnt, sizeof(mnt)) == 0 && proc_cgroup(proc_root, pid, false, cg, sizeof(cg)) == 0 &&
	    strcmp(cg, "/") != 0 && join(dir, sizeof(dir), mnt, cg) == 0) {
		char p[OWL_PATH_MAX + 32];
		snprintf(p, sizeof(p), "%s/freezer.state", dir);
		if (owl_read_file(p, buf, sizeof(buf)) > 0 &&
		    (strncmp(buf, "FROZEN", 6) == 0 || strncmp(buf, "FREEZING", 8) == 0)) {
			owl_strlcpy(ret_cgroup, cg, cgsz);
			return FREEZE_CGROUP_V1;
		}
	}
	if (state == 'T') {
		owl_strlcpy(ret_cgroup, "", cgsz);
		return FREEZE_SIGNAL;
	}
	return 0;
}

int freeze_plan_thaw(const char *proc_root, pid_t pid, bool whole, struct freeze_plan *ret)
{
	struct freeze_plan p;
	char mnt[OWL_PATH_MAX];
	memset(&p, 0, sizeof(p));
	p.pid = pid;
	p.whole_cgroup = whole;
	int m = freeze_state(proc_root, pid, p.cgroup, sizeof(p.cgroup));
	if (m < 0)
		return m;
	if (m == 0)
		return -EALREADY;
	if (proc_identity(proc_root, pid, &p.start_ticks, NULL) < 0)
		return -ESRCH;
	p.method = m;
	if (m == FREEZE_CGROUP_V2 || m == FREEZE_CGROUP_V1) {
		if (find_mount(m == FREEZE_CGROUP_V2, mnt, sizeof(mnt)) < 0 ||
		    join(p.dir, sizeof(p.dir), mnt, p.cgroup) < 0)
			return -ENOENT;
		char own[64];
		snprintf(own, sizeof(own), "/" OWL_V1_DIR "/pid-%d", (int)pid);
		if (m == FREEZE_CGROUP_V1 && strcmp(p.cgroup, own) == 0) {
			/* owl moved it here: thaw, then return it where it was */
			p.move = true;
			char rec[OWL_PATH_MAX + 32], orig[OWL_PATH_MAX];
			snprintf(rec, sizeof(rec), "/run/owl/freeze/%d.orig", (int)pid);
			ssize_t n = owl_read_file(rec, orig, sizeof(orig));
			if (n > 0 && orig[0] == '/' && !strstr(orig, "/.."))
				owl_strncpy0(p.orig, sizeof(p.orig), orig, strcspn(orig, "\n"));
			else
				owl_strlcpy(p.orig, "/", sizeof(p.orig));
		}
	}
	*ret = p;
	return 0;
}

static int write_str(const char *dir, const char *name, const char *val)
{
	char p[OWL_PATH_MAX + 64];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	int fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, val, strlen(val));
	int e = n < 0 ? -errno : 0;
	if (close(fd) < 0 && e == 0)
		e = -errno;
	return e;
}

static int wait_for(const char *dir, const char *name, const char *want)
{
	char p[OWL_PATH_MAX + 64], buf[256];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	for (int i = 0; i < 200; i++) {
		ssize_t n = owl_read_file(p, buf, sizeof(buf));
		if (n > 0 && strstr(buf, want))
			return 0;
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	return -ETIMEDOUT;
}

static int same_process(const struct freeze_plan *p)
{
	uint64_t t;
	if (proc_identity("/proc", p->pid, &t, NULL) < 0 || t != p->start_ticks)
		return -ESRCH;
	return 0;
}

static int wait_stopped(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	for (int i = 0; i < 200; i++) {
		struct proc_stat st;
		ssize_t n = owl_read_file(path, buf, sizeof(buf));
		if (n <= 0 || procinfo_parse_stat(buf, (size_t)n, &st) < 0)
			return -ESRCH;
		if (st.state == 'T')
			return 0;
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	return -ETIMEDOUT;
}

int freeze_apply(const struct freeze_plan *p)
{
	int r = same_process(p);
	if (r < 0)
		return r;
	char pid[24];
	snprintf(pid, sizeof(pid), "%d", (int)p->pid);
	switch (p->method) {
	case FREEZE_CGROUP_V2:
		r = write_str(p->dir, "cgroup.freeze", "1");
		return r < 0 ? r : wait_for(p->dir, "cgroup.events", "frozen 1");
	case FREEZE_CGROUP_V1:
		if (p->move) {
			/* FREEZER/owl, then FREEZER/owl/pid-N */
			char parent[OWL_PATH_MAX];
			owl_strlcpy(parent, p->dir, sizeof(parent));
			char *slash = strrchr(parent, '/');
			if (slash)
				*slash = '\0';
			if (mkdir(parent, 0755) < 0 && errno != EEXIST)
				return -errno;
			if (mkdir(p->dir, 0755) < 0 && errno != EEXIST)
				return -errno;
			mkdir("/run/owl", 0700);
			mkdir("/run/owl/freeze", 0700);
			char rec[64];
			snprintf(rec, sizeof(rec), "/run/owl/freeze/%d.orig", (int)p->pid);
			int fd = open(rec, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
			if (fd >= 0) {
				ssize_t w = write(fd, p->orig, strlen(p->orig));
				(void)w;
				close(fd);
			}
			r = write_str(p->dir, "cgroup.procs", pid);
			if (r < 0) {
				rmdir(p->dir);
				return r == -EINVAL ? -ESRCH : r;
			}
		}
		r = write_str(p->dir, "freezer.state", "FROZEN");
		return r < 0 ? r : wait_for(p->dir, "freezer.state", "FROZEN");
	case FREEZE_SIGNAL:
		if (kill(p->pid, SIGSTOP) < 0)
			return -errno;
		return wait_stopped(p->pid);
	default:
		return -EINVAL;
	}
}

int thaw_apply(const struct freeze_plan *p)
{
	int r = same_process(p);
	if (r < 0)
		return r;
	switch (p->method) {
	case FREEZE_CGROUP_V2:
		r = write_str(p->dir, "cgroup.freeze", "0");
		return r < 0 ? r : wait_for(p->dir, "cgroup.events", "frozen 0");
	case FREEZE_CGROUP_V1:
		r = write_str(p->dir, "freezer.state", "THAWED");
		if (r < 0)
			return r;
		r = wait_for(p->dir, "freezer.state", "THAWED");
		if (r == 0 && p->move) {
			char mnt[OWL_PATH_MAX], back[OWL_PATH_MAX], pid[24], rec[64];
			snprintf(pid, sizeof(pid), "%d", (int)p->pid);
			if (find_mount(false, mnt, sizeof(mnt)) == 0 && join(back, sizeof(back), mnt, p->orig) == 0) {
				r = write_str(back, "cgroup.procs", pid);
				if (r == 0 && rmdir(p->dir) == 0) {
					/* and FREEZER/owl itself once nothing else is frozen there */
					char parent[OWL_PATH_MAX];
					owl_strlcpy(parent, p->dir, sizeof(parent));
					char *slash = strrchr(parent, '/');
					if (slash) {
						*slash = '\0';
						rmdir(parent);
					}
				}
			}
			snprintf(rec, sizeof(rec), "/run/owl/freeze/%d.orig", (int)p->pid);
			unlink(rec);
		}
		return r;
	case FREEZE_SIGNAL:
		return kill(p->pid, SIGCONT) < 0 ? -errno : 0;
	default:
		return -EINVAL;
	}
}
