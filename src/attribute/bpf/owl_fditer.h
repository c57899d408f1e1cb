/* owl_fditer.h — the record the task_file iterator writes (kernel and user
 * space share it).  One record per open socket file of a process, plus one
 * with fd = -1 and ino = 0 each time the iterator reaches another process
 * (its first file), so that user space can count the processes walked. */
#ifndef OWL_FDITER_H
#define OWL_FDITER_H

struct owl_fditer_rec {
	__u32 tgid;
	__s32 fd;   /* -1: process marker */
	__u64 ino;
};

#endif
