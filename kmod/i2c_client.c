// SPDX-License-Identifier: GPL-2.0-only
/*
 * glock_i2c: an I2C client whose multi-step register sequences share one
 * arbitration with user space through the glock named "i2c-<adapter nr>".
 *
 * The I2C core's adapter lock covers one transfer. A register read on a
 * pointer-based chip is several transfers (set the pointer, then read byte
 * by byte), and anything else talking to the chip in between (a tool on
 * /dev/i2c-N, another driver) moves the pointer and tears the data. Every
 * party that runs sequences on the bus takes the glock "i2c-<nr>" around the
 * whole sequence; this driver does it with a timeout, so a stuck user-space
 * holder makes a read fail with -ETIMEDOUT instead of hanging it.
 *
 * Lock order, outermost first:
 *
 *   glock_i2c->lock         this client's own transactions (a mutex)
 *     glock "i2c-<nr>"      the whole sequence (kernel owner, exclusive)
 *       adapter bus lock    one transfer, taken inside each i2c_smbus_*()
 *                           call, or around i2c_recover_bus()
 *
 * The adapter lock is never held while waiting for the glock.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/device.h>
#include <linux/i2c.h>
#include <linux/kernel.h>
#include <linux/mod_devicetable.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/ratelimit.h>
#include <linux/sysfs.h>
#include <linux/time64.h>

#include "compat.h"
#include "glock_kernel.h"

/* A holder's label, as glock_state() reports it, is never cut short. */
static_assert(sizeof_field(struct glock_kstate, holder_comm) >=
	      sizeof("glock_i2c-1023-03ff"));

/* Registers exposed: a 256-byte block addressed by an 8-bit pointer. */
#define GLOCK_I2C_NREGS		256
#define GLOCK_I2C_TIMEOUT_MAX_MS	60000

static unsigned int lock_timeout_ms = 1000;

static int lock_timeout_ms_set(const char *val, const struct kernel_param *kp)
{
	/* Bounded, so a misconfiguration cannot make a read wait for days. */
	return param_set_uint_minmax(val, kp, 0, GLOCK_I2C_TIMEOUT_MAX_MS);
}

static const struct kernel_param_ops lock_timeout_ms_ops = {
	.set = lock_timeout_ms_set,
	.get = param_get_uint,
};

module_param_cb(lock_timeout_ms, &lock_timeout_ms_ops, &lock_timeout_ms, 0644);
MODULE_PARM_DESC(lock_timeout_ms,
		 "How long a sequence waits for the bus glock, in ms (0 = try once, max 60000; default 1000)");

/**
 * struct glock_i2c - state of one bound chip
 * @client: the chip
 * @owner: glock owner of this client's sequences
 * @lock: serialises this client's own sequences. They all use @owner, and a
 *	second request by an owner that already holds the glock is granted as
 *	recursion, so the glock alone would not keep two readers of the same
 *	client apart.
 * @busy_rs: rate limit of the "bus busy" log line
 * @abandon_rs: rate limit of the "abandoned" log line
 * @transactions: sequences completed
 * @timeouts: sequences that did not get the glock in time
 * @abandons: acquisitions that found the glock abandoned
 * @errors: sequences that failed on the bus or in recovery
 * @lock_name_len: length of @lock_name
 * @lock_name: the glock protecting the bus, "i2c-<adapter nr>"
 * @label: the owner's label, shown in debugfs, "glock_i2c-<dev name>"
 */
struct glock_i2c {
	struct i2c_client *client;
	struct glock_owner *owner;
	struct mutex lock; /* this client's sequences, see @lock */
	struct ratelimit_state busy_rs;
	struct ratelimit_state abandon_rs;
	atomic_long_t transactions;
	atomic_long_t timeouts;
	atomic_long_t abandons;
	atomic_long_t errors;
	size_t lock_name_len;
	char lock_name[24];
	char label[GLOCK_COMM_LEN];
};

/* Name the holder in the timeout message, from a snapshot of the lock. */
static void glock_i2c_report_busy(struct glock_i2c *gi, unsigned int ms)
{
	struct device *dev = &gi->client->dev;
	struct glock_kstate st = {};
	char holder[64];

	if (!__ratelimit(&gi->busy_rs))
		return;

	if (glock_state(gi->owner, gi->lock_name, gi->lock_name_len, &st))
		strscpy(holder, "unknown", sizeof(holder));
	else if (st.mode == GLOCK_EXCLUSIVE && (st.result & GLOCK_R_KERNEL))
		snprintf(holder, sizeof(holder), "kernel owner %s",
			 st.holder_comm);
	else if (st.mode == GLOCK_EXCLUSIVE)
		snprintf(holder, sizeof(holder), "pid %d (%s)",
			 st.holder_pid, st.holder_comm);
	else if (st.mode == GLOCK_SHARED)
		snprintf(holder, sizeof(holder), "%u shared holders",
			 st.holders);
	else
		strscpy(holder, "nobody any more", sizeof(holder));

	dev_warn(dev, "%s busy: not obtained within %u ms, held by %s, %u waiting; sequence failed with -ETIMEDOUT\n",
		 gi->lock_name, ms, holder, st.waiters);
}

/*
 * The previous exclusive holder of the glock ended while holding it (a
 * process killed mid-sequence, a driver unbound), so the bus or the chip may
 * be in the middle of a sequence. Re-establish everything a sequence relies
 * on before the first transfer:
 *
 *  1. the bus: where the (root) adapter can recover it (clock out a stuck
 *     slave, then STOP), do so, under the adapter lock (glock first,
 *     adapter lock inside, as everywhere in this file);
 *  2. the chip: this driver relies on the register pointer, so set it to a
 *     known value; that write also proves the chip answers again.
 *
 * Any driver sharing a bus through glock should follow this pattern: treat
 * GLOCK_R_ABANDONED as "the state left by the last holder is unknown" and
 * reset whatever its sequences assume at their start.
 */
static int glock_i2c_recover(struct glock_i2c *gi)
{
	struct i2c_client *client = gi->client;
	struct i2c_adapter *adap = client->adapter, *parent;
	bool bus_recovered = false;
	int ret;

	atomic_long_inc(&gi->abandons);

	/* Behind a mux, the controller that can recover the wire is the root. */
	while ((parent = i2c_parent_is_i2c_adapter(adap)))
		adap = parent;

	if (adap->bus_recovery_info) {
		i2c_lock_bus(adap, I2C_LOCK_ROOT_ADAPTER);
		ret = i2c_recover_bus(adap);
		i2c_unlock_bus(adap, I2C_LOCK_ROOT_ADAPTER);
		if (ret)
			dev_err(&client->dev, "%s: bus recovery failed: %d\n",
				gi->lock_name, ret);
		bus_recovered = !ret;
	}

	ret = i2c_smbus_write_byte(client, 0);

	if (__ratelimit(&gi->abandon_rs))
		dev_notice(&client->dev, "%s was abandoned by a holder that ended mid-sequence; re-initialised (bus recovery %s, register pointer reset %s)\n",
			   gi->lock_name,
			   adap->bus_recovery_info ?
			   (bus_recovered ? "done" : "failed") : "not available",
			   ret ? "failed" : "done");
	return ret;
}

static void glock_i2c_bus_put(struct glock_i2c *gi)
{
	/* We hold it: failing to release it is a broken invariant. */
	WARN_ON_ONCE(glock_unlock(gi->owner, gi->lock_name, gi->lock_name_len));
}

/**
 * glock_i2c_bus_get() - take the bus glock for one sequence
 * @gi: the client
 *
 * Context: process context, may sleep; called with @gi->lock held and
 * without the adapter lock.
 * Return: 0 with the glock held and the chip ready for a sequence;
 * -ETIMEDOUT if the glock was not obtained within lock_timeout_ms (logged,
 * rate-limited, naming the holder); -EINTR if a signal ended the wait;
 * another -errno from glock or from the recovery after an abandon (glock
 * not held).
 */
static int glock_i2c_bus_get(struct glock_i2c *gi)
{
	unsigned int ms = READ_ONCE(lock_timeout_ms);
	u32 result = 0;
	int ret;

	ret = glock_lock(gi->owner, gi->lock_name, gi->lock_name_len,
			 GLOCK_EXCLUSIVE, (s64)ms * NSEC_PER_MSEC, 0, &result);
	if (ret == -EAGAIN)		/* lock_timeout_ms=0 is a try */
		ret = -ETIMEDOUT;
	if (ret == -ETIMEDOUT) {
		atomic_long_inc(&gi->timeouts);
		glock_i2c_report_busy(gi, ms);
	}
	if (ret)
		return ret;

	if (result & GLOCK_R_ABANDONED) {
		ret = glock_i2c_recover(gi);
		if (ret) {
			atomic_long_inc(&gi->errors);
			glock_i2c_bus_put(gi);
			return ret;
		}
	}
	return 0;
}

/*
 * One read sequence: set the pointer, then read @count bytes, each read
 * advancing the chip's pointer. Torn if anyone moves the pointer meanwhile,
 * hence the whole of it under the glock.
 */
static int glock_i2c_read_seq(struct glock_i2c *gi, u8 *buf, u8 off,
			      size_t count)
{
	struct i2c_client *client = gi->client;
	size_t i;
	int ret;

	ret = i2c_smbus_write_byte(client, off);
	for (i = 0; !ret && i < count; i++) {
		ret = i2c_smbus_read_byte(client);
		if (ret >= 0) {
			buf[i] = ret;
			ret = 0;
		}
	}
	return ret;
}

/* One write sequence: @count registers from @off, as one unit on the bus. */
static int glock_i2c_write_seq(struct glock_i2c *gi, const u8 *buf, u8 off,
			       size_t count)
{
	size_t i;
	int ret = 0;

	for (i = 0; !ret && i < count; i++)
		ret = i2c_smbus_write_byte_data(gi->client, off + i, buf[i]);
	return ret;
}

static ssize_t glock_i2c_xfer(struct glock_i2c *gi, u8 *buf, loff_t off,
			      size_t count, bool write)
{
	int ret;

	if (off < 0 || off >= GLOCK_I2C_NREGS)
		return 0;
	count = min_t(size_t, count, GLOCK_I2C_NREGS - off);
	if (!count)
		return 0;

	ret = mutex_lock_interruptible(&gi->lock);
	if (ret)
		return ret;

	ret = glock_i2c_bus_get(gi);
	if (ret)
		goto out_unlock;

	if (write)
		ret = glock_i2c_write_seq(gi, buf, off, count);
	else
		ret = glock_i2c_read_seq(gi, buf, off, count);

	glock_i2c_bus_put(gi);

	if (ret)
		atomic_long_inc(&gi->errors);
	else
		atomic_long_inc(&gi->transactions);
out_unlock:
	mutex_unlock(&gi->lock);
	return ret ? ret : count;
}

/*
 * Called by the driver core only while the attribute exists: it is removed
 * (and a read in progress waited for) before glock_i2c_remove() runs.
 */
static ssize_t registers_read(struct file *filp, struct kobject *kobj,
			      struct bin_attribute *attr, char *buf,
			      loff_t off, size_t count)
{
	struct glock_i2c *gi = dev_get_drvdata(kobj_to_dev(kobj));

	return glock_i2c_xfer(gi, (u8 *)buf, off, count, false);
}

static ssize_t registers_write(struct file *filp, struct kobject *kobj,
			       struct bin_attribute *attr, char *buf,
			       loff_t off, size_t count)
{
	struct glock_i2c *gi = dev_get_drvdata(kobj_to_dev(kobj));

	return glock_i2c_xfer(gi, (u8 *)buf, off, count, true);
}

/* Byte k is register k; 0600 like a raw EEPROM: every access hits the bus. */
static BIN_ATTR_ADMIN_RW(registers, GLOCK_I2C_NREGS);

static ssize_t glock_i2c_counter_show(char *buf, atomic_long_t *counter)
{
	return sysfs_emit(buf, "%ld\n", atomic_long_read(counter));
}

static ssize_t transactions_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	struct glock_i2c *gi = dev_get_drvdata(dev);

	return glock_i2c_counter_show(buf, &gi->transactions);
}
static DEVICE_ATTR_RO(transactions);

static ssize_t timeouts_show(struct device *dev,
			     struct device_attribute *attr, char *buf)
{
	struct glock_i2c *gi = dev_get_drvdata(dev);

	return glock_i2c_counter_show(buf, &gi->timeouts);
}
static DEVICE_ATTR_RO(timeouts);

static ssize_t abandons_show(struct device *dev,
			     struct device_attribute *attr, char *buf)
{
	struct glock_i2c *gi = dev_get_drvdata(dev);

	return glock_i2c_counter_show(buf, &gi->abandons);
}
static DEVICE_ATTR_RO(abandons);

static ssize_t errors_show(struct device *dev,
			   struct device_attribute *attr, char *buf)
{
	struct glock_i2c *gi = dev_get_drvdata(dev);

	return glock_i2c_counter_show(buf, &gi->errors);
}
static DEVICE_ATTR_RO(errors);

static ssize_t lock_name_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	struct glock_i2c *gi = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%s\n", gi->lock_name);
}
static DEVICE_ATTR_RO(lock_name);

static struct attribute *glock_i2c_attrs[] = {
	&dev_attr_transactions.attr,
	&dev_attr_timeouts.attr,
	&dev_attr_abandons.attr,
	&dev_attr_errors.attr,
	&dev_attr_lock_name.attr,
	NULL
};

static struct bin_attribute *glock_i2c_bin_attrs[] = {
	&bin_attr_registers,
	NULL
};

static const struct attribute_group glock_i2c_group = {
	.attrs = glock_i2c_attrs,
	.bin_attrs = glock_i2c_bin_attrs,
};

/* Added by the driver core after probe, removed before remove. */
static const struct attribute_group *glock_i2c_groups[] = {
	&glock_i2c_group,
	NULL
};

static int glock_i2c_probe(struct i2c_client *client)
{
	struct device *dev = &client->dev;
	struct glock_i2c *gi;

	if (!i2c_check_functionality(client->adapter,
				     I2C_FUNC_SMBUS_BYTE |
				     I2C_FUNC_SMBUS_WRITE_BYTE_DATA))
		return dev_err_probe(dev, -ENODEV,
				     "adapter lacks SMBus byte transfers\n");

	gi = devm_kzalloc(dev, sizeof(*gi), GFP_KERNEL);
	if (!gi)
		return -ENOMEM;

	gi->client = client;
	mutex_init(&gi->lock);
	ratelimit_state_init(&gi->busy_rs, DEFAULT_RATELIMIT_INTERVAL,
			     DEFAULT_RATELIMIT_BURST);
	ratelimit_state_init(&gi->abandon_rs, DEFAULT_RATELIMIT_INTERVAL,
			     DEFAULT_RATELIMIT_BURST);
	/* The adapter the client sits on: what /dev/i2c-<nr> users lock. */
	gi->lock_name_len = scnprintf(gi->lock_name, sizeof(gi->lock_name),
				      "i2c-%d", i2c_adapter_id(client->adapter));
	snprintf(gi->label, sizeof(gi->label), "glock_i2c-%s", dev_name(dev));

	gi->owner = glock_owner_create(gi->label);
	if (IS_ERR(gi->owner))
		return dev_err_probe(dev, PTR_ERR(gi->owner),
				     "cannot create glock owner\n");

	i2c_set_clientdata(client, gi);
	dev_info(dev, "%u registers under glock %s, lock timeout %u ms\n",
		 GLOCK_I2C_NREGS, gi->lock_name, READ_ONCE(lock_timeout_ms));
	return 0;
}

/*
 * By the time remove runs, the driver core has removed the attributes and
 * waited for every read or write in progress, including one still waiting
 * for the glock (that wait ends by lock_timeout_ms or a signal). So nothing
 * uses the owner any more and it holds no lock: destroying it releases
 * nothing and marks nothing abandoned.
 */
static void glock_i2c_remove(struct i2c_client *client)
{
	struct glock_i2c *gi = i2c_get_clientdata(client);

	glock_owner_destroy(gi->owner);
	mutex_destroy(&gi->lock);
}

static const struct i2c_device_id glock_i2c_id[] = {
	{ "glock_i2c", 0 },
	{ }
};
MODULE_DEVICE_TABLE(i2c, glock_i2c_id);

static const struct of_device_id glock_i2c_of_match[] = {
	{ .compatible = "glock,i2c-registers" },
	{ }
};
MODULE_DEVICE_TABLE(of, glock_i2c_of_match);

static struct i2c_driver glock_i2c_driver = {
	.driver = {
		.name = "glock_i2c",
		.of_match_table = glock_i2c_of_match,
		.dev_groups = glock_i2c_groups,
	},
	.GLOCK_I2C_PROBE = glock_i2c_probe,
	.remove = glock_i2c_remove,
	.id_table = glock_i2c_id,
};
module_i2c_driver(glock_i2c_driver);

MODULE_DESCRIPTION("I2C register client sharing its bus with user space through glock");
MODULE_AUTHOR("glock developers");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(GLOCK_NS);
