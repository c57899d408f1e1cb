#include "endpoint/resolve.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "core/util.h"

struct job {
	struct owl_addr addr;
	char name[RESOLVE_NAME_MAX];
	bool done;
};

/* Shared between the caller and the workers; freed by the last one out. */
struct shared {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct job *jobs;
	size_t n, next, done;
	int refs;
	bool abandoned;
};

static void shared_unref_locked(struct shared *s)
{
	bool last = --s->refs == 0;
	pthread_mutex_unlock(&s->mu);
	if (last) {
		pthread_cond_destroy(&s->cv);
		pthread_mutex_destroy(&s->mu);
		free(s->jobs);
		free(s);
	}
}

static void lookup(const struct owl_addr *a, char *name, size_t namesz)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	memset(&ss, 0, sizeof(ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, a->bytes, 4);
		sl = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, a->bytes, 16);
		sl = sizeof(*s6);
	}
	name[0] = '\0';
	if (getnameinfo((struct sockaddr *)&ss, sl, name, (socklen_t)namesz, NULL, 0, NI_NAMEREQD) != 0)
		name[0] = '\0';
}

static void *worker(void *arg)
{
	struct shared *s = arg;
	pthread_mutex_lock(&s->mu);
	while (!s->abandoned && s->next < s->n) {
		size_t i = s->next++;
		struct owl_addr a = s->jobs[i].addr;
		char name[RESOLVE_NAME_MAX];
		pthread_mutex_unlock(&s->mu);
		lookup(&a, name, sizeof(name));
		pthread_mutex_lock(&s->mu);
		if (!s->abandoned) {
			memcpy(s->jobs[i].name, name, sizeof(name));
			s->jobs[i].done = true;
			s->done++;
			pthread_cond_signal(&s->cv);
		}
	}
	shared_unref_locked(s);
	return NULL;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int resolve_addrs(const struct owl_addr *addrs, size_t n, unsigned budget_ms, char (*ret_names)[RESOLVE_NAME_MAX],
		  struct resolve_stats *ret_stats)
{
	struct resolve_stats st = {.asked = n};
	uint64_t t0 = mono_ms();
	if (n == 0) {
		*ret_stats = st;
		return 0;
	}
	struct shared *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->jobs = calloc(n, sizeof(*s->jobs));
	pthread_condattr_t ca;
	if (!s->jobs || pthread_condattr_init(&ca) != 0) {
		free(s->jobs);
		free(s);
		return -ENOMEM;
	}
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&s->mu, NULL);
	for (size_t i = 0; i < n; i++)
		s->jobs[i].addr = addrs[i];
	s->n = n;
	s->refs = 1;

	size_t want = OWL_MIN(n, (size_t)RESOLVE_THREADS_MAX), started = 0;
	pthread_attr_t ta;
	pthread_attr_init(&ta);
	pthread_attr_setdetachstate(&ta, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&ta, 256 * 1024);
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < want; i++) {
		pthread_t t;
		s->refs++;
		if (pthread_create(&t, &ta, worker, s) != 0) {
			s->refs--;
			break;
		}
		started++;
	}
	pthread_attr_destroy(&ta);
	if (!started) {
		shared_unref_locked(s);
		return -EAGAIN;
	}
	struct timespec dl;
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += budget_ms / 1000;
	dl.tv_nsec += (long)(budget_ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	while (s->done < s->n) {
		int rc = pthread_cond_timedwait(&s->cv, &s->mu, &dl);
		if (rc == ETIMEDOUT) {
			st.timed_out = s->done < s->n;
			break;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (s->jobs[i].done && s->jobs[i].name[0]) {
			memcpy(ret_names[i], s->jobs[i].name, RESOLVE_NAME_MAX);
			st.answered++;
		} else {
			ret_names[i][0] = '\0';
		}
	}
	s->abandoned = true;
	shared_unref_locked(s);
	st.elapsed_ms = (unsigned)(mono_ms() - t0);
	*ret_stats = st;
	return 0;
}
