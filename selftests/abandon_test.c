// SPDX-License-Identifier: GPL-2.0-only
/*
 * glock ownership and abandonment: a dead exclusive holder marks the lock,
 * the mark is delivered exactly once and kept (bounded) while idle; dup(),
 * fork() and SCM_RIGHTS share the owner, which ends at the last close.
 */
#include <sys/socket.h>

#include "glock_test_util.h"
#include "kselftest_harness.h"

FIXTURE(ab) {
	int fd;
	struct gt_child c[4];
	long long saved_marks;
};

FIXTURE_SETUP(ab)
{
	self->saved_marks = -1;
	self->fd = gt_open();
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", GT_DEV, strerror(errno));
}

FIXTURE_TEARDOWN(ab)
{
	for (int i = 0; i < 4; i++)
		gt_child_kill(&self->c[i]);
	close(self->fd);
	if (self->saved_marks >= 0)
		gt_param_set("max_abandoned_marks", self->saved_marks);
}

/* Take the lock once more to consume a pending mark; return the result. */
static uint32_t consume(int fd, const char *name)
{
	uint32_t result = 0xdead;

	if (gt_lock_full(fd, name, GLOCK_EXCLUSIVE, 0, 0, &result, NULL))
		return 0xdead;
	gt_unlock(fd, name);
	return result;
}

TEST_F(ab, sigkill_holder_abandoned_exactly_once)
{
	const char *x = gt_name("kill");
	struct glock_state st;
	struct gt_rep rp;
	uint32_t result, depth;
	int status;

	ASSERT_EQ(0, gt_child_start(&self->c[0], -1, "gt-victim"));
	ASSERT_EQ(0, gt_child_start(&self->c[1], -1, "gt-third"));
	ASSERT_EQ(0, gt_child_lock(&self->c[0], x, GLOCK_EXCLUSIVE, 0));
	ASSERT_EQ(0, gt_child_lock(&self->c[0], x, GLOCK_EXCLUSIVE, 0));
	status = gt_child_kill(&self->c[0]);
	ASSERT_NE(-1, status);
	ASSERT_TRUE(WIFSIGNALED(status));

	ASSERT_EQ(0, gt_state(self->fd, x, &st));
	EXPECT_EQ(0, st.mode);
	EXPECT_EQ(0, st.holders);
	EXPECT_EQ(0, st.waiters);
	EXPECT_EQ(0, st.owner_pid);
	EXPECT_EQ(GLOCK_R_ABANDONED, st.result);

	ASSERT_EQ(0, gt_lock_full(self->fd, x, GLOCK_EXCLUSIVE, 0, 0, &result,
				  &depth));
	EXPECT_EQ(GLOCK_R_ABANDONED, result);
	EXPECT_EQ(1, depth);
	/* Delivered: STATE no longer shows it, recursion does not repeat it. */
	ASSERT_EQ(0, gt_state(self->fd, x, &st));
	EXPECT_EQ(0, st.result);
	ASSERT_EQ(0, gt_lock_full(self->fd, x, GLOCK_EXCLUSIVE, 0, 0, &result,
				  &depth));
	EXPECT_EQ(0, result);
	EXPECT_EQ(2, depth);
	ASSERT_EQ(0, gt_unlock(self->fd, x));
	ASSERT_EQ(0, gt_unlock(self->fd, x));

	/* Once only: neither we nor another owner see it again. */
	EXPECT_EQ(0, consume(self->fd, x));
	ASSERT_EQ(0, gt_child_call(&self->c[1], GT_OP_LOCK, x,
				   GLOCK_EXCLUSIVE, 0, &rp));
	EXPECT_EQ(0, rp.result);
	ASSERT_EQ(0, gt_child_unlock(&self->c[1], x));
	ASSERT_EQ(0, gt_state(self->fd, x, &st));
	EXPECT_EQ(0, st.result);
	EXPECT_EQ(0, st.holders);
}

TEST_F(ab, waiting_owner_gets_abandoned_at_once)
{
	const char *x = gt_name("handoff");
	struct glock_state st;
	struct gt_rep rp;

	ASSERT_EQ(0, gt_child_start(&self->c[0], -1, "gt-victim"));
	ASSERT_EQ(0, gt_child_start(&self->c[1], -1, "gt-waiter"));
	ASSERT_EQ(0, gt_child_start(&self->c[2], -1, "gt-third"));
	ASSERT_EQ(0, gt_child_lock(&self->c[0], x, GLOCK_EXCLUSIVE, 0));
	ASSERT_EQ(0, gt_child_send(&self->c[1], GT_OP_LOCK, x,
				   GLOCK_EXCLUSIVE, 30 * GT_NSEC, 0));
	ASSERT_EQ(0, gt_wait_waiters(self->fd, x, 1));
	gt_child_kill(&self->c[0]);

	ASSERT_EQ(0, gt_child_wait(&self->c[1], &rp, GT_SOON_MS));
	EXPECT_EQ(0, rp.ret);
	EXPECT_EQ(GLOCK_R_ABANDONED, rp.result);
	EXPECT_EQ(1, rp.depth);
	ASSERT_EQ(0, gt_state(self->fd, x, &st));
	EXPECT_EQ(0, st.result);
	EXPECT_EQ(self->c[1].pid, st.owner_pid);
	ASSERT_EQ(0, gt_child_unlock(&self->c[1], x));

	ASSERT_EQ(0, gt_child_call(&self->c[2], GT_OP_LOCK, x, GLOCK_SHARED, 0,
				   &rp));
	EXPECT_EQ(0, rp.result);
	ASSERT_EQ(0, gt_child_unlock(&self->c[2], x));
}

TEST_F(ab, shared_acquirer_also_gets_the_mark)
{
	const char *x = gt_name("shmark");
	uint32_t result;

	ASSERT_EQ(0, gt_child_start(&self->c[0], -1, "gt-victim"));
	ASSERT_EQ(0, gt_child_lock(&self->c[0], x, GLOCK_EXCLUSIVE, 0));
	gt_child_kill(&self->c[0]);
	ASSERT_EQ(0, gt_lock_full(self->fd, x, GLOCK_SHARED, 0, 0, &result,
				  NULL));
	EXPECT_EQ(GLOCK_R_ABANDONED, result);
	ASSERT_EQ(0, gt_unlock(self->fd, x));
	EXPECT_EQ(0, consume(self->fd, x));
}

TEST_F(ab, shared_hold_never_marks)
{
	const char *x = gt_name("shdead");
	struct glock_state st;

	ASSERT_EQ(0, gt_child_start(&self->c[0], -1, "gt-victim"));
	ASSERT_EQ(0, gt_child_lock(&self->c[0], x, GLOCK_SHARED, 0));
	gt_child_kill(&self->c[0]);
	ASSERT_EQ(0, gt_state(self->fd, x, &st));
	EXPECT_EQ(0, st.result);
	EXPECT_EQ(0, st.holders);
	EXPECT_EQ(0, consume(self->fd, x));
}

TEST_F(ab, close_while_holding_marks_abandoned)
{
	const char *x = gt_name("close");
	const char *y = gt_name("closed-clean");
	struct glock_state st;
	int fd2 = gt_open();

	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, gt_lock(fd2, x, GLOCK_EXCLUSIVE, 0));
	ASSERT_EQ(0, gt_lock(fd2, y, GLOCK_EXCLUSIVE, 0));
	ASSERT_EQ(0, gt_unlock(fd2, y));
	ASSERT_EQ(0, close(fd2));
	ASSERT_EQ(0, gt_state(self->fd, x, &st));
	EXPECT_EQ(0, st.holders);
	EXPECT_EQ(GLOCK_R_ABANDONED, st.result);
	/* A lock unlocked before the close carries no mark. */
	ASSERT_EQ(0, gt_state(self->fd, y, &st));
	EXPECT_EQ(0, st.result);
	EXPECT_EQ(GLOCK_R_ABANDONED, consume(self->fd, x));
	EXPECT_EQ(0, consume(self->fd, y));
}

TEST_F(ab, every_exclusive_hold_of_dead_owner_is_marked)
{
	const char *n[4] = { gt_name("all0"), gt_name("all1"),
			     gt_name("all2"), gt_name("allsh") };
	struct glock_state st;

	ASSERT_EQ(0, gt_child_start(&self->c[0], -1, "gt-victim"));
	for (int i = 0; i < 4; i++) {
		ASSERT_EQ(0, gt_child_lock(&self->c[0], n[i],
					   i < 3 ? GLOCK_EXCLUSIVE :
						   GLOCK_SHARED, 0));
	}
	gt_child_kill(&self->c[0]);
	for (int i = 0; i < 4; i++) {
		ASSERT_EQ(0, gt_state(self->fd, n[i], &st));
		EXPECT_EQ(0, st.holders);
		EXPECT_EQ(i < 3 ? GLOCK_R_ABANDONED : 0, st.result);
		EXPECT_EQ(i < 3 ? GLOCK_R_ABANDONED : 0, consume(self->fd, n[i]));
	}
}

TEST_F(ab, mark_kept_while_nobody_waits)
{
	const char *x = gt_name("idle");
	char *locks, *rec, key[300];
	struct glock_state st;

	ASSERT_EQ(0, gt_child_start(&self->c[0], -1, "gt-victim"));
	ASSERT_EQ(0, gt_child_lock(&self->c[0], x, GLOCK_EXCLUSIVE, 0));
	gt_child_kill(&self->c[0]);
	gt_sleep_ms(1000);

	ASSERT_EQ(0, gt_state(self->fd, x, &st));
	EXPECT_EQ(GLOCK_R_ABANDONED, st.result);
	EXPECT_EQ(0, st.holders);
	EXPECT_EQ(0, st.mode);
	locks = gt_debugfs("locks");
	ASSERT_NE(NULL, locks);
	snprintf(key, sizeof(key), "name=%s", x);
	rec = gt_find_rec(locks, "lock", 0, key, NULL);
	ASSERT_NE(NULL, rec) TH_LOG("no lock record for an idle mark");
	EXPECT_EQ(1, gt_kv_num(rec, "abandoned"));
	EXPECT_EQ(0, gt_kv_num(rec, "holders"));
	EXPECT_EQ(0, gt_kv_num(rec, "waiters"));
	free(rec);
	free(locks);
	EXPECT_EQ(GLOCK_R_ABANDONED, consume(self->fd, x));
}

TEST_F(ab, marks_table_is_bounded_oldest_dropped)
{
	const int keep = 3, make = 5;
	const char *n[5];
	struct glock_state st;
	long long dropped0, dropped1;

	self->saved_marks = gt_param_get("max_abandoned_marks");
	ASSERT_LT(0, self->saved_marks);
	EXPECT_EQ(1024, self->saved_marks); /* the default */
	ASSERT_EQ(0, gt_param_set("max_abandoned_marks", keep));
	dropped0 = gt_stat("marks_dropped");
	ASSERT_LE(0, dropped0);
	/* Older marks would be dropped first and spoil the count. */
	ASSERT_EQ(0, gt_stat("marks")) TH_LOG("marks left by an earlier test");

	for (int i = 0; i < make; i++) {
		int fd2 = gt_open();
		char tag[16];

		snprintf(tag, sizeof(tag), "mark%d", i);
		n[i] = strdup(gt_name(tag));
		ASSERT_LE(0, fd2);
		ASSERT_EQ(0, gt_lock(fd2, n[i], GLOCK_EXCLUSIVE, 0));
		ASSERT_EQ(0, close(fd2));
		gt_sleep_ms(5);
	}
	dropped1 = gt_stat("marks_dropped");
	EXPECT_EQ(make - keep, dropped1 - dropped0);
	for (int i = 0; i < make; i++) {
		ASSERT_EQ(0, gt_state(self->fd, n[i], &st));
		EXPECT_EQ(i < make - keep ? 0 : GLOCK_R_ABANDONED, st.result)
			TH_LOG("mark %d", i);
	}
	for (int i = 0; i < make; i++) {
		EXPECT_EQ(i < make - keep ? 0 : GLOCK_R_ABANDONED,
			  consume(self->fd, n[i]));
		free((void *)n[i]);
	}
}

TEST_F(ab, fork_shares_the_owner)
{
	const char *x = gt_name("fork");
	struct glock_state st;
	struct gt_rep rp;

	ASSERT_EQ(0, gt_lock(self->fd, x, GLOCK_EXCLUSIVE, 0));
	ASSERT_EQ(0, gt_child_start(&self->c[0], self->fd, "gt-forked"));

	/* The child is the same owner: it sees our depth and recurses. */
	ASSERT_EQ(0, gt_child_call(&self->c[0], GT_OP_STATE, x, 0, 0, &rp));
	EXPECT_EQ(1, rp.st.depth);
	ASSERT_EQ(0, gt_child_call(&self->c[0], GT_OP_LOCK, x,
				   GLOCK_EXCLUSIVE, 0, &rp));
	EXPECT_EQ(2, rp.depth);
	ASSERT_EQ(0, gt_child_call(&self->c[0], GT_OP_UNLOCK, x, 0, 0, &rp));
	EXPECT_EQ(1, rp.depth);
	ASSERT_EQ(0, gt_child_call(&self->c[0], GT_OP_UNLOCK, x, 0, 0, &rp));
	EXPECT_EQ(0, rp.depth);
	ASSERT_EQ(0, gt_state(self->fd, x, &st));
	EXPECT_EQ(0, st.holders);

	/* The child leaving does not end an owner we still have open. */
	ASSERT_EQ(0, gt_child_call(&self->c[0], GT_OP_LOCK, x,
				   GLOCK_EXCLUSIVE, 0, &rp));
	gt_child_kill(&self->c[0]);
	ASSERT_EQ(0, gt_state(self->fd, x, &st));
	EXPECT_EQ(1, st.holders);
	EXPECT_EQ(1, st.depth);
	EXPECT_EQ(0, st.result);
	ASSERT_EQ(0, gt_unlock(self->fd, x));
	EXPECT_EQ(0, consume(self->fd, x));
}

TEST_F(ab, dup_shares_the_owner)
{
	const char *x = gt_name("dup");
	struct glock_state st;
	int fd2 = dup(self->fd), other = gt_open();

	ASSERT_LE(0, fd2);
	ASSERT_LE(0, other);
	ASSERT_EQ(0, gt_lock(self->fd, x, GLOCK_EXCLUSIVE, 0));
	ASSERT_EQ(0, gt_state(fd2, x, &st));
	EXPECT_EQ(1, st.depth);
	ASSERT_EQ(0, gt_unlock(fd2, x));
	ASSERT_EQ(0, gt_lock(fd2, x, GLOCK_EXCLUSIVE, 0));
	/* Closing one of the two descriptors ends nothing. */
	ASSERT_EQ(0, close(fd2));
	ASSERT_EQ(0, gt_state(other, x, &st));
	EXPECT_EQ(1, st.holders);
	EXPECT_EQ(0, st.result);
	ASSERT_EQ(0, gt_state(self->fd, x, &st));
	EXPECT_EQ(1, st.depth);
	ASSERT_EQ(0, gt_unlock(self->fd, x));
	EXPECT_EQ(0, consume(other, x));
	close(other);
}

static int send_fd(int sock, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	char byte = 'f';
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	char byte;
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &msg, 0) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

TEST_F(ab, scm_rights_shares_the_owner)
{
	const char *x = gt_name("scm");
	struct glock_state st;
	struct pollfd pfd;
	int sv[2], status, answer[2] = { -1, -1 };
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		gt_close_other_fds(sv[1], -1, -1);
		alarm(30);
		/* Wait for the descriptor, then unlock what the parent took. */
		fd = recv_fd(sv[1]);
		if (fd < 0)
			_exit(10);
		answer[0] = gt_unlock(fd, x) ? errno : 0;
		answer[1] = gt_lock(fd, x, GLOCK_EXCLUSIVE, 0) ? errno : 0;
		if (write(sv[1], answer, sizeof(answer)) != sizeof(answer))
			_exit(11);
		_exit(0);
	}
	close(sv[1]);
	/* The child has no glock file until we pass ours. */
	ASSERT_EQ(0, gt_lock(self->fd, x, GLOCK_EXCLUSIVE, 0));
	ASSERT_EQ(0, send_fd(sv[0], self->fd));
	pfd.fd = sv[0];
	pfd.events = POLLIN;
	ASSERT_EQ(1, poll(&pfd, 1, GT_SOON_MS));
	ASSERT_EQ(sizeof(answer), read(sv[0], answer, sizeof(answer)));
	EXPECT_EQ(0, answer[0]);
	EXPECT_EQ(0, answer[1]);
	status = gt_reap(pid, GT_SOON_MS);
	EXPECT_TRUE(status >= 0 && WIFEXITED(status) && !WEXITSTATUS(status));
	/* It relocked through our owner, so we hold it. */
	ASSERT_EQ(0, gt_state(self->fd, x, &st));
	EXPECT_EQ(1, st.depth);
	EXPECT_EQ(0, st.result);
	ASSERT_EQ(0, gt_unlock(self->fd, x));
	close(sv[0]);
}

TEST_F(ab, mark_goes_to_first_of_a_shared_batch_only)
{
	const char *x = gt_name("batchmark");
	struct gt_rep r1, r2;

	ASSERT_EQ(0, gt_child_start(&self->c[0], -1, "gt-victim"));
	ASSERT_EQ(0, gt_child_start(&self->c[1], -1, "gt-s1"));
	ASSERT_EQ(0, gt_child_start(&self->c[2], -1, "gt-s2"));
	ASSERT_EQ(0, gt_child_lock(&self->c[0], x, GLOCK_EXCLUSIVE, 0));
	ASSERT_EQ(0, gt_child_send(&self->c[1], GT_OP_LOCK, x, GLOCK_SHARED,
				   30 * GT_NSEC, 0));
	ASSERT_EQ(0, gt_wait_waiters(self->fd, x, 1));
	ASSERT_EQ(0, gt_child_send(&self->c[2], GT_OP_LOCK, x, GLOCK_SHARED,
				   30 * GT_NSEC, 0));
	ASSERT_EQ(0, gt_wait_waiters(self->fd, x, 2));
	gt_child_kill(&self->c[0]);
	ASSERT_EQ(0, gt_child_wait(&self->c[1], &r1, GT_SOON_MS));
	ASSERT_EQ(0, gt_child_wait(&self->c[2], &r2, GT_SOON_MS));
	EXPECT_EQ(0, r1.ret);
	EXPECT_EQ(0, r2.ret);
	/* Once: the head of the queue is the next to acquire. */
	EXPECT_EQ(GLOCK_R_ABANDONED, r1.result);
	EXPECT_EQ(0, r2.result);
	ASSERT_EQ(0, gt_child_unlock(&self->c[1], x));
	ASSERT_EQ(0, gt_child_unlock(&self->c[2], x));
	EXPECT_EQ(0, consume(self->fd, x));
}

TEST_F(ab, owner_in_flight_over_scm_rights_stays_alive)
{
	const char *x = gt_name("inflight");
	struct glock_state st;
	int sv[2], fd2 = gt_open(), got;

	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	ASSERT_EQ(0, gt_lock(fd2, x, GLOCK_EXCLUSIVE, 0));
	ASSERT_EQ(0, send_fd(sv[0], fd2));
	/* Our only descriptor is gone; the file is in the socket. */
	ASSERT_EQ(0, close(fd2));
	ASSERT_EQ(0, gt_state(self->fd, x, &st));
	EXPECT_EQ(1, st.holders);
	EXPECT_EQ(0, st.result);
	got = recv_fd(sv[1]);
	ASSERT_LE(0, got);
	ASSERT_EQ(0, gt_state(got, x, &st));
	EXPECT_EQ(1, st.depth);
	EXPECT_EQ(0, gt_unlock(got, x));
	close(got);
	ASSERT_EQ(0, gt_state(self->fd, x, &st));
	EXPECT_EQ(0, st.holders);
	EXPECT_EQ(0, st.result);	/* unlocked before the last close */
	close(sv[0]);
	close(sv[1]);
}

TEST_F(ab, owner_ends_at_last_close_only)
{
	const char *x = gt_name("lastclose");
	struct glock_state st;
	int fd2 = gt_open(), other = gt_open();

	ASSERT_LE(0, fd2);
	ASSERT_LE(0, other);
	ASSERT_EQ(0, gt_lock(fd2, x, GLOCK_EXCLUSIVE, 0));
	ASSERT_EQ(0, gt_child_start(&self->c[0], fd2, "gt-keeper"));
	ASSERT_EQ(0, close(fd2));
	/* The child still has the file: nothing released. */
	gt_sleep_ms(100);
	ASSERT_EQ(0, gt_state(other, x, &st));
	EXPECT_EQ(1, st.holders);
	EXPECT_EQ(GLOCK_EXCLUSIVE, st.mode);
	EXPECT_EQ(0, st.result);
	EXPECT_EQ(-1, gt_trylock(other, x, GLOCK_EXCLUSIVE));
	EXPECT_EQ(EAGAIN, errno);

	/* Last reference gone: released, and marked abandoned. */
	gt_child_kill(&self->c[0]);
	ASSERT_EQ(0, gt_state(other, x, &st));
	EXPECT_EQ(0, st.holders);
	EXPECT_EQ(GLOCK_R_ABANDONED, st.result);
	EXPECT_EQ(GLOCK_R_ABANDONED, consume(other, x));
	close(other);
}

TEST_F(ab, killed_waiter_marks_nothing)
{
	const char *x = gt_name("waitkill");
	struct glock_state st;
	uint32_t result;

	ASSERT_EQ(0, gt_child_start(&self->c[0], -1, "gt-waiter"));
	ASSERT_EQ(0, gt_child_start(&self->c[1], -1, "gt-next"));
	ASSERT_EQ(0, gt_lock(self->fd, x, GLOCK_EXCLUSIVE, 0));
	ASSERT_EQ(0, gt_child_send(&self->c[0], GT_OP_LOCK, x,
				   GLOCK_EXCLUSIVE, -1, 0));
	ASSERT_EQ(0, gt_wait_waiters(self->fd, x, 1));
	gt_child_kill(&self->c[0]);
	ASSERT_EQ(0, gt_state(self->fd, x, &st));
	EXPECT_EQ(0, st.waiters);
	EXPECT_EQ(0, st.result);
	ASSERT_EQ(0, gt_unlock(self->fd, x));
	ASSERT_EQ(0, gt_state(self->fd, x, &st));
	EXPECT_EQ(0, st.result);
	EXPECT_EQ(0, st.holders);
	ASSERT_EQ(0, gt_lock_full(self->fd, x, GLOCK_EXCLUSIVE, 0, 0, &result,
				  NULL));
	EXPECT_EQ(0, result);
	ASSERT_EQ(0, gt_unlock(self->fd, x));
}

TEST_HARNESS_MAIN
