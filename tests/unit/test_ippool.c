/* The address pool: lowest free first, idempotent per owner, exhaustion,
 * release, restore from saved state, owner lookup and edge ranges. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "deployment.h"
#include "ippool.h"

/* fails (an expression) is true, with errno e (cleared before). */
#define CHECK_ERRNO(fails, e)                                                  \
	do {                                                                   \
		errno = 0;                                                     \
		check_at((fails) && errno == (e), __FILE__, __LINE__,          \
			 #fails " with errno " #e);                            \
	} while (0)

static struct in_addr ip(const char *dotted)
{
	struct in_addr a = {0};

	inet_pton(AF_INET, dotted, &a);
	return a;
}

static int is(struct in_addr a, const char *dotted)
{
	return a.s_addr == ip(dotted).s_addr;
}

static void test_reserve_release(void)
{
	struct lt_ippool *p = lt_ippool_new(ip("10.0.0.10"), ip("10.0.0.12"));
	struct in_addr a;

	CHECK(p != NULL);
	if (!p)
		return;
	CHECK(lt_ippool_free_count(p) == 3);
	CHECK(lt_ippool_reserve(p, "a", &a) == 0 && is(a, "10.0.0.10"));
	CHECK(lt_ippool_reserve(p, "b", &a) == 0 && is(a, "10.0.0.11"));
	/* idempotent: same owner, same address, nothing more taken */
	CHECK(lt_ippool_reserve(p, "a", &a) == 0 && is(a, "10.0.0.10"));
	CHECK(lt_ippool_free_count(p) == 1);
	CHECK(lt_ippool_reserve(p, "c", &a) == 0 && is(a, "10.0.0.12"));
	CHECK_ERRNO(lt_ippool_reserve(p, "d", &a) == -1, ENOSPC);
	CHECK(lt_ippool_free_count(p) == 0);
	/* an owner already in gets its address even when the pool is full */
	CHECK(lt_ippool_reserve(p, "c", &a) == 0 && is(a, "10.0.0.12"));

	CHECK(strcmp(lt_ippool_owner(p, ip("10.0.0.11")), "b") == 0);
	CHECK(lt_ippool_owner(p, ip("10.0.0.9")) == NULL);
	CHECK(lt_ippool_owner(p, ip("10.0.0.13")) == NULL);

	CHECK(lt_ippool_release(p, "b") == 0);
	CHECK(lt_ippool_owner(p, ip("10.0.0.11")) == NULL);
	CHECK_ERRNO(lt_ippool_release(p, "b") == -1, ENOENT);
	CHECK(lt_ippool_free_count(p) == 1);
	/* lowest free address, not the next one after the last reserved */
	CHECK(lt_ippool_reserve(p, "d", &a) == 0 && is(a, "10.0.0.11"));
	lt_ippool_free(p);
}

static void test_restore(void)
{
	struct lt_ippool *p = lt_ippool_new(ip("10.0.0.10"), ip("10.0.0.19"));
	struct in_addr a;

	if (!p) {
		check_failures++;
		return;
	}
	CHECK(lt_ippool_reserve_addr(p, "x", ip("10.0.0.15")) == 0);
	CHECK(lt_ippool_reserve_addr(p, "x", ip("10.0.0.15")) == 0);
	CHECK_ERRNO(lt_ippool_reserve_addr(p, "y", ip("10.0.0.15")) == -1,
		    EEXIST);
	CHECK_ERRNO(lt_ippool_reserve_addr(p, "y", ip("10.0.0.20")) == -1,
		    ERANGE);
	CHECK_ERRNO(lt_ippool_reserve_addr(p, "y", ip("10.0.0.9")) == -1,
		    ERANGE);
	CHECK_ERRNO(lt_ippool_reserve_addr(p, "x", ip("10.0.0.16")) == -1,
		    EBUSY);
	CHECK(lt_ippool_reserve(p, "x", &a) == 0 && is(a, "10.0.0.15"));
	CHECK(lt_ippool_reserve(p, "z", &a) == 0 && is(a, "10.0.0.10"));
	CHECK(lt_ippool_free_count(p) == 8);
	CHECK(strcmp(lt_ippool_owner(p, ip("10.0.0.15")), "x") == 0);
	lt_ippool_free(p);
}

static void test_edges(void)
{
	struct lt_ippool *p;
	struct in_addr a;

	/* one address */
	p = lt_ippool_new(ip("192.168.1.1"), ip("192.168.1.1"));
	CHECK(p && lt_ippool_free_count(p) == 1);
	CHECK(p && lt_ippool_reserve(p, "a", &a) == 0 && is(a, "192.168.1.1"));
	CHECK(p && lt_ippool_reserve(p, "b", &a) == -1);
	lt_ippool_free(p);

	/* across an octet boundary, and byte order kept */
	p = lt_ippool_new(ip("10.0.0.255"), ip("10.0.1.0"));
	CHECK(p && lt_ippool_free_count(p) == 2);
	CHECK(p && lt_ippool_reserve(p, "a", &a) == 0 && is(a, "10.0.0.255"));
	CHECK(p && lt_ippool_reserve(p, "b", &a) == 0 && is(a, "10.0.1.0"));
	lt_ippool_free(p);

	/* the top of the address space does not wrap */
	p = lt_ippool_new(ip("255.255.255.254"), ip("255.255.255.255"));
	CHECK(p && lt_ippool_free_count(p) == 2);
	lt_ippool_free(p);

	/* LT_POOL_MAX addresses, and not one more; reversed */
	p = lt_ippool_new(ip("10.1.0.0"), ip("10.1.255.255"));
	CHECK(p && lt_ippool_free_count(p) == LT_POOL_MAX);
	lt_ippool_free(p);
	CHECK_ERRNO(lt_ippool_new(ip("10.1.0.0"), ip("10.2.0.0")) == NULL,
		    EINVAL);
	CHECK_ERRNO(lt_ippool_new(ip("0.0.0.0"), ip("255.255.255.255")) == NULL,
		    EINVAL);
	CHECK_ERRNO(lt_ippool_new(ip("10.0.0.2"), ip("10.0.0.1")) == NULL,
		    EINVAL);
	lt_ippool_free(NULL);
}

int main(void)
{
	test_reserve_release();
	test_restore();
	test_edges();
	return check_summary("test_ippool");
}
