#include "attribute/users.h"

#include <errno.h>
#include <pthread.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define USERS_CACHE 256

struct entry {
	uint32_t uid;
	int known;
	char name[64];
};

static struct entry cache[USERS_CACHE];
static size_t ncache;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

int users_name(uint32_t uid, char *buf, size_t bufsz)
{
	int rc = -ENOENT;
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < ncache; i++) {
		if (cache[i].uid == uid) {
			owl_strlcpy(buf, cache[i].known ? cache[i].name : "", bufsz);
			rc = cache[i].known ? 0 : -ENOENT;
			pthread_mutex_unlock(&lock);
			return rc;
		}
	}
	struct passwd pw, *res = NULL;
	char tmp[4096];
	struct entry e = {.uid = uid};
	if (getpwuid_r((uid_t)uid, &pw, tmp, sizeof(tmp), &res) == 0 && res && res->pw_name) {
		e.known = 1;
		owl_strlcpy(e.name, res->pw_name, sizeof(e.name));
		rc = 0;
	}
	owl_strlcpy(buf, e.known ? e.name : "", bufsz);
	if (ncache < USERS_CACHE)
		cache[ncache++] = e;
	pthread_mutex_unlock(&lock);
	return rc;
}
