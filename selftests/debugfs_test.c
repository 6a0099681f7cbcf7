// SPDX-License-Identifier: GPL-2.0-only
/*
 * glock debugfs: /sys/kernel/debug/glock/{locks,owners,stats} records (type
 * word, then key=value pairs) for holders, waiters, owners and counters;
 * "locks" and "owners" streamed a page at a time, whatever the read size.
 */
#include <pthread.h>
#include <sys/resource.h>

#include "glock_test_util.h"
#include "kselftest_harness.h"

FIXTURE(dbg) {
	int fd;
	struct gt_child c[3];
	long long saved_per_owner;
	long long saved_per_user;
};

FIXTURE_SETUP(dbg)
{
	if (access(GT_DEBUGFS, F_OK) && access("/sys/kernel/debug", F_OK))
		SKIP(return, "debugfs is not mounted");
	/* Our comm, as the records must show it; set before opening. */
	prctl(PR_SET_NAME, "gt-dbg-main");
	self->saved_per_owner = gt_param_get("max_locks_per_owner");
	self->saved_per_user = gt_param_get("max_locks_per_user");
	self->fd = gt_open();
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", GT_DEV, strerror(errno));
}

FIXTURE_TEARDOWN(dbg)
{
	for (int i = 0; i < 3; i++)
		gt_child_kill(&self->c[i]);
	if (self->fd > 0)
		close(self->fd);
	if (self->saved_per_owner > 0 &&
	    gt_param_get("max_locks_per_owner") != self->saved_per_owner)
		gt_param_set("max_locks_per_owner", self->saved_per_owner);
	if (self->saved_per_user > 0 &&
	    gt_param_get("max_locks_per_user") != self->saved_per_user)
		gt_param_set("max_locks_per_user", self->saved_per_user);
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

/*
 * A file keeps the last lock it released by name, so that taking it again
 * allocates nothing. Nothing shows it: no record, not counted, and its
 * counters go on only while it is kept.
 */
TEST_F(dbg, released_lock_kept_for_its_file_is_invisible)
{
	const char *x = gt_name("keep"), *y = gt_name("keep-other");
	long long locks = gt_stat("locks");
	char *lock;
	int fd2;

	ASSERT_EQ(0, gt_lock(self->fd, x, GLOCK_EXCLUSIVE, 0));
	ASSERT_EQ(0, gt_unlock(self->fd, x));
	EXPECT_EQ(NULL, rec_for("locks", "lock", x, 0, NULL));
	EXPECT_EQ(locks, gt_stat("locks"));

	/* Taken again by the same file: the same object, acquired=2. */
	ASSERT_EQ(0, gt_lock(self->fd, x, GLOCK_EXCLUSIVE, 0));
	lock = rec_for("locks", "lock", x, 0, NULL);
	ASSERT_NE(NULL, lock);
	EXPECT_EQ(2, gt_kv_num(lock, "acquired"));
	free(lock);
	ASSERT_EQ(0, gt_unlock(self->fd, x));

	/* Releasing another name lets it go: x starts afresh. */
	ASSERT_EQ(0, gt_lock(self->fd, y, GLOCK_SHARED, 0));
	ASSERT_EQ(0, gt_unlock(self->fd, y));
	ASSERT_EQ(0, gt_lock(self->fd, x, GLOCK_EXCLUSIVE, 0));
	lock = rec_for("locks", "lock", x, 0, NULL);
	ASSERT_NE(NULL, lock);
	EXPECT_EQ(1, gt_kv_num(lock, "acquired"));
	free(lock);
	ASSERT_EQ(0, gt_unlock(self->fd, x));

	/* Kept by two files at once, it is still a plain lock to both. */
	fd2 = gt_open();
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, gt_lock(fd2, x, GLOCK_EXCLUSIVE, 0));
	EXPECT_EQ(-1, gt_lock(self->fd, x, GLOCK_EXCLUSIVE, 0));
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, gt_unlock(fd2, x));
	EXPECT_EQ(NULL, rec_for("locks", "lock", x, 0, NULL));
	ASSERT_EQ(0, gt_lock(self->fd, x, GLOCK_SHARED, 0));
	ASSERT_EQ(0, gt_lock(fd2, x, GLOCK_SHARED, 0));
	lock = rec_for("locks", "lock", x, 0, NULL);
	ASSERT_NE(NULL, lock);
	EXPECT_EQ(4, gt_kv_num(lock, "acquired"));
	EXPECT_EQ(2, gt_kv_num(lock, "holders"));
	free(lock);
	ASSERT_EQ(0, gt_unlock(fd2, x));
	ASSERT_EQ(0, gt_unlock(self->fd, x));
	EXPECT_EQ(locks, gt_stat("locks"));
	close(fd2);
	EXPECT_EQ(NULL, rec_for("locks", "lock", x, 0, NULL));
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

/* ---- streaming: many locks, any read size, fixed format --------------- */

struct rd {
	char *buf;
	size_t len;
	int64_t ns;
};

/* Read debugfs @file with read()s of @chunk bytes; 0 on success. */
static int read_chunks(const char *file, size_t chunk, struct rd *r)
{
	size_t cap = 1 << 20;
	char path[256];
	ssize_t n = 0;
	int64_t t0;
	int fd;

	snprintf(path, sizeof(path), GT_DEBUGFS "/%s", file);
	r->len = 0;
	r->buf = malloc(cap);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || !r->buf) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	t0 = gt_now();
	for (;;) {
		if (cap - r->len < chunk + 1) {
			char *nb = realloc(r->buf, cap * 2);

			if (!nb)
				break;
			r->buf = nb;
			cap *= 2;
		}
		n = read(fd, r->buf + r->len, chunk);
		if (n <= 0)
			break;
		r->len += n;
	}
	r->ns = gt_now() - t0;
	close(fd);
	r->buf[r->len] = 0;
	return n < 0 ? -1 : 0;
}

/* Bulk names "gt-PID-sN" of this test. */
static const char *bulk(int i)
{
	static char buf[64];

	snprintf(buf, sizeof(buf), "gt-%d-s%d", getpid(), i);
	return buf;
}

/*
 * Count this test's bulk records in @buf: seen[i] lock lines for bulk(i),
 * *holders holder lines; and append every bulk lock line to @lines (all of
 * them are stable while the locks are held). Returns -1 on a line that is
 * not a known record or misses its newline.
 */
static int count_bulk(const char *buf, int n, int *seen, int *holders,
		      char *lines, size_t lsz)
{
	char lpfx[64], hpfx[64];
	size_t lpl, hpl, used = 0;
	const char *p = buf;

	snprintf(lpfx, sizeof(lpfx), "lock name=gt-%d-s", getpid());
	snprintf(hpfx, sizeof(hpfx), "holder lock=gt-%d-s", getpid());
	lpl = strlen(lpfx);
	hpl = strlen(hpfx);
	memset(seen, 0, n * sizeof(*seen));
	*holders = 0;
	if (lines)
		lines[0] = 0;
	while (*p) {
		const char *eol = strchr(p, '\n');
		char *end;
		long i;

		if (!eol)
			return -1;
		if (strncmp(p, "lock ", 5) && strncmp(p, "holder ", 7) &&
		    strncmp(p, "waiter ", 7))
			return -1;
		if (!strncmp(p, lpfx, lpl)) {
			i = strtol(p + lpl, &end, 10);
			if (*end == ' ' && i >= 0 && i < n)
				seen[i]++;
			if (lines && used + (eol - p) + 2 < lsz) {
				memcpy(lines + used, p, eol - p + 1);
				used += eol - p + 1;
				lines[used] = 0;
			}
		} else if (!strncmp(p, hpfx, hpl)) {
			(*holders)++;
		}
		p = eol + 1;
	}
	return 0;
}

#define NOWN	4

/* Every tenth is exclusive, to be unlocked (a close would mark it). */
static int bulk_mode(int i)
{
	return i % 10 ? GLOCK_SHARED : GLOCK_EXCLUSIVE;
}

static int hold_bulk(int *fds, int from, int to)
{
	for (int i = from; i < to; i++)
		if (gt_lock(fds[i % NOWN], bulk(i), bulk_mode(i), 0))
			return i;
	return -1;
}

struct churn {
	volatile bool stop;
	int fd;
	long ops;
};

/* Objects come and go while "locks" is read. */
static void *churn_fn(void *arg)
{
	struct churn *c = arg;
	char name[64];

	while (!c->stop) {
		snprintf(name, sizeof(name), "gt-%d-churn%ld", getpid(),
			 c->ops % 64);
		if (!gt_lock(c->fd, name, GLOCK_EXCLUSIVE, 0))
			gt_unlock(c->fd, name);
		c->ops++;
	}
	return NULL;
}

struct sleeper {
	volatile bool stop;
	int64_t worst_ns;
};

/* The worst lateness of a 1 ms sleep on the reader's CPU. */
static void *sleeper_fn(void *arg)
{
	struct sleeper *s = arg;

	while (!s->stop) {
		int64_t t0 = gt_now(), late;

		gt_sleep_ms(1);
		late = gt_now() - t0 - GT_MSEC;
		if (late > s->worst_ns)
			s->worst_ns = late;
	}
	return NULL;
}

static void pin_cpu0(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

TEST_F_TIMEOUT(dbg, locks_streams_every_lock_once, 900)
{
	const int n1 = 20000, n2 = 100000;
	int fds[NOWN], *seen, *seen2, holders, holders2, bad, i;
	size_t lsz = (size_t)n1 * 300;
	char *lines = malloc(lsz), *lines2 = malloc(lsz);
	struct sleeper sl = { 0 };
	struct churn ch = { 0 };
	struct rd big, small;
	long long marks;
	pthread_t t;

	seen = calloc(n2, sizeof(*seen));
	seen2 = calloc(n2, sizeof(*seen2));
	ASSERT_TRUE(seen && seen2 && lines && lines2);
	marks = gt_stat("marks");
	ASSERT_EQ(0, gt_param_set("max_locks_per_owner", n2));
	/* All held by this uid: its quota must allow them too. */
	ASSERT_EQ(0, gt_param_set("max_locks_per_user", 2 * n2));
	for (i = 0; i < NOWN; i++) {
		fds[i] = gt_open();
		ASSERT_LE(0, fds[i]);
	}
	ASSERT_EQ(-1, hold_bulk(fds, 0, n1));
	EXPECT_LE(n1, gt_stat("locks"));

	/* One big read and 100-byte reads list the same lines, each once. */
	ASSERT_EQ(0, read_chunks("locks", 1 << 17, &big));
	ASSERT_EQ(0, read_chunks("locks", 100, &small));
	TH_LOG("cat locks: %d locks, %zu bytes, %lld ms; in 100-byte reads %lld ms",
	       n1, big.len, (long long)(big.ns / GT_MSEC),
	       (long long)(small.ns / GT_MSEC));
	ASSERT_EQ(0, count_bulk(big.buf, n1, seen, &holders, lines, lsz));
	ASSERT_EQ(0, count_bulk(small.buf, n1, seen2, &holders2, lines2, lsz));
	for (bad = 0, i = 0; i < n1; i++)
		if (seen[i] != 1 || seen2[i] != 1) {
			if (bad++ < 5)
				TH_LOG("%s: listed %d times, %d in small reads",
				       bulk(i), seen[i], seen2[i]);
		}
	EXPECT_EQ(0, bad);
	EXPECT_EQ(n1, holders);
	EXPECT_EQ(n1, holders2);
	EXPECT_STREQ(lines, lines2);
	free(big.buf);
	free(small.buf);

	/* Objects coming and going: the read ends, every line whole. */
	ch.fd = gt_open();
	ASSERT_LE(0, ch.fd);
	ASSERT_EQ(0, pthread_create(&t, NULL, churn_fn, &ch));
	ASSERT_EQ(0, read_chunks("locks", 100, &small));
	ch.stop = true;
	ASSERT_EQ(0, pthread_join(t, NULL));
	close(ch.fd);
	ASSERT_EQ(0, count_bulk(small.buf, n1, seen, &holders, NULL, 0));
	for (bad = 0, i = 0; i < n1; i++)
		bad += seen[i] != 1;
	TH_LOG("under churn (%ld lock+unlock): %d of %d listed other than once",
	       ch.ops, bad, n1);
	EXPECT_GT(n1 / 100, bad);
	free(small.buf);

	/* 100,000: timed, with a 1 ms sleeper on the reader's CPU. */
	ASSERT_EQ(-1, hold_bulk(fds, n1, n2));
	pin_cpu0();
	ASSERT_EQ(0, pthread_create(&t, NULL, sleeper_fn, &sl));
	gt_sleep_ms(20);
	sl.worst_ns = 0;
	ASSERT_EQ(0, read_chunks("locks", 1 << 17, &big));
	sl.stop = true;
	ASSERT_EQ(0, pthread_join(t, NULL));
	TH_LOG("cat locks: %d locks, %zu bytes, %lld ms; a 1 ms sleeper on its CPU was late by at most %lld ms",
	       n2, big.len, (long long)(big.ns / GT_MSEC),
	       (long long)(sl.worst_ns / GT_MSEC));
	/*
	 * Each read() formats a bounded chunk: the CPU is given up between
	 * them. A print built whole in the first read() (single_open) keeps
	 * the sleeper off its CPU for most of the listing.
	 */
	EXPECT_GT(big.ns / 4, sl.worst_ns);
	ASSERT_EQ(0, count_bulk(big.buf, n2, seen, &holders, NULL, 0));
	for (bad = 0, i = 0; i < n2; i++)
		bad += seen[i] != 1;
	EXPECT_EQ(0, bad);
	EXPECT_EQ(n2, holders);
	free(big.buf);

	/* Leave no abandoned marks behind for the tests after us. */
	for (i = 0; i < n2; i++)
		if (bulk_mode(i) == GLOCK_EXCLUSIVE)
			EXPECT_EQ(0, gt_unlock(fds[i % NOWN], bulk(i)));
	for (i = 0; i < NOWN; i++)
		close(fds[i]);
	EXPECT_EQ(marks, gt_stat("marks"));
	free(seen);
	free(seen2);
	free(lines);
	free(lines2);
}

/* Does @line match @tmpl, where a value "*" in @tmpl matches any value? */
static bool fmt_match(const char *tmpl, const char *line)
{
	const char *t0 = tmpl;

	while (*tmpl) {
		if (*tmpl == '*' && tmpl > t0 && tmpl[-1] == '=' &&
		    (tmpl[1] == ' ' || !tmpl[1])) {
			size_t n = strcspn(line, " ");

			if (!n)
				return false;	/* an empty value */
			line += n;
			tmpl++;
			continue;
		}
		if (*tmpl++ != *line++)
			return false;
	}
	return !*line;
}

/*
 * The lines of @buf that are about lock @name, in order, must be @n
 * consecutive lines: the lock line first, then holders, then waiters, each
 * matching one of @tmpl (same record type) exactly once.
 */
static int fmt_check(struct __test_metadata *_metadata, const char *buf,
		     const char *name, const char *const *tmpl, int n)
{
	bool used[8] = { 0 };
	int got = 0, first = -1, lineno = 0, j;
	const char *p = buf;
	char line[1024], v[300];

	for (; *p; lineno++) {
		size_t len = strcspn(p, "\n");

		snprintf(line, sizeof(line), "%.*s", (int)len, p);
		p += len + (p[len] == '\n');
		if ((gt_kv(line, "name", v, sizeof(v)) || strcmp(v, name)) &&
		    (gt_kv(line, "lock", v, sizeof(v)) || strcmp(v, name)))
			continue;
		if (first < 0)
			first = lineno;
		if (lineno != first + got) {
			TH_LOG("'%s' is not next to the other records of %s",
			       line, name);
			return -1;
		}
		for (j = 0; j < n; j++)
			if (!used[j] && fmt_match(tmpl[j], line) &&
			    (j == 0) == (got == 0))
				break;
		if (j == n) {
			TH_LOG("unexpected: '%s'", line);
			for (j = 0; j < n; j++)
				TH_LOG("  expected: '%s'", tmpl[j]);
			return -1;
		}
		used[j] = true;
		got++;
	}
	if (got != n)
		TH_LOG("%s: %d records, expected %d", name, got, n);
	return got == n ? 0 : -1;
}

TEST_F(dbg, fixed_scenario_format)
{
	char x[64], s[64], a[64], t[8][512], *buf;
	const char *tp[8];
	unsigned long ns;
	int me = getpid(), dead;
	struct stat sb;

	ASSERT_EQ(0, stat("/proc/self/ns/ipc", &sb));
	ns = sb.st_ino;
	snprintf(x, sizeof(x), "%s", gt_name("fmtx"));
	snprintf(s, sizeof(s), "%s", gt_name("fmts"));
	snprintf(a, sizeof(a), "%s", gt_name("fmta"));
	for (int i = 0; i < 8; i++)
		tp[i] = t[i];

	/* x: we hold it twice, c0 waits; s: we and c1 share; a: c2 died. */
	ASSERT_EQ(0, gt_child_start(&self->c[0], -1, "gt-fmt-wait"));
	ASSERT_EQ(0, gt_child_start(&self->c[1], -1, "gt-fmt-sh"));
	ASSERT_EQ(0, gt_child_start(&self->c[2], -1, "gt-fmt-dead"));
	ASSERT_EQ(0, gt_lock(self->fd, x, GLOCK_EXCLUSIVE, 0));
	ASSERT_EQ(0, gt_lock(self->fd, x, GLOCK_EXCLUSIVE, 0));
	ASSERT_EQ(0, gt_child_send(&self->c[0], GT_OP_LOCK, x,
				   GLOCK_EXCLUSIVE, 60 * GT_NSEC, 0));
	ASSERT_EQ(0, gt_wait_waiters(self->fd, x, 1));
	ASSERT_EQ(0, gt_lock(self->fd, s, GLOCK_SHARED, 0));
	ASSERT_EQ(0, gt_child_lock(&self->c[1], s, GLOCK_SHARED, 0));
	ASSERT_EQ(0, gt_child_lock(&self->c[2], a, GLOCK_EXCLUSIVE, 0));
	dead = self->c[2].pid;
	gt_child_kill(&self->c[2]);

	/* Read in 100-byte steps: the records must not care. */
	{
		struct rd r;

		ASSERT_EQ(0, read_chunks("locks", 100, &r));
		buf = r.buf;
	}
	snprintf(t[0], sizeof(t[0]), "lock name=%s ipcns=%lu mode=exclusive holders=1 waiters=1 abandoned=0 acquired=1 contended=1 timeouts=0 abandons=0 wait_max_ns=* hold_max_ns=*",
		 x, ns);
	snprintf(t[1], sizeof(t[1]), "holder lock=%s ipcns=%lu owner=* kind=user pid=%d comm=gt-dbg-main mode=exclusive depth=2 held_ns=*",
		 x, ns, me);
	snprintf(t[2], sizeof(t[2]), "waiter lock=%s ipcns=%lu owner=* kind=user pid=%d comm=gt-fmt-wait mode=exclusive waited_ns=*",
		 x, ns, self->c[0].pid);
	EXPECT_EQ(0, fmt_check(_metadata, buf, x, tp, 3));

	snprintf(t[0], sizeof(t[0]), "lock name=%s ipcns=%lu mode=shared holders=2 waiters=0 abandoned=0 acquired=2 contended=0 timeouts=0 abandons=0 wait_max_ns=* hold_max_ns=*",
		 s, ns);
	snprintf(t[1], sizeof(t[1]), "holder lock=%s ipcns=%lu owner=* kind=user pid=%d comm=gt-dbg-main mode=shared depth=1 held_ns=*",
		 s, ns, me);
	snprintf(t[2], sizeof(t[2]), "holder lock=%s ipcns=%lu owner=* kind=user pid=%d comm=gt-fmt-sh mode=shared depth=1 held_ns=*",
		 s, ns, self->c[1].pid);
	EXPECT_EQ(0, fmt_check(_metadata, buf, s, tp, 3));

	snprintf(t[0], sizeof(t[0]), "lock name=%s ipcns=%lu mode=free holders=0 waiters=0 abandoned=1 acquired=1 contended=0 timeouts=0 abandons=1 wait_max_ns=* hold_max_ns=* dead_pid=%d abandoned_ns=*",
		 a, ns, dead);
	EXPECT_EQ(0, fmt_check(_metadata, buf, a, tp, 1));
	free(buf);

	/* The owners behind them, read the same way. */
	{
		struct rd r;
		char key[32], *rec;

		ASSERT_EQ(0, read_chunks("owners", 100, &r));
		snprintf(t[0], sizeof(t[0]), "owner id=* kind=user pid=%d comm=gt-dbg-main ipcns=%lu locks=2 waits=0",
			 me, ns);
		snprintf(t[1], sizeof(t[1]), "owner id=* kind=user pid=%d comm=gt-fmt-wait ipcns=%lu locks=0 waits=1",
			 self->c[0].pid, ns);
		snprintf(t[2], sizeof(t[2]), "owner id=* kind=user pid=%d comm=gt-fmt-sh ipcns=%lu locks=1 waits=0",
			 self->c[1].pid, ns);
		for (int i = 0; i < 3; i++) {
			int pid = i ? self->c[i - 1].pid : me;

			snprintf(key, sizeof(key), "pid=%d", pid);
			rec = gt_find_rec(r.buf, "owner", 0, key, NULL);
			ASSERT_NE(NULL, rec) TH_LOG("no owner with %s", key);
			EXPECT_TRUE(fmt_match(t[i], rec))
				TH_LOG("'%s' is not '%s'", rec, t[i]);
			free(rec);
			EXPECT_EQ(NULL, gt_find_rec(r.buf, "owner", 1, key,
						    NULL));
		}
		free(r.buf);
	}

	ASSERT_EQ(0, gt_unlock(self->fd, x));
	ASSERT_EQ(0, gt_unlock(self->fd, x));
	ASSERT_EQ(0, gt_child_wait(&self->c[0], NULL, GT_SOON_MS));
	ASSERT_EQ(0, gt_lock(self->fd, a, GLOCK_EXCLUSIVE, 0));
	ASSERT_EQ(0, gt_unlock(self->fd, a));
	ASSERT_EQ(0, gt_unlock(self->fd, s));
}

struct opener {
	int64_t ns;
	int ret;
};

static void *open_close_fn(void *arg)
{
	struct opener *o = arg;
	int64_t t0 = gt_now();
	int fd = gt_open();

	o->ret = fd < 0 ? -1 : close(fd);
	o->ns = gt_now() - t0;
	return NULL;
}

struct stall {
	volatile bool stop;
	int64_t worst_ns;
	long n;
	int err;
};

/* The longest an open+close of /dev/glock takes, over and over. */
static void *stall_fn(void *arg)
{
	struct stall *s = arg;

	while (!s->stop) {
		int64_t t0 = gt_now();
		int fd = gt_open();

		if (fd < 0) {
			s->err = errno;
			break;
		}
		close(fd);
		if (gt_now() - t0 > s->worst_ns)
			s->worst_ns = gt_now() - t0;
		s->n++;
	}
	return NULL;
}

TEST_F_TIMEOUT(dbg, owners_print_never_stalls_open_close, 600)
{
	const int nfds = 20000;
	struct stall st = { 0 };
	int64_t read_ns = 0;
	struct rlimit rl;
	struct rd all;
	pthread_t t;
	int *fds;

	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &rl));
	if (rl.rlim_max < nfds + 64)
		rl.rlim_max = nfds + 64;
	rl.rlim_cur = rl.rlim_max;
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	fds = calloc(nfds, sizeof(*fds));
	ASSERT_NE(NULL, fds);
	for (int i = 0; i < nfds; i++) {
		fds[i] = gt_open();
		ASSERT_LE(0, fds[i]);
	}
	/* Opens and closes beside whole reads of a long "owners". */
	ASSERT_EQ(0, pthread_create(&t, NULL, stall_fn, &st));
	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(0, read_chunks("owners", 1 << 20, &all));
		EXPECT_LT((size_t)nfds * 40, all.len);
		if (all.ns > read_ns)
			read_ns = all.ns;
		free(all.buf);
	}
	st.stop = true;
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(0, st.err);
	TH_LOG("cat owners (%d owners): %lld ms; %ld open+close beside it, the slowest %lld ms",
	       nfds, (long long)(read_ns / GT_MSEC), st.n,
	       (long long)(st.worst_ns / GT_MSEC));
	/*
	 * The owners mutex is held for one page of records at a time. Held
	 * for the whole print, it keeps an open waiting about as long as
	 * the print takes; the margin is for a loaded host's hiccups.
	 */
	EXPECT_LT(0, st.n);
	EXPECT_GT(read_ns / 2, st.worst_ns);
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	free(fds);
}

TEST_F_TIMEOUT(dbg, owners_reader_does_not_block_open_close, 120)
{
	const int nfds = 200;
	int fds[200], fd, done = 0;
	struct opener o = { .ret = -2 };
	char path[128], *all;
	size_t len = 0, cap = 1 << 20;
	pthread_t t;
	ssize_t n;

	/* Enough owners for many pages of "owners". */
	for (int i = 0; i < nfds; i++) {
		fds[i] = gt_open();
		ASSERT_LE(0, fds[i]);
	}
	snprintf(path, sizeof(path), GT_DEBUGFS "/owners");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	all = malloc(cap);
	ASSERT_NE(NULL, all);
	n = read(fd, all, 100);
	ASSERT_EQ(100, n);
	len = n;

	/* Mid-read: an open and a close of /dev/glock go through at once. */
	ASSERT_EQ(0, pthread_create(&t, NULL, open_close_fn, &o));
	for (int i = 0; i < 5000 && !done; i++) {
		done = !pthread_tryjoin_np(t, NULL);
		if (!done)
			gt_sleep_ms(1);
	}
	EXPECT_TRUE(done) TH_LOG("open+close still blocked after 5 s");
	if (!done) {
		/* Finish the read to let it go, then reap it. */
		while ((n = read(fd, all, cap)) > 0)
			;
		pthread_join(t, NULL);
	}
	EXPECT_EQ(0, o.ret);
	TH_LOG("open+close while 'owners' is mid-read: %lld us",
	       (long long)(o.ns / 1000));

	/* The rest of the read: whole records, ours all there. */
	while ((n = read(fd, all + len, 100)) > 0 && len + 200 < cap)
		len += n;
	all[len] = 0;
	close(fd);
	if (done) {
		char key[32], *rec;
		int ours = 0;

		snprintf(key, sizeof(key), "pid=%d", getpid());
		while ((rec = gt_find_rec(all, "owner", ours, key, NULL))) {
			free(rec);
			ours++;
		}
		/* self->fd and the 200, maybe the short-lived one. */
		EXPECT_LE(nfds + 1, ours);
		EXPECT_GE(nfds + 2, ours);
		EXPECT_EQ('\n', all[len - 1]);
	}
	free(all);
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
}

TEST_HARNESS_MAIN
