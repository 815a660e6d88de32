/*
 * wakeup_bench: what the machine charges for the primitives the data
 * path is made of (docs/benchmarks.md, "Where the server path's time
 * goes"): a system call, a poll(), an eventfd notification, and the
 * wakeup of another process, on another CPU and on the same one.  The
 * baseline, measured in the same run, is the cheapest system call; every
 * figure is printed with its ratio to it, since on a VM the absolute
 * costs depend on the hypervisor.
 *
 * usage: wakeup_bench [ROUND_TRIPS]   (default 20000)
 */
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CALLS 1000000

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* The calling process on that CPU only: each ping-pong sets both sides. */
static void pin(int cpu)
{
	cpu_set_t s;

	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	if (sched_setaffinity(0, sizeof(s), &s) < 0)
		perror("wakeup_bench: sched_setaffinity");
}

static void must(int ok, const char *what)
{
	if (!ok) {
		perror(what);
		exit(1);
	}
}

/* ns per call */
static double syscall_cost(void)
{
	double t0 = now();

	for (int i = 0; i < CALLS; i++)
		syscall(SYS_getppid);
	return (now() - t0) / CALLS * 1e9;
}

static double poll_cost(void)
{
	int fd = eventfd(1, EFD_NONBLOCK);
	struct pollfd p = {.fd = fd, .events = POLLIN};
	double t0;

	must(fd >= 0, "wakeup_bench: eventfd");
	t0 = now();
	for (int i = 0; i < CALLS; i++)
		must(poll(&p, 1, 0) == 1, "wakeup_bench: poll");
	close(fd);
	return (now() - t0) / CALLS * 1e9;
}

static double notify_cost(void)
{
	int fd = eventfd(0, EFD_NONBLOCK);
	uint64_t v = 1;
	double t0;

	must(fd >= 0, "wakeup_bench: eventfd");
	t0 = now();
	for (int i = 0; i < CALLS; i++)
		must(write(fd, &v, 8) == 8 && read(fd, &v, 8) == 8,
		     "wakeup_bench: eventfd write/read");
	close(fd);
	return (now() - t0) / CALLS * 1e9;
}

/* ns per round trip: two processes wake each other through eventfds,
 * each sleeping in poll() as the data path's loops do. */
static double ping_pong(int cpu_a, int cpu_b, int n)
{
	int a = eventfd(0, 0), b = eventfd(0, 0), status;
	uint64_t v = 1;
	struct pollfd p = {.fd = b, .events = POLLIN};
	double t0, t;
	pid_t child;

	must(a >= 0 && b >= 0, "wakeup_bench: eventfd");
	child = fork();
	must(child >= 0, "wakeup_bench: fork");
	if (child == 0) {
		struct pollfd q = {.fd = a, .events = POLLIN};

		pin(cpu_b);
		for (int i = 0; i < n; i++)
			if (poll(&q, 1, -1) != 1 || read(a, &v, 8) != 8 ||
			    write(b, &v, 8) != 8)
				_exit(1);
		_exit(0);
	}
	pin(cpu_a);
	t0 = now();
	for (int i = 0; i < n; i++)
		must(write(a, &v, 8) == 8 && poll(&p, 1, -1) == 1 &&
			 read(b, &v, 8) == 8,
		     "wakeup_bench: ping-pong");
	t = now() - t0;
	must(waitpid(child, &status, 0) == child && WIFEXITED(status) &&
		 WEXITSTATUS(status) == 0,
	     "wakeup_bench: the other process failed");
	close(a);
	close(b);
	return t / n * 1e9;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 20000;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	double base;

	if (n <= 0) {
		fprintf(stderr, "usage: wakeup_bench [ROUND_TRIPS]\n");
		return 2;
	}
	base = syscall_cost();
	printf("%-52s %10s %8s\n", "primitive", "ns", "x syscall");
	printf("%-52s %10.0f %8.2f\n", "system call (getppid): the baseline",
	       base, 1.0);
	double pc = poll_cost();
	printf("%-52s %10.0f %8.2f\n", "poll() of one ready eventfd, timeout 0",
	       pc, pc / base);
	double nc = notify_cost();
	printf("%-52s %10.0f %8.2f\n", "eventfd write + read, nobody waiting",
	       nc, nc / base);
	if (cpus >= 2) {
		double x = ping_pong(0, 1, n);
		printf("%-52s %10.0f %8.2f\n",
		       "wakeup round trip, two processes on cpus 0 and 1", x,
		       x / base);
	}
	double s = ping_pong(0, 0, n);
	printf("%-52s %10.0f %8.2f\n",
	       "wakeup round trip, two processes on cpu 0", s, s / base);
	return 0;
}
