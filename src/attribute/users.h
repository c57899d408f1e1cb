/* uid → user name, cached for the run.  Only the host's user database. */
#ifndef OWL_USERS_H
#define OWL_USERS_H

#include <stddef.h>
#include <stdint.h>

/* Write the name of uid into buf ("" when unknown).  Returns 0 or -ENOENT. */
int users_name(uint32_t uid, char *buf, size_t bufsz);

#endif
