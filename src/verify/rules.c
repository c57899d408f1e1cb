#include "verify/rules.h"

#include <stdio.h>
#include <string.h>

#include "core/model.h"
#include "core/util.h"

const char *vrule_basename(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

size_t vrule_claimed_name(const char *s, size_t n, char *out, size_t outsz)
{
	if (!outsz)
		return 0;
	out[0] = '\0';
	/* first word: up to ':' or whitespace ("sshd: alice", "nginx: master") */
	size_t w = 0;
	while (w < n && s[w] != ':' && s[w] != ' ' && s[w] != '\t' && s[w] != '\0')
		w++;
	/* basename */
	size_t b = 0;
	for (size_t i = 0; i < w; i++)
		if (s[i] == '/')
			b = i + 1;
	if (b < w && s[b] == '-') /* login shell "-bash" */
		b++;
	size_t len = w - b;
	if (len == 0 || len >= outsz)
		return 0;
	memcpy(out, s + b, len);
	out[len] = '\0';
	return len;
}

static const char *const kthread_prefixes[] = {
	"kworker/", "ksoftirqd/", "migration/", "watchdog/", "cpuhp/", "irq/", "jbd2/", "idle_inject/",
	"rcu_", "kthreadd", "kswapd", "kblockd", "kauditd", "khungtaskd", "kcompactd", "kdevtmpfs",
	"khugepaged", "ksmd", "kintegrityd", "writeback", "oom_reaper", "kthrotld", "scsi_eh_", "xfs",
	"ext4-rsv", "netns", "kstrp", "zswap", "mm_percpu_wq", "pool_workqueue", "edac-poller",
};

bool vrule_kthread_like(const char *s, size_t n)
{
	if (n >= 3 && s[0] == '[' && memchr(s + 1, ']', n - 1))
		return true;
	for (size_t i = 0; i < OWL_ARRAY_SIZE(kthread_prefixes); i++) {
		size_t pl = strlen(kthread_prefixes[i]);
		if (n >= pl && memcmp(s, kthread_prefixes[i], pl) == 0) {
			/* the exact name, or the prefix followed by what the kernel puts there */
			if (n == pl || kthread_prefixes[i][pl - 1] == '/' || kthread_prefixes[i][pl - 1] == '_' ||
			    s[pl] == '/' || s[pl] == ':' || (s[pl] >= '0' && s[pl] <= '9'))
				return true;
		}
	}
	return false;
}

/* Programs that run on most servers as root or as a service, by the names
 * their processes show.  Malware takes these names because a reader
 * expects them in ps. */
static const char *const system_names[] = {
	"sshd", "systemd", "init", "cron", "crond", "anacron", "atd", "rsyslogd", "syslogd", "syslog-ng",
	"journald", "dbus-daemon", "dbus-broker", "udevd", "agetty", "getty", "login", "sudo", "su",
	"polkitd", "NetworkManager", "wpa_supplicant", "dhclient", "chronyd", "ntpd", "timesyncd",
	"auditd", "nginx", "apache2", "httpd", "lighttpd", "mysqld", "mariadbd", "postgres", "postmaster",
	"redis-server", "memcached", "named", "dnsmasq", "unbound", "exim4", "sendmail", "postfix",
	"master", "dockerd", "containerd", "containerd-shim", "kubelet", "snapd", "php-fpm", "sssd",
	"smbd", "nmbd", "avahi-daemon", "cupsd", "irqbalance", "acpid", "lvmetad", "multipathd",
	"accounts-daemon", "upowerd", "gdm", "lightdm", "Xorg", "xinetd", "inetd", "vsftpd", "proftpd",
};

bool vrule_is_system_name(const char *name)
{
	if (strncmp(name, "systemd-", 8) == 0 && name[8])
		return true;
	for (size_t i = 0; i < OWL_ARRAY_SIZE(system_names); i++)
		if (strcmp(name, system_names[i]) == 0)
			return true;
	return false;
}

/* name, or name followed by a version ("python3.11", "php8.2", "lua5.4") */
static bool versioned(const char *base, const char *name)
{
	size_t nl = strlen(name);
	if (strncmp(base, name, nl) != 0)
		return false;
	for (const char *p = base + nl; *p; p++)
		if (!((*p >= '0' && *p <= '9') || *p == '.'))
			return false;
	return true;
}

static const char *const shells[] = {"bash", "sh", "dash", "zsh", "ksh", "ksh93", "mksh", "csh", "tcsh",
				     "fish", "ash", "busybox", "rbash", "yash", "posh"};
static const char *const interpreters[] = {"python", "perl", "ruby", "php", "lua", "luajit", "node",
					   "nodejs", "tclsh", "wish", "gawk", "awk", "mawk", "pwsh", "irb",
					   "guile", "rlwrap", "expect", "bun", "deno", "Rscript", "julia",
					   "osascript", "jjs", "groovy"};

bool vrule_is_interpreter(const char *base)
{
	for (size_t i = 0; i < OWL_ARRAY_SIZE(interpreters); i++)
		if (versioned(base, interpreters[i]))
			return true;
	return false;
}

bool vrule_is_shell(const char *base)
{
	for (size_t i = 0; i < OWL_ARRAY_SIZE(shells); i++)
		if (strcmp(base, shells[i]) == 0)
			return true;
	return vrule_is_interpreter(base);
}

static const char *const net_tools[] = {"nc", "netcat", "nc.openbsd", "nc.traditional", "ncat", "socat",
					"nmap", "masscan", "zmap", "hping3", "cryptcat", "pwncat", "sbd",
					"dnscat", "dnscat2", "iodine", "chisel", "ngrok", "frpc", "gost",
					"proxychains", "proxychains4", "telnet", "rinetd", "sshuttle", "plink"};

bool vrule_is_network_tool(const char *base)
{
	for (size_t i = 0; i < OWL_ARRAY_SIZE(net_tools); i++)
		if (strcmp(base, net_tools[i]) == 0)
			return true;
	return false;
}

static const char *const writable[] = {"/tmp/", "/var/tmp/", "/dev/shm/", "/run/user/", "/run/shm/",
				       "/var/lock/", "/run/lock/", "/var/crash/", "/dev/mqueue/"};

const char *vrule_writable_prefix(const char *path)
{
	for (size_t i = 0; i < OWL_ARRAY_SIZE(writable); i++)
		if (strncmp(path, writable[i], strlen(writable[i])) == 0)
			return writable[i];
	return NULL;
}

/* exe's program name is the claim, or the claim with a version/suffix
 * ("php-fpm8.2" for "php-fpm", "postgres" for "postmaster" is not) */
static bool exe_is(const char *exe_base, const char *claim)
{
	size_t cl = strlen(claim);
	if (strcmp(exe_base, claim) == 0)
		return true;
	/* comm holds 15 bytes: "systemd-journal" for systemd-journald */
	if (cl == 15 && strncmp(exe_base, claim, 15) == 0)
		return true;
	if (strncmp(exe_base, claim, cl) == 0) {
		char c = exe_base[cl];
		return c == '.' || c == '-' || c == '_' || (c >= '0' && c <= '9');
	}
	return false;
}

static bool claim_ok(const struct vrule_proc *p, const struct vrule_env *env, const char *claim, const char *exe_base)
{
	if (exe_is(exe_base, claim))
		return true;
	if (env && env->resolves_to && env->resolves_to(env->ud, claim, p->exe))
		return true;
	/* an interpreter running a script of that name: ok when the script is packaged */
	if (vrule_is_interpreter(exe_base) && p->argv1 && p->argv1_len) {
		char sb[256], s1[OWL_PATH_MAX];
		owl_strncpy0(s1, sizeof(s1), p->argv1, p->argv1_len);
		if (vrule_claimed_name(s1, strlen(s1), sb, sizeof(sb)) && strcmp(sb, claim) == 0 &&
		    s1[0] == '/' && env && env->packaged && env->packaged(env->ud, s1))
			return true;
	}
	return false;
}

bool vrule_name_mismatch(const struct vrule_proc *p, const struct vrule_env *env, char *reason, size_t rsz)
{
	if (!p->exe || !p->exe[0])
		return false; /* a kernel thread, or an exe we cannot see: nothing to compare */
	const char *exe_base = vrule_basename(p->exe);
	size_t cl = p->comm ? strlen(p->comm) : 0;
	if (p->argv0 && p->argv0_len && vrule_kthread_like(p->argv0, p->argv0_len)) {
		char a[64];
		owl_strncpy0(a, sizeof(a), p->argv0, p->argv0_len);
		snprintf(reason, rsz, "argv[0] '%s' looks like a kernel thread, but kernel threads have no executable and this runs %s",
			 a, p->exe);
		return true;
	}
	if (cl && vrule_kthread_like(p->comm, cl)) {
		snprintf(reason, rsz, "name '%s' looks like a kernel thread, but kernel threads have no executable and this runs %s",
			 p->comm, p->exe);
		return true;
	}
	char claim[256];
	if (p->argv0 && p->argv0_len && p->argv0[0] == '/' &&
	    vrule_claimed_name(p->argv0, p->argv0_len, claim, sizeof(claim)) && vrule_is_system_name(claim)) {
		/* an absolute argv[0] naming a system program must be that file */
		char a0[OWL_PATH_MAX];
		size_t w = 0;
		while (w < p->argv0_len && p->argv0[w] != ' ' && p->argv0[w] != ':' && p->argv0[w] != '\0')
			w++;
		owl_strncpy0(a0, sizeof(a0), p->argv0, w);
		if (strcmp(a0, p->exe) != 0 && !(env && env->resolves_to && env->resolves_to(env->ud, a0, p->exe))) {
			snprintf(reason, rsz, "argv[0] says %s, a system program, but the executable is %s", a0, p->exe);
			return true;
		}
	}
	if (p->argv0 && p->argv0_len && vrule_claimed_name(p->argv0, p->argv0_len, claim, sizeof(claim)) &&
	    vrule_is_system_name(claim) && !claim_ok(p, env, claim, exe_base)) {
		snprintf(reason, rsz, "argv[0] claims to be '%s', a system program, but the executable is %s", claim, p->exe);
		return true;
	}
	if (cl && vrule_claimed_name(p->comm, cl, claim, sizeof(claim)) && vrule_is_system_name(claim) &&
	    !claim_ok(p, env, claim, exe_base)) {
		snprintf(reason, rsz, "process name '%s' is a system program's, but the executable is %s", claim, p->exe);
		return true;
	}
	return false;
}
