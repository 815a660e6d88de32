/*
 * libretto-xsd-preload: lets Debian's C xenstored (4.17) run without a
 * hypervisor, for the "sim" backend.
 *
 * xenstored refuses to start unless it can open the hypervisor interfaces
 * (privcmd through libxenctrl, /dev/xen/evtchn, /dev/xen/gntdev) and map
 * dom0's ring page from /proc/xen/xsd_kva. In sim every client talks to it
 * over its Unix socket, so none of those interfaces is needed for real: this
 * library, loaded with LD_PRELOAD, defines the few libxenctrl, libxenevtchn
 * and libxengnttab functions xenstored imports, and answers open() of the two
 * /proc/xen files, so that:
 *
 *  - dom0 exists, runs, and is never reaped (xc_domain_getinfo);
 *  - the event channel fd is a real eventfd that poll() accepts and that
 *    never becomes readable, so the main loop sleeps in poll();
 *  - dom0's ring (and any ring of a domain introduced later) is a zeroed
 *    shared page, so it exists but stays idle.
 *
 * Nothing here links against the Xen libraries: the definitions are found
 * first because LD_PRELOAD objects come first in the global lookup scope, and
 * this object carries no symbol versions, so the dynamic linker accepts its
 * plain definitions for xenstored's versioned references
 * (xc_interface_open@VERS_4.17.0 and so on). See docs/sim-xenstored.md.
 *
 * Keep it free of sanitizers and of anything that allocates at load time: it
 * runs inside a foreign, unsanitized binary.
 */

/* Fortified <fcntl.h> turns open() into an inline wrapper, which would clash
 * with the definitions below. */
#undef _FORTIFY_SOURCE

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xenctrl.h>
#include <xenevtchn.h>
#include <xengnttab.h>

#define XSD_EXPORT __attribute__((visibility("default")))

/* What xenstored reads from /proc/xen/xsd_port: the local port of dom0's
 * xenstore event channel. Any positive number will do, since nothing ever
 * signals it; a distinctive one makes it recognisable in traces. */
#define FAKE_XSD_PORT "7\n"

static const char xsd_port_path[] = "/proc/xen/xsd_port";
static const char xsd_kva_path[] = "/proc/xen/xsd_kva";

/* ---- hypervisor control (libxenctrl) ---------------------------------- */

/* xenstored only passes the handle back to us; it never looks inside. */
struct xc_interface_core {
	int unused;
};
static struct xc_interface_core fake_xc;

XSD_EXPORT xc_interface *xc_interface_open(xentoollog_logger *logger,
					   xentoollog_logger *dombuild_logger,
					   unsigned open_flags)
{
	(void)logger;
	(void)dombuild_logger;
	(void)open_flags;
	return &fake_xc;
}

XSD_EXPORT int xc_interface_close(xc_interface *xch)
{
	(void)xch;
	return 0;
}

/*
 * Every ordinary domid is reported as an existing, running domain. Dom0 must
 * exist or xenstored reaps it; the others must exist so that a node can be
 * owned by (or grant access to) the domid the sim backend gives a guest:
 * xenstored refuses permissions naming a domain it cannot find. Nothing is
 * ever dying or shut down, and VIRQ_DOM_EXC never fires, so check_domains()
 * never releases anything; the daemon removes a guest's nodes itself.
 */
XSD_EXPORT int xc_domain_getinfo(xc_interface *xch, uint32_t first_domid,
				 unsigned int max_doms, xc_dominfo_t *info)
{
	unsigned int n = 0;

	(void)xch;
	while (n < max_doms && first_domid + n < DOMID_FIRST_RESERVED) {
		xc_dominfo_t *d = &info[n];

		memset(d, 0, sizeof(*d));
		d->domid = first_domid + n;
		d->running = 1;
		d->nr_online_vcpus = 1;
		n++;
	}
	return (int)n;
}

/* ---- event channels (libxenevtchn) ------------------------------------ */

struct xenevtchn_handle {
	int fd;
	evtchn_port_t next_port;
};

static xenevtchn_handle *evtchn_new(int fd)
{
	xenevtchn_handle *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->fd = fd;
	/* Port 0 is never valid in Xen; xenstored treats 0 as "unbound". */
	h->next_port = 1;
	return h;
}

XSD_EXPORT xenevtchn_handle *xenevtchn_open(struct xentoollog_logger *logger,
					    unsigned open_flags)
{
	xenevtchn_handle *h;
	int flags = EFD_NONBLOCK;
	int fd;

	(void)logger;
	/* Honoured so that a live update could hand the fd on, as with the
	 * real device. */
	if (!(open_flags & XENEVTCHN_NO_CLOEXEC))
		flags |= EFD_CLOEXEC;
	/* An eventfd with a zero count: poll() accepts it and it never
	 * becomes readable, because nothing ever writes to it. */
	fd = eventfd(0, flags);
	if (fd < 0)
		return NULL;
	h = evtchn_new(fd);
	if (!h) {
		close(fd);
		errno = ENOMEM;
	}
	return h;
}

/* Used by xenstored only after a live update, with the fd inherited from the
 * previous instance, which was our eventfd. */
XSD_EXPORT xenevtchn_handle *xenevtchn_fdopen(struct xentoollog_logger *logger,
					      int fd, unsigned open_flags)
{
	(void)logger;
	if (open_flags & XENEVTCHN_NO_CLOEXEC) {
		errno = EINVAL;
		return NULL;
	}
	return evtchn_new(fd);
}

XSD_EXPORT int xenevtchn_close(xenevtchn_handle *xce)
{
	if (!xce)
		return 0;
	close(xce->fd);
	free(xce);
	return 0;
}

XSD_EXPORT int xenevtchn_fd(xenevtchn_handle *xce)
{
	return xce->fd;
}

XSD_EXPORT int xenevtchn_notify(xenevtchn_handle *xce, evtchn_port_t port)
{
	(void)xce;
	(void)port;
	return 0;
}

/* Bindings only hand out distinct local port numbers: no event is ever
 * delivered on them. */
XSD_EXPORT xenevtchn_port_or_error_t xenevtchn_bind_interdomain(
    xenevtchn_handle *xce, uint32_t domid, evtchn_port_t remote_port)
{
	(void)domid;
	(void)remote_port;
	return (xenevtchn_port_or_error_t)xce->next_port++;
}

XSD_EXPORT xenevtchn_port_or_error_t xenevtchn_bind_virq(xenevtchn_handle *xce,
							 unsigned int virq)
{
	(void)virq;
	return (xenevtchn_port_or_error_t)xce->next_port++;
}

XSD_EXPORT int xenevtchn_unbind(xenevtchn_handle *xce, evtchn_port_t port)
{
	(void)xce;
	(void)port;
	return 0;
}

/* Only called when the fd is readable, which never happens; if it is called
 * anyway, say "nothing pending" the way the real device would. */
XSD_EXPORT xenevtchn_port_or_error_t xenevtchn_pending(xenevtchn_handle *xce)
{
	(void)xce;
	errno = EAGAIN;
	return -1;
}

XSD_EXPORT int xenevtchn_unmask(xenevtchn_handle *xce, evtchn_port_t port)
{
	(void)xce;
	(void)port;
	return 0;
}

/* ---- grant tables (libxengnttab) -------------------------------------- */

struct xengntdev_handle {
	int unused;
};

XSD_EXPORT xengnttab_handle *xengnttab_open(struct xentoollog_logger *logger,
					    unsigned open_flags)
{
	xengnttab_handle *h = calloc(1, sizeof(*h));

	(void)logger;
	(void)open_flags;
	if (!h)
		errno = ENOMEM;
	return h;
}

XSD_EXPORT int xengnttab_close(xengnttab_handle *xgt)
{
	free(xgt);
	return 0;
}

XSD_EXPORT int xengnttab_set_max_grants(xengnttab_handle *xgt,
					uint32_t nr_grants)
{
	(void)xgt;
	(void)nr_grants;
	return 0;
}

/* The ring of a domain introduced with XS_INTRODUCE: a fresh zeroed page, so
 * req_prod == req_cons and xenstored sees nothing to read. */
XSD_EXPORT void *xengnttab_map_grant_ref(xengnttab_handle *xgt, uint32_t domid,
					 uint32_t ref, int prot)
{
	void *p;

	(void)xgt;
	(void)domid;
	(void)ref;
	p = mmap(NULL, (size_t)getpagesize(), prot, MAP_SHARED | MAP_ANONYMOUS,
		 -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

XSD_EXPORT int xengnttab_unmap(xengnttab_handle *xgt, void *start_address,
			       uint32_t count)
{
	(void)xgt;
	return munmap(start_address, (size_t)count * (size_t)getpagesize());
}

/* ---- /proc/xen/xsd_port and /proc/xen/xsd_kva ------------------------- */

/*
 * A memfd stands in for both files: xenstored read()s the port from the
 * first and mmap()s one page MAP_SHARED from the second, and a memfd
 * supports both. Returns -2 when the path is not one of ours.
 */
static int fake_proc_xen(const char *path)
{
	int fd;

	if (!path)
		return -2;
	if (strcmp(path, xsd_port_path) == 0) {
		fd = memfd_create("libretto-xsd_port", MFD_CLOEXEC);
		if (fd < 0)
			return -1;
		if (write(fd, FAKE_XSD_PORT, sizeof(FAKE_XSD_PORT) - 1) !=
			(ssize_t)(sizeof(FAKE_XSD_PORT) - 1) ||
		    lseek(fd, 0, SEEK_SET) != 0) {
			close(fd);
			errno = EIO;
			return -1;
		}
		return fd;
	}
	if (strcmp(path, xsd_kva_path) == 0) {
		fd = memfd_create("libretto-xsd_kva", MFD_CLOEXEC);
		if (fd < 0)
			return -1;
		if (ftruncate(fd, getpagesize()) != 0) {
			close(fd);
			return -1;
		}
		return fd;
	}
	return -2;
}

typedef int (*open_fn)(const char *, int, ...);
typedef int (*openat_fn)(int, const char *, int, ...);

/* Resolved lazily: a constructor could run after another library's
 * constructor already called open(). dlsym() of these names does not call
 * open() itself, so there is no recursion. */
static void *real_fn(void **slot, const char *name)
{
	void *f = __atomic_load_n(slot, __ATOMIC_ACQUIRE);

	if (!f) {
		f = dlsym(RTLD_NEXT, name);
		__atomic_store_n(slot, f, __ATOMIC_RELEASE);
	}
	return f;
}

static void *real_open_p, *real_open64_p, *real_openat_p, *real_openat64_p;

/* The mode argument exists only with O_CREAT or O_TMPFILE; reading it
 * otherwise would take garbage from the va_list. */
#define TAKE_MODE(flags, last, mode)                                           \
	do {                                                                   \
		if ((flags) & (O_CREAT | O_TMPFILE)) {                         \
			va_list ap_;                                           \
			va_start(ap_, last);                                   \
			(mode) = va_arg(ap_, mode_t);                          \
			va_end(ap_);                                           \
		}                                                              \
	} while (0)

static int forward_open(void **slot, const char *name, const char *path,
			int flags, mode_t mode)
{
	open_fn f = (open_fn)real_fn(slot, name);
	int fd = fake_proc_xen(path);

	if (fd != -2)
		return fd;
	if (!f) {
		errno = ENOSYS;
		return -1;
	}
	return f(path, flags, mode);
}

static int forward_openat(void **slot, const char *name, int dirfd,
			  const char *path, int flags, mode_t mode)
{
	openat_fn f = (openat_fn)real_fn(slot, name);
	/* Both fake paths are absolute, so dirfd never matters for them. */
	int fd = fake_proc_xen(path);

	if (fd != -2)
		return fd;
	if (!f) {
		errno = ENOSYS;
		return -1;
	}
	return f(dirfd, path, flags, mode);
}

XSD_EXPORT int open(const char *path, int flags, ...)
{
	mode_t mode = 0;

	TAKE_MODE(flags, flags, mode);
	return forward_open(&real_open_p, "open", path, flags, mode);
}

XSD_EXPORT int open64(const char *path, int flags, ...)
{
	mode_t mode = 0;

	TAKE_MODE(flags, flags, mode);
	return forward_open(&real_open64_p, "open64", path, flags, mode);
}

XSD_EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;

	TAKE_MODE(flags, flags, mode);
	return forward_openat(&real_openat_p, "openat", dirfd, path, flags,
			      mode);
}

XSD_EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;

	TAKE_MODE(flags, flags, mode);
	return forward_openat(&real_openat64_p, "openat64", dirfd, path, flags,
			      mode);
}
