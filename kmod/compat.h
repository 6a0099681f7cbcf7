/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kernel API differences between the releases glock supports (6.1 to
 * today's mainline), one LINUX_VERSION_CODE test per difference, so that
 * the other files use one spelling.
 *
 * Not here because no macro is needed:
 * - no_llseek (gone in 6.12): a NULL .llseek has meant -ESPIPE since 6.0,
 *   so glock's file_operations simply leave it out.
 * - __assign_str() (one argument from 6.10): kmod/Kbuild greps the
 *   kernel's header for it and trace.h picks the form.
 */
#ifndef _GLOCK_COMPAT_H
#define _GLOCK_COMPAT_H

#include <linux/version.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 1, 0)
#error "glock needs Linux 6.1 or later"
#endif

/*
 * Symbol namespace of the exported API: a bare token that the macros
 * stringify before 6.13, a string literal from 6.13 on. Use it as
 * EXPORT_SYMBOL_NS_GPL(sym, GLOCK_NS) and MODULE_IMPORT_NS(GLOCK_NS).
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
#define GLOCK_NS "GLOCK"
#else
#define GLOCK_NS GLOCK
#endif

/*
 * struct i2c_driver: .probe takes only the client from 6.3 on; before,
 * that one-argument form was .probe_new (removed in 6.6).
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
#define GLOCK_I2C_PROBE probe
#else
#define GLOCK_I2C_PROBE probe_new
#endif

#endif /* _GLOCK_COMPAT_H */
