// SPDX-License-Identifier: GPL-2.0-only
/*
 * glock tracepoints through tracefs: events/glock/glock_{acquire,contended,
 * release,abandon,timeout,deadlock} fire for the operations they name. Each test
 * uses its own trace instance, so the global buffer is left alone.
 */

#include "glock_test_util.h"
#include "tracefs.h"
#include "kselftest_harness.h"

static const char *const events[] = { "glock_acquire", "glock_contended",
				      "glock_release", "glock_abandon",
				      "glock_timeout", "glock_deadlock" };

FIXTURE(tr) {
	int fd;
	struct gt_child c[3];
	char inst[256];
};

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_TRUNC);
	int ret;

	if (fd < 0)
		return -1;
	ret = write(fd, s, strlen(s)) == (ssize_t)strlen(s) ? 0 : -1;
	close(fd);
	return ret;
}

FIXTURE_SETUP(tr)
{
	const char *tfs = tracefs();
	char path[400];

	self->fd = -1;
	if (!tfs)
		SKIP(return, "no tracefs");
	snprintf(self->inst, sizeof(self->inst), "%s/instances/glock-test-%d",
		 tfs, getpid());
	ASSERT_EQ(0, mkdir(self->inst, 0700)) TH_LOG("%s: %s", self->inst,
						     strerror(errno));
	snprintf(path, sizeof(path), "%s/events/glock", self->inst);
	ASSERT_EQ(0, access(path, F_OK)) TH_LOG("no glock trace system");
	snprintf(path, sizeof(path), "%s/events/glock/enable", self->inst);
	ASSERT_EQ(0, write_str(path, "1"));
	self->fd = gt_open();
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", GT_DEV, strerror(errno));
}

FIXTURE_TEARDOWN(tr)
{
	char path[400];

	for (int i = 0; i < 3; i++)
		gt_child_kill(&self->c[i]);
	if (self->fd >= 0)
		close(self->fd);
	if (self->inst[0]) {
		snprintf(path, sizeof(path), "%s/events/glock/enable",
			 self->inst);
		write_str(path, "0");
		rmdir(self->inst);
	}
}

/* Count trace lines of @event mentioning @name. */
static int count_events(const char *inst, const char *event, const char *name)
{
	char path[400], pat[64], *buf, *line, *save;
	int n = 0;

	snprintf(path, sizeof(path), "%s/trace", inst);
	buf = gt_read_file(path);
	if (!buf)
		return -1;
	snprintf(pat, sizeof(pat), " %s: ", event);
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		const char *at = strstr(line, name);

		/* the name, as a whole word */
		if (line[0] != '#' && strstr(line, pat) && at &&
		    (at[strlen(name)] == ' ' || !at[strlen(name)]))
			n++;
	}
	free(buf);
	return n;
}

TEST_F(tr, all_six_events_exist)
{
	char path[512];

	for (int i = 0; i < 6; i++) {
		snprintf(path, sizeof(path), "%s/events/glock/%s/format",
			 self->inst, events[i]);
		EXPECT_EQ(0, access(path, R_OK)) TH_LOG("%s", path);
	}
}

TEST_F(tr, acquire_and_release)
{
	const char *x = gt_name("tr-acq");
	int before;

	ASSERT_EQ(0, gt_lock(self->fd, x, GLOCK_EXCLUSIVE, 0));
	ASSERT_EQ(0, gt_lock(self->fd, x, GLOCK_EXCLUSIVE, 0));
	EXPECT_LE(1, count_events(self->inst, "glock_acquire", x));
	EXPECT_EQ(0, count_events(self->inst, "glock_release", x));
	ASSERT_EQ(0, gt_unlock(self->fd, x));
	ASSERT_EQ(0, gt_unlock(self->fd, x));
	EXPECT_LE(1, count_events(self->inst, "glock_release", x));
	/* A failed try acquires nothing. */
	ASSERT_EQ(0, gt_child_start(&self->c[0], -1, "gt-tr"));
	ASSERT_EQ(0, gt_child_lock(&self->c[0], x, GLOCK_EXCLUSIVE, 0));
	before = count_events(self->inst, "glock_acquire", x);
	EXPECT_EQ(-1, gt_trylock(self->fd, x, GLOCK_EXCLUSIVE));
	EXPECT_EQ(before, count_events(self->inst, "glock_acquire", x));
	EXPECT_EQ(0, count_events(self->inst, "glock_contended", x));
	ASSERT_EQ(0, gt_child_unlock(&self->c[0], x));
}

TEST_F(tr, contended_and_timeout)
{
	const char *x = gt_name("tr-tmo");

	ASSERT_EQ(0, gt_child_start(&self->c[0], -1, "gt-tr"));
	ASSERT_EQ(0, gt_child_lock(&self->c[0], x, GLOCK_EXCLUSIVE, 0));
	EXPECT_EQ(-1, gt_lock(self->fd, x, GLOCK_EXCLUSIVE, 50 * GT_MSEC));
	EXPECT_EQ(ETIMEDOUT, errno);
	EXPECT_LE(1, count_events(self->inst, "glock_contended", x));
	EXPECT_LE(1, count_events(self->inst, "glock_timeout", x));
	ASSERT_EQ(0, gt_child_unlock(&self->c[0], x));
}

TEST_F(tr, abandon)
{
	const char *x = gt_name("tr-ab");

	ASSERT_EQ(0, gt_child_start(&self->c[0], -1, "gt-tr"));
	ASSERT_EQ(0, gt_child_lock(&self->c[0], x, GLOCK_EXCLUSIVE, 0));
	EXPECT_EQ(0, count_events(self->inst, "glock_abandon", x));
	gt_child_kill(&self->c[0]);
	EXPECT_LE(1, count_events(self->inst, "glock_abandon", x));
	ASSERT_EQ(0, gt_lock(self->fd, x, GLOCK_EXCLUSIVE, 0));
	ASSERT_EQ(0, gt_unlock(self->fd, x));
}

TEST_F(tr, deadlock)
{
	const char *a = gt_name("tr-dla"), *b = gt_name("tr-dlb");
	struct gt_rep rp;

	ASSERT_EQ(0, gt_child_start(&self->c[0], -1, "gt-tr"));
	ASSERT_EQ(0, gt_lock(self->fd, a, GLOCK_EXCLUSIVE, 0));
	ASSERT_EQ(0, gt_child_lock(&self->c[0], b, GLOCK_EXCLUSIVE, 0));
	ASSERT_EQ(0, gt_child_send(&self->c[0], GT_OP_LOCK, a,
				   GLOCK_EXCLUSIVE, 30 * GT_NSEC, 0));
	ASSERT_EQ(0, gt_wait_waiters(self->fd, a, 1));
	gt_alarm_guard(20);
	EXPECT_EQ(-1, gt_lock(self->fd, b, GLOCK_EXCLUSIVE, -1));
	EXPECT_EQ(EDEADLK, errno);
	alarm(0);
	EXPECT_LE(1, count_events(self->inst, "glock_deadlock", b) +
		     count_events(self->inst, "glock_deadlock", a));
	ASSERT_EQ(0, gt_unlock(self->fd, a));
	ASSERT_EQ(0, gt_child_wait(&self->c[0], &rp, GT_SOON_MS));
	ASSERT_EQ(0, gt_child_unlock(&self->c[0], a));
	ASSERT_EQ(0, gt_child_unlock(&self->c[0], b));
}

TEST_F(tr, disabled_events_stay_silent)
{
	const char *x = gt_name("tr-off");
	char path[400];

	snprintf(path, sizeof(path), "%s/events/glock/enable", self->inst);
	ASSERT_EQ(0, write_str(path, "0"));
	ASSERT_EQ(0, gt_lock(self->fd, x, GLOCK_EXCLUSIVE, 0));
	ASSERT_EQ(0, gt_unlock(self->fd, x));
	EXPECT_EQ(0, count_events(self->inst, "glock_acquire", x));
	EXPECT_EQ(0, count_events(self->inst, "glock_release", x));
}

TEST_HARNESS_MAIN
