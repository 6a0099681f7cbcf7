// SPDX-License-Identifier: GPL-2.0-only
/*
 * glock from a 32-bit process (built with -m32): the same structs and ioctl
 * numbers work through compat_ioctl, 64-bit fields included.
 */
#include <stddef.h>

#include "glock_test_util.h"
#include "kselftest_harness.h"

_Static_assert(sizeof(struct glock_lock) == 64, "glock_lock is 64 bytes");
_Static_assert(sizeof(struct glock_state) == 64, "glock_state is 64 bytes");
_Static_assert(offsetof(struct glock_lock, timeout_ns) == 16, "layout");
_Static_assert(offsetof(struct glock_lock, padding) == 36, "layout");
_Static_assert(offsetof(struct glock_state, padding) == 40, "layout");
_Static_assert(sizeof(struct glock_handle) == 64, "glock_handle is 64 bytes");
_Static_assert(sizeof(struct glock_rule) == 64, "glock_rule is 64 bytes");
_Static_assert(sizeof(struct glock_rules) == 64, "glock_rules is 64 bytes");

FIXTURE(c32) {
	int fd;
	struct gt_child c[2];
};

FIXTURE_SETUP(c32)
{
	self->fd = gt_open();
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", GT_DEV, strerror(errno));
}

FIXTURE_TEARDOWN(c32)
{
	for (int i = 0; i < 2; i++)
		gt_child_kill(&self->c[i]);
	close(self->fd);
}

TEST_F(c32, really_32_bit)
{
	EXPECT_EQ(4, sizeof(void *));
	EXPECT_EQ(4, sizeof(long));
}

TEST_F(c32, lock_state_unlock)
{
	const char *x = gt_name("c32");
	struct glock_state st;
	uint32_t result, depth;

	ASSERT_EQ(0, gt_child_start(&self->c[0], -1, "gt-c32"));
	ASSERT_EQ(0, gt_lock_full(self->fd, x, GLOCK_EXCLUSIVE, -1, 0,
				  &result, &depth));
	EXPECT_EQ(0, result);
	EXPECT_EQ(1, depth);
	ASSERT_EQ(0, gt_lock_full(self->fd, x, GLOCK_EXCLUSIVE, 0, 0,
				  &result, &depth));
	EXPECT_EQ(2, depth);
	ASSERT_EQ(0, gt_state(self->fd, x, &st));
	EXPECT_EQ(GLOCK_EXCLUSIVE, st.mode);
	EXPECT_EQ(1, st.holders);
	EXPECT_EQ(2, st.depth);
	EXPECT_EQ(getpid(), st.owner_pid);
	EXPECT_EQ(0, st.result);

	EXPECT_EQ(-1, gt_child_lock(&self->c[0], x, GLOCK_SHARED, 0));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(-1, gt_lock(self->fd, x, GLOCK_SHARED, 0));
	EXPECT_EQ(EDEADLK, errno);
	ASSERT_EQ(0, gt_unlock_full(self->fd, x, GLOCK_EXCLUSIVE, &depth));
	EXPECT_EQ(1, depth);
	ASSERT_EQ(0, gt_unlock_full(self->fd, x, 0, &depth));
	EXPECT_EQ(0, depth);
	EXPECT_EQ(-1, gt_unlock(self->fd, x));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(0, gt_child_lock(&self->c[0], x, GLOCK_SHARED, 0));
	EXPECT_EQ(0, gt_child_unlock(&self->c[0], x));
}

TEST_F(c32, sixty_four_bit_timeouts)
{
	const char *x = gt_name("c32t");
	int64_t t0, deadline;

	ASSERT_EQ(0, gt_child_start(&self->c[0], -1, "gt-c32"));
	ASSERT_EQ(0, gt_child_lock(&self->c[0], x, GLOCK_EXCLUSIVE, 0));

	t0 = gt_now();
	EXPECT_EQ(-1, gt_lock(self->fd, x, GLOCK_EXCLUSIVE, 200 * GT_MSEC));
	EXPECT_EQ(ETIMEDOUT, errno);
	EXPECT_LE(200 * GT_MSEC, gt_now() - t0);
	EXPECT_GT(10 * GT_NSEC, gt_now() - t0);

	/* Monotonic time is far above 2^32 ns: the high half must arrive. */
	deadline = gt_now() + 200 * GT_MSEC;
	ASSERT_LT(1LL << 32, deadline);
	EXPECT_EQ(-1, gt_lock_full(self->fd, x, GLOCK_EXCLUSIVE, deadline,
				   GLOCK_F_ABSTIME, NULL, NULL));
	EXPECT_EQ(ETIMEDOUT, errno);
	EXPECT_LE(deadline, gt_now());
	EXPECT_GT(deadline + 10 * GT_NSEC, gt_now());

	/* A relative timeout with only high bits set is a long wait. */
	t0 = gt_now();
	EXPECT_EQ(-1, gt_lock(self->fd, x, GLOCK_EXCLUSIVE, 1LL << 32));
	EXPECT_EQ(ETIMEDOUT, errno);
	EXPECT_LE(1LL << 32, gt_now() - t0);
	ASSERT_EQ(0, gt_child_unlock(&self->c[0], x));
}

TEST_F(c32, bad_input)
{
	const char *x = gt_name("c32bad");
	struct glock_lock lk;

	gt_fill_lock(&lk, x, strlen(x), GLOCK_EXCLUSIVE, 0, 0);
	lk.padding[6] = 1;
	EXPECT_EQ(-1, ioctl(self->fd, GLOCK_IOC_LOCK, &lk));
	EXPECT_EQ(EINVAL, errno);
	gt_fill_lock(&lk, x, strlen(x), 3, 0, 0);
	EXPECT_EQ(-1, ioctl(self->fd, GLOCK_IOC_LOCK, &lk));
	EXPECT_EQ(EINVAL, errno);
	gt_fill_lock(&lk, x, strlen(x), GLOCK_EXCLUSIVE, 0, 2);
	EXPECT_EQ(-1, ioctl(self->fd, GLOCK_IOC_LOCK, &lk));
	EXPECT_EQ(EINVAL, errno);
	/* A pointer with high bits a 32-bit process cannot map. */
	gt_fill_lock(&lk, x, strlen(x), GLOCK_EXCLUSIVE, 0, 0);
	lk.name |= 1ULL << 40;
	EXPECT_EQ(-1, ioctl(self->fd, GLOCK_IOC_LOCK, &lk));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->fd, _IOWR(GLOCK_IOC_MAGIC, 9,
					    struct glock_lock), &lk));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, GLOCK_IOC_LOCK, NULL));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(c32, abandoned_from_32_bit_holder)
{
	const char *x = gt_name("c32ab");
	uint32_t result;

	ASSERT_EQ(0, gt_child_start(&self->c[0], -1, "gt-c32"));
	ASSERT_EQ(0, gt_child_lock(&self->c[0], x, GLOCK_EXCLUSIVE, 0));
	gt_child_kill(&self->c[0]);
	ASSERT_EQ(0, gt_lock_full(self->fd, x, GLOCK_SHARED, 0, 0, &result,
				  NULL));
	EXPECT_EQ(GLOCK_R_ABANDONED, result);
	ASSERT_EQ(0, gt_unlock(self->fd, x));
}

/* Handles from a 32-bit process: integer arguments through compat. */
TEST_F(c32, handles)
{
	const char *x = gt_name("c32-h");
	struct glock_state st;
	int h = gt_handle(self->fd, x);

	ASSERT_LE(1, h);
	EXPECT_EQ(0, gt_hlock(self->fd, h, GLOCK_EXCLUSIVE, false));
	EXPECT_EQ(0, gt_hlock(self->fd, h, GLOCK_EXCLUSIVE, true));
	ASSERT_EQ(0, gt_state(self->fd, x, &st));
	EXPECT_EQ(2, st.depth);
	EXPECT_EQ(-1, gt_hput(self->fd, h));
	EXPECT_EQ(EBUSY, errno);
	EXPECT_EQ(1, gt_hunlock(self->fd, h));
	EXPECT_EQ(0, gt_hunlock(self->fd, h));
	EXPECT_EQ(0, gt_hput(self->fd, h));
}

TEST_HARNESS_MAIN
