/* connstorm — short-lived loopback TCP connections at a given rate, for
 * bench/bench-watch.sh.  A listener thread accepts and closes; clients
 * connect and close at once, from threads or from freshly forked processes.
 * Source addresses rotate over 127.0.0.2-127.0.0.65 so that TIME-WAIT does
 * not run out of ports.  Prints one line of key=value results.
 *
 *   connstorm -m threads|fork -r RATE (0 = as fast as possible) -d SECONDS -p PORT [-t WORKERS]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

static int port, workers = 2, fork_mode;
static double rate, seconds;
static atomic_long made, failed;
static atomic_int stop;
static int lfd;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int one_conn(unsigned n)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	int one = 1;
	setsockopt(s, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
	struct sockaddr_in src = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000002 + n % 64)};
	bind(s, (struct sockaddr *)&src, sizeof(src));
	struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(0x7f000001)};
	int rc = connect(s, (struct sockaddr *)&dst, sizeof(dst));
	close(s);
	return rc;
}

static void *acceptor(void *arg)
{
	while (!atomic_load(&stop)) {
		int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (c >= 0)
			close(c);
	}
	return NULL;
}

static void *worker(void *arg)
{
	long id = (long)arg;
	double per = rate > 0 ? rate / workers : 0;
	double t0 = now(), end = t0 + seconds;
	unsigned n = (unsigned)id * 7919u;
	long done = 0;
	while (!atomic_load(&stop)) {
		double t = now();
		if (t >= end)
			break;
		if (per > 0) {
			/* the connections due by now, in bursts of at most 1 ms */
			long due = (long)((t - t0) * per);
			if (done >= due) {
				struct timespec ts = {0, 200000};
				nanosleep(&ts, NULL);
				continue;
			}
		}
		int ok;
		if (fork_mode) {
			pid_t pid = fork();
			if (pid == 0)
				_exit(one_conn(n) == 0 ? 0 : 1);
			if (pid < 0) {
				atomic_fetch_add(&failed, 1);
				continue;
			}
			int st;
			waitpid(pid, &st, 0);
			ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
		} else {
			ok = one_conn(n) == 0;
		}
		n++;
		done++;
		atomic_fetch_add(ok ? &made : &failed, 1);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int c;
	while ((c = getopt(argc, argv, "m:r:d:p:t:")) != -1) {
		switch (c) {
		case 'm': fork_mode = strcmp(optarg, "fork") == 0; break;
		case 'r': rate = atof(optarg); break;
		case 'd': seconds = atof(optarg); break;
		case 'p': port = atoi(optarg); break;
		case 't': workers = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: connstorm -m threads|fork -r RATE -d SECONDS -p PORT [-t WORKERS]\n");
			return 2;
		}
	}
	if (!port || seconds <= 0 || workers < 1 || workers > 64)
		return 2;
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				.sin_addr.s_addr = htonl(0x7f000001)};
	if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(lfd, 4096) < 0) {
		perror("connstorm: listen");
		return 1;
	}
	pthread_t acc, w[64];
	pthread_create(&acc, NULL, acceptor, NULL);
	double t0 = now();
	for (long i = 0; i < workers; i++)
		pthread_create(&w[i], NULL, worker, (void *)i);
	for (int i = 0; i < workers; i++)
		pthread_join(w[i], NULL);
	double el = now() - t0;
	atomic_store(&stop, 1);
	shutdown(lfd, SHUT_RDWR);
	pthread_join(acc, NULL);
	struct rusage self, kids;
	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &kids);
	double cpu = (double)self.ru_utime.tv_sec + self.ru_utime.tv_usec / 1e6 + self.ru_stime.tv_sec +
		     self.ru_stime.tv_usec / 1e6 + kids.ru_utime.tv_sec + kids.ru_utime.tv_usec / 1e6 +
		     kids.ru_stime.tv_sec + kids.ru_stime.tv_usec / 1e6;
	printf("made=%ld failed=%ld seconds=%.3f rate=%.0f cpu=%.3f cpu_per_conn_us=%.2f\n", atomic_load(&made),
	       atomic_load(&failed), el, atomic_load(&made) / el, cpu,
	       atomic_load(&made) ? cpu / atomic_load(&made) * 1e6 : 0);
	return 0;
}
