/*
 * timecmd.c - runs a command N times (output to /dev/null) and prints the
 * median and minimum wall-clock time in milliseconds and the peak resident
 * set size in KiB (from wait4's rusage), for the benchmark scripts.
 *
 *     timecmd [-a] N CMD [ARGS...]   ->   "median_ms min_ms maxrss_kib"
 *
 * A command that exits non-zero is an error, unless -a (any exit status):
 * audit tools exit 1 or 2 when a check fails, which is a normal outcome.
 * Exit 126/127 (not executable / not found) and signals are errors anyway.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	long n, i, maxrss = 0;
	double *t;
	char *end;
	int any = 0;

	if (argc > 1 && strcmp(argv[1], "-a") == 0) {
		any = 1;
		argc--;
		argv++;
	}
	if (argc < 3 || (n = strtol(argv[1], &end, 10)) < 1 || *end != '\0' || n > 10000) {
		fprintf(stderr, "usage: timecmd [-a] N CMD [ARGS...]\n");
		return 2;
	}
	if ((t = calloc((size_t)n, sizeof(double))) == NULL)
		return 1;
	for (i = 0; i < n; i++) {
		struct rusage ru;
		int status;
		double t0 = now_ms();
		pid_t pid = fork();
		if (pid < 0)
			return 1;
		if (pid == 0) {
			int fd = open("/dev/null", O_WRONLY);
			if (fd >= 0) {
				dup2(fd, 1);
				dup2(fd, 2);
			}
			execvp(argv[2], argv + 2);
			_exit(127);
		}
		if (wait4(pid, &status, 0, &ru) < 0)
			return 1;
		t[i] = now_ms() - t0;
		if (!WIFEXITED(status) || WEXITSTATUS(status) >= 126 ||
		    (!any && WEXITSTATUS(status) != 0)) {
			fprintf(stderr, "timecmd: %s failed (status %d)\n", argv[2], status);
			return 1;
		}
		if (ru.ru_maxrss > maxrss)
			maxrss = ru.ru_maxrss;
	}
	qsort(t, (size_t)n, sizeof(double), cmp);
	printf("%.2f %.2f %ld\n", t[n / 2], t[0], maxrss);
	free(t);
	return 0;
}
