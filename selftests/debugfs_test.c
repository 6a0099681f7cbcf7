// SPDX-License-Identifier: GPL-2.0-only
/*
 * glock debugfs: /sys/kernel/debug/glock/{locks,owners,stats} records (type
 * word, then key=value pairs) for holders, waiters, owners and counters.
 */
#include "glock_test_util.h"
#include "kselftest_harness.h"

FIXTURE(dbg) {
	int fd;
	struct gt_child c[3];
};

FIXTURE_SETUP(dbg)
{
	if (access(GT_DEBUGFS, F_OK) && access("/sys/kernel/debug", F_OK))
		SKIP(return, "debugfs is not mounted");
	/* Our comm, as the records must show it; set before opening. */
	prctl(PR_SET_NAME, "gt-dbg-main");
	self->fd = gt_open();
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", GT_DEV, strerror(errno));
}

FIXTURE_TEARDOWN(dbg)
{
	for (int i = 0; i < 3; i++)
		gt_child_kill(&self->c[i]);
	if (self->fd > 0)
		close(self->fd);
}

/* The record of @type about lock @name (key "name" or "lock"), or NULL. */
static char *rec_for(const char *file, const char *type, const char *name,
		     int nth, const char *extra)
{
	char key[300], *buf = gt_debugfs(file), *rec;

	if (!buf)
		return NULL;
	snprintf(key, sizeof(key), "%s=%s",
		 strcmp(type, "lock") ? "lock" : "name", name);
	rec = gt_find_rec(buf, type, nth, key, extra, NULL);
	free(buf);
	return rec;
}

static char *owner_rec(const char *id)
{
	char key[64], *buf = gt_debugfs("owners"), *rec;

	if (!buf)
		return NULL;
	snprintf(key, sizeof(key), "id=%s", id);
	rec = gt_find_rec(buf, "owner", 0, key, NULL);
	free(buf);
	return rec;
}

static bool kv_is(const char *rec, const char *key, const char *val)
{
	char v[300];

	return rec && !gt_kv(rec, key, v, sizeof(v)) && !strcmp(v, val);
}

TEST_F(dbg, files_exist_mode_0400)
{
	static const char *const files[] = { "locks", "owners", "stats" };
	char path[128];
	struct stat sb;

	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), GT_DEBUGFS "/%s", files[i]);
		ASSERT_EQ(0, stat(path, &sb)) TH_LOG("%s", path);
		EXPECT_EQ(0400, sb.st_mode & 0777) TH_LOG("%s", path);
		EXPECT_TRUE(S_ISREG(sb.st_mode));
	}
}

TEST_F(dbg, holder_and_waiter_records)
{
	const char *x = gt_name("dbg");
	char *lock, *holder, *waiter, *ho, *wo, hid[32], wid[32], pid[16];
	struct gt_rep rp;

	ASSERT_EQ(0, gt_lock(self->fd, x, GLOCK_EXCLUSIVE, 0));
	ASSERT_EQ(0, gt_lock(self->fd, x, GLOCK_EXCLUSIVE, 0));
	ASSERT_EQ(0, gt_child_start(&self->c[0], -1, "gt-dbg-waiter"));
	ASSERT_EQ(0, gt_child_send(&self->c[0], GT_OP_LOCK, x,
				   GLOCK_EXCLUSIVE, 60 * GT_NSEC, 0));
	ASSERT_EQ(0, gt_wait_waiters(self->fd, x, 1));
	gt_sleep_ms(200);

	lock = rec_for("locks", "lock", x, 0, NULL);
	ASSERT_NE(NULL, lock) TH_LOG("no 'lock name=%s' record", x);
	TH_LOG("%s", lock);
	EXPECT_TRUE(kv_is(lock, "mode", "exclusive"));
	EXPECT_EQ(1, gt_kv_num(lock, "holders"));
	EXPECT_EQ(1, gt_kv_num(lock, "waiters"));
	EXPECT_EQ(0, gt_kv_num(lock, "abandoned"));
	EXPECT_LE(1, gt_kv_num(lock, "acquired"));
	EXPECT_LE(1, gt_kv_num(lock, "contended"));
	EXPECT_EQ(0, gt_kv_num(lock, "timeouts"));
	EXPECT_EQ(0, gt_kv_num(lock, "abandons"));
	EXPECT_LE(0, gt_kv_num(lock, "wait_max_ns"));
	EXPECT_LE(0, gt_kv_num(lock, "hold_max_ns"));
	EXPECT_LE(0, gt_kv_num(lock, "ipcns"));

	holder = rec_for("locks", "holder", x, 0, NULL);
	ASSERT_NE(NULL, holder);
	TH_LOG("%s", holder);
	snprintf(pid, sizeof(pid), "%d", getpid());
	EXPECT_TRUE(kv_is(holder, "pid", pid));
	EXPECT_TRUE(kv_is(holder, "kind", "user"));
	EXPECT_TRUE(kv_is(holder, "comm", "gt-dbg-main"));
	EXPECT_TRUE(kv_is(holder, "mode", "exclusive"));
	EXPECT_EQ(2, gt_kv_num(holder, "depth"));
	EXPECT_LE(200 * GT_MSEC, gt_kv_num(holder, "held_ns"));
	EXPECT_GT(600 * GT_NSEC, gt_kv_num(holder, "held_ns"));
	ASSERT_EQ(0, gt_kv(holder, "owner", hid, sizeof(hid)));
	EXPECT_EQ(NULL, rec_for("locks", "holder", x, 1, NULL));

	waiter = rec_for("locks", "waiter", x, 0, NULL);
	ASSERT_NE(NULL, waiter);
	TH_LOG("%s", waiter);
	snprintf(pid, sizeof(pid), "%d", self->c[0].pid);
	EXPECT_TRUE(kv_is(waiter, "pid", pid));
	EXPECT_TRUE(kv_is(waiter, "kind", "user"));
	EXPECT_TRUE(kv_is(waiter, "comm", "gt-dbg-waiter"));
	EXPECT_TRUE(kv_is(waiter, "mode", "exclusive"));
	EXPECT_LE(200 * GT_MSEC, gt_kv_num(waiter, "waited_ns"));
	ASSERT_EQ(0, gt_kv(waiter, "owner", wid, sizeof(wid)));
	EXPECT_STRNE(hid, wid);

	/* The owners behind them. */
	ho = owner_rec(hid);
	ASSERT_NE(NULL, ho) TH_LOG("no 'owner id=%s'", hid);
	TH_LOG("%s", ho);
	EXPECT_TRUE(kv_is(ho, "kind", "user"));
	snprintf(pid, sizeof(pid), "%d", getpid());
	EXPECT_TRUE(kv_is(ho, "pid", pid));
	EXPECT_TRUE(kv_is(ho, "comm", "gt-dbg-main"));
	EXPECT_EQ(1, gt_kv_num(ho, "locks"));
	EXPECT_EQ(0, gt_kv_num(ho, "waits"));
	EXPECT_LE(0, gt_kv_num(ho, "ipcns"));
	wo = owner_rec(wid);
	ASSERT_NE(NULL, wo);
	TH_LOG("%s", wo);
	EXPECT_EQ(0, gt_kv_num(wo, "locks"));
	EXPECT_EQ(1, gt_kv_num(wo, "waits"));
	EXPECT_TRUE(kv_is(wo, "comm", "gt-dbg-waiter"));

	/* Hand-off: the waiter becomes the holder, with its own owner id. */
	ASSERT_EQ(0, gt_unlock(self->fd, x));
	ASSERT_EQ(0, gt_unlock(self->fd, x));
	ASSERT_EQ(0, gt_child_wait(&self->c[0], &rp, GT_SOON_MS));
	free(holder);
	holder = rec_for("locks", "holder", x, 0, NULL);
	ASSERT_NE(NULL, holder);
	EXPECT_TRUE(kv_is(holder, "owner", wid));
	EXPECT_EQ(1, gt_kv_num(holder, "depth"));
	EXPECT_EQ(NULL, rec_for("locks", "waiter", x, 0, NULL));
	free(lock);
	lock = rec_for("locks", "lock", x, 0, NULL);
	ASSERT_NE(NULL, lock);
	EXPECT_EQ(0, gt_kv_num(lock, "waiters"));
	EXPECT_LE(2, gt_kv_num(lock, "acquired"));
	EXPECT_LE(200 * GT_MSEC, gt_kv_num(lock, "wait_max_ns"));
	EXPECT_LE(200 * GT_MSEC, gt_kv_num(lock, "hold_max_ns"));
	ASSERT_EQ(0, gt_child_unlock(&self->c[0], x));

	/* Free and unmarked: no record left at all. */
	EXPECT_EQ(NULL, rec_for("locks", "lock", x, 0, NULL));
	EXPECT_EQ(NULL, rec_for("locks", "holder", x, 0, NULL));
	free(lock);
	free(holder);
	free(waiter);
	free(ho);
	free(wo);
}

TEST_F(dbg, shared_holders_each_listed)
{
	const char *x = gt_name("dbgsh");
	char *lock, *h0, *h1;

	ASSERT_EQ(0, gt_child_start(&self->c[0], -1, "gt-dbg-sh"));
	ASSERT_EQ(0, gt_lock(self->fd, x, GLOCK_SHARED, 0));
	ASSERT_EQ(0, gt_child_lock(&self->c[0], x, GLOCK_SHARED, 0));
	lock = rec_for("locks", "lock", x, 0, NULL);
	ASSERT_NE(NULL, lock);
	EXPECT_TRUE(kv_is(lock, "mode", "shared"));
	EXPECT_EQ(2, gt_kv_num(lock, "holders"));
	h0 = rec_for("locks", "holder", x, 0, "mode=shared");
	h1 = rec_for("locks", "holder", x, 1, "mode=shared");
	EXPECT_NE(NULL, h0);
	EXPECT_NE(NULL, h1);
	EXPECT_EQ(NULL, rec_for("locks", "holder", x, 2, NULL));
	ASSERT_EQ(0, gt_unlock(self->fd, x));
	ASSERT_EQ(0, gt_child_unlock(&self->c[0], x));
	free(lock);
	free(h0);
	free(h1);
}

TEST_F(dbg, per_lock_counters)
{
	const char *x = gt_name("cnt");
	char *lock;
	struct gt_rep rp;

	/* We hold; c0 waits; c1 times out after 100 ms. */
	ASSERT_EQ(0, gt_child_start(&self->c[0], -1, "gt-cnt-wait"));
	ASSERT_EQ(0, gt_child_start(&self->c[1], -1, "gt-cnt-tmo"));
	ASSERT_EQ(0, gt_lock(self->fd, x, GLOCK_EXCLUSIVE, 0));
	ASSERT_EQ(0, gt_child_send(&self->c[0], GT_OP_LOCK, x,
				   GLOCK_EXCLUSIVE, 60 * GT_NSEC, 0));
	ASSERT_EQ(0, gt_wait_waiters(self->fd, x, 1));
	EXPECT_EQ(-1, gt_child_lock(&self->c[1], x, GLOCK_EXCLUSIVE,
				    100 * GT_MSEC));
	EXPECT_EQ(ETIMEDOUT, errno);
	gt_sleep_ms(200);
	ASSERT_EQ(0, gt_unlock(self->fd, x));
	ASSERT_EQ(0, gt_child_wait(&self->c[0], &rp, GT_SOON_MS));

	lock = rec_for("locks", "lock", x, 0, NULL);
	ASSERT_NE(NULL, lock);
	TH_LOG("%s", lock);
	EXPECT_EQ(2, gt_kv_num(lock, "acquired"));
	EXPECT_LE(1, gt_kv_num(lock, "contended"));
	EXPECT_GE(2, gt_kv_num(lock, "contended"));
	EXPECT_EQ(1, gt_kv_num(lock, "timeouts"));
	EXPECT_EQ(0, gt_kv_num(lock, "abandons"));
	EXPECT_LE(300 * GT_MSEC, gt_kv_num(lock, "wait_max_ns"));
	EXPECT_LE(300 * GT_MSEC, gt_kv_num(lock, "hold_max_ns"));
	EXPECT_GT(60 * GT_NSEC, gt_kv_num(lock, "hold_max_ns"));
	free(lock);

	/* The holder dies: abandoned=1 abandons=1 on the idle record. */
	gt_child_kill(&self->c[0]);
	lock = rec_for("locks", "lock", x, 0, NULL);
	ASSERT_NE(NULL, lock);
	TH_LOG("%s", lock);
	EXPECT_EQ(1, gt_kv_num(lock, "abandoned"));
	EXPECT_EQ(1, gt_kv_num(lock, "abandons"));
	EXPECT_EQ(0, gt_kv_num(lock, "holders"));
	EXPECT_TRUE(kv_is(lock, "mode", "free"));
	free(lock);
	ASSERT_EQ(0, gt_lock(self->fd, x, GLOCK_EXCLUSIVE, 0));
	ASSERT_EQ(0, gt_unlock(self->fd, x));
	EXPECT_EQ(NULL, rec_for("locks", "lock", x, 0, NULL));
}

TEST_F(dbg, stats_counters_move)
{
	const char *x = gt_name("st");
	long long owners, locks, acquired, contended, timeouts, abandons;
	long long marks;
	struct gt_rep rp;
	int fd2;

	owners = gt_stat("owners");
	locks = gt_stat("locks");
	ASSERT_LE(1, owners);
	ASSERT_LE(0, locks);
	fd2 = gt_open();
	ASSERT_LE(0, fd2);
	EXPECT_EQ(owners + 1, gt_stat("owners"));
	close(fd2);
	EXPECT_EQ(owners, gt_stat("owners"));

	acquired = gt_stat("acquired");
	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(0, gt_lock(self->fd, x, GLOCK_SHARED, 0));
		EXPECT_EQ(locks + 1, gt_stat("locks"));
		ASSERT_EQ(0, gt_unlock(self->fd, x));
	}
	EXPECT_EQ(acquired + 3, gt_stat("acquired"));
	EXPECT_EQ(locks, gt_stat("locks"));

	ASSERT_EQ(0, gt_child_start(&self->c[0], -1, "gt-st"));
	ASSERT_EQ(0, gt_lock(self->fd, x, GLOCK_EXCLUSIVE, 0));
	contended = gt_stat("contended");
	timeouts = gt_stat("timeouts");
	EXPECT_EQ(-1, gt_child_lock(&self->c[0], x, GLOCK_EXCLUSIVE,
				    50 * GT_MSEC));
	EXPECT_EQ(ETIMEDOUT, errno);
	EXPECT_EQ(contended + 1, gt_stat("contended"));
	EXPECT_EQ(timeouts + 1, gt_stat("timeouts"));
	ASSERT_EQ(0, gt_unlock(self->fd, x));

	abandons = gt_stat("abandons");
	marks = gt_stat("marks");
	ASSERT_EQ(0, gt_child_call(&self->c[0], GT_OP_LOCK, x,
				   GLOCK_EXCLUSIVE, 0, &rp));
	gt_child_kill(&self->c[0]);
	EXPECT_EQ(abandons + 1, gt_stat("abandons"));
	EXPECT_EQ(marks + 1, gt_stat("marks"));
	EXPECT_EQ(locks + 1, gt_stat("locks"));	/* the idle mark */
	ASSERT_EQ(0, gt_lock(self->fd, x, GLOCK_EXCLUSIVE, 0));
	ASSERT_EQ(0, gt_unlock(self->fd, x));
	EXPECT_EQ(marks, gt_stat("marks"));
	EXPECT_EQ(locks, gt_stat("locks"));
}

TEST_F(dbg, record_syntax)
{
	static const char *const files[] = { "locks", "owners", "stats" };
	static const char *const types[3][3] = {
		{ "lock", "holder", "waiter" }, { "owner" }, { "stats" } };
	const char *x = gt_name("syn");
	int lines[3] = { 0 };

	ASSERT_EQ(0, gt_lock(self->fd, x, GLOCK_EXCLUSIVE, 0));
	ASSERT_EQ(0, gt_child_start(&self->c[0], -1, "gt-syn"));
	ASSERT_EQ(0, gt_child_send(&self->c[0], GT_OP_LOCK, x,
				   GLOCK_SHARED, 60 * GT_NSEC, 0));
	ASSERT_EQ(0, gt_wait_waiters(self->fd, x, 1));

	for (int f = 0; f < 3; f++) {
		char *buf = gt_debugfs(files[f]), *save, *line;

		ASSERT_NE(NULL, buf);
		for (line = strtok_r(buf, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			char *sp = strchr(line, ' '), *tok, *s2;
			bool known = false;

			lines[f]++;
			ASSERT_NE(NULL, sp) TH_LOG("%s: '%s'", files[f], line);
			for (int t = 0; t < 3 && types[f][t]; t++)
				if (!strncmp(line, types[f][t], sp - line) &&
				    strlen(types[f][t]) == (size_t)(sp - line))
					known = true;
			EXPECT_TRUE(known) TH_LOG("%s: '%s'", files[f], line);
			/* Single spaces, every token key=value. */
			EXPECT_EQ(NULL, strstr(line, "  "));
			for (tok = strtok_r(sp + 1, " ", &s2); tok;
			     tok = strtok_r(NULL, " ", &s2)) {
				char *eq = strchr(tok, '=');

				EXPECT_TRUE(eq && eq != tok && eq[1])
					TH_LOG("%s: token '%s'", files[f], tok);
			}
		}
		free(buf);
	}
	EXPECT_LE(3, lines[0]);
	EXPECT_LE(2, lines[1]);
	EXPECT_EQ(1, lines[2]);
	ASSERT_EQ(0, gt_unlock(self->fd, x));
}

/* The namespace's identity as user space sees it (/proc/PID/ns/ipc, lsns). */
static unsigned long ipc_ns_ino(void)
{
	struct stat sb;

	return stat("/proc/self/ns/ipc", &sb) ? 0 : (unsigned long)sb.st_ino;
}

static long long holder_owner_ipcns(const char *name, int nth)
{
	char *h = rec_for("locks", "holder", name, nth, NULL), id[32], *o;
	long long ns = -1;

	if (h && !gt_kv(h, "owner", id, sizeof(id))) {
		o = owner_rec(id);
		if (o)
			ns = gt_kv_num(o, "ipcns");
		free(o);
	}
	free(h);
	return ns;
}

TEST_F(dbg, ipc_namespaces_are_told_apart)
{
	const char *x = gt_name("dbgns");
	unsigned long ino0 = ipc_ns_ino(), ino1;
	long long lns[2], ons[2];
	char *rec;
	int newfd;

	ASSERT_EQ(0, gt_lock(self->fd, x, GLOCK_EXCLUSIVE, 0));
	ASSERT_EQ(0, unshare(CLONE_NEWIPC));
	ino1 = ipc_ns_ino();
	ASSERT_NE(ino0, ino1);
	newfd = gt_open();
	ASSERT_LE(0, newfd);
	ASSERT_EQ(0, gt_lock(newfd, x, GLOCK_EXCLUSIVE, 0));

	for (int i = 0; i < 2; i++) {
		rec = rec_for("locks", "lock", x, i, NULL);
		ASSERT_NE(NULL, rec) TH_LOG("lock record %d missing", i);
		TH_LOG("%s", rec);
		lns[i] = gt_kv_num(rec, "ipcns");
		free(rec);
		ons[i] = holder_owner_ipcns(x, i);
	}
	/* Owners carry their namespace's inode number... */
	EXPECT_TRUE((ons[0] == (long long)ino0 && ons[1] == (long long)ino1) ||
		    (ons[0] == (long long)ino1 && ons[1] == (long long)ino0))
		TH_LOG("owner ipcns %lld %lld, namespaces %lu %lu",
		       ons[0], ons[1], ino0, ino1);
	/* ...and the two same-named locks are told apart the same way. */
	EXPECT_NE(lns[0], lns[1]) TH_LOG("both lock records say ipcns=%lld",
					 lns[0]);
	EXPECT_TRUE((lns[0] == (long long)ino0 && lns[1] == (long long)ino1) ||
		    (lns[0] == (long long)ino1 && lns[1] == (long long)ino0))
		TH_LOG("lock ipcns %lld %lld, namespaces %lu %lu",
		       lns[0], lns[1], ino0, ino1);
	EXPECT_EQ(0, gt_unlock(newfd, x));
	EXPECT_EQ(0, gt_unlock(self->fd, x));
	close(newfd);
}

TEST_F(dbg, long_names_and_odd_comms_keep_the_syntax)
{
	char name[GLOCK_NAME_MAX + 1], key[GLOCK_NAME_MAX + 8], *buf, *rec;
	char pid[16], v[64], *orec;
	struct glock_lock lk;
	int fd2;

	snprintf(pid, sizeof(pid), "%d", getpid());

	/* 255 bytes, printed whole. */
	memset(name, '~', GLOCK_NAME_MAX);
	snprintf(name, 16, "gt-%d-", getpid());
	name[strlen(name)] = '~';
	name[GLOCK_NAME_MAX] = 0;
	gt_fill_lock(&lk, name, GLOCK_NAME_MAX, GLOCK_EXCLUSIVE, 0, 0);
	ASSERT_EQ(0, ioctl(self->fd, GLOCK_IOC_LOCK, &lk));
	buf = gt_debugfs("locks");
	ASSERT_NE(NULL, buf);
	snprintf(key, sizeof(key), "name=%s", name);
	rec = gt_find_rec(buf, "lock", 0, key, NULL);
	EXPECT_NE(NULL, rec) TH_LOG("no record with the 255-byte name");
	free(rec);
	free(buf);
	gt_fill_lock(&lk, name, GLOCK_NAME_MAX, 0, 0, 0);
	ASSERT_EQ(0, ioctl(self->fd, GLOCK_IOC_UNLOCK, &lk));

	/*
	 * A comm is any 15 bytes, spaces and '=' included: it must not
	 * split into extra tokens or forge keys.
	 */
	prctl(PR_SET_NAME, "gt x=1 y");
	fd2 = gt_open();
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, gt_lock(fd2, gt_name("comm"), GLOCK_EXCLUSIVE, 0));
	prctl(PR_SET_NAME, "gt-dbg-main");
	rec = rec_for("locks", "holder", gt_name("comm"), 0, NULL);
	ASSERT_NE(NULL, rec);
	ASSERT_EQ(0, gt_kv(rec, "owner", v, sizeof(v)));
	orec = owner_rec(v);
	ASSERT_NE(NULL, orec);
	TH_LOG("%s", orec);
	EXPECT_EQ(-1, gt_kv(orec, "x", v, sizeof(v)));
	EXPECT_TRUE(kv_is(orec, "pid", pid));
	EXPECT_EQ(1, gt_kv_num(orec, "locks"));
	free(orec);
	TH_LOG("%s", rec);
	EXPECT_EQ(-1, gt_kv(rec, "x", v, sizeof(v)));
	EXPECT_TRUE(kv_is(rec, "pid", pid));
	EXPECT_EQ(1, gt_kv_num(rec, "depth"));
	for (char *t = strchr(rec, ' '); t; t = strchr(t + 1, ' ')) {
		char *next = strchr(t + 1, ' '), *eq = strchr(t + 1, '=');

		EXPECT_TRUE(eq && (!next || eq < next)) TH_LOG("at '%s'", t);
	}
	free(rec);
	EXPECT_EQ(0, gt_unlock(fd2, gt_name("comm")));
	close(fd2);
}

TEST_HARNESS_MAIN
