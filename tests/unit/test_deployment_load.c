/*
 * The deployment loader on good files: configs/demo.yaml field by field
 * (its path is argv[1]), variants the schema allows, and the equality
 * helpers. Bad files are tests/corpus/bad, run by test_bad_corpus.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "deployment.h"

static int addr_is(struct in_addr a, const char *dotted)
{
	struct in_addr want;

	return inet_pton(AF_INET, dotted, &want) == 1 &&
	       want.s_addr == a.s_addr;
}

static int argv_is(const struct lt_app *app, const char *const *want)
{
	size_t n = 0;

	while (want[n])
		n++;
	if (app->argc != n || app->argv[n] != NULL)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (strcmp(app->argv[i], want[i]) != 0)
			return 0;
	return 1;
}

/* Loads text; on failure prints the error and returns NULL. */
static struct lt_deployment *load(const char *text)
{
	struct lt_deployment *d;
	struct lt_load_error err;
	char msg[1024];

	if (lt_deployment_load(text, strlen(text), "test.yaml", &d, &err) < 0) {
		lt_load_error_format(&err, msg, sizeof(msg));
		fprintf(stderr, "unexpected error: %s\n", msg);
		return NULL;
	}
	return d;
}

static void test_demo(const char *path)
{
	static const char *const web[] = {"nginx", "-g", "daemon off;", NULL};
	static const char *const cache[] = {
	    "redis-server", "--save",		"",   "--appendonly",
	    "no",	    "--protected-mode", "no", NULL};
	static const char *const kv[] = {"memcached", "-u", "nobody", NULL};
	struct lt_deployment *d;
	struct lt_load_error err;

	if (lt_deployment_load_file(path, &d, &err) < 0) {
		char msg[1024];
		lt_load_error_format(&err, msg, sizeof(msg));
		fprintf(stderr, "%s\n", msg);
		check_failures++;
		return;
	}
	CHECK(strcmp(d->name, "demo") == 0);
	CHECK(strcmp(d->net.nic, "pf0") == 0);
	CHECK(addr_is(d->net.subnet, "10.77.0.0"));
	CHECK(d->net.prefix == 24);
	CHECK(addr_is(d->net.gateway, "10.77.0.1"));
	CHECK(addr_is(d->net.server_ip, "10.77.0.2"));
	CHECK(addr_is(d->net.pool_first, "10.77.0.100"));
	CHECK(addr_is(d->net.pool_last, "10.77.0.199"));
	CHECK(d->net.vfs == 4);
	CHECK(d->server.memory_bytes == 256ull << 20);
	CHECK(d->server.vcpus == 1);
	CHECK(d->napps == 3);
	if (d->napps != 3)
		goto out;
	CHECK(strcmp(d->apps[0].name, "web") == 0);
	CHECK(d->apps[0].mode == LT_MODE_SERVER);
	CHECK(argv_is(&d->apps[0], web));
	CHECK(d->apps[0].nports == 1);
	CHECK(d->apps[0].ports[0].proto == LT_PROTO_TCP);
	CHECK(d->apps[0].ports[0].port == 80);
	CHECK(d->apps[0].ports[0].pos.line == 16);
	CHECK(d->apps[0].ports[0].pos.column == 13);
	CHECK(d->apps[0].memory_bytes == 0 && d->apps[0].vcpus == 0);
	CHECK(d->apps[0].pos.line == 13 && d->apps[0].pos.column == 11);
	CHECK(strcmp(d->apps[1].name, "cache") == 0);
	CHECK(d->apps[1].mode == LT_MODE_DYNAMIC);
	CHECK(argv_is(&d->apps[1], cache));
	CHECK(d->apps[1].nports == 0);
	CHECK(strcmp(d->apps[2].name, "kv") == 0);
	CHECK(d->apps[2].mode == LT_MODE_DIRECT);
	CHECK(argv_is(&d->apps[2], kv));
	CHECK(d->apps[2].nports == 0);
out:
	lt_deployment_free(d);
}

#define NET                                                                    \
	"network:\n"                                                           \
	"  nic: eth0\n"                                                        \
	"  subnet: 192.168.8.0/22\n"                                           \
	"  gateway: 192.168.8.1\n"                                             \
	"  server_ip: 192.168.11.254\n"                                        \
	"  pool: 192.168.9.0-192.168.9.255\n"

static void test_variants(void)
{
	struct lt_deployment *d;

	/* no server section, no vfs, flow style, quotes, resources, udp */
	d = load("name: x1\n" NET "apps:\n"
		 "  - {name: dns, mode: server, command: ['unbound', \"-d\"],"
		 " ports: [udp/53, tcp/53, \"tcp/65535\"], memory: 1G,"
		 " vcpus: 128}\n"
		 "  - name: a-b-c\n"
		 "    mode: dynamic\n"
		 "    command:\n"
		 "      - /bin/sh\n"
		 "      - -c\n"
		 "      - \"echo hi\"\n"
		 "    memory: 16M\n");
	CHECK(d != NULL);
	if (d) {
		CHECK(d->server.memory_bytes == 256ull << 20);
		CHECK(d->server.vcpus == 1);
		CHECK(d->net.vfs == 0);
		CHECK(d->net.vf_pf[0] == '\0');
		CHECK(d->net.prefix == 22);
		CHECK(d->napps == 2);
		CHECK(d->apps[0].nports == 3);
		CHECK(d->apps[0].ports[0].proto == LT_PROTO_UDP);
		CHECK(d->apps[0].ports[2].port == 65535);
		CHECK(d->apps[0].memory_bytes == 1ull << 30);
		CHECK(d->apps[0].vcpus == 128);
		CHECK(d->apps[1].argc == 3);
		CHECK(strcmp(d->apps[1].argv[2], "echo hi") == 0);
		CHECK(d->apps[1].memory_bytes == 16ull << 20);
		lt_deployment_free(d);
	}

	/* a server app with no ports, an explicit empty ports list; a /16
	 * pool (LT_POOL_MAX addresses) in a /8 */
	d = load("name: big\n"
		 "network: {nic: '0000:03:00.0', subnet: 10.0.0.0/8,"
		 " gateway: 10.255.255.254, server_ip: 10.255.255.253,"
		 " pool: 10.1.0.0-10.1.255.255, vfs: 64, vf_pf: enp3s0f1}\n"
		 "server: {memory: 512M, vcpus: 2}\n"
		 "apps:\n"
		 "  - {name: c, mode: server, command: [client]}\n"
		 "  - {name: d, mode: server, command: [x], ports: []}\n"
		 "  - {name: e, mode: direct, command: [y]}\n");
	CHECK(d != NULL);
	if (d) {
		CHECK(strcmp(d->net.nic, "0000:03:00.0") == 0);
		CHECK(d->server.memory_bytes == 512ull << 20);
		CHECK(d->server.vcpus == 2);
		CHECK(d->apps[0].nports == 0 && d->apps[1].nports == 0);
		CHECK(d->net.vfs == 64);
		CHECK(strcmp(d->net.vf_pf, "enp3s0f1") == 0);
		lt_deployment_free(d);
	}

	/* comments, CRLF line ends, explicit document markers */
	d = load(
	    "---\r\n# comment\r\nname: crlf  # trailing\r\n" NET
	    "apps:\r\n  - {name: a, mode: server, command: [b]}\r\n...\r\n");
	CHECK(d != NULL);
	lt_deployment_free(d);
}

static void test_pool_cap(void)
{
	struct lt_deployment *d = NULL;
	struct lt_load_error err;
	const char *text =
	    "name: big\n"
	    "network: {nic: n, subnet: 10.0.0.0/8,"
	    " gateway: 10.255.255.254, server_ip: 10.255.255.253,"
	    " pool: 10.1.0.0-10.2.0.0}\n"
	    "apps: [{name: c, mode: server, command: [client]}]\n";

	CHECK(lt_deployment_load(text, strlen(text), "p.yaml", &d, &err) < 0);
	CHECK(d == NULL);
	CHECK(strstr(err.message, "65537 addresses") != NULL);
	CHECK(err.pos.line == 2);
}

static void test_errors_without_position(void)
{
	struct lt_deployment *d = NULL;
	struct lt_load_error err;
	char msg[1024];

	CHECK(lt_deployment_load_file("/nonexistent/x.yaml", &d, &err) < 0);
	CHECK(d == NULL);
	lt_load_error_format(&err, msg, sizeof(msg));
	CHECK(strcmp(msg, "/nonexistent/x.yaml: cannot read: No such file or "
			  "directory") == 0);

	char *huge = calloc(1, LT_DEPLOYMENT_MAX_SIZE + 2);
	if (huge) {
		memset(huge, '#', LT_DEPLOYMENT_MAX_SIZE + 1);
		CHECK(lt_deployment_load(huge, LT_DEPLOYMENT_MAX_SIZE + 1,
					 "huge.yaml", &d, &err) < 0);
		CHECK(err.pos.line == 0);
		free(huge);
	}
}

static void test_names(void)
{
	CHECK(strcmp(lt_mode_name(LT_MODE_SERVER), "server") == 0);
	CHECK(strcmp(lt_mode_name(LT_MODE_DYNAMIC), "dynamic") == 0);
	CHECK(strcmp(lt_mode_name(LT_MODE_DIRECT), "direct") == 0);
	CHECK(strcmp(lt_proto_name(LT_PROTO_TCP), "tcp") == 0);
	CHECK(strcmp(lt_proto_name(LT_PROTO_UDP), "udp") == 0);
	CHECK(lt_name_valid("a"));
	CHECK(lt_name_valid("abcdefghijklmno"));
	CHECK(!lt_name_valid("abcdefghijklmnop"));
	CHECK(!lt_name_valid(""));
	CHECK(!lt_name_valid("1a"));
	CHECK(!lt_name_valid("a-"));
	CHECK(!lt_name_valid("a_b"));
	CHECK(lt_name_valid("a-1"));
}

static void test_equality(void)
{
	const char *a = "name: e\n" NET "apps:\n"
			"  - {name: w, mode: server, command: [n, -x],"
			" ports: [tcp/80, udp/53]}\n"
			"  - {name: v, mode: dynamic, command: [n]}\n";
	/* same apps, other order of ports and apps, other positions */
	const char *b = "name: e\n" NET "apps:\n"
			"  - {name: v, mode: dynamic, command: [n]}\n\n"
			"  - {name: w, mode: server, command: [n, -x],"
			" ports: [udp/53, tcp/80]}\n"
			"server: {memory: 256M}\n";
	const char *c = "name: e\n" NET "  vfs: 1\n"
			"apps:\n"
			"  - {name: w, mode: server, command: [n, -y],"
			" ports: [tcp/80]}\n"
			"  - {name: v, mode: dynamic, command: [n], vcpus: 2}\n"
			"server: {vcpus: 2}\n";
	struct lt_deployment *da = load(a), *db = load(b), *dc = load(c);

	CHECK(da && db && dc);
	if (!da || !db || !dc)
		goto out;
	CHECK(lt_app_equal(&da->apps[0], &db->apps[1]));
	CHECK(lt_app_equal(&da->apps[1], &db->apps[0]));
	CHECK(!lt_app_equal(&da->apps[0], &db->apps[0]));
	CHECK(lt_network_equal(&da->net, &db->net));
	CHECK(lt_server_equal(&da->server, &db->server));
	CHECK(!lt_app_equal(&da->apps[0], &dc->apps[0])); /* argv, ports */
	CHECK(!lt_app_equal(&da->apps[1], &dc->apps[1])); /* vcpus */
	CHECK(!lt_network_equal(&da->net, &dc->net));	  /* vfs */
	CHECK(!lt_server_equal(&da->server, &dc->server));
	/* vf_pf counts too */
	strcpy(db->net.vf_pf, "eth1");
	CHECK(!lt_network_equal(&da->net, &db->net));
out:
	lt_deployment_free(da);
	lt_deployment_free(db);
	lt_deployment_free(dc);
}

/* kernel, ramdisk and cmdline: absent means NULL (the daemon's
 * default), present keeps the value and the position of its value. */
static void test_images(void)
{
	const char *text =
	    "name: i\n" NET "server:\n"
	    "  kernel: kernels/vmlinuz-6.1\n"
	    "apps:\n"
	    "  - name: a\n"
	    "    mode: dynamic\n"
	    "    command: [n]\n"
	    "    ramdisk: redis.cpio.zst\n"
	    "    cmdline: \"\"\n"
	    "  - {name: b, mode: dynamic, command: [n], cmdline: quiet}\n";
	struct lt_deployment *d = load(text), *e = load(text);

	CHECK(d && e);
	if (!d || !e)
		goto out;
	CHECK(d->server.image.kernel &&
	      strcmp(d->server.image.kernel, "kernels/vmlinuz-6.1") == 0);
	CHECK(d->server.image.ramdisk == NULL &&
	      d->server.image.cmdline == NULL);
	CHECK(d->apps[0].image.kernel == NULL);
	CHECK(d->apps[0].image.ramdisk &&
	      strcmp(d->apps[0].image.ramdisk, "redis.cpio.zst") == 0);
	CHECK(d->apps[0].image.ramdisk_pos.line == 14 &&
	      d->apps[0].image.ramdisk_pos.column == 14);
	/* "" is a command line of its own: none, not the default */
	CHECK(d->apps[0].image.cmdline &&
	      strcmp(d->apps[0].image.cmdline, "") == 0);
	CHECK(d->apps[1].image.cmdline &&
	      strcmp(d->apps[1].image.cmdline, "quiet") == 0);
	CHECK(lt_deployment_names_images(d));
	CHECK(lt_app_equal(&d->apps[0], &e->apps[0]));
	CHECK(lt_server_equal(&d->server, &e->server));
	free(e->apps[0].image.ramdisk);
	e->apps[0].image.ramdisk = strdup("other.cpio.zst");
	CHECK(!lt_app_equal(&d->apps[0], &e->apps[0]));
	free(e->apps[1].image.cmdline);
	e->apps[1].image.cmdline = NULL;
	CHECK(!lt_app_equal(&d->apps[1], &e->apps[1]));
	lt_image_free(&e->server.image);
	CHECK(!lt_server_equal(&d->server, &e->server));
out:
	lt_deployment_free(d);
	lt_deployment_free(e);
}

/* Relative paths joined to images_dir, absolute ones kept; with check,
 * a missing file or a directory is refused at the value's position. */
static void test_resolve(void)
{
	char dir[] = "/tmp/test_images.XXXXXX", path[256], msg[1024];
	char want[1024];
	const char *app = "name: r\n" NET "apps:\n"
			  "  - name: a\n"
			  "    mode: dynamic\n"
			  "    command: [n]\n"
			  "    kernel: %s\n"
			  "    ramdisk: %s\n";
	char text[1024];
	struct lt_deployment *d;
	struct lt_load_error err;
	FILE *f;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/vmlinux", dir);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f)
		fclose(f);
	snprintf(path, sizeof(path), "%s/sub", dir);
	CHECK(mkdir(path, 0700) == 0);

	snprintf(text, sizeof(text), app, "vmlinux", "missing/rd");
	d = load(text);
	CHECK(d != NULL);
	if (d) {
		/* Not checked: joined, not opened (what adoption does). */
		CHECK(lt_deployment_resolve_images(d, dir, 0, "t.yaml", &err) ==
		      0);
		snprintf(path, sizeof(path), "%s/vmlinux", dir);
		CHECK(strcmp(d->apps[0].image.kernel, path) == 0);
		snprintf(path, sizeof(path), "%s/missing/rd", dir);
		CHECK(strcmp(d->apps[0].image.ramdisk, path) == 0);
		CHECK(strcmp(d->images_dir, dir) == 0);
		/* Checked: the ramdisk is missing. Resolving again keeps the
		 * absolute paths it made. */
		CHECK(lt_deployment_resolve_images(d, dir, 1, "t.yaml", &err) <
		      0);
		lt_load_error_format(&err, msg, sizeof(msg));
		snprintf(want, sizeof(want),
			 "t.yaml:13:14: apps[0].ramdisk: %s/missing/rd: No "
			 "such file or directory (expected a readable file; a "
			 "relative path is taken from images_dir %s)",
			 dir, dir);
		CHECK(strcmp(msg, want) == 0);
		lt_deployment_free(d);
	}
	snprintf(text, sizeof(text), app, "sub", "vmlinux");
	d = load(text);
	CHECK(d != NULL);
	if (d) {
		CHECK(lt_deployment_resolve_images(d, dir, 1, "t.yaml", &err) <
		      0);
		lt_load_error_format(&err, msg, sizeof(msg));
		CHECK(strncmp(msg, "t.yaml:12:13: apps[0].kernel: ", 30) == 0 &&
		      strstr(msg, "/sub: Is a directory") != NULL);
		lt_deployment_free(d);
	}
	snprintf(text, sizeof(text), app, "vmlinux", "vmlinux");
	d = load(text);
	CHECK(d != NULL);
	if (d) {
		CHECK(lt_deployment_resolve_images(d, dir, 1, "t.yaml", &err) ==
		      0);
		lt_deployment_free(d);
	}
	snprintf(path, sizeof(path), "%s/sub", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/vmlinux", dir);
	unlink(path);
	rmdir(dir);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s configs/demo.yaml\n", argv[0]);
		return 2;
	}
	test_demo(argv[1]);
	test_variants();
	test_pool_cap();
	test_errors_without_position();
	test_names();
	test_equality();
	test_images();
	test_resolve();
	return check_summary("test_deployment_load");
}
