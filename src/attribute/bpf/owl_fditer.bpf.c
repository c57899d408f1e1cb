// SPDX-License-Identifier: GPL-2.0
/* owl_fditer.bpf.c — socket inode → owning processes for `owl scan`, as a
 * BPF task_file iterator (see src/attribute/fdmap_bpf.c).
 *
 * The kernel calls the program once per (task, fd, file) and skips threads
 * that share their group leader's file table, so each table is walked once.
 * For every file whose inode is a socket the program writes {tgid, fd, ino}
 * into the iterator's seq_file; user space reads them with read(). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "owl_fditer.h"

#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define SOCKFS_MAGIC 0x534F434B
#define FMODE_PATH 0x4000 /* include/linux/fs.h: an O_PATH file */

char LICENSE[] SEC("license") = "GPL";

/* the last process a marker went out for (one reader per loaded program) */
__u32 last_tgid = 0;
/* socket_file_ops, learnt from the first socket file seen: a file with these
 * operations is a socket without reading its inode's mode (a cache miss) */
const void *sock_fop = 0;

/* A file is a socket's when its inode is a sockfs one: the files that
 * /proc/PID/fd shows as "socket:[INODE]" (an O_PATH file of a socket, opened
 * through /proc/PID/fd/N, included).  A socket file on disk (a unix socket's
 * path) is S_IFSOCK too, but of another file system and another inode space. */
static __always_inline bool is_socket(struct file *file, struct inode *inode)
{
	const void *fop = file->f_op;
	if (fop && fop == sock_fop)
		return true;
	if ((inode->i_mode & S_IFMT) != S_IFSOCK)
		return false;
	struct super_block *sb = inode->i_sb;
	if (!sb || sb->s_magic != SOCKFS_MAGIC)
		return false;
	if (!(file->f_mode & FMODE_PATH))
		sock_fop = fop;
	return true;
}

SEC("iter/task_file")
int owl_fditer(struct bpf_iter__task_file *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	struct owl_fditer_rec rec[2];
	__u32 n = 0, tgid;

	if (!task || !file)
		return 0;
	tgid = task->tgid;
	if (tgid != last_tgid) {
		rec[0].tgid = tgid;
		rec[0].fd = -1;
		rec[0].ino = 0;
		n = 1;
	}
	struct inode *inode = file->f_inode;
	if (inode && is_socket(file, inode)) {
		rec[n].tgid = tgid;
		rec[n].fd = (__s32)ctx->fd;
		rec[n].ino = inode->i_ino;
		n++;
	}
	/* one write: on overflow the kernel drops it and runs this file again
	 * at the next read, so the process is remembered only once written */
	if (n == 2) {
		if (bpf_seq_write(seq, rec, 2 * sizeof(rec[0])) == 0)
			last_tgid = tgid;
	} else if (n == 1) {
		if (bpf_seq_write(seq, rec, sizeof(rec[0])) == 0 && rec[0].fd < 0)
			last_tgid = tgid;
	}
	return 0;
}
