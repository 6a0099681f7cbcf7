// SPDX-License-Identifier: GPL-2.0-only
/*
 * cluster_helper: what the cluster tests run on each node (not a test).
 *
 *   lock NAME [-s] [-t MS] [-H MS] [-W FILE] [-a FILE -T TAG]
 *	take NAME (shared with -s; -t: timeout in ms, 0 = try, default
 *	wait), print "lock rc=.. errno=.. result=.. depth=.. ms=..", hold it
 *	-H ms (-1: until killed) or until FILE exists (-W), append TAG to
 *	FILE while holding, unlock
 *   count NAME FILE N [-n]
 *	N times: lock, read the decimal counter in FILE, sleep 1 ms, write
 *	it + 1, unlock; -n: no lock (the negative control)
 *   bench NAME N
 *	N rounds of exclusive lock + unlock; "bench ... ns_per_round=.."
 *   state NAME
 *	print the STATE fields
 *
 * Exit status: 0 done, 1 lock not obtained (the errno is printed), 2 usage
 * or system error.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include <linux/glock.h>

static int dev;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int do_lock(const char *name, int mode, int64_t timeout_ns,
		   struct glock_lock *l)
{
	memset(l, 0, sizeof(*l));
	l->name = (uintptr_t)name;
	l->name_len = strlen(name);
	l->mode = mode;
	l->timeout_ns = timeout_ns;
	return ioctl(dev, GLOCK_IOC_LOCK, l);
}

static int do_unlock(const char *name)
{
	struct glock_lock l = { .name = (uintptr_t)name,
				.name_len = strlen(name) };

	return ioctl(dev, GLOCK_IOC_UNLOCK, &l);
}

static void die(const char *what)
{
	fprintf(stderr, "cluster_helper: %s: %s\n", what, strerror(errno));
	exit(2);
}

static int cmd_lock(int argc, char **argv)
{
	const char *name = argv[0], *file = NULL, *tag = "x", *until = NULL;
	int mode = GLOCK_EXCLUSIVE, opt, rc;
	int64_t timeout_ns = -1;
	long hold_ms = 0;
	struct glock_lock l;
	uint64_t t0;

	optind = 1;
	while ((opt = getopt(argc, argv, "st:H:W:a:T:")) != -1) {
		switch (opt) {
		case 's': mode = GLOCK_SHARED; break;
		case 't': timeout_ns = atoll(optarg) * 1000000ll; break;
		case 'H': hold_ms = atol(optarg); break;
		case 'a': file = optarg; break;
		case 'T': tag = optarg; break;
		case 'W': until = optarg; break;
		default: return 2;
		}
	}
	t0 = now_ns();
	rc = do_lock(name, mode, timeout_ns, &l);
	printf("lock name=%s rc=%d errno=%s result=%u depth=%u ms=%llu\n",
	       name, rc, rc ? strerrorname_np(errno) : "0", l.result, l.depth,
	       (unsigned long long)(now_ns() - t0) / 1000000);
	fflush(stdout);
	if (rc)
		return 1;
	if (file) {
		int fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_SYNC, 0666);

		if (fd < 0 || dprintf(fd, "%s\n", tag) < 0)
			die(file);
		close(fd);
	}
	if (hold_ms < 0)
		for (;;)
			pause();
	while (until && access(until, F_OK))
		usleep(20000);
	usleep(hold_ms * 1000);
	if (do_unlock(name))
		die("unlock");
	return 0;
}

static long read_counter(int fd)
{
	char buf[32] = "";
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n < 0)
		die("pread");
	return atol(buf);
}

static int cmd_count(int argc, char **argv)
{
	const char *name = argv[0], *file = argv[1];
	long n = atol(argv[2]), i, v;
	int nolock = argc > 3 && !strcmp(argv[3], "-n");
	struct glock_lock l;
	char buf[32];
	int fd, len;

	fd = open(file, O_RDWR | O_SYNC);
	if (fd < 0)
		die(file);
	for (i = 0; i < n; i++) {
		if (!nolock && do_lock(name, GLOCK_EXCLUSIVE, -1, &l))
			die("lock");
		v = read_counter(fd);
		usleep(1000);
		len = snprintf(buf, sizeof(buf), "%ld\n", v + 1);
		if (pwrite(fd, buf, len, 0) != len)
			die("pwrite");
		if (!nolock && do_unlock(name))
			die("unlock");
	}
	printf("count name=%s rounds=%ld done\n", name, n);
	return 0;
}

static int cmd_bench(int argc, char **argv)
{
	const char *name = argv[0];
	long n = atol(argv[1]), i;
	struct glock_lock l;
	uint64_t t0 = now_ns();

	for (i = 0; i < n; i++)
		if (do_lock(name, GLOCK_EXCLUSIVE, -1, &l) || do_unlock(name))
			die("lock/unlock");
	printf("bench name=%s rounds=%ld ns_per_round=%llu\n", name, n,
	       (unsigned long long)(now_ns() - t0) / n);
	return 0;
}

static int cmd_state(int argc, char **argv)
{
	struct glock_state s = { .name = (uintptr_t)argv[0],
				 .name_len = strlen(argv[0]) };

	if (ioctl(dev, GLOCK_IOC_STATE, &s)) {
		printf("state name=%s errno=%s\n", argv[0], strerrorname_np(errno));
		return 1;
	}
	printf("state name=%s mode=%u holders=%u waiters=%u depth=%u owner_pid=%d result=%u\n",
	       argv[0], s.mode, s.holders, s.waiters, s.depth, s.owner_pid,
	       s.result);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int nargs;
		int (*fn)(int argc, char **argv);
	} cmds[] = {
		{ "lock", 1, cmd_lock }, { "count", 3, cmd_count },
		{ "bench", 2, cmd_bench }, { "state", 1, cmd_state },
	};
	unsigned int i;

	if (argc < 2)
		goto usage;
	dev = open("/dev/glock", O_RDWR | O_CLOEXEC);
	if (dev < 0)
		die("/dev/glock");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name) && argc - 2 >= cmds[i].nargs)
			return cmds[i].fn(argc - 2, argv + 2);
usage:
	fprintf(stderr, "usage: cluster_helper lock|count|bench|state NAME ...\n");
	return 2;
}
