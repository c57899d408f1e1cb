/* The timeline of one process: when it started, when its executable was
 * last written and when its package was installed — so a reader can see
 * whether the program appeared after a change to the system. */
#ifndef OWL_TIMELINE_H
#define OWL_TIMELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct changes;

struct proc_timeline {
	uint64_t start_ns;                 /* process start, 0 = unknown */
	bool exe_stat_ok;                  /* the executable could be stat()ed */
	uint64_t exe_mtime_ns, exe_ctime_ns;
	uint64_t exe_btime_ns;             /* creation time where the filesystem keeps one, else 0 */
	bool exe_writable_location;        /* /tmp, /var/tmp, /dev/shm, /run/user, or a world-writable dir */
	char package[128];                 /* owning package, "" = unknown or none */
	char package_version[128];
	bool package_known;                /* ownership was looked up (so "" means unpackaged) */
	uint64_t package_installed_ns;     /* last install/upgrade, 0 = unknown */
	const char *package_time_source;   /* "dpkg.log", "dpkg info .list mtime", NULL */
};

/* Stat the running executable of pid through proc_root/PID/exe (so it works
 * for deleted files and other mount namespaces) and fill the exe_* fields
 * and exe_writable_location (from the path string exe).  Returns 0 or
 * -errno (the fields stay zero). */
int timeline_exe(const char *proc_root, pid_t pid, const char *exe, struct proc_timeline *tl);

/* Is this path in a location anyone can write to? (/tmp, /var/tmp,
 * /dev/shm, /run/user/, /run/lock, /var/crash, or a parent directory that
 * is world-writable per stat). */
bool timeline_writable_location(const char *path);

/* When was package pkg (name, optionally name:arch) last installed or
 * upgraded?  The newest install/upgrade event in ch (the dpkg log), else
 * the mtime of root/var/lib/dpkg/info/<pkg>[:arch].list.  Returns 0 and
 * sets *ret_ns and *ret_source, or -ENOENT. */
int timeline_package_time(const struct changes *ch, const char *root, const char *pkg, uint64_t *ret_ns,
			  const char **ret_source);
/* Only the first half: the newest install/upgrade of pkg in ch.  Returns 0
 * and sets *ret_ns, or -ENOENT. */
int timeline_package_logged(const struct changes *ch, const char *pkg, uint64_t *ret_ns);

/* The time a file was last changed: max(mtime, ctime).  0 when unknown. */
uint64_t timeline_changed_ns(const struct proc_timeline *tl);

#endif
