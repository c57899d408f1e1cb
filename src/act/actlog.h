/* The containment history: every `owl contain ... --yes` — who ran it,
 * when, on what, the exact change and the result — as rows of the store's
 * `containment` table. */
#ifndef OWL_ACT_ACTLOG_H
#define OWL_ACT_ACTLOG_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/model.h"
#include "store/store.h"

struct act_who {
	uint32_t uid;
	char user[OWL_USER_MAX];
	char sudo_user[OWL_USER_MAX];   /* $SUDO_USER, "" when not under sudo */
	char tty[64];                   /* controlling terminal of stdin, "" when none */
	uint32_t loginuid;              /* (uint32_t)-1 when unset */
};

/* Who is running owl now. */
void actlog_who(struct act_who *ret);

struct act_entry {
	int64_t id;                     /* set by the store */
	uint64_t at_ms;                 /* unix ms */
	char action[16];                /* kill-conn block unblock freeze thaw */
	char target[512];
	const char *change;             /* the exact change (may be long) */
	char result[512];               /* "ok" or the error */
	bool ok;
	int64_t pid;                    /* 0 = none */
	char dest[64];                  /* "" = none */
	uint64_t expires;               /* unix s, 0 = none */
	struct act_who who;
	char host[256];
};

/* Append one entry (e->id is ignored).  Returns the new row id (> 0) or
 * -errno. */
int64_t actlog_record(struct store *s, const struct act_entry *e);

/* Call fn for each entry, oldest first (pid > 0: only that pid's; dest
 * non-NULL: only that destination's); change points into a buffer valid
 * during the call.  Stops when fn returns non-zero.  Returns the number of
 * entries seen or -errno. */
int actlog_each(struct store *s, int64_t pid, const char *dest, int (*fn)(const struct act_entry *e, void *arg),
		void *arg);

#endif
