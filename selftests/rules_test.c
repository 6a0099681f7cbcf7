// SPDX-License-Identifier: GPL-2.0-only
/*
 * glock access rules and quotas: rules per IPC namespace read like file
 * modes against the opener's credentials; SET_RULES needs CAP_SYS_ADMIN
 * over the namespace; per-uid quotas; abandoned marks charged per uid.
 * Unprivileged owners are children that drop to uid 65534 (or 1000).
 */
#include <grp.h>
#include <sys/syscall.h>

#include "glock_test_util.h"
#include "kselftest_harness.h"

#define NOBODY	65534
#define USER	1000
#define GROUP	1234	/* the rules' group */

struct rule_spec {
	const char *pattern;
	uint32_t uid;
	uint32_t gid;
	uint32_t mode;
};

static int set_rules(int fd, const struct rule_spec *spec, unsigned int n)
{
	struct glock_rule r[16];
	struct glock_rules rs;

	memset(r, 0, sizeof(r));
	for (unsigned int i = 0; i < n; i++) {
		r[i].pattern = (uintptr_t)spec[i].pattern;
		r[i].pattern_len = strlen(spec[i].pattern);
		r[i].uid = spec[i].uid;
		r[i].gid = spec[i].gid;
		r[i].mode = spec[i].mode;
	}
	memset(&rs, 0, sizeof(rs));
	rs.rules = (uintptr_t)r;
	rs.count = n;
	return ioctl(fd, GLOCK_IOC_SET_RULES, &rs);
}

static int clear_rules(int fd)
{
	return set_rules(fd, NULL, 0);
}

/* GET into @r (capacity @cap) with 255-byte buffers in @bufs. */
static int get_rules(int fd, struct glock_rule *r, char (*bufs)[256],
		     unsigned int cap, unsigned int *count)
{
	struct glock_rules rs;
	int ret;

	memset(r, GT_POISON, sizeof(*r) * (cap ? cap : 1));
	for (unsigned int i = 0; i < cap; i++) {
		memset(bufs[i], 0, 256);
		r[i].pattern = (uintptr_t)bufs[i];
	}
	memset(&rs, 0, sizeof(rs));
	rs.rules = (uintptr_t)r;
	rs.count = cap;
	ret = ioctl(fd, GLOCK_IOC_GET_RULES, &rs);
	*count = rs.count;
	return ret;
}

/* Become @uid/@gid with @groups, as a non-root user (no capabilities). */
static int drop_to(uid_t uid, gid_t gid, const gid_t *groups, int ngroups)
{
	if (setgroups(ngroups, groups) || setresgid(gid, gid, gid) ||
	    setresuid(uid, uid, uid))
		return -1;
	return 0;
}

struct creds {
	uid_t uid;
	gid_t gid;
	const gid_t *groups;
	int ngroups;
};

static int drop_creds(const void *p)
{
	const struct creds *cr = p;

	return drop_to(cr->uid, cr->gid, cr->groups, cr->ngroups);
}

/*
 * An owner process running as @uid/@gid (+ @groups). @fd >= 0: it keeps
 * that inherited file (opened by someone else); else it opens its own
 * after dropping privileges.
 */
static int start_as(struct gt_child *c, uid_t uid, gid_t gid,
		    const gid_t *groups, int ngroups, int fd)
{
	struct creds cr = { uid, gid, groups, ngroups };

	return gt_child_start_prep(c, fd, NULL, drop_creds, &cr);
}

FIXTURE(rules) {
	int fd;
	char pat[64];
	char x[64];
	long long saved_user_max;
	long long saved_marks;
};

FIXTURE_SETUP(rules)
{
	self->fd = gt_open();
	ASSERT_LE(0, self->fd);
	snprintf(self->pat, sizeof(self->pat), "gt-%d-i2c-*", getpid());
	snprintf(self->x, sizeof(self->x), "gt-%d-i2c-1", getpid());
	self->saved_user_max = gt_param_get("max_locks_per_user");
	self->saved_marks = gt_param_get("max_abandoned_marks");
	ASSERT_EQ(0, clear_rules(self->fd));
}

FIXTURE_TEARDOWN(rules)
{
	clear_rules(self->fd);
	if (self->saved_user_max > 0)
		gt_param_set("max_locks_per_user", self->saved_user_max);
	if (self->saved_marks >= 0)
		gt_param_set("max_abandoned_marks", self->saved_marks);
	close(self->fd);
}

TEST_F(rules, set_needs_cap_sys_admin)
{
	struct rule_spec spec = { self->pat, 0, GROUP, 0660 };
	pid_t pid;
	int status;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int fd;

		if (drop_to(NOBODY, NOBODY, NULL, 0))
			_exit(10);
		fd = gt_open();
		if (fd < 0)
			_exit(11);
		if (set_rules(fd, &spec, 1) != -1 || errno != EPERM)
			_exit(12);
		if (clear_rules(fd) != -1 || errno != EPERM)
			_exit(13);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST_F(rules, get_round_trips)
{
	struct rule_spec spec[] = {
		{ self->pat, 0, GROUP, 0660 },
		{ "gt-exact", USER, 0, 0640 },
		{ "*", 0, 0, 0666 },
	};
	struct glock_rule r[4];
	char bufs[4][256], *dbg;
	unsigned int n;

	ASSERT_EQ(0, set_rules(self->fd, spec, 3));
	ASSERT_EQ(0, get_rules(self->fd, r, bufs, 4, &n));
	ASSERT_EQ(3, n);
	for (int i = 0; i < 3; i++) {
		EXPECT_EQ(strlen(spec[i].pattern), r[i].pattern_len);
		EXPECT_EQ(0, memcmp(bufs[i], spec[i].pattern,
				    strlen(spec[i].pattern)));
		EXPECT_EQ(0, bufs[i][strlen(spec[i].pattern)]);
		EXPECT_EQ(spec[i].uid, r[i].uid);
		EXPECT_EQ(spec[i].gid, r[i].gid);
		EXPECT_EQ(spec[i].mode, r[i].mode);
		EXPECT_EQ(0, r[i].flags);
		EXPECT_EQ(0, r[i].padding[0]);
	}
	/* Smaller capacity: what fits, and the full count. */
	ASSERT_EQ(0, get_rules(self->fd, r, bufs, 1, &n));
	EXPECT_EQ(3, n);
	EXPECT_EQ(strlen(spec[0].pattern), r[0].pattern_len);
	/* The stats and the debugfs list agree. */
	EXPECT_EQ(3, gt_stat("rules"));
	dbg = gt_debugfs("rules");
	ASSERT_NE(NULL, dbg);
	EXPECT_NE(NULL, strstr(dbg, "pattern=gt-exact uid=1000 gid=0 mode=0640"));
	free(dbg);
	ASSERT_EQ(0, clear_rules(self->fd));
	ASSERT_EQ(0, get_rules(self->fd, r, bufs, 4, &n));
	EXPECT_EQ(0, n);
}

TEST_F(rules, bad_input_changes_nothing)
{
	struct rule_spec good = { self->pat, 0, GROUP, 0660 };
	char spaced[] = "a b", big[300];
	struct glock_rule r[4], one;
	struct glock_rules rs;
	char bufs[4][256];
	unsigned int n;
	long long max = gt_param_get("max_rules");

	memset(big, 'a', sizeof(big));
	ASSERT_EQ(0, set_rules(self->fd, &good, 1));

	struct bad_rule {
		const char *what, *pattern;
		uint32_t len, uid, gid, mode, flags;
	} bad[] = {
		{ "len 0", "x", 0, 0, 0, 0644, 0 },
		{ "len 256", big, 256, 0, 0, 0644, 0 },
		{ "space", spaced, 3, 0, 0, 0644, 0 },
		{ "x bit", "x", 1, 0, 0, 0755, 0 },
		{ "mode 01000", "x", 1, 0, 0, 01000, 0 },
		{ "flags", "x", 1, 0, 0, 0644, 1 },
		{ "uid -1", "x", 1, (uint32_t)-1, 0, 0644, 0 },
		{ "gid -1", "x", 1, 0, (uint32_t)-1, 0644, 0 },
	};
	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
		memset(&one, 0, sizeof(one));
		one.pattern = (uintptr_t)bad[i].pattern;
		one.pattern_len = bad[i].len;
		one.uid = bad[i].uid;
		one.gid = bad[i].gid;
		one.mode = bad[i].mode;
		one.flags = bad[i].flags;
		memset(&rs, 0, sizeof(rs));
		rs.rules = (uintptr_t)&one;
		rs.count = 1;
		EXPECT_EQ(-1, ioctl(self->fd, GLOCK_IOC_SET_RULES, &rs))
			TH_LOG("%s", bad[i].what);
		EXPECT_EQ(EINVAL, errno) TH_LOG("%s", bad[i].what);
	}
	/* Padding of a rule, of the header; a flag on the header. */
	memset(&one, 0, sizeof(one));
	one.pattern = (uintptr_t)"x";
	one.pattern_len = 1;
	one.mode = 0644;
	one.padding[8] = 1;
	memset(&rs, 0, sizeof(rs));
	rs.rules = (uintptr_t)&one;
	rs.count = 1;
	EXPECT_EQ(-1, ioctl(self->fd, GLOCK_IOC_SET_RULES, &rs));
	EXPECT_EQ(EINVAL, errno);
	one.padding[8] = 0;
	rs.padding[11] = 1;
	EXPECT_EQ(-1, ioctl(self->fd, GLOCK_IOC_SET_RULES, &rs));
	EXPECT_EQ(EINVAL, errno);
	rs.padding[11] = 0;
	rs.flags = 1;
	EXPECT_EQ(-1, ioctl(self->fd, GLOCK_IOC_SET_RULES, &rs));
	EXPECT_EQ(EINVAL, errno);
	/* A bad pointer, a count over max_rules. */
	rs.flags = 0;
	rs.rules = 8;
	EXPECT_EQ(-1, ioctl(self->fd, GLOCK_IOC_SET_RULES, &rs));
	EXPECT_EQ(EFAULT, errno);
	rs.rules = (uintptr_t)&one;
	rs.count = max + 1;
	EXPECT_EQ(-1, ioctl(self->fd, GLOCK_IOC_SET_RULES, &rs));
	EXPECT_EQ(ENOSPC, errno);

	/* The table is as it was. */
	ASSERT_EQ(0, get_rules(self->fd, r, bufs, 4, &n));
	ASSERT_EQ(1, n);
	EXPECT_EQ(0, memcmp(bufs[0], self->pat, strlen(self->pat)));
	EXPECT_EQ(0660, r[0].mode);
}

/* The shipped example, "i2c-* root i2c 0660": who may lock, who may look. */
TEST_F(rules, classes_like_a_file)
{
	struct rule_spec spec[] = {
		{ self->pat, 0, GROUP, 0640 },
	};
	const gid_t grp[] = { GROUP };
	struct gt_child nobody, member, root;
	struct gt_rep rp;

	ASSERT_EQ(0, set_rules(self->fd, spec, 1));
	ASSERT_EQ(0, start_as(&nobody, NOBODY, NOBODY, NULL, 0, -1));
	ASSERT_EQ(0, start_as(&member, NOBODY, NOBODY, grp, 1, -1));
	ASSERT_EQ(0, gt_child_start(&root, -1, "gt-root"));

	/* other: ---; group: r--; root: bypass. */
	EXPECT_EQ(-1, gt_child_lock(&nobody, self->x, GLOCK_EXCLUSIVE, 0));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(-1, gt_child_call(&nobody, GT_OP_STATE, self->x, 0, 0, &rp));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(-1, gt_child_lock(&member, self->x, GLOCK_SHARED, 0));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(0, gt_child_call(&member, GT_OP_STATE, self->x, 0, 0, &rp));
	EXPECT_EQ(0, gt_child_lock(&root, self->x, GLOCK_EXCLUSIVE, 0));
	/* Names no rule matches stay open. */
	EXPECT_EQ(0, gt_child_lock(&nobody, gt_name("open"), GLOCK_SHARED, 0));

	/* 0660: the group may lock too. */
	ASSERT_EQ(0, gt_child_unlock(&root, self->x));
	spec[0].mode = 0660;
	ASSERT_EQ(0, set_rules(self->fd, spec, 1));
	EXPECT_EQ(0, gt_child_lock(&member, self->x, GLOCK_EXCLUSIVE, 0));
	EXPECT_EQ(-1, gt_child_lock(&nobody, self->x, GLOCK_EXCLUSIVE, 0));
	EXPECT_EQ(EACCES, errno);
	EXPECT_LE(3, gt_stat("denials"));

	/* The user class: a rule naming uid 65534 with mode 0200. */
	spec[0].uid = NOBODY;
	spec[0].mode = 0200;
	ASSERT_EQ(0, gt_child_unlock(&member, self->x));
	ASSERT_EQ(0, set_rules(self->fd, spec, 1));
	EXPECT_EQ(0, gt_child_lock(&nobody, self->x, GLOCK_EXCLUSIVE, 0));
	EXPECT_EQ(-1, gt_child_call(&nobody, GT_OP_STATE, self->x, 0, 0, &rp));
	EXPECT_EQ(EACCES, errno);

	gt_child_kill(&nobody);
	gt_child_kill(&member);
	gt_child_kill(&root);
}

/* Rights are the opener's: a file passed on keeps them. */
TEST_F(rules, rights_follow_the_file)
{
	struct rule_spec spec = { self->pat, 0, 0, 0600 };
	int nfd, cfd, fd, pfd;
	struct gt_child c;
	int status, p[2];
	pid_t pid;

	ASSERT_EQ(0, set_rules(self->fd, &spec, 1));
	/* Root's file in uid 65534's hands: root's rights. */
	nfd = gt_open();
	ASSERT_LE(0, nfd);
	ASSERT_EQ(0, start_as(&c, NOBODY, NOBODY, NULL, 0, nfd));
	close(nfd);
	EXPECT_EQ(0, gt_child_lock(&c, self->x, GLOCK_EXCLUSIVE, 0));
	gt_child_kill(&c);

	/* uid 65534's file in root's hands: 65534's rights. */
	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int fd;

		if (drop_to(NOBODY, NOBODY, NULL, 0))
			_exit(10);
		fd = gt_open();
		if (fd < 0)
			_exit(11);
		/* Tell the parent which fd to take. */
		if (write(p[1], &fd, sizeof(fd)) != sizeof(fd))
			_exit(12);
		pause();
		_exit(0);
	}
	close(p[1]);
	ASSERT_EQ(sizeof(cfd), read(p[0], &cfd, sizeof(cfd)));
	/* The same open file, not a reopen: pidfd_getfd. */
	pfd = syscall(SYS_pidfd_open, pid, 0);
	ASSERT_LE(0, pfd);
	fd = syscall(SYS_pidfd_getfd, pfd, cfd, 0);
	close(pfd);
	ASSERT_LE(0, fd) TH_LOG("pidfd_getfd: %s", strerror(errno));
	EXPECT_EQ(-1, gt_lock(fd, self->x, GLOCK_EXCLUSIVE, 0));
	EXPECT_EQ(EACCES, errno);
	close(fd);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	close(p[0]);
}

/* UNLOCK is never checked; a rule change takes no hold or wait away. */
TEST_F(rules, changes_leave_holds_and_waits)
{
	struct rule_spec spec = { self->pat, 0, 0, 0600 };
	struct gt_child h, w;
	struct glock_state st;
	struct gt_rep rp;

	ASSERT_EQ(0, start_as(&h, NOBODY, NOBODY, NULL, 0, -1));
	ASSERT_EQ(0, start_as(&w, NOBODY, NOBODY, NULL, 0, -1));
	ASSERT_EQ(0, gt_child_lock(&h, self->x, GLOCK_SHARED, 0));
	ASSERT_EQ(0, gt_child_lock(&w, gt_name("block"), GLOCK_SHARED, 0));
	ASSERT_EQ(0, gt_child_unlock(&w, gt_name("block")));
	ASSERT_EQ(0, gt_lock(self->fd, gt_name("ex"), GLOCK_EXCLUSIVE, 0));
	ASSERT_EQ(0, gt_child_send(&w, GT_OP_LOCK, gt_name("ex"),
				   GLOCK_EXCLUSIVE, -1, 0));
	ASSERT_EQ(0, gt_wait_waiters(self->fd, gt_name("ex"), 1));

	spec.pattern = "gt-*";
	ASSERT_EQ(0, set_rules(self->fd, &spec, 1));
	/* The holder keeps its hold; recursion is checked, and refused. */
	ASSERT_EQ(0, gt_state(self->fd, self->x, &st));
	EXPECT_EQ(1, st.holders);
	EXPECT_EQ(-1, gt_child_lock(&h, self->x, GLOCK_SHARED, 0));
	EXPECT_EQ(EACCES, errno);
	ASSERT_EQ(0, gt_state(self->fd, self->x, &st));
	EXPECT_EQ(1, st.holders);
	/* The waiter is still queued, and granted on release. */
	ASSERT_EQ(0, gt_state(self->fd, gt_name("ex"), &st));
	EXPECT_EQ(1, st.waiters);
	ASSERT_EQ(0, gt_unlock(self->fd, gt_name("ex")));
	ASSERT_EQ(0, gt_child_wait(&w, &rp, GT_SOON_MS));
	EXPECT_EQ(0, rp.ret);
	/* Unlock is never checked. */
	EXPECT_EQ(0, gt_child_unlock(&h, self->x));
	EXPECT_EQ(0, gt_child_unlock(&w, gt_name("ex")));
	gt_child_kill(&h);
	gt_child_kill(&w);
}

/*
 * An unprivileged user's own user+IPC namespace: its root may set rules
 * there, and they apply there only.
 */
TEST_F(rules, own_namespace_only)
{
	struct rule_spec spec = { self->pat, 0, 0, 0600 };
	struct glock_rule r[2];
	char bufs[2][256];
	unsigned int n;
	pid_t pid;
	int status;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		char map[64];
		int fd, m, ok;
		pid_t inner;

		if (drop_to(NOBODY, NOBODY, NULL, 0))
			_exit(10);
		/* setresuid() made it undumpable: /proc/self would be root's. */
		prctl(PR_SET_DUMPABLE, 1);
		if (unshare(CLONE_NEWUSER | CLONE_NEWIPC))
			_exit(errno == EPERM || errno == EINVAL ? 4 : 11);
		m = open("/proc/self/setgroups", O_WRONLY);
		if (m < 0 || write(m, "deny", 4) != 4)
			_exit(12);
		close(m);
		snprintf(map, sizeof(map), "0 %d 1", NOBODY);
		m = open("/proc/self/uid_map", O_WRONLY);
		if (m < 0 || write(m, map, strlen(map)) != (ssize_t)strlen(map))
			_exit(13);
		close(m);
		m = open("/proc/self/gid_map", O_WRONLY);
		if (m < 0 || write(m, map, strlen(map)) != (ssize_t)strlen(map))
			_exit(14);
		close(m);
		fd = gt_open();
		if (fd < 0)
			_exit(15);
		/* Root of its own namespace: may set its rules. */
		spec.uid = 0;
		spec.mode = 0;
		if (set_rules(fd, &spec, 1))
			_exit(16);
		if (get_rules(fd, r, bufs, 2, &n) || n != 1 || r[0].uid != 0)
			_exit(17);
		/* The rule applies here, to a file opened without bypass. */
		inner = fork();
		if (!inner) {
			int f2;

			/* Lose CAP_DAC_OVERRIDE: a new user namespace. */
			if (unshare(CLONE_NEWUSER))
				_exit(20);
			f2 = gt_open();
			if (f2 < 0)
				_exit(21);
			/* The rule's user, whose class has no bits. */
			ok = gt_lock(f2, spec.pattern, GLOCK_EXCLUSIVE, 0);
			_exit(ok == -1 && errno == EACCES ? 0 : 22);
		}
		if (waitpid(inner, &status, 0) != inner)
			_exit(18);
		_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 19);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	if (WEXITSTATUS(status) == 4)
		SKIP(return, "unprivileged user namespaces are disabled");
	EXPECT_EQ(0, WEXITSTATUS(status));
	/* Nothing leaked into this namespace. */
	ASSERT_EQ(0, get_rules(self->fd, r, bufs, 2, &n));
	EXPECT_EQ(0, n);
}

/* max_locks_per_user caps one uid across its files; others go on. */
TEST_F(rules, per_user_quota)
{
	struct gt_child a, b, root;
	long long refusals = gt_stat("quota_refusals");
	char name[64];
	int got = 0;

	ASSERT_EQ(0, gt_param_set("max_locks_per_user", 5));
	ASSERT_EQ(0, start_as(&a, NOBODY, NOBODY, NULL, 0, -1));
	ASSERT_EQ(0, start_as(&b, NOBODY, NOBODY, NULL, 0, -1));
	ASSERT_EQ(0, gt_child_start(&root, -1, "gt-root"));
	for (int i = 0; i < 8; i++) {
		snprintf(name, sizeof(name), "gt-%d-q-%d", getpid(), i);
		if (!gt_child_lock(i % 2 ? &a : &b, name, GLOCK_SHARED, 0))
			got++;
		else
			EXPECT_EQ(ENOLCK, errno);
	}
	EXPECT_EQ(5, got);
	EXPECT_LT(refusals, gt_stat("quota_refusals"));
	/* Root is a different uid: its own quota. */
	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "gt-%d-qr-%d", getpid(), i);
		EXPECT_EQ(0, gt_child_lock(&root, name, GLOCK_SHARED, 0));
	}
	/* Closing gives the room back. */
	gt_child_kill(&a);
	snprintf(name, sizeof(name), "gt-%d-q-again", getpid());
	EXPECT_EQ(0, gt_child_lock(&b, name, GLOCK_SHARED, 0));
	gt_child_kill(&b);
	gt_child_kill(&root);
}

/* A flood of one uid's abandons never drops another uid's mark. */
TEST_F(rules, marks_are_charged_per_uid)
{
	char mine[64], junk[64];
	struct gt_child c;
	uint32_t result;
	int fd;

	ASSERT_EQ(0, gt_param_set("max_abandoned_marks", 10));
	snprintf(mine, sizeof(mine), "gt-%d-rootmark", getpid());
	ASSERT_EQ(0, gt_child_start(&c, -1, "gt-root"));
	ASSERT_EQ(0, gt_child_lock(&c, mine, GLOCK_EXCLUSIVE, 0));
	gt_child_kill(&c);

	for (int i = 0; i < 30; i++) {
		ASSERT_EQ(0, start_as(&c, NOBODY, NOBODY, NULL, 0, -1));
		snprintf(junk, sizeof(junk), "gt-%d-junk-%d", getpid(), i);
		ASSERT_EQ(0, gt_child_lock(&c, junk, GLOCK_EXCLUSIVE, 0));
		gt_child_kill(&c);
	}
	fd = gt_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gt_lock_full(fd, mine, GLOCK_EXCLUSIVE, 0, 0, &result,
				  NULL));
	EXPECT_EQ(GLOCK_R_ABANDONED, result & GLOCK_R_ABANDONED)
		TH_LOG("root's mark was dropped for uid 65534's junk");
	/* The junk kept at most what the table holds. */
	EXPECT_GE(10, gt_stat("marks"));
	close(fd);
	/* Consume what is left of the junk. */
	gt_param_set("max_abandoned_marks", 0);
}

TEST_HARNESS_MAIN
