/* Load generator for the scan benchmark: N established loopback TCP
 * connections spread over P processes.  Each worker listens on its own
 * 127.0.0.1 port, connects N/P clients to itself and accepts them, so it
 * holds both ends.  Prints "ready" once every connection is up, then holds
 * them until SIGTERM/SIGINT (workers die with the parent).
 *
 * usage: loadgen N P
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int worker(int n, int pipefd)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 4096) < 0 ||
	    getsockname(l, (struct sockaddr *)&a, &al) < 0) {
		perror("listen");
		return 1;
	}
	for (int i = 0; i < n; i++) {
		int c = socket(AF_INET, SOCK_STREAM, 0);
		if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof(a)) < 0) {
			perror("connect");
			return 1;
		}
		if (accept(l, NULL, NULL) < 0) {
			perror("accept");
			return 1;
		}
	}
	char ok = 'k';
	if (write(pipefd, &ok, 1) != 1)
		return 1;
	close(pipefd);
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: loadgen N P\n");
		return 2;
	}
	int n = atoi(argv[1]), p = atoi(argv[2]);
	if (n <= 0 || p <= 0 || p > n) {
		fprintf(stderr, "loadgen: N and P must be positive, P <= N\n");
		return 2;
	}
	int per = n / p, extra = n % p;
	struct rlimit rl = {.rlim_cur = (rlim_t)(2 * (per + 1) + 64), .rlim_max = (rlim_t)(2 * (per + 1) + 64)};
	struct rlimit cur;
	getrlimit(RLIMIT_NOFILE, &cur);
	if (cur.rlim_max < rl.rlim_max && setrlimit(RLIMIT_NOFILE, &rl) < 0) {
		perror("setrlimit");
		return 1;
	}
	if (cur.rlim_cur < rl.rlim_cur) {
		cur.rlim_cur = (cur.rlim_max > rl.rlim_cur ? rl.rlim_cur : cur.rlim_max);
		setrlimit(RLIMIT_NOFILE, &cur);
	}
	int fds[2];
	if (pipe(fds) < 0)
		return 1;
	for (int i = 0; i < p; i++) {
		pid_t pid = fork();
		if (pid < 0) {
			perror("fork");
			return 1;
		}
		if (pid == 0) {
			close(fds[0]);
			_exit(worker(per + (i < extra ? 1 : 0), fds[1]));
		}
	}
	close(fds[1]);
	int ready = 0;
	char c;
	while (ready < p && read(fds[0], &c, 1) == 1)
		ready++;
	if (ready < p) {
		fprintf(stderr, "loadgen: only %d of %d workers came up\n", ready, p);
		kill(0, SIGTERM);
		return 1;
	}
	printf("ready %d connections over %d processes\n", n, p);
	fflush(stdout);
	signal(SIGTERM, SIG_DFL);
	for (;;)
		pause();
}
