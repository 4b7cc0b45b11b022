/*
 * interface_details.c - osquery's `interface_details` table: one row per
 * network interface with its link-layer details and counters, read through
 * the root prefix:
 *
 *   interfaces  the entries of /sys/class/net (else the names in
 *               /proc/net/dev), ordered by ifindex as getifaddrs() would
 *   mac, type, mtu, ifindex   /sys/class/net/IF/{address,type,mtu,ifindex}
 *   flags       /sys/class/net/IF/flags (dev->flags), plus what the kernel
 *               adds when reporting them (dev_get_flags()): IFF_RUNNING when
 *               up and operstate is up or unknown, IFF_LOWER_UP when carrier
 *               is 1, IFF_DORMANT when operstate is dormant
 *   counters    /proc/net/dev, one read for all interfaces (the rx drop
 *               count there includes rx_missed_errors)
 *   link_speed  /sys/class/net/IF/speed in Mb/s, 0 when unknown
 *   pci_slot    the PCI address in the path the /sys/class/net/IF link
 *               points at (what ethtool gives as bus_info), "-1" without one
 *
 * As osquery on Linux: metric is 0, last_change -1.  Counters are 64-bit
 * (osquery truncates them to 32 bits).  link_speed and pci_slot are looked
 * up only when the query reads them.
 */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netparse.h"
#include "strutil.h"
#include "table.h"

enum { C_INTERFACE, C_MAC, C_TYPE, C_MTU, C_METRIC, C_FLAGS, C_IPACKETS, C_OPACKETS, C_IBYTES,
       C_OBYTES, C_IERRORS, C_OERRORS, C_IDROPS, C_ODROPS, C_COLLISIONS, C_LAST_CHANGE,
       C_LINK_SPEED, C_PCI_SLOT };

static const struct mm_column cols[] = {
	{ "interface", MM_TEXT, MM_COL_INDEX, "Interface name" },
	{ "mac", MM_TEXT, 0, "Hardware (MAC) address" },
	{ "type", MM_INTEGER, 0, "ARPHRD_* link type: 1 Ethernet, 772 loopback, ..." },
	{ "mtu", MM_INTEGER, 0, "MTU in bytes" },
	{ "metric", MM_INTEGER, 0, "Interface metric: always 0 on Linux" },
	{ "flags", MM_INTEGER, 0, "IFF_* flags (UP 0x1, BROADCAST 0x2, LOOPBACK 0x8, ...)" },
	{ "ipackets", MM_BIGINT, 0, "Packets received" },
	{ "opackets", MM_BIGINT, 0, "Packets sent" },
	{ "ibytes", MM_BIGINT, 0, "Bytes received" },
	{ "obytes", MM_BIGINT, 0, "Bytes sent" },
	{ "ierrors", MM_BIGINT, 0, "Receive errors" },
	{ "oerrors", MM_BIGINT, 0, "Transmit errors" },
	{ "idrops", MM_BIGINT, 0, "Received packets dropped" },
	{ "odrops", MM_BIGINT, 0, "Packets dropped on transmit" },
	{ "collisions", MM_BIGINT, 0, "Collisions detected" },
	{ "last_change", MM_BIGINT, 0, "Time of the last change: not kept by Linux, -1" },
	{ "link_speed", MM_BIGINT, 0, "Link speed in Mb/s, 0 when unknown" },
	{ "pci_slot", MM_TEXT, 0, "Bus address of the device (PCI slot), '-1' if none" },
	{ NULL },
};

#define MAX_IFACES 65536
#define MM_IFF_UP 0x1u
#define MM_IFF_RUNNING 0x40u
#define MM_IFF_LOWER_UP 0x10000u
#define MM_IFF_DORMANT 0x20000u

struct iface {
	char name[MM_NP_IFNAMSIZ];
	long long ifindex; /* for ordering; LLONG_MAX when unknown */
};

struct scan {
	struct mm_ctx *ctx;
	const char *path; /* for warnings */
};

static void on_warn(void *arg, int line, const char *why)
{
	struct scan *s = arg;

	mm_warn(s->ctx, "%s:%d: %s", s->path, line, why);
}

/* Reads /sys/class/net/IF/LEAF into out, trimmed; returns 0, or -1 when
 * missing, unreadable (the kernel refuses speed and carrier of a down
 * link) or not text. */
static int sysfs(struct mm_ctx *ctx, const char *ifn, const char *leaf, char *out, size_t outsz)
{
	char path[160], *data = NULL, *s;
	size_t len;
	int r = -1;

	out[0] = '\0';
	snprintf(path, sizeof(path), "/sys/class/net/%s/%s", ifn, leaf);
	if (mm_read(ctx, path, 65536, &data, &len) == 0) {
		s = mm_trim(data);
		if (mm_is_text(s, strlen(s))) {
			snprintf(out, outsz, "%s", s);
			r = 0;
		}
	}
	free(data);
	return r;
}

static int sysfs_i64(struct mm_ctx *ctx, const char *ifn, const char *leaf, int64_t *v)
{
	char buf[64];

	if (sysfs(ctx, ifn, leaf, buf, sizeof(buf)) != 0 || mm_parse_i64(buf, v) != 0)
		return -1;
	return 0;
}

static int cmp_iface(const void *a, const void *b)
{
	const struct iface *x = a, *y = b;

	if (x->ifindex != y->ifindex)
		return x->ifindex < y->ifindex ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int cmp_dev(const void *a, const void *b)
{
	return strcmp(((const struct mm_netdev *)a)->iface, ((const struct mm_netdev *)b)->iface);
}

static int name_ok(const char *n)
{
	size_t l = strlen(n);

	return l > 0 && l < MM_NP_IFNAMSIZ && n[0] != '.' && mm_is_text(n, l);
}

/* Lists the interfaces: /sys/class/net entries, else /proc/net/dev names.
 * *out is malloc'ed.  Returns 0 or MM_ERR_NOMEM. */
static int list_ifaces(struct mm_ctx *ctx, const struct mm_netdev *dev, size_t ndev,
		       struct iface **out, size_t *n)
{
	struct iface *arr = NULL, *na;
	size_t cap = 0, i;
	char dir[4096];
	struct dirent *de;
	DIR *d = NULL;
	int64_t idx;

	*out = NULL;
	*n = 0;
	if (mm_rpath(ctx, "/sys/class/net", dir, sizeof(dir)) == 0)
		d = opendir(dir);
	for (i = 0;; i++) {
		const char *name;
		if (d != NULL) {
			if ((de = readdir(d)) == NULL)
				break;
			name = de->d_name;
		} else {
			if (i >= ndev)
				break;
			name = dev[i].iface;
		}
		if (!name_ok(name))
			continue;
		if (*n >= MAX_IFACES) {
			mm_warn(ctx, "/sys/class/net: more than %d interfaces, the rest skipped",
				MAX_IFACES);
			break;
		}
		if (*n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			if ((na = realloc(arr, cap * sizeof(*arr))) == NULL) {
				free(arr);
				if (d != NULL)
					closedir(d);
				*n = 0;
				return MM_ERR_NOMEM;
			}
			arr = na;
		}
		memcpy(arr[*n].name, name, strlen(name) + 1); /* name_ok() bounds it */
		arr[(*n)++].ifindex = 0;
	}
	if (d != NULL)
		closedir(d);
	for (i = 0; i < *n; i++)
		arr[i].ifindex = sysfs_i64(ctx, arr[i].name, "ifindex", &idx) == 0 ? idx : INT64_MAX;
	if (*n > 1)
		qsort(arr, *n, sizeof(*arr), cmp_iface);
	*out = arr;
	return 0;
}

/* dev_get_flags(): sysfs flags plus the operational bits. */
static int64_t link_flags(struct mm_ctx *ctx, const char *ifn)
{
	char buf[64];
	uint64_t f;
	int64_t carrier;

	if (sysfs(ctx, ifn, "flags", buf, sizeof(buf)) != 0 || mm_parse_u64(buf, 16, &f) != 0 ||
	    f > 0xffffffffu)
		return -1;
	if (f & MM_IFF_UP) {
		if (sysfs(ctx, ifn, "operstate", buf, sizeof(buf)) == 0) {
			if (strcmp(buf, "up") == 0 || strcmp(buf, "unknown") == 0)
				f |= MM_IFF_RUNNING;
			else if (strcmp(buf, "dormant") == 0)
				f |= MM_IFF_DORMANT;
		}
		if (sysfs_i64(ctx, ifn, "carrier", &carrier) == 0 && carrier == 1)
			f |= MM_IFF_LOWER_UP;
	}
	return (int64_t)f;
}

/* Returns 1 if s looks like a PCI address, DDDD:BB:DD.F (hex digits). */
static int is_pci_addr(const char *s, size_t n)
{
	static const char shape[] = "xxxx:xx:xx.x";
	size_t i;

	if (n != sizeof(shape) - 1)
		return 0;
	for (i = 0; i < n; i++)
		if (shape[i] == 'x' ? !isxdigit((unsigned char)s[i]) : s[i] != shape[i])
			return 0;
	return 1;
}

/* The PCI address of the device behind the interface: the last component of
 * the /sys/class/net/IF link that has that shape ("../../devices/pci0000:00/
 * 0000:00:02.0/0000:01:00.0/virtio1/net/eth0" gives 0000:01:00.0, which is
 * what ethtool reports as bus_info for PCI and virtio-pci devices), else
 * "-1" (virtual interfaces). */
static void pci_slot(struct mm_ctx *ctx, const char *ifn, char *out, size_t outsz)
{
	char rel[160], full[4096], target[4096], *end, *start;
	ssize_t n;

	snprintf(out, outsz, "-1");
	snprintf(rel, sizeof(rel), "/sys/class/net/%s", ifn);
	if (mm_rpath(ctx, rel, full, sizeof(full)) != 0)
		return;
	if ((n = readlink(full, target, sizeof(target) - 1)) <= 0)
		return;
	target[n] = '\0';
	end = target + n;
	while (end > target) {
		for (start = end; start > target && start[-1] != '/'; start--)
			;
		if (is_pci_addr(start, (size_t)(end - start))) {
			snprintf(out, outsz, "%.*s", (int)(end - start), start);
			return;
		}
		end = start > target ? start - 1 : target;
	}
}

static int gen(struct mm_ctx *ctx)
{
	struct scan s = { ctx, "/proc/net/dev" };
	struct mm_netdev *dev = NULL, key, *d;
	struct iface *ifs = NULL;
	size_t ndev = 0, nifs = 0, i, len = 0;
	char *data = NULL, buf[128];
	int64_t v, fl;
	int r;

	r = mm_read(ctx, s.path, MM_READ_CAP, &data, &len);
	if (r == 0) {
		if ((r = mm_np_netdev(data, len, &dev, &ndev, on_warn, &s)) != 0)
			goto out;
		if (ndev > 1)
			qsort(dev, ndev, sizeof(*dev), cmp_dev);
	} else if (r != MM_ERR_NOTFOUND) {
		mm_warn(ctx, "%s: %s", s.path, mm_strerror(r));
	}
	if ((r = list_ifaces(ctx, dev, ndev, &ifs, &nifs)) != 0)
		goto out;

	for (i = 0; i < nifs; i++) {
		const char *ifn = ifs[i].name;
		if (!mm_eq_allows(ctx, C_INTERFACE, ifn))
			continue;
		if ((r = mm_check(ctx)) != 0)
			goto out;
		snprintf(key.iface, sizeof(key.iface), "%s", ifn);
		d = ndev > 0 ? bsearch(&key, dev, ndev, sizeof(*dev), cmp_dev) : NULL;
		if ((r = mm_row_begin(ctx)) != 0)
			goto out;
		mm_set_text(ctx, C_INTERFACE, ifn);
		if (sysfs(ctx, ifn, "address", buf, sizeof(buf)) == 0)
			mm_set_text(ctx, C_MAC, buf[0] != '\0' ? buf : "00:00:00:00:00:00");
		if (sysfs_i64(ctx, ifn, "type", &v) == 0)
			mm_set_int(ctx, C_TYPE, v);
		if (sysfs_i64(ctx, ifn, "mtu", &v) == 0)
			mm_set_int(ctx, C_MTU, v);
		mm_set_int(ctx, C_METRIC, 0);
		if (mm_col_used(ctx, C_FLAGS) && (fl = link_flags(ctx, ifn)) >= 0)
			mm_set_int(ctx, C_FLAGS, fl);
		if (d != NULL) {
			mm_set_int(ctx, C_IPACKETS, (int64_t)d->rx_packets);
			mm_set_int(ctx, C_OPACKETS, (int64_t)d->tx_packets);
			mm_set_int(ctx, C_IBYTES, (int64_t)d->rx_bytes);
			mm_set_int(ctx, C_OBYTES, (int64_t)d->tx_bytes);
			mm_set_int(ctx, C_IERRORS, (int64_t)d->rx_errs);
			mm_set_int(ctx, C_OERRORS, (int64_t)d->tx_errs);
			mm_set_int(ctx, C_IDROPS, (int64_t)d->rx_drop);
			mm_set_int(ctx, C_ODROPS, (int64_t)d->tx_drop);
			mm_set_int(ctx, C_COLLISIONS, (int64_t)d->colls);
		}
		mm_set_int(ctx, C_LAST_CHANGE, -1);
		if (mm_col_used(ctx, C_LINK_SPEED))
			mm_set_int(ctx, C_LINK_SPEED,
				   sysfs_i64(ctx, ifn, "speed", &v) == 0 && v > 0 ? v : 0);
		if (mm_col_used(ctx, C_PCI_SLOT)) {
			pci_slot(ctx, ifn, buf, sizeof(buf));
			mm_set_text(ctx, C_PCI_SLOT, buf);
		}
		if ((r = mm_row_end(ctx)) != 0)
			goto out;
	}
	r = 0;
out:
	free(data);
	free(dev);
	free(ifs);
	return r;
}

const struct mm_table mm_table_interface_details = {
	.name = "interface_details",
	.description = "Network interfaces: MAC address, link type, MTU, flags, traffic and error "
		       "counters, link speed and bus address.",
	.columns = cols,
	.generate = gen,
	.example = "SELECT interface, mac, mtu, ibytes, obytes FROM interface_details "
		   "WHERE (flags & 0x1) = 1;",
	.notes = "Read through the root prefix from /sys/class/net/IF/* and /proc/net/dev (no "
		 "ioctls). flags are the sysfs flags plus RUNNING, LOWER_UP and DORMANT derived "
		 "from operstate and carrier, as the kernel reports them to getifaddrs(). Counters "
		 "are 64-bit. pci_slot is the PCI address in the device path the "
		 "/sys/class/net/IF link points at ('-1' for virtual interfaces). metric is 0 and last_change -1, as osquery has them on Linux.",
};
