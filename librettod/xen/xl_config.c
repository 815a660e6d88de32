/*
 * The libxl_domain_config of a domain: what `xl create` would read from a
 * file, built from the engine's be_domain and the daemon's config.  Pure:
 * no libxl context, so that the unit test can check every field.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "util.h"
#include "xl_backend.h"

void xl_domain_name(const struct be_domain *dom, char buf[XL_NAME_SIZE])
{
	snprintf(buf, XL_NAME_SIZE, "%s-%s", dom->deployment->name, dom->name);
}

/*
 * A PCI function can only be hot-plugged into a domain created with
 * passthrough enabled (EOPNOTSUPP otherwise), and enabling it on a host
 * without an IOMMU fails the create: so only for domains that may get one.
 * That is a direct app (a VF from its create) and a dynamic app (one by
 * a switch).
 */
int xl_domain_may_get_vf(const struct be_domain *dom)
{
	return !dom->is_server && (dom->vf >= 0 || dom->vf_capable);
}

/* "dddd:bb:dd.f" into libxl's fields: the create's pcidevs, and a VF's
 * hot-plug and unplug (xl_vf.c). */
int xl_pci_fill(libxl_device_pci *pci, const char *bdf)
{
	char canon[XEN_VF_BDF_SIZE];
	unsigned domain, bus, dev, func;

	if (bdf == NULL || !xen_vf_bdf_parse(bdf, canon) ||
	    sscanf(canon, "%4x:%2x:%2x.%1x", &domain, &bus, &dev, &func) != 4)
		return -1;
	libxl_device_pci_init(pci);
	pci->domain = (int)domain;
	pci->bus = (uint8_t)bus;
	pci->dev = (uint8_t)dev;
	pci->func = (uint8_t)func;
	/* pciback has it already (xl_pf.c, xl_vf_pool.c): libxl must not
	 * take it from a dom0 driver itself. */
	pci->seize = false;
	return 0;
}

/* Every vCPU online from boot, as xl's vcpus = N without maxvcpus. The
 * bitmap is allocated here rather than with libxl_bitmap_alloc, which
 * wants a context; libxl_bitmap_dispose frees it the same. */
static int vcpus_fill(libxl_domain_build_info *b, unsigned vcpus)
{
	uint32_t bytes = (vcpus + 7) / 8;

	b->max_vcpus = (int)vcpus;
	b->avail_vcpus.map = calloc(bytes, 1);
	if (b->avail_vcpus.map == NULL)
		return -1;
	b->avail_vcpus.size = bytes;
	for (unsigned i = 0; i < vcpus; i++)
		libxl_bitmap_set(&b->avail_vcpus, (int)i);
	return 0;
}

int xl_config_build(const struct daemon_config *cfg,
		    const struct be_domain *dom, const char *pci_bdf,
		    libxl_domain_config *dc, char **err)
{
	char name[XL_NAME_SIZE];
	libxl_domain_create_info *c = &dc->c_info;
	libxl_domain_build_info *b = &dc->b_info;

	/* An app that names neither gets the backend's default: what a
	 * Debian kernel and one app comfortably boot in (128M is the least
	 * it boots in at all, docs/xen.md). */
	unsigned vcpus = dom->vcpus != 0 ? dom->vcpus : XL_DEFAULT_VCPUS;
	uint64_t memory =
	    dom->memory_bytes != 0 ? dom->memory_bytes : XL_DEFAULT_MEMORY;
	/* "" (the file's or the config's) means no command line at all. */
	const char *cmdline = dom->cmdline ? dom->cmdline : cfg->xen_cmdline;

	libxl_domain_config_init(dc);
	xl_domain_name(dom, name);
	if (memory < 1024) {
		*err = lt_strdupf("domain %s: %llu bytes of memory: too few "
				  "to boot",
				  name, (unsigned long long)memory);
		goto fail;
	}

	c->type = LIBXL_DOMAIN_TYPE_PV;
	c->name = strdup(name);
	c->passthrough = pci_bdf != NULL || xl_domain_may_get_vf(dom)
			     ? LIBXL_PASSTHROUGH_ENABLED
			     : LIBXL_PASSTHROUGH_DISABLED;

	libxl_domain_build_info_init_type(b, LIBXL_DOMAIN_TYPE_PV);
	b->max_memkb = b->target_memkb = (memory + 1023) / 1024;
	/* The domain's own image where its file names one (resolved to an
	 * absolute path and checked at deploy), else the daemon's. */
	b->kernel = strdup(dom->kernel ? dom->kernel : cfg->xen_kernel);
	b->ramdisk = strdup(dom->ramdisk ? dom->ramdisk : cfg->xen_ramdisk);
	if (cmdline[0] != '\0')
		b->cmdline = strdup(cmdline);
	if (c->name == NULL || b->kernel == NULL || b->ramdisk == NULL ||
	    (cmdline[0] != '\0' && b->cmdline == NULL) ||
	    vcpus_fill(b, vcpus) < 0)
		goto nomem;

	if (pci_bdf != NULL) {
		dc->pcidevs = calloc(1, sizeof(*dc->pcidevs));
		if (dc->pcidevs == NULL)
			goto nomem;
		if (xl_pci_fill(&dc->pcidevs[0], pci_bdf) < 0) {
			*err = lt_strdupf("domain %s: '%s' is not a PCI "
					  "address",
					  name, pci_bdf);
			free(dc->pcidevs);
			dc->pcidevs = NULL;
			goto fail;
		}
		dc->num_pcidevs = 1;
	}

	/* The end is reported and the engine's restart policy decides:
	 * nothing is rebooted or kept behind its back. libxl only records
	 * these; the backend destroys a domain that shut down itself
	 * (xl_domain.c), as xl does for these actions. */
	dc->on_poweroff = LIBXL_ACTION_ON_SHUTDOWN_DESTROY;
	dc->on_reboot = LIBXL_ACTION_ON_SHUTDOWN_DESTROY;
	dc->on_watchdog = LIBXL_ACTION_ON_SHUTDOWN_DESTROY;
	dc->on_crash = LIBXL_ACTION_ON_SHUTDOWN_DESTROY;
	dc->on_soft_reset = LIBXL_ACTION_ON_SHUTDOWN_DESTROY;
	return 0;
nomem:
	*err = lt_strdupf("domain %s: out of memory", name);
fail:
	libxl_domain_config_dispose(dc);
	return -1;
}
