/*
 * The xen backend's pure parts, which need no hypervisor
 * (librettod/xen/xl_*.c): the libxl domain config built from a domain,
 * the program name the guest image runs, how a domain's end becomes a
 * wait status, the NIC resolved on the recorded sysfs tree (argv[1]:
 * tests/data/sysfs-sriov), and the daemon config's xen_* keys.
 *
 * What needs Xen (the libxl calls themselves, the boot nodes as a guest
 * sees them, a shutdown's event) is proved by tests/xen/run.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "xl_backend.h"

static struct be_deployment demo_dep = {.name = "demo"};

static struct be_domain domain(const char *name, int is_server)
{
	struct be_domain d = {.deployment = &demo_dep,
			      .is_server = is_server,
			      .memory_bytes = 256ULL << 20,
			      .vcpus = 2,
			      .vf = -1};

	snprintf(d.name, sizeof(d.name), "%s", name);
	return d;
}

static void test_config_server(void)
{
	struct daemon_config cfg;
	struct be_domain d = domain("server", 1);
	libxl_domain_config dc;
	char *err = NULL;

	daemon_config_defaults(&cfg);
	if (!CHECK(xl_config_build(&cfg, &d, "0000:03:00.0", &dc, &err) == 0)) {
		fprintf(stderr, "%s\n", err);
		free(err);
		return;
	}
	CHECK(dc.c_info.type == LIBXL_DOMAIN_TYPE_PV);
	CHECK(dc.b_info.type == LIBXL_DOMAIN_TYPE_PV);
	CHECK(strcmp(dc.c_info.name, "demo-server") == 0);
	CHECK(dc.c_info.passthrough == LIBXL_PASSTHROUGH_ENABLED);
	CHECK(dc.b_info.max_memkb == 256 * 1024);
	CHECK(dc.b_info.target_memkb == 256 * 1024);
	CHECK(dc.b_info.max_vcpus == 2);
	CHECK(dc.b_info.avail_vcpus.size == 1);
	CHECK(libxl_bitmap_test(&dc.b_info.avail_vcpus, 0));
	CHECK(libxl_bitmap_test(&dc.b_info.avail_vcpus, 1));
	CHECK(!libxl_bitmap_test(&dc.b_info.avail_vcpus, 2));
	CHECK(strcmp(dc.b_info.kernel, "/var/lib/libretto/images/vmlinux") ==
	      0);
	CHECK(strcmp(dc.b_info.ramdisk,
		     "/var/lib/libretto/images/guest.cpio.zst") == 0);
	CHECK(strcmp(dc.b_info.cmdline, "console=hvc0 quiet") == 0);
	CHECK(dc.num_disks == 0 && dc.num_nics == 0 && dc.num_vfbs == 0);
	if (CHECK(dc.num_pcidevs == 1)) {
		CHECK(dc.pcidevs[0].domain == 0);
		CHECK(dc.pcidevs[0].bus == 3);
		CHECK(dc.pcidevs[0].dev == 0);
		CHECK(dc.pcidevs[0].func == 0);
		CHECK(!dc.pcidevs[0].seize);
	}
	CHECK(dc.on_poweroff == LIBXL_ACTION_ON_SHUTDOWN_DESTROY);
	CHECK(dc.on_reboot == LIBXL_ACTION_ON_SHUTDOWN_DESTROY);
	CHECK(dc.on_crash == LIBXL_ACTION_ON_SHUTDOWN_DESTROY);
	CHECK(dc.on_watchdog == LIBXL_ACTION_ON_SHUTDOWN_DESTROY);
	CHECK(dc.on_soft_reset == LIBXL_ACTION_ON_SHUTDOWN_DESTROY);
	libxl_domain_config_dispose(&dc);
}

static void test_config_app(void)
{
	struct daemon_config cfg;
	struct be_domain d = domain("web", 0);
	libxl_domain_config dc;
	char *err = NULL;

	daemon_config_defaults(&cfg);
	cfg.xen_cmdline[0] = '\0';
	d.memory_bytes = (64ULL << 20) + 1; /* rounded up to whole KiB */
	d.vcpus = 9;
	if (!CHECK(xl_config_build(&cfg, &d, NULL, &dc, &err) == 0)) {
		free(err);
		return;
	}
	CHECK(strcmp(dc.c_info.name, "demo-web") == 0);
	CHECK(dc.c_info.passthrough == LIBXL_PASSTHROUGH_DISABLED);
	CHECK(dc.b_info.max_memkb == 64 * 1024 + 1);
	CHECK(dc.b_info.max_vcpus == 9);
	CHECK(dc.b_info.avail_vcpus.size == 2);
	CHECK(libxl_bitmap_test(&dc.b_info.avail_vcpus, 8));
	CHECK(!libxl_bitmap_test(&dc.b_info.avail_vcpus, 9));
	CHECK(dc.b_info.cmdline == NULL);
	CHECK(dc.num_pcidevs == 0 && dc.pcidevs == NULL);
	libxl_domain_config_dispose(&dc);

	/* A dynamic app may get a VF by a switch: passthrough on. */
	d.vf_capable = 1;
	if (CHECK(xl_config_build(&cfg, &d, NULL, &dc, &err) == 0)) {
		CHECK(dc.c_info.passthrough == LIBXL_PASSTHROUGH_ENABLED);
		libxl_domain_config_dispose(&dc);
	} else {
		free(err);
	}
	/* A direct app has one from its create: passthrough on. */
	d.vf_capable = 0;
	d.vf = 0;
	if (CHECK(xl_config_build(&cfg, &d, NULL, &dc, &err) == 0)) {
		CHECK(dc.c_info.passthrough == LIBXL_PASSTHROUGH_ENABLED);
		libxl_domain_config_dispose(&dc);
	} else {
		free(err);
	}
}

/* A domain's own kernel, ramdisk and cmdline replace the daemon's, each
 * alone; an own "" cmdline means none even when the daemon has one. */
static void test_config_image(void)
{
	struct daemon_config cfg;
	struct be_domain d = domain("cache", 0);
	libxl_domain_config dc;
	char *err = NULL;

	daemon_config_defaults(&cfg);
	d.ramdisk = "/srv/images/redis.cpio.zst";
	if (CHECK(xl_config_build(&cfg, &d, NULL, &dc, &err) == 0)) {
		CHECK(strcmp(dc.b_info.kernel,
			     "/var/lib/libretto/images/vmlinux") == 0);
		CHECK(strcmp(dc.b_info.ramdisk, "/srv/images/redis.cpio.zst") ==
		      0);
		CHECK(dc.b_info.cmdline &&
		      strcmp(dc.b_info.cmdline, "console=hvc0 quiet") == 0);
		libxl_domain_config_dispose(&dc);
	} else {
		free(err);
		err = NULL;
	}
	d.ramdisk = NULL;
	d.kernel = "/srv/images/vmlinux-6.1";
	d.cmdline = "console=hvc0 loglevel=7";
	if (CHECK(xl_config_build(&cfg, &d, NULL, &dc, &err) == 0)) {
		CHECK(strcmp(dc.b_info.kernel, "/srv/images/vmlinux-6.1") == 0);
		CHECK(strcmp(dc.b_info.ramdisk,
			     "/var/lib/libretto/images/guest.cpio.zst") == 0);
		CHECK(dc.b_info.cmdline &&
		      strcmp(dc.b_info.cmdline, "console=hvc0 loglevel=7") ==
			  0);
		libxl_domain_config_dispose(&dc);
	} else {
		free(err);
		err = NULL;
	}
	d.cmdline = "";
	if (CHECK(xl_config_build(&cfg, &d, NULL, &dc, &err) == 0)) {
		CHECK(dc.b_info.cmdline == NULL);
		libxl_domain_config_dispose(&dc);
	} else {
		free(err);
	}
}

static void test_config_errors(void)
{
	struct daemon_config cfg;
	struct be_domain d = domain("web", 0);
	libxl_domain_config dc;
	char *err = NULL;

	daemon_config_defaults(&cfg);
	/* Neither given: the backend's default, not an error. */
	d.vcpus = 0;
	d.memory_bytes = 0;
	if (CHECK(xl_config_build(&cfg, &d, NULL, &dc, &err) == 0)) {
		CHECK(dc.b_info.max_vcpus == 1);
		CHECK(dc.b_info.max_memkb == 256 * 1024);
		libxl_domain_config_dispose(&dc);
	} else {
		free(err);
		err = NULL;
	}
	d.memory_bytes = 512;
	CHECK(xl_config_build(&cfg, &d, NULL, &dc, &err) < 0);
	CHECK(err && strcmp(err, "domain demo-web: 512 bytes of memory: too "
				 "few to boot") == 0);
	free(err);
	err = NULL;
	d = domain("server", 1);
	CHECK(xl_config_build(&cfg, &d, "0000:03:20.0", &dc, &err) < 0);
	CHECK(err && strcmp(err, "domain demo-server: '0000:03:20.0' is "
				 "not a PCI address") == 0);
	free(err);
}

static void test_program(void)
{
	CHECK(strcmp(xl_boot_program("/usr/local/libexec/libretto/"
				     "libretto-agent"),
		     "libretto-agent") == 0);
	CHECK(strcmp(xl_boot_program("libretto-netserver"),
		     "libretto-netserver") == 0);
	CHECK(strcmp(xl_boot_program("./bin/x"), "x") == 0);
	/* nothing after the slash: kept whole rather than made empty */
	CHECK(strcmp(xl_boot_program("/opt/dir/"), "/opt/dir/") == 0);
}

static void test_wstatus(void)
{
	int ws, bad;

	ws = xl_exit_wstatus(LIBXL_SHUTDOWN_REASON_POWEROFF, "0", &bad);
	CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 0 && !bad);
	ws = xl_exit_wstatus(LIBXL_SHUTDOWN_REASON_POWEROFF, "3\n", &bad);
	CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 3 && !bad);
	ws = xl_exit_wstatus(LIBXL_SHUTDOWN_REASON_POWEROFF, "255", &bad);
	CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 255 && !bad);
	/* absent or not a code: 255, and said so */
	static const char *const bad_codes[] = {"256", "-1",  "",    "1 ",
						"0x1", "abc", "1000"};
	ws = xl_exit_wstatus(LIBXL_SHUTDOWN_REASON_POWEROFF, NULL, &bad);
	CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 255 && bad);
	for (size_t i = 0; i < sizeof(bad_codes) / sizeof(bad_codes[0]); i++) {
		ws = xl_exit_wstatus(LIBXL_SHUTDOWN_REASON_POWEROFF,
				     bad_codes[i], &bad);
		CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 255 && bad);
	}
	ws = xl_exit_wstatus(LIBXL_SHUTDOWN_REASON_CRASH, "0", &bad);
	CHECK(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGSEGV && !bad);
	ws = xl_exit_wstatus(LIBXL_SHUTDOWN_REASON_REBOOT, NULL, &bad);
	CHECK(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGHUP);
	ws = xl_exit_wstatus(LIBXL_SHUTDOWN_REASON_SOFT_RESET, NULL, &bad);
	CHECK(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGHUP);
	ws = xl_exit_wstatus(LIBXL_SHUTDOWN_REASON_WATCHDOG, NULL, &bad);
	CHECK(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGALRM);
	ws = xl_exit_wstatus(LIBXL_SHUTDOWN_REASON_SUSPEND, NULL, &bad);
	CHECK(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL);
	/* libxl's event carries the reason in a uint8_t: unknown is 255 */
	ws =
	    xl_exit_wstatus((uint8_t)LIBXL_SHUTDOWN_REASON_UNKNOWN, NULL, &bad);
	CHECK(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL);
	CHECK(WIFSIGNALED(XL_WSTATUS_DESTROYED) &&
	      WTERMSIG(XL_WSTATUS_DESTROYED) == SIGKILL);
	CHECK(strcmp(xl_exit_reason_name(LIBXL_SHUTDOWN_REASON_CRASH),
		     "crash") == 0);
	CHECK(strcmp(xl_exit_reason_name(200), "unknown") == 0);
}

static void test_pf_resolve(const char *tree)
{
	char bdf[XEN_VF_BDF_SIZE], *err = NULL;

	CHECK(xl_pf_resolve(tree, "enp3s0f0", bdf, &err) == 0 &&
	      strcmp(bdf, "0000:03:00.0") == 0);
	/* not SR-IOV capable: fine for the server's NIC */
	CHECK(xl_pf_resolve(tree, "eno1", bdf, &err) == 0 &&
	      strcmp(bdf, "0000:00:19.0") == 0);
	CHECK(xl_pf_resolve(tree, "0000:03:00.1", bdf, &err) == 0 &&
	      strcmp(bdf, "0000:03:00.1") == 0);
	CHECK(xl_pf_resolve(tree, "0000:03:00.0", bdf, &err) == 0);

	CHECK(xl_pf_resolve(tree, "lo", bdf, &err) < 0);
	CHECK(err && strstr(err, "network.nic lo: the xen backend passes the "
				 "NIC through to the network server, so it "
				 "must be a PCI device") == err);
	CHECK(err && strstr(err, "(a virtual interface, not a PCI device?)"));
	free(err);
	err = NULL;
	CHECK(xl_pf_resolve(tree, "pf0", bdf, &err) < 0);
	CHECK(err && strstr(err, "no such network interface"));
	free(err);
	err = NULL;
	CHECK(xl_pf_resolve(tree, "0000:04:00.0", bdf, &err) < 0);
	CHECK(err && strstr(err, "no such PCI device"));
	free(err);
}

static char cfg_path[64];

static const char *config_error(const char *text)
{
	static char msg[1024];
	struct daemon_config cfg;
	struct lt_load_error err;
	FILE *f = fopen(cfg_path, "w");

	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0)
		return "(cannot write)";
	daemon_config_defaults(&cfg);
	if (daemon_config_load(cfg_path, &cfg, &err) == 0)
		return "(loaded)";
	lt_load_error_format(&err, msg, sizeof(msg));
	return strncmp(msg, cfg_path, strlen(cfg_path)) == 0
		   ? msg + strlen(cfg_path)
		   : msg;
}

static void test_config_keys(void)
{
	struct daemon_config cfg;
	struct lt_load_error err;
	char long_line[XEN_CMDLINE_SIZE + 32];
	FILE *f;
	int fd;

	snprintf(cfg_path, sizeof(cfg_path), "/tmp/test_xen_backend.XXXXXX");
	fd = mkstemp(cfg_path);
	if (!CHECK(fd >= 0))
		return;
	close(fd);

	f = fopen(cfg_path, "w");
	if (CHECK(f != NULL)) {
		fputs("xen_kernel: /boot/vmlinuz-pv\n"
		      "xen_ramdisk: /srv/guest.cpio.gz\n"
		      "xen_cmdline: \"console=hvc0 loglevel=4\"\n",
		      f);
		fclose(f);
	}
	daemon_config_defaults(&cfg);
	CHECK(daemon_config_load(cfg_path, &cfg, &err) == 0);
	CHECK(strcmp(cfg.xen_kernel, "/boot/vmlinuz-pv") == 0);
	CHECK(strcmp(cfg.xen_ramdisk, "/srv/guest.cpio.gz") == 0);
	CHECK(strcmp(cfg.xen_cmdline, "console=hvc0 loglevel=4") == 0);

	/* "" is a command line too: the kernel gets none */
	f = fopen(cfg_path, "w");
	if (CHECK(f != NULL)) {
		fputs("xen_cmdline: \"\"\n", f);
		fclose(f);
	}
	daemon_config_defaults(&cfg);
	CHECK(daemon_config_load(cfg_path, &cfg, &err) == 0 &&
	      cfg.xen_cmdline[0] == '\0');

	CHECK(strcmp(config_error("xen_kernel: vmlinuz\n"),
		     ":1:13: xen_kernel: \"vmlinuz\" is not an absolute "
		     "path") == 0);
	CHECK(strcmp(config_error("xen_ramdisk: [a]\n"),
		     ":1:14: xen_ramdisk: expected an absolute path, found a "
		     "sequence") == 0);
	CHECK(strcmp(config_error("xen_cmdline: \"quiet\\tdebug\"\n"),
		     ":1:14: xen_cmdline: \"quiet\\tdebug\" holds a control "
		     "or non-ASCII character (expected printable ASCII)") == 0);
	CHECK(strstr(config_error("xen_cmdline: \"caf\xc3\xa9\"\n"),
		     "holds a control or non-ASCII character") != NULL);
	memset(long_line, 'x', sizeof(long_line));
	memcpy(long_line, "xen_cmdline: ", 13);
	long_line[13 + XEN_CMDLINE_SIZE] = '\n';
	long_line[14 + XEN_CMDLINE_SIZE] = '\0';
	CHECK(strstr(config_error(long_line), "is longer than 1023 "
					      "characters") != NULL);
	unlink(cfg_path);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s <tests/data/sysfs-sriov>\n",
			argv[0]);
		return 2;
	}
	test_config_server();
	test_config_app();
	test_config_image();
	test_config_errors();
	test_program();
	test_wstatus();
	test_pf_resolve(argv[1]);
	test_config_keys();
	return check_summary("test_xen_backend");
}
