/* One process's attributes from /proc/PID. */
#ifndef OWL_PROCINFO_H
#define OWL_PROCINFO_H

#include <stddef.h>
#include <stdint.h>

#include "core/model.h"

/* Fields of /proc/PID/stat that owl uses. */
struct proc_stat {
	char comm[OWL_COMM_MAX];
	char state;
	int32_t ppid;
	int32_t tty_nr;
	uint64_t starttime; /* clock ticks since boot */
	/* where the environment block lies in the process's memory (fields 50
	 * and 51; 0 when the kernel hides them from the reader) */
	uint64_t env_start, env_end;
};

/* Parse the contents of /proc/PID/stat.  comm is everything between the
 * first '(' and the LAST ')' (a name may itself hold ") " and newlines).
 * Returns 0 or -EINVAL; *ret untouched on failure. */
int procinfo_parse_stat(const char *buf, size_t len, struct proc_stat *ret);

/* Parse "Uid:" / "Gid:" lines of /proc/PID/status into *uid, *euid, *gid.
 * Returns 0 or -EINVAL. */
int procinfo_parse_status(const char *buf, size_t len, uint32_t *uid, uint32_t *euid, uint32_t *gid);

/* Load pid's attributes under proc_root.  Returns 0, or -ENOENT/-ESRCH when
 * the process is gone (ret->gone set) — a normal event, not an error.
 * Unreadable parts (EACCES) are left empty. */
int procinfo_load(const char *proc_root, pid_t pid, struct owl_proc *ret);

/* The same, and with PROCINFO_F_VERIFY also what verify needs first: the
 * stat of /proc/PID/exe and /proc/PID/root (have_exe_st, have_root_st). */
#define PROCINFO_F_VERIFY 1u
int procinfo_load_ex(const char *proc_root, pid_t pid, unsigned flags, struct owl_proc *ret);

/* Wall-clock time of boot in ns (CLOCK_REALTIME - CLOCK_BOOTTIME). */
uint64_t procinfo_boot_ns(void);

/* argv[i] of p as a pointer into p->args and its length; NULL past argc. */
const char *procinfo_arg(const struct owl_proc *p, int i, size_t *ret_len);

#endif
