// SPDX-License-Identifier: GPL-2.0-only
/* libglock against the real module: return values, errno, depth, flags. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glock.h>

#include "kselftest_harness.h"

#define MS	1000000LL

#define NEED_DEV() do {							\
	if (!self->a)							\
		SKIP(return, GLOCK_DEVICE " missing (glock.ko not loaded)"); \
} while (0)

FIXTURE(lib)
{
	struct glock_dev *a, *b;
	char name[64];
};

FIXTURE_SETUP(lib)
{
	/* 6.1's harness runs the body after a SKIP in setup: see NEED_DEV. */
	if (access(GLOCK_DEVICE, F_OK))
		return;
	self->a = glock_open();
	ASSERT_NE(NULL, self->a);
	self->b = glock_open();
	ASSERT_NE(NULL, self->b);
	snprintf(self->name, sizeof(self->name), "libtest-%d-%s", getpid(),
		 _metadata->name);
}

FIXTURE_TEARDOWN(lib)
{
	glock_close(self->a);
	glock_close(self->b);
}

TEST_F(lib, lock_unlock_depth)
{
	unsigned int result = 0xcc;

	NEED_DEV();
	EXPECT_EQ(1, glock_lock(self->a, self->name, GLOCK_EXCLUSIVE,
				GLOCK_FOREVER, &result));
	EXPECT_EQ(0, result);
	/* Recursion: same owner, same mode, depth + 1. */
	EXPECT_EQ(2, glock_trylock(self->a, self->name, GLOCK_EXCLUSIVE, NULL));
	EXPECT_EQ(1, glock_unlock(self->a, self->name));
	EXPECT_EQ(0, glock_unlock(self->a, self->name));
	/* Nothing left: EPERM, the pair convention. */
	EXPECT_EQ(-1, glock_unlock(self->a, self->name));
	EXPECT_EQ(EPERM, errno);
}

TEST_F(lib, trylock_busy_and_unlock_by_other)
{
	NEED_DEV();
	ASSERT_EQ(1, glock_trylock(self->a, self->name, GLOCK_EXCLUSIVE, NULL));
	EXPECT_EQ(-1, glock_trylock(self->b, self->name, GLOCK_EXCLUSIVE, NULL));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(-1, glock_unlock(self->b, self->name));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(0, glock_unlock(self->a, self->name));
	EXPECT_EQ(1, glock_trylock(self->b, self->name, GLOCK_EXCLUSIVE, NULL));
	EXPECT_EQ(0, glock_unlock(self->b, self->name));
}

TEST_F(lib, timeout_relative_and_absolute)
{
	int64_t t0, dt;

	NEED_DEV();
	ASSERT_EQ(1, glock_lock(self->a, self->name, GLOCK_EXCLUSIVE, 0, NULL));
	t0 = glock_now_ns();
	EXPECT_EQ(-1, glock_lock(self->b, self->name, GLOCK_EXCLUSIVE,
				 200 * MS, NULL));
	EXPECT_EQ(ETIMEDOUT, errno);
	dt = glock_now_ns() - t0;
	EXPECT_GE(dt, 200 * MS);	/* never early */
	EXPECT_LT(dt, 5000 * MS);

	t0 = glock_now_ns();
	EXPECT_EQ(-1, glock_lock_until(self->b, self->name, GLOCK_EXCLUSIVE,
				       t0 + 150 * MS, NULL));
	EXPECT_EQ(ETIMEDOUT, errno);
	EXPECT_GE(glock_now_ns(), t0 + 150 * MS);
	EXPECT_EQ(0, glock_unlock(self->a, self->name));
}

TEST_F(lib, shared_and_state)
{
	struct glock_info info;

	NEED_DEV();
	memset(&info, 0xcc, sizeof(info));
	ASSERT_EQ(0, glock_state(self->a, self->name, &info));
	EXPECT_EQ(0, info.mode);
	EXPECT_EQ(0, info.holders);
	EXPECT_EQ(0, info.waiters);
	EXPECT_EQ(0, info.owner_pid);
	EXPECT_EQ(0, info.reserved[0]);

	ASSERT_EQ(1, glock_lock(self->a, self->name, GLOCK_SHARED, 0, NULL));
	ASSERT_EQ(1, glock_lock(self->b, self->name, GLOCK_SHARED, 0, NULL));
	ASSERT_EQ(0, glock_state(self->a, self->name, &info));
	EXPECT_EQ(GLOCK_SHARED, info.mode);
	EXPECT_EQ(2, info.holders);
	EXPECT_EQ(1, info.depth);
	EXPECT_EQ(0, info.owner_pid);	/* shared: no single owner */
	EXPECT_EQ(0, glock_unlock(self->a, self->name));
	EXPECT_EQ(0, glock_unlock(self->b, self->name));

	ASSERT_EQ(1, glock_lock(self->a, self->name, GLOCK_EXCLUSIVE, 0, NULL));
	ASSERT_EQ(0, glock_state(self->b, self->name, &info));
	EXPECT_EQ(GLOCK_EXCLUSIVE, info.mode);
	EXPECT_EQ(1, info.holders);
	EXPECT_EQ(0, info.depth);	/* b holds nothing */
	EXPECT_EQ(getpid(), info.owner_pid);
	EXPECT_EQ(0, info.result);
	EXPECT_EQ(0, glock_unlock(self->a, self->name));
}

TEST_F(lib, mode_change_is_edeadlk)
{
	NEED_DEV();
	ASSERT_EQ(1, glock_lock(self->a, self->name, GLOCK_SHARED, 0, NULL));
	EXPECT_EQ(-1, glock_lock(self->a, self->name, GLOCK_EXCLUSIVE,
				 GLOCK_FOREVER, NULL));
	EXPECT_EQ(EDEADLK, errno);
	EXPECT_EQ(0, glock_unlock(self->a, self->name));
}

TEST_F(lib, bad_input)
{
	char big[GLOCK_NAME_MAX + 2];

	NEED_DEV();
	EXPECT_EQ(-1, glock_lock(self->a, "", GLOCK_EXCLUSIVE, 0, NULL));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, glock_lock(self->a, NULL, GLOCK_EXCLUSIVE, 0, NULL));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, glock_lock(NULL, self->name, GLOCK_EXCLUSIVE, 0, NULL));
	EXPECT_EQ(EINVAL, errno);
	/* The kernel rejects a space (the library passes it through). */
	EXPECT_EQ(-1, glock_lock(self->a, "a b", GLOCK_EXCLUSIVE, 0, NULL));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, glock_lock(self->a, self->name, 3, 0, NULL));
	EXPECT_EQ(EINVAL, errno);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	EXPECT_EQ(-1, glock_lock(self->a, big, GLOCK_EXCLUSIVE, 0, NULL));
	EXPECT_EQ(EINVAL, errno);
	big[GLOCK_NAME_MAX] = '\0';	/* 255 bytes: valid */
	EXPECT_EQ(0, glock_name_check(big));
	EXPECT_EQ(1, glock_lock(self->a, big, GLOCK_EXCLUSIVE, 0, NULL));
	EXPECT_EQ(0, glock_unlock(self->a, big));
	EXPECT_EQ(-1, glock_name_check("tab\there"));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, glock_state(self->a, "", &(struct glock_info){ 0 }));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(lib, open_fd_keeps_descriptor)
{
	struct glock_dev *w;
	int fd;

	NEED_DEV();
	fd = open(GLOCK_DEVICE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	w = glock_open_fd(fd);
	ASSERT_NE(NULL, w);
	EXPECT_EQ(fd, glock_fd(w));
	EXPECT_EQ(1, glock_lock(w, self->name, GLOCK_EXCLUSIVE, 0, NULL));
	glock_close(w);
	/* The open file still owns the lock. */
	EXPECT_EQ(-1, glock_trylock(self->a, self->name, GLOCK_EXCLUSIVE, NULL));
	EXPECT_EQ(EAGAIN, errno);
	w = glock_open_fd(fd);
	ASSERT_NE(NULL, w);
	EXPECT_EQ(0, glock_unlock(w, self->name));
	glock_close(w);
	EXPECT_EQ(0, close(fd));	/* still ours to close */
	/* Not /dev/glock: refused. */
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	EXPECT_EQ(NULL, glock_open_fd(fd));
	EXPECT_EQ(ENOTTY, errno);
	close(fd);
	glock_close(NULL);	/* NULL-tolerant */
}

TEST_F_TIMEOUT(lib, abandoned_after_sigkill, 60)
{
	unsigned int result = 0xcc;
	struct glock_info info;
	int p[2], status;
	char c;
	pid_t pid;

	NEED_DEV();
	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct glock_dev *d;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		d = glock_open();
		if (!d || glock_lock(d, self->name, GLOCK_EXCLUSIVE, 0, NULL) != 1)
			_exit(1);
		if (write(p[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(p[1]);
	ASSERT_EQ(1, read(p[0], &c, 1));
	close(p[0]);
	ASSERT_EQ(0, glock_state(self->a, self->name, &info));
	EXPECT_EQ(pid, info.owner_pid);
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));

	ASSERT_EQ(0, glock_state(self->a, self->name, &info));
	EXPECT_EQ(0, info.mode);
	EXPECT_EQ(GLOCK_R_ABANDONED, info.result & GLOCK_R_ABANDONED);

	ASSERT_EQ(1, glock_lock(self->a, self->name, GLOCK_EXCLUSIVE,
				GLOCK_SEC(5), &result));
	EXPECT_EQ(GLOCK_R_ABANDONED, result);
	EXPECT_STRNE("", glock_strresult(result));
	EXPECT_EQ(0, glock_unlock(self->a, self->name));
	/* Delivered once. */
	ASSERT_EQ(1, glock_lock(self->a, self->name, GLOCK_EXCLUSIVE, 0,
				&result));
	EXPECT_EQ(0, result);
	EXPECT_EQ(0, glock_unlock(self->a, self->name));
}

TEST_F_TIMEOUT(lib, waiter_gets_it_on_unlock, 60)
{
	int p[2], q[2], status;
	char c;
	pid_t pid;

	NEED_DEV();
	ASSERT_EQ(1, glock_lock(self->a, self->name, GLOCK_EXCLUSIVE, 0, NULL));
	ASSERT_EQ(0, pipe(p));
	ASSERT_EQ(0, pipe(q));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct glock_dev *d;
		int r;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		d = glock_open();
		if (!d || write(p[1], "x", 1) != 1)
			_exit(1);
		r = glock_lock(d, self->name, GLOCK_EXCLUSIVE, GLOCK_SEC(20),
			       NULL);
		c = r == 1 ? 'y' : 'n';
		/* Unlock first: exiting with it would leave an abandoned mark. */
		if (r == 1 && glock_unlock(d, self->name) != 0)
			c = 'u';
		if (write(q[1], &c, 1) != 1)
			_exit(1);
		_exit(0);
	}
	ASSERT_EQ(1, read(p[0], &c, 1));
	/* Wait until it is queued (bounded), then hand over. */
	for (int i = 0; i < 1000; i++) {
		struct glock_info info;

		ASSERT_EQ(0, glock_state(self->a, self->name, &info));
		if (info.waiters == 1)
			break;
		usleep(10000);
	}
	EXPECT_EQ(0, glock_unlock(self->a, self->name));
	ASSERT_EQ(1, read(q[0], &c, 1));
	EXPECT_EQ('y', c);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	close(p[0]); close(p[1]); close(q[0]); close(q[1]);
}

TEST(strerror_messages)
{
	EXPECT_STREQ("timed out", glock_strerror(ETIMEDOUT));
	EXPECT_STREQ("not held by this owner", glock_strerror(EPERM));
	EXPECT_NE(NULL, strstr(glock_strerror(ENOENT), "glock.ko"));
	EXPECT_NE(NULL, glock_strerror(12345));
	EXPECT_STREQ("", glock_strresult(0));
	EXPECT_STREQ("exclusive", glock_mode_name(GLOCK_EXCLUSIVE));
	EXPECT_STREQ("shared", glock_mode_name(GLOCK_SHARED));
	EXPECT_STREQ("free", glock_mode_name(0));
}

TEST_HARNESS_MAIN
