// SPDX-License-Identifier: GPL-2.0-only
/*
 * glock limits and isolation: ENOLCK per owner and in total (module
 * parameters), IPC-namespace scoping of names, rmmod refused while in use.
 */
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "glock_test_util.h"
#include "kselftest_harness.h"

static const char *const params[] = { "max_locks_per_owner", "max_locks",
				      "max_abandoned_marks" };
#define NPARAMS 3

FIXTURE(lim) {
	int fd;
	struct gt_child c[3];
	long long saved[NPARAMS];
};

FIXTURE_SETUP(lim)
{
	for (int i = 0; i < NPARAMS; i++)
		self->saved[i] = gt_param_get(params[i]);
	self->fd = gt_open();
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", GT_DEV, strerror(errno));
}

FIXTURE_TEARDOWN(lim)
{
	for (int i = 0; i < 3; i++)
		gt_child_kill(&self->c[i]);
	if (self->fd >= 0)
		close(self->fd);
	for (int i = 0; i < NPARAMS; i++)
		if (self->saved[i] > 0 &&
		    gt_param_get(params[i]) != self->saved[i])
			gt_param_set(params[i], self->saved[i]);
}

TEST_F(lim, parameters_exist_with_defaults)
{
	static const long long defaults[] = { 1024, 1000000, 1024 };
	char path[128];
	struct stat sb;

	for (int i = 0; i < NPARAMS; i++) {
		snprintf(path, sizeof(path), GT_PARAMS "/%s", params[i]);
		ASSERT_EQ(0, stat(path, &sb)) TH_LOG("%s missing", path);
		EXPECT_EQ(0644, sb.st_mode & 0777) TH_LOG("%s", params[i]);
		EXPECT_EQ(defaults[i], self->saved[i]) TH_LOG("%s", params[i]);
	}
}

static const char *nth(int i)
{
	static char buf[64];

	snprintf(buf, sizeof(buf), "gt-%d-lim%d", getpid(), i);
	return buf;
}

TEST_F(lim, per_owner_limit_counts_distinct_locks)
{
	const int lim = 4;
	struct glock_state st;
	uint32_t depth;

	ASSERT_EQ(0, gt_param_set("max_locks_per_owner", lim));
	ASSERT_EQ(lim, gt_param_get("max_locks_per_owner"));
	for (int i = 0; i < lim; i++) {
		ASSERT_EQ(0, gt_lock(self->fd, nth(i),
				     i % 2 ? GLOCK_SHARED : GLOCK_EXCLUSIVE,
				     0)) TH_LOG("lock %d", i);
	}

	/* One more distinct lock: refused, whatever the timeout. */
	EXPECT_EQ(-1, gt_lock(self->fd, nth(lim), GLOCK_EXCLUSIVE, 0));
	EXPECT_EQ(ENOLCK, errno);
	EXPECT_EQ(-1, gt_lock(self->fd, nth(lim), GLOCK_SHARED, GT_NSEC));
	EXPECT_EQ(ENOLCK, errno);
	gt_alarm_guard(10);
	EXPECT_EQ(-1, gt_lock(self->fd, nth(lim), GLOCK_SHARED, -1));
	EXPECT_EQ(ENOLCK, errno);
	alarm(0);
	ASSERT_EQ(0, gt_state(self->fd, nth(lim), &st));
	EXPECT_EQ(0, st.holders);
	EXPECT_EQ(0, st.waiters);

	/* Recursion does not count. */
	ASSERT_EQ(0, gt_lock_full(self->fd, nth(0), GLOCK_EXCLUSIVE, 0, 0,
				  NULL, &depth));
	EXPECT_EQ(2, depth);
	ASSERT_EQ(0, gt_unlock(self->fd, nth(0)));

	/* Another owner is not affected. */
	ASSERT_EQ(0, gt_child_start(&self->c[0], -1, "gt-other"));
	EXPECT_EQ(0, gt_child_lock(&self->c[0], nth(lim), GLOCK_EXCLUSIVE, 0));
	EXPECT_EQ(0, gt_child_unlock(&self->c[0], nth(lim)));

	/* Freeing one makes room for one. */
	ASSERT_EQ(0, gt_unlock(self->fd, nth(1)));
	EXPECT_EQ(0, gt_lock(self->fd, nth(lim), GLOCK_EXCLUSIVE, 0));
	EXPECT_EQ(-1, gt_lock(self->fd, nth(1), GLOCK_EXCLUSIVE, 0));
	EXPECT_EQ(ENOLCK, errno);

	for (int i = 0; i <= lim; i++)
		if (i != 1) {
			EXPECT_EQ(0, gt_unlock(self->fd, nth(i)));
		}
}

TEST_F(lim, per_owner_limit_counts_waits)
{
	const int lim = 3;
	struct gt_rep rp;
	int other = gt_open();

	ASSERT_LE(0, other);
	ASSERT_EQ(0, gt_param_set("max_locks_per_owner", lim));
	/* "other" holds nth(9); our owner holds two and waits for nth(9). */
	ASSERT_EQ(0, gt_lock(other, nth(9), GLOCK_EXCLUSIVE, 0));
	ASSERT_EQ(0, gt_lock(self->fd, nth(0), GLOCK_EXCLUSIVE, 0));
	ASSERT_EQ(0, gt_lock(self->fd, nth(1), GLOCK_EXCLUSIVE, 0));
	/* The wait happens in a process sharing our owner. */
	ASSERT_EQ(0, gt_child_start(&self->c[0], self->fd, "gt-sameowner"));
	ASSERT_EQ(0, gt_child_send(&self->c[0], GT_OP_LOCK, nth(9),
				   GLOCK_EXCLUSIVE, 30 * GT_NSEC, 0));
	ASSERT_EQ(0, gt_wait_waiters(self->fd, nth(9), 1));

	EXPECT_EQ(-1, gt_lock(self->fd, nth(2), GLOCK_EXCLUSIVE, 0));
	EXPECT_EQ(ENOLCK, errno);

	ASSERT_EQ(0, gt_unlock(other, nth(9)));
	ASSERT_EQ(0, gt_child_wait(&self->c[0], &rp, GT_SOON_MS));
	EXPECT_EQ(0, rp.ret);
	/* Held now instead of waited for: still three. */
	EXPECT_EQ(-1, gt_lock(self->fd, nth(2), GLOCK_EXCLUSIVE, 0));
	EXPECT_EQ(ENOLCK, errno);
	ASSERT_EQ(0, gt_unlock(self->fd, nth(9)));
	EXPECT_EQ(0, gt_lock(self->fd, nth(2), GLOCK_EXCLUSIVE, 0));
	for (int i = 0; i < 3; i++) {
		EXPECT_EQ(0, gt_unlock(self->fd, nth(i)));
	}
	close(other);
}

TEST_F_TIMEOUT(lim, default_per_owner_limit_is_1024, 300)
{
	const int lim = 1024;

	ASSERT_EQ(lim, gt_param_get("max_locks_per_owner"));
	for (int i = 0; i < lim; i++) {
		ASSERT_EQ(0, gt_lock(self->fd, nth(i), GLOCK_EXCLUSIVE, 0))
			TH_LOG("lock %d: %s", i, strerror(errno));
	}
	EXPECT_EQ(-1, gt_lock(self->fd, nth(lim), GLOCK_EXCLUSIVE, 0));
	EXPECT_EQ(ENOLCK, errno);
	for (int i = 0; i < lim; i++) {
		ASSERT_EQ(0, gt_unlock(self->fd, nth(i)));
	}
}

TEST_F(lim, global_limit_counts_lock_objects)
{
	long long base = gt_stat("locks");
	struct glock_state st;
	int fd2 = gt_open();

	ASSERT_LE(0, fd2);
	ASSERT_LE(0, base) TH_LOG("no locks= in debugfs stats");
	ASSERT_EQ(0, gt_param_set("max_locks", base + 3));
	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(0, gt_lock(self->fd, nth(i), GLOCK_SHARED, 0));
	}
	EXPECT_EQ(base + 3, gt_stat("locks"));

	/* A fourth object: refused, for any owner. */
	EXPECT_EQ(-1, gt_lock(self->fd, nth(3), GLOCK_EXCLUSIVE, 0));
	EXPECT_EQ(ENOLCK, errno);
	EXPECT_EQ(-1, gt_lock(fd2, nth(3), GLOCK_EXCLUSIVE, 0));
	EXPECT_EQ(ENOLCK, errno);
	ASSERT_EQ(0, gt_state(fd2, nth(3), &st));
	EXPECT_EQ(0, st.holders);

	/* Existing objects are still usable: no new object needed. */
	EXPECT_EQ(0, gt_lock(fd2, nth(0), GLOCK_SHARED, 0));
	EXPECT_EQ(0, gt_lock(self->fd, nth(1), GLOCK_SHARED, 0));
	EXPECT_EQ(0, gt_unlock(fd2, nth(0)));
	EXPECT_EQ(0, gt_unlock(self->fd, nth(1)));

	/* One gone: room for one. */
	ASSERT_EQ(0, gt_unlock(self->fd, nth(2)));
	EXPECT_EQ(0, gt_lock(fd2, nth(3), GLOCK_EXCLUSIVE, 0));
	EXPECT_EQ(0, gt_unlock(fd2, nth(3)));
	for (int i = 0; i < 2; i++) {
		EXPECT_EQ(0, gt_unlock(self->fd, nth(i)));
	}
	ASSERT_EQ(0, gt_param_set("max_locks", self->saved[1]));
	EXPECT_EQ(base, gt_stat("locks"));
	close(fd2);
}

/*
 * A file keeps the last lock it released by name (its object and ref) for
 * its next request: that cache must not take a slot from any limit.
 */
TEST_F(lim, released_locks_free_their_slots)
{
	long long base = gt_stat("locks");
	int fd2 = gt_open();

	ASSERT_LE(0, fd2);
	/* Per owner: one slot, and the lock just released does not hold it. */
	ASSERT_EQ(0, gt_param_set("max_locks_per_owner", 1));
	ASSERT_EQ(0, gt_lock(self->fd, nth(0), GLOCK_EXCLUSIVE, 0));
	ASSERT_EQ(0, gt_unlock(self->fd, nth(0)));
	EXPECT_EQ(0, gt_lock(self->fd, nth(1), GLOCK_EXCLUSIVE, 0));
	EXPECT_EQ(0, gt_unlock(self->fd, nth(1)));
	ASSERT_EQ(0, gt_param_set("max_locks_per_owner", self->saved[0]));

	/*
	 * Globally: a released lock is not counted, and taking it again
	 * counts it again, against the same limit as a new one.
	 */
	ASSERT_EQ(0, gt_lock(self->fd, nth(0), GLOCK_EXCLUSIVE, 0));
	ASSERT_EQ(0, gt_unlock(self->fd, nth(0)));
	EXPECT_EQ(base, gt_stat("locks"));
	ASSERT_EQ(0, gt_param_set("max_locks", base + 1));
	ASSERT_EQ(0, gt_lock(fd2, nth(2), GLOCK_EXCLUSIVE, 0));
	EXPECT_EQ(-1, gt_lock(self->fd, nth(0), GLOCK_EXCLUSIVE, 0));
	EXPECT_EQ(ENOLCK, errno);
	ASSERT_EQ(0, gt_unlock(fd2, nth(2)));
	EXPECT_EQ(0, gt_lock(self->fd, nth(0), GLOCK_EXCLUSIVE, 0));
	EXPECT_EQ(base + 1, gt_stat("locks"));
	EXPECT_EQ(0, gt_unlock(self->fd, nth(0)));
	ASSERT_EQ(0, gt_param_set("max_locks", self->saved[1]));
	EXPECT_EQ(base, gt_stat("locks"));
	close(fd2);
}

/*
 * Many files of an unprivileged user keep a lock each (1000 resident
 * objects): none of it is counted or takes room from anyone, under
 * max_locks (the kernel counts resident objects apart, and sums exactly
 * near the limit) or that user's own max_locks_per_user; taking one of
 * those names again counts as a new lock.
 */
TEST_F_TIMEOUT(lim, files_keeping_locks_take_no_room, 300)
{
	const int n = 1000;
	long long base = gt_stat("locks");
	long long per_user = gt_param_get("max_locks_per_user");
	struct rlimit rl = { n + 64, n + 64 };
	int go[2], ready[2], status;
	char name[64], byte;
	pid_t pid;

	ASSERT_LE(0, base);
	ASSERT_LT(0, per_user);
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(ready));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int fd = -1, bad = 0;

		if (setgid(65534) || setuid(65534))
			_exit(10);
		for (int i = 0; i < n; i++) {
			fd = gt_open();
			snprintf(name, sizeof(name), "gt-%d-kept%d", getpid(), i);
			if (fd < 0 || gt_lock(fd, name, GLOCK_EXCLUSIVE, 0) ||
			    gt_unlock(fd, name))
				_exit(11);
		}
		if (write(ready[1], "r", 1) != 1 || read(go[0], &byte, 1) != 1)
			_exit(12);
		/* max_locks_per_user is 2 now: two new locks, not three. */
		for (int i = 0; i < 3; i++) {
			snprintf(name, sizeof(name), "gt-%d-new%d", getpid(), i);
			if (gt_lock(fd, name, GLOCK_SHARED, 0) != (i < 2 ? 0 : -1))
				bad |= 1 << i;
		}
		_exit(bad ? 20 + bad : (errno == ENOLCK ? 0 : 13));
	}
	ASSERT_EQ(1, read(ready[0], &byte, 1));
	EXPECT_EQ(base, gt_stat("locks"));

	/* Room for three new locks above the counted ones, whatever is kept. */
	ASSERT_EQ(0, gt_param_set("max_locks", base + 3));
	for (int i = 0; i < 3; i++)
		EXPECT_EQ(0, gt_lock(self->fd, nth(i), GLOCK_SHARED, 0));
	EXPECT_EQ(-1, gt_lock(self->fd, nth(3), GLOCK_SHARED, 0));
	EXPECT_EQ(ENOLCK, errno);
	/* A kept one taken by another file is a new lock: no room for it. */
	snprintf(name, sizeof(name), "gt-%d-kept%d", pid, 7);
	EXPECT_EQ(-1, gt_lock(self->fd, name, GLOCK_EXCLUSIVE, 0));
	EXPECT_EQ(ENOLCK, errno);
	EXPECT_EQ(0, gt_unlock(self->fd, nth(2)));
	EXPECT_EQ(0, gt_lock(self->fd, name, GLOCK_EXCLUSIVE, 0));
	EXPECT_EQ(base + 3, gt_stat("locks"));
	EXPECT_EQ(0, gt_unlock(self->fd, name));
	for (int i = 0; i < 2; i++)
		EXPECT_EQ(0, gt_unlock(self->fd, nth(i)));
	ASSERT_EQ(0, gt_param_set("max_locks", self->saved[1]));

	/* The keeping user's own quota is whole. */
	ASSERT_EQ(0, gt_param_set("max_locks_per_user", 2));
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
		TH_LOG("child status %#x", status);
	ASSERT_EQ(0, gt_param_set("max_locks_per_user", per_user));
	EXPECT_EQ(base, gt_stat("locks"));
	close(go[0]);
	close(go[1]);
	close(ready[0]);
	close(ready[1]);
}

/* Active objects of a slab cache, from /proc/slabinfo; -1 if absent. */
static long slab_active(const char *cache)
{
	char line[512], name[64];
	long active = -1, n;
	FILE *f = fopen("/proc/slabinfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %ld", name, &n) == 2 &&
		    !strcmp(name, cache))
			active = n;
	fclose(f);
	return active;
}

/*
 * One file that takes and releases many names keeps one of them, not all:
 * each release by name lets the one kept before go.
 */
TEST_F(lim, released_locks_are_not_kept_in_bulk)
{
	const int n = 4000;
	long before = slab_active("glock_obj"), after;

	ASSERT_LE(0, before) TH_LOG("no glock_obj in /proc/slabinfo");
	for (int i = 0; i < n; i++) {
		ASSERT_EQ(0, gt_lock(self->fd, nth(i), GLOCK_EXCLUSIVE, 0));
		ASSERT_EQ(0, gt_unlock(self->fd, nth(i)));
	}
	after = slab_active("glock_obj");
	TH_LOG("glock_obj active objects: %ld before, %ld after %d names",
	       before, after, n);
	/* Slab keeps some free objects per CPU: far fewer than n. */
	EXPECT_GT(before + n / 4, after);
}

/*
 * An object counts the refs kept for it in 16 bits: 65535 files keep it at
 * most, and at that cap a release frees its ref, a kept one included. Had
 * the count wrapped, the lock would show as live with nobody on it.
 */
TEST_F_TIMEOUT(lim, refs_kept_per_lock_are_capped, 600)
{
	const int n = 65536 + 1;
	const char *x = gt_name("cap");
	struct rlimit rl = { n + 64, n + 64 };
	long long locks = gt_stat("locks");
	int *fds = calloc(n, sizeof(*fds));
	char key[300], *buf;

	ASSERT_NE(NULL, fds);
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl)) TH_LOG("%s", strerror(errno));
	for (int i = 0; i < n; i++) {
		fds[i] = gt_open();
		ASSERT_LE(0, fds[i]) TH_LOG("open %d: %s", i, strerror(errno));
		ASSERT_EQ(0, gt_lock(fds[i], x, GLOCK_SHARED, 0));
		ASSERT_EQ(0, gt_unlock(fds[i], x));
	}
	/* At the cap: one file's kept ref used again, another file caches. */
	ASSERT_EQ(0, gt_lock(fds[0], x, GLOCK_SHARED, 0));
	ASSERT_EQ(0, gt_lock(fds[n - 1], x, GLOCK_SHARED, 0));
	ASSERT_EQ(0, gt_unlock(fds[n - 1], x));
	ASSERT_EQ(0, gt_unlock(fds[0], x));
	EXPECT_EQ(locks, gt_stat("locks"));
	snprintf(key, sizeof(key), "lock name=%s ", x);
	buf = gt_debugfs("locks");
	ASSERT_NE(NULL, buf);
	EXPECT_EQ(NULL, strstr(buf, key)) TH_LOG("%s is listed", x);
	free(buf);
	/* Still a plain free lock to anyone. */
	EXPECT_EQ(0, gt_lock(self->fd, x, GLOCK_EXCLUSIVE, 0));
	EXPECT_EQ(0, gt_unlock(self->fd, x));
	ASSERT_EQ(0, gt_lock(self->fd, nth(0), GLOCK_EXCLUSIVE, 0));
	ASSERT_EQ(0, gt_unlock(self->fd, nth(0)));

	for (int i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
	EXPECT_EQ(locks, gt_stat("locks"));
	buf = gt_debugfs("locks");
	ASSERT_NE(NULL, buf);
	EXPECT_EQ(NULL, strstr(buf, key)) TH_LOG("%s is still listed", x);
	free(buf);
}

TEST_F(lim, ipc_namespace_scopes_names)
{
	const char *x = gt_name("ns"), *y = gt_name("ns-old");
	struct glock_state st;
	int newfd;

	/* Held in the initial namespace through a file opened there. */
	ASSERT_EQ(0, gt_lock(self->fd, x, GLOCK_EXCLUSIVE, 0));

	ASSERT_EQ(0, unshare(CLONE_NEWIPC)) TH_LOG("%s", strerror(errno));
	newfd = gt_open();
	ASSERT_LE(0, newfd);

	/* Same name, other namespace: a different, free lock. */
	ASSERT_EQ(0, gt_state(newfd, x, &st));
	EXPECT_EQ(0, st.holders);
	EXPECT_EQ(0, gt_trylock(newfd, x, GLOCK_EXCLUSIVE));
	ASSERT_EQ(0, gt_state(newfd, x, &st));
	EXPECT_EQ(1, st.holders);
	EXPECT_EQ(1, st.depth);
	ASSERT_EQ(0, gt_state(self->fd, x, &st));
	EXPECT_EQ(1, st.holders);
	EXPECT_EQ(1, st.depth);	/* ours, not the new namespace's */

	/* Inside the new namespace names still collide. */
	ASSERT_EQ(0, gt_child_start(&self->c[0], -1, "gt-newns"));
	EXPECT_EQ(-1, gt_child_lock(&self->c[0], x, GLOCK_EXCLUSIVE, 0));
	EXPECT_EQ(EAGAIN, errno);

	/* A file opened before unshare() stays in the old namespace. */
	ASSERT_EQ(0, gt_lock(self->fd, y, GLOCK_EXCLUSIVE, 0));
	EXPECT_EQ(0, gt_trylock(newfd, y, GLOCK_EXCLUSIVE));
	EXPECT_EQ(-1, gt_trylock(self->fd, x, GLOCK_SHARED));
	EXPECT_EQ(EDEADLK, errno);	/* we hold x exclusive there */

	EXPECT_EQ(0, gt_unlock(newfd, x));
	EXPECT_EQ(0, gt_unlock(newfd, y));
	EXPECT_EQ(0, gt_unlock(self->fd, x));
	EXPECT_EQ(0, gt_unlock(self->fd, y));
	close(newfd);
}

TEST_F(lim, abandoned_mark_is_per_namespace)
{
	const char *x = gt_name("nsmark");
	struct glock_state st;
	int newfd;

	ASSERT_EQ(0, unshare(CLONE_NEWIPC));
	ASSERT_EQ(0, gt_child_start(&self->c[0], -1, "gt-victim"));
	ASSERT_EQ(0, gt_child_lock(&self->c[0], x, GLOCK_EXCLUSIVE, 0));
	gt_child_kill(&self->c[0]);
	newfd = gt_open();
	ASSERT_LE(0, newfd);
	ASSERT_EQ(0, gt_state(newfd, x, &st));
	EXPECT_EQ(GLOCK_R_ABANDONED, st.result);
	/* self->fd was opened in the initial namespace: no mark there. */
	ASSERT_EQ(0, gt_state(self->fd, x, &st));
	EXPECT_EQ(0, st.result);
	ASSERT_EQ(0, gt_trylock(newfd, x, GLOCK_EXCLUSIVE));
	ASSERT_EQ(0, gt_unlock(newfd, x));
	close(newfd);
}

TEST_F(lim, failed_requests_give_their_slot_back)
{
	const int lim = 2;
	long long locks0 = gt_stat("locks");
	struct gt_rep rp;
	int other = gt_open();

	ASSERT_LE(0, other);
	ASSERT_EQ(0, gt_child_start(&self->c[0], self->fd, "gt-sameowner"));
	ASSERT_EQ(0, gt_param_set("max_locks_per_owner", lim));
	ASSERT_EQ(0, gt_lock(other, nth(8), GLOCK_EXCLUSIVE, 0));
	ASSERT_EQ(0, gt_lock(self->fd, nth(0), GLOCK_EXCLUSIVE, 0));

	/* Each way a request on nth(8) can fail, repeated past the limit. */
	for (int i = 0; i < 3; i++) {
		EXPECT_EQ(-1, gt_trylock(self->fd, nth(8), GLOCK_SHARED));
		EXPECT_EQ(EAGAIN, errno);
		EXPECT_EQ(-1, gt_lock(self->fd, nth(8), GLOCK_SHARED,
				      10 * GT_MSEC));
		EXPECT_EQ(ETIMEDOUT, errno);
		/* A wait ended by a signal, in the process sharing the owner. */
		ASSERT_EQ(0, gt_child_send(&self->c[0], GT_OP_LOCK, nth(8),
					   GLOCK_EXCLUSIVE, -1, 0));
		ASSERT_EQ(0, gt_wait_waiters(self->fd, nth(8), 1));
		ASSERT_EQ(0, kill(self->c[0].pid, SIGUSR1));
		ASSERT_EQ(0, gt_child_wait(&self->c[0], &rp, GT_SOON_MS));
		EXPECT_EQ(EINTR, rp.err);
	}
	/* Still one free slot. */
	EXPECT_EQ(0, gt_lock(self->fd, nth(1), GLOCK_EXCLUSIVE, 0));
	EXPECT_EQ(-1, gt_lock(self->fd, nth(2), GLOCK_EXCLUSIVE, 0));
	EXPECT_EQ(ENOLCK, errno);
	EXPECT_EQ(0, gt_unlock(self->fd, nth(1)));
	EXPECT_EQ(0, gt_unlock(self->fd, nth(0)));
	EXPECT_EQ(0, gt_unlock(other, nth(8)));
	close(other);
	if (locks0 >= 0)
		EXPECT_EQ(locks0, gt_stat("locks"));
}

static int reload_glock(void)
{
	char exe[512], path[600], *dir;
	const char *env = getenv("GLOCK_KMOD_DIR");
	int fd, ret;

	if (env) {
		snprintf(path, sizeof(path), "%s/glock.ko", env);
	} else {
		ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

		if (n < 0)
			return -1;
		exe[n] = 0;
		dir = strrchr(exe, '/');
		if (dir)
			*dir = 0;
		snprintf(path, sizeof(path), "%s/../kmod/glock.ko", exe);
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ret = syscall(SYS_finit_module, fd, "", 0);
	close(fd);
	return ret;
}

TEST_F(lim, rmmod_refused_while_open)
{
	const char *x = gt_name("rmmod");
	long ret;

	for (int held = 0; held < 2; held++) {
		if (held) {
			ASSERT_EQ(0, gt_lock(self->fd, x, GLOCK_EXCLUSIVE, 0));
		}
		ret = syscall(SYS_delete_module, "glock", O_NONBLOCK);
		if (ret == 0) {
			/* Unloaded under an open file: put it back. */
			close(self->fd);
			self->fd = -1;
			TH_LOG("glock was unloaded while open; reload: %d",
			       reload_glock());
		}
		ASSERT_EQ(-1, ret);
		EXPECT_TRUE(errno == EBUSY || errno == EWOULDBLOCK)
			TH_LOG("errno %d (%s)", errno, strerror(errno));
		/* Still loaded and working. */
		EXPECT_EQ(0, access("/sys/module/glock", F_OK));
		EXPECT_EQ(0, gt_trylock(self->fd, gt_name("probe"),
					GLOCK_EXCLUSIVE));
		EXPECT_EQ(0, gt_unlock(self->fd, gt_name("probe")));
	}
	EXPECT_EQ(0, gt_unlock(self->fd, x));
}

TEST_HARNESS_MAIN
