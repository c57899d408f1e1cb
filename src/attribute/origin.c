#include "attribute/origin.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "attribute/users.h"
#include "core/util.h"

const char *origin_kind_name(int kind)
{
	switch (kind) {
	case ORIGIN_USER: return "user";
	case ORIGIN_SERVICE: return "service";
	case ORIGIN_SCHEDULED: return "scheduled";
	case ORIGIN_CONTAINER: return "container";
	default: return "unknown";
	}
}

void origin_tty_name(int tty_nr, char *buf, size_t bufsz)
{
	if (!bufsz)
		return;
	buf[0] = '\0';
	if (!tty_nr)
		return;
	unsigned major = ((unsigned)tty_nr >> 8) & 0xff;
	unsigned minor = ((unsigned)tty_nr & 0xff) | (((unsigned)tty_nr >> 12) & 0xfff00);
	if (major >= 136 && major <= 143)
		snprintf(buf, bufsz, "pts/%u", (major - 136) * 256 + minor);
	else if (major == 4 && minor < 64)
		snprintf(buf, bufsz, "tty%u", minor);
	else if (major == 4)
		snprintf(buf, bufsz, "ttyS%u", minor - 64);
	else if (major == 5 && minor == 1)
		snprintf(buf, bufsz, "console");
	else
		snprintf(buf, bufsz, "tty(%u:%u)", major, minor);
}

void origin_info_free(struct origin_info *oi)
{
	free(oi);
}

/* ---- program classes ---------------------------------------------------- */

/* The name a rule looks at: the executable's base name, else comm. */
static const char *prog_name(const struct anc_proc *p)
{
	if (p->exe[0]) {
		const char *s = strrchr(p->exe, '/');
		s = s ? s + 1 : p->exe;
		if (*s)
			return s;
	}
	return p->comm;
}

/* name equals base, or base followed by a version ("python3.11", "php8.2") */
static bool name_is(const char *name, const char *base)
{
	size_t k = strlen(base);
	if (strncmp(name, base, k) != 0)
		return false;
	for (const char *q = name + k; *q; q++)
		if (!((*q >= '0' && *q <= '9') || *q == '.'))
			return false;
	return true;
}

static bool name_in(const char *name, const char *const *set)
{
	for (; *set; set++)
		if (name_is(name, *set))
			return true;
	return false;
}

/* both the executable's name and comm (a renamed comm must not hide a shell;
 * a deleted exe's name is suffixed " (deleted)" and so falls back to comm) */
static bool proc_in(const struct anc_proc *p, const char *const *set)
{
	return name_in(prog_name(p), set) || name_in(p->comm, set);
}

static bool name_has_prefix(const char *name, const char *const *set)
{
	for (; *set; set++)
		if (strncmp(name, *set, strlen(*set)) == 0)
			return true;
	return false;
}

static const char *const shells[] = {
	"sh", "bash", "dash", "zsh", "ksh", "mksh", "ksh93", "pdksh", "csh", "tcsh", "fish", "ash",
	"busybox", "rbash", "yash", "posh", NULL,
};
static const char *const interpreters[] = {
	"python", "python2", "python3", "perl", "ruby", "php", "node", "nodejs", "lua", "luajit",
	"tclsh", "wish", "pwsh", "gawk", "awk", "mawk", "expect", "Rscript", "osascript", NULL,
};
static const char *const net_tools[] = {
	"nc", "ncat", "netcat", "nc.openbsd", "nc.traditional", "socat", "telnet", "curl", "wget",
	"nmap", "ssh", "scp", "sftp", "ftp", "tftp", "openssl", "rsync", "xterm", "proxychains",
	"proxychains4", "chisel", "frpc", "ngrok", NULL,
};
/* network-facing services, by executable name */
static const char *const net_services[] = {
	/* web servers and proxies */
	"nginx", "apache2", "httpd", "lighttpd", "caddy", "traefik", "h2o", "openresty", "envoy",
	/* PHP and application servers */
	"php-fpm", "php-cgi", "uwsgi", "gunicorn", "puma", "unicorn", "passenger", "hypercorn",
	"uvicorn", "daphne", "tomcat", "catalina", "jetty", "wildfly", "jboss", "weblogic",
	/* databases and caches */
	"mysqld", "mariadbd", "postgres", "postmaster", "redis-server", "mongod", "memcached",
	"couchdb", "influxd", "clickhouse-server",
	/* mail */
	"exim", "exim4", "sendmail", "smtpd", "qmgr", "dovecot", "imap-login", "pop3-login",
	"opensmtpd", "courier", "cyrus-master",
	/* file transfer */
	"vsftpd", "proftpd", "pure-ftpd", "smbd", NULL,
};
/* prefixes: php-fpm8.2, php-fpm: pool www (comm "php-fpm8.2") */
static const char *const net_service_prefixes[] = {"php-fpm", "php-cgi", "httpd-", NULL};
/* services that should never run another program */
static const char *const never_spawn[] = {
	"mysqld", "mariadbd", "redis-server", "mongod", "memcached", "postgres", "postmaster",
	"named", "chronyd", "ntpd", "unbound", "influxd", "clickhouse-server", NULL,
};

bool origin_is_shell(const struct anc_proc *p)
{
	return proc_in(p, shells);
}

bool origin_is_interpreter(const struct anc_proc *p)
{
	return proc_in(p, interpreters);
}

bool origin_is_network_tool(const struct anc_proc *p)
{
	return proc_in(p, net_tools);
}

bool origin_is_net_service(const struct anc_proc *p)
{
	/* postfix's "master" is too generic a name: only by its path */
	if (strcmp(p->exe, "/usr/lib/postfix/sbin/master") == 0)
		return true;
	return proc_in(p, net_services) || name_has_prefix(prog_name(p), net_service_prefixes) ||
	       name_has_prefix(p->comm, net_service_prefixes);
}

static bool is_sshd(const struct anc_proc *p)
{
	return strcmp(prog_name(p), "sshd") == 0 || strcmp(p->comm, "sshd") == 0 ||
	       strcmp(p->comm, "sshd-session") == 0 || strcmp(prog_name(p), "sshd-session") == 0 ||
	       strcmp(prog_name(p), "dropbear") == 0;
}

static bool is_login(const struct anc_proc *p)
{
	static const char *const set[] = {"login", "gdm-session-worker", "lightdm", "sddm-helper",
					  "xrdp-sesman", "mosh-server", NULL};
	return proc_in(p, set);
}

/* cron and kin: the name the trigger is reported under, or NULL */
static const char *scheduler_name(const struct anc_proc *p)
{
	static const char *const set[] = {"cron", "crond", "anacron", "atd", "fcron", "cronie", "bcron-exec",
					  "systemd-cron", NULL};
	const char *n = prog_name(p);
	for (const char *const *s = set; *s; s++)
		if (strcmp(n, *s) == 0 || strcmp(p->comm, *s) == 0)
			return *s;
	return NULL;
}

static bool is_supervisor(const struct anc_proc *p)
{
	static const char *const set[] = {"runsv", "runsvdir", "s6-supervise", "supervisord", "supervise",
					  "daemontools", "monit", "openrc-run", "start-stop-daemon", NULL};
	return proc_in(p, set);
}

static bool is_container_shim(const struct anc_proc *p)
{
	static const char *const pre[] = {"containerd-shim", "conmon", "runc", "crun", "lxc-start",
					  "docker-containerd-shim", NULL};
	return name_has_prefix(prog_name(p), pre) || name_has_prefix(p->comm, pre);
}

static bool has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), k = strlen(suf);
	return n >= k && strcmp(s + n - k, suf) == 0;
}

/* service foo.service (or foo@x.service) triggered by a timer of the same name */
static bool unit_has_timer(const struct origin_env *env, const char *service, char *timer, size_t timersz)
{
	static const char *const dirs[] = {"/etc/systemd/system", "/run/systemd/system", "/lib/systemd/system",
					   "/usr/lib/systemd/system", NULL};
	if (!has_suffix(service, ".service"))
		return false;
	size_t stem = strlen(service) - 8;
	char name[OWL_UNIT_MAX + 8];
	if (stem + 7 >= sizeof(name))
		return false;
	memcpy(name, service, stem);
	memcpy(name + stem, ".timer", 7);
	/* template instance foo@bar.service → foo@bar.timer, or foo@.timer */
	const char *root = env && env->root && strcmp(env->root, "/") != 0 ? env->root : "";
	for (const char *const *d = dirs; *d; d++) {
		char path[OWL_PATH_MAX];
		struct stat st;
		if ((size_t)snprintf(path, sizeof(path), "%s%s/%s", root, *d, name) >= sizeof(path))
			continue;
		if (stat(path, &st) == 0) {
			owl_strlcpy(timer, name, timersz);
			return true;
		}
	}
	return false;
}

/* ---- classification ----------------------------------------------------- */

static void set_user(struct origin_info *oi, const struct anc_proc *decider, const struct anc_proc *self)
{
	oi->has_user = true;
	if (self->loginuid != UINT32_MAX)
		oi->uid = self->loginuid;
	else if (decider->loginuid != UINT32_MAX)
		oi->uid = decider->loginuid;
	else if (decider->have_uid)
		oi->uid = decider->uid;
	else if (self->have_uid)
		oi->uid = self->uid;
	else
		oi->has_user = false;
	if (oi->has_user && users_name(oi->uid, oi->user, sizeof(oi->user)) < 0)
		oi->user[0] = '\0';
	oi->sessionid = self->sessionid != UINT32_MAX ? self->sessionid : decider->sessionid;
}

static void fmt(struct origin_info *oi, const char *f, ...) __attribute__((format(printf, 2, 3)));
static void fmt(struct origin_info *oi, const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	vsnprintf(oi->evidence, sizeof(oi->evidence), f, ap);
	va_end(ap);
}

void origin_classify(const struct anc_proc *self, const struct anc_proc *const *chain, size_t n,
		     const struct origin_env *env, struct origin_info *oi)
{
	oi->kind = ORIGIN_UNKNOWN;
	oi->evidence[0] = '\0';
	oi->decided_by = 0;
	oi->has_user = false;
	oi->user[0] = '\0';
	oi->sessionid = UINT32_MAX;
	oi->tty[0] = '\0';
	oi->session_unit[0] = '\0';
	oi->nsshd = 0;
	oi->unit[0] = '\0';
	oi->trigger[0] = '\0';
	oi->container_id[0] = '\0';

	/* 1. a container: the cgroup says so, or a runtime shim is an ancestor */
	if (self->container_id[0]) {
		oi->kind = ORIGIN_CONTAINER;
		owl_strlcpy(oi->container_id, self->container_id, sizeof(oi->container_id));
		fmt(oi, "cgroup names container %.12s", self->container_id);
		oi->decided_by = self->pid;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (is_container_shim(chain[i])) {
			oi->kind = ORIGIN_CONTAINER;
			fmt(oi, "ancestor %s (pid %d) is a container runtime", chain[i]->comm, (int)chain[i]->pid);
			oi->decided_by = chain[i]->pid;
			return;
		}
	}

	/* init itself */
	if (self->pid == 1) {
		oi->kind = ORIGIN_SERVICE;
		fmt(oi, "the init process (pid 1), started by the kernel");
		oi->decided_by = 1;
		return;
	}

	/* 2. walk up from the process: the nearest tty, login/ssh session or
	 * scheduler decides */
	for (size_t i = 0; i <= n; i++) {
		const struct anc_proc *h = i == 0 ? self : chain[i - 1];
		if (h->pid == 1)
			break;
		if (h->tty_nr) {
			oi->kind = ORIGIN_USER;
			origin_tty_name(h->tty_nr, oi->tty, sizeof(oi->tty));
			set_user(oi, h, self);
			if (h == self)
				fmt(oi, "controlling terminal %s", oi->tty);
			else
				fmt(oi, "ancestor %s (pid %d) has controlling terminal %s", h->comm, (int)h->pid, oi->tty);
			oi->decided_by = h->pid;
			/* keep looking for the sshd of this session, and the scope */
			for (size_t j = 0; j <= n; j++) {
				const struct anc_proc *s = j == 0 ? self : chain[j - 1];
				if (is_sshd(s) && oi->nsshd < ORIGIN_SSHD_MAX)
					oi->sshd_pids[oi->nsshd++] = s->pid;
			}
			if (self->user_session && strncmp(self->unit, "session-", 8) == 0)
				owl_strlcpy(oi->session_unit, self->unit, sizeof(oi->session_unit));
			return;
		}
		if (h != self && is_sshd(h)) {
			oi->kind = ORIGIN_USER;
			set_user(oi, h, self);
			fmt(oi, "ssh session: ancestor pid %d is '%s'", (int)h->pid, h->args0[0] ? h->args0 : h->comm);
			oi->decided_by = h->pid;
			for (size_t j = 0; j <= n && oi->nsshd < ORIGIN_SSHD_MAX; j++) {
				const struct anc_proc *s = j == 0 ? self : chain[j - 1];
				if (is_sshd(s))
					oi->sshd_pids[oi->nsshd++] = s->pid;
			}
			if (self->user_session && strncmp(self->unit, "session-", 8) == 0)
				owl_strlcpy(oi->session_unit, self->unit, sizeof(oi->session_unit));
			return;
		}
		if (h != self && is_login(h)) {
			oi->kind = ORIGIN_USER;
			set_user(oi, h, self);
			fmt(oi, "login session: ancestor %s (pid %d)", h->comm, (int)h->pid);
			oi->decided_by = h->pid;
			return;
		}
		const char *sch = h != self ? scheduler_name(h) : NULL;
		if (sch) {
			oi->kind = ORIGIN_SCHEDULED;
			owl_strlcpy(oi->trigger, sch, sizeof(oi->trigger));
			fmt(oi, "started by %s (pid %d)", sch, (int)h->pid);
			oi->decided_by = h->pid;
			if (self->loginuid != UINT32_MAX) {
				/* cron sets the login uid of the crontab's owner */
				oi->has_user = true;
				oi->uid = self->loginuid;
				users_name(oi->uid, oi->user, sizeof(oi->user));
			}
			return;
		}
	}

	/* 3. the cgroup: a user session, a scheduler's unit, a timer's service,
	 * another service */
	if (self->unit[0] || self->user_session) {
		if (self->user_session) {
			oi->kind = ORIGIN_USER;
			set_user(oi, self, self);
			if (strncmp(self->unit, "session-", 8) == 0) {
				owl_strlcpy(oi->session_unit, self->unit, sizeof(oi->session_unit));
				fmt(oi, "cgroup is login session %s", self->unit);
			} else {
				owl_strlcpy(oi->unit, self->unit, sizeof(oi->unit));
				fmt(oi, "cgroup is in a user's slice (unit %s)", self->unit[0] ? self->unit : "none");
			}
			oi->decided_by = self->pid;
			return;
		}
		owl_strlcpy(oi->unit, self->unit, sizeof(oi->unit));
		oi->decided_by = self->pid;
		static const char *const sched_units[] = {"cron.service", "crond.service", "anacron.service",
							  "atd.service", "cronie.service", NULL};
		for (const char *const *u = sched_units; *u; u++) {
			if (strcmp(self->unit, *u) == 0) {
				oi->kind = ORIGIN_SCHEDULED;
				owl_strlcpy(oi->trigger, self->unit, sizeof(oi->trigger));
				oi->trigger[strlen(oi->trigger) - 8] = '\0';
				fmt(oi, "cgroup is the scheduler's unit %s", self->unit);
				return;
			}
		}
		char timer[OWL_UNIT_MAX];
		if (unit_has_timer(env, self->unit, timer, sizeof(timer))) {
			oi->kind = ORIGIN_SCHEDULED;
			owl_strlcpy(oi->trigger, timer, sizeof(oi->trigger));
			fmt(oi, "systemd unit %s is started by %s", self->unit, timer);
			return;
		}
		oi->kind = ORIGIN_SERVICE;
		fmt(oi, "systemd unit %s", self->unit);
		return;
	}

	/* 4. a process supervisor (runit, s6, supervisord) */
	for (size_t i = 0; i < n; i++) {
		if (chain[i]->pid == 1)
			break;
		if (is_supervisor(chain[i])) {
			oi->kind = ORIGIN_SERVICE;
			owl_strlcpy(oi->unit, chain[i]->args0[0] ? chain[i]->args0 : chain[i]->comm, sizeof(oi->unit));
			fmt(oi, "supervised by %s (pid %d)", chain[i]->comm, (int)chain[i]->pid);
			oi->decided_by = chain[i]->pid;
			return;
		}
	}

	/* 5. a login uid survives the session that set it (a daemon started by
	 * hand and detached) */
	if (self->loginuid != UINT32_MAX) {
		oi->kind = ORIGIN_USER;
		set_user(oi, self, self);
		if (self->sessionid != UINT32_MAX)
			fmt(oi, "login uid %u set (audit session %u), no terminal or session process left", self->loginuid,
			    self->sessionid);
		else
			fmt(oi, "login uid %u set, no terminal or session process left", self->loginuid);
		oi->decided_by = self->pid;
		return;
	}

	/* 6. unknown */
	if (n == 0)
		fmt(oi, "no parent, terminal, session, unit or scheduler known");
	else
		fmt(oi, "no terminal, session, unit or scheduler among %zu ancestors", n);
}

/* ---- unexpected-parent ------------------------------------------------------ */

/* Where the web-shell walk stops: above here the chain is a session or init. */
static bool is_boundary(const struct anc_proc *h, const struct anc_proc *below)
{
	if (h->pid == 1 || is_sshd(h) || is_login(h) || scheduler_name(h) || is_container_shim(h))
		return true;
	/* a pid namespace boundary: h is outside the container below it */
	if (below && h->pidns_ino && below->pidns_ino && h->pidns_ino != below->pidns_ino)
		return true;
	const char *n = prog_name(h);
	return strcmp(n, "systemd") == 0 || strcmp(n, "init") == 0 || strcmp(h->comm, "systemd") == 0;
}

static bool same_program(const struct anc_proc *a, const struct anc_proc *b)
{
	if (a->exe[0] && b->exe[0])
		return strcmp(a->exe, b->exe) == 0;
	return strcmp(a->comm, b->comm) == 0;
}

enum owl_severity origin_unexpected_parent(const struct anc_proc *self, const struct anc_proc *const *chain,
					   size_t n, origin_listens_fn listens, void *ud, char *reason,
					   size_t reasonsz)
{
	if (reasonsz)
		reason[0] = '\0';
	/* rule 1: the web shell */
	const struct anc_proc *suspect = NULL; /* the shell/interpreter/tool nearest the service */
	enum owl_severity sev = OWL_SEV_NONE;
	for (size_t i = 0; i <= n; i++) {
		const struct anc_proc *h = i == 0 ? self : chain[i - 1];
		const struct anc_proc *below = i == 0 ? NULL : (i == 1 ? self : chain[i - 2]);
		if (i > 0 && is_boundary(h, below))
			break;
		if (i > 0 && suspect && !same_program(h, suspect)) {
			bool by_name = origin_is_net_service(h);
			bool by_socket = !by_name && listens && listens(h->pid, ud);
			if (by_name || by_socket) {
				/* a listener not known by name is less certain to face the
				 * network for strangers (a CI server, a webhook receiver) */
				if (by_socket)
					sev = sev == OWL_SEV_HIGH ? OWL_SEV_MEDIUM : OWL_SEV_LOW;
				snprintf(reason, reasonsz, "%s %s (pid %d) descends from %s %s (pid %d)%s",
					 origin_is_shell(suspect) ? "shell"
					 : origin_is_network_tool(suspect) ? "network tool" : "interpreter",
					 suspect->comm, (int)suspect->pid,
					 by_name ? "network-facing service" : "a process listening on TCP,", h->comm,
					 (int)h->pid, suspect == self ? "" : ", which started this process");
				return sev;
			}
		}
		if (origin_is_shell(h) || origin_is_network_tool(h)) {
			suspect = h;
			sev = OWL_SEV_HIGH;
		} else if (origin_is_interpreter(h) && sev < OWL_SEV_HIGH) {
			suspect = h;
			sev = OWL_SEV_MEDIUM;
		}
	}

	/* rule 2: a parent that never spawns another program */
	if (n > 0 && proc_in(chain[0], never_spawn) && !same_program(self, chain[0])) {
		bool bad = origin_is_shell(self) || origin_is_network_tool(self);
		snprintf(reason, reasonsz, "%s (pid %d) was started by %s (pid %d), a service that should not run other programs",
			 self->comm, (int)self->pid, chain[0]->comm, (int)chain[0]->pid);
		return bad ? OWL_SEV_HIGH : OWL_SEV_MEDIUM;
	}
	return OWL_SEV_NONE;
}
