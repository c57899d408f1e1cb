/* Name rules of the verify stage: what a process calls itself against what
 * it runs, which programs are shells, interpreters and network tools, and
 * which paths are writable locations.  Pure functions (no I/O except
 * through the resolver the caller passes), so they are table-tested. */
#ifndef OWL_VERIFY_RULES_H
#define OWL_VERIFY_RULES_H

#include <stdbool.h>
#include <stddef.h>

/* The program name a string claims: argv[0] ("/usr/sbin/sshd",
 * "sshd: alice@pts/0", "-bash", "nginx: worker process",
 * "postgres: checkpointer") or comm.  Takes the first word (up to ':' or
 * a space), its basename, and drops a login shell's leading '-'.  Returns
 * the length written into out (0 when nothing is claimed). */
size_t vrule_claimed_name(const char *s, size_t n, char *out, size_t outsz);

/* s looks like a kernel thread as ps shows it ("[kworker/0:2]") or as
 * comm holds it ("kworker/0:2", "ksoftirqd/1", "kthreadd", "rcu_sched"). */
bool vrule_kthread_like(const char *s, size_t n);

/* A well-known system program that malware likes to pose as (sshd,
 * systemd, cron, …).  name is a bare program name. */
bool vrule_is_system_name(const char *name);

/* Shells and interpreters (bash, sh, dash, zsh, ksh, python*, perl, ruby,
 * php*, lua*, node, …): by the executable's basename. */
bool vrule_is_shell(const char *base);
/* Interpreters only (not shells): they run scripts named in argv. */
bool vrule_is_interpreter(const char *base);
/* nc, ncat, socat, nmap, … by the executable's basename. */
bool vrule_is_network_tool(const char *base);

/* An executable in a writable location by its path alone: /tmp, /var/tmp,
 * /dev/shm, /run/user, /run/shm, /var/lock, /var/crash... Returns the matching prefix or NULL. */
const char *vrule_writable_prefix(const char *path);

/* The basename of a path (pointer into it). */
const char *vrule_basename(const char *path);

/* Does a program named `name` (a bare name or a path) resolve to the
 * executable `exe`?  The caller answers this with the file system (PATH
 * lookup, alternatives symlinks).  Also answers whether a script path is
 * owned by a package (for interpreters running scripts). */
struct vrule_env {
	bool (*resolves_to)(void *ud, const char *name, const char *exe);
	bool (*packaged)(void *ud, const char *path);
	void *ud;
};

/* The process as the name rule sees it. */
struct vrule_proc {
	const char *comm;       /* comm, NUL-terminated */
	const char *argv0;      /* argv[0] (may be NULL) */
	size_t argv0_len;
	const char *argv1;      /* argv[1] (script of an interpreter), may be NULL */
	size_t argv1_len;
	const char *exe;        /* executable path without " (deleted)"; "" = none (kernel thread) */
};

/* The name-mismatch rule.  Returns true and a one-line reason (untrusted
 * text inside, escaped at render) when comm or argv[0] pretend to be
 * something the executable is not:
 *  1. a kernel-thread look-alike in a process that has an executable
 *     (kernel threads have none);
 *  2. comm or argv[0] claiming a well-known system program while the
 *     executable is another program — unless the claim resolves to the
 *     executable (a PATH name, an alternatives or compatibility symlink),
 *     or the executable's name starts with the claim (php-fpm8.2 for
 *     "php-fpm"), or an interpreter runs a packaged script of that name.
 * Legitimate rewrites pass because they keep the program's own name in
 * front: "sshd: alice@pts/0", "postgres: checkpointer", "nginx: worker
 * process", "(sd-pam)" (not a claim), "python3 app.py". */
bool vrule_name_mismatch(const struct vrule_proc *p, const struct vrule_env *env, char *reason, size_t rsz);

#endif
