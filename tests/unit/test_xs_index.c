/*
 * The numbers librettod reads back from its own xenstore nodes
 * (librettod/xs_index.c): a pool VF id indexes an array, so whatever a
 * corrupted or hand-edited store holds must be refused, never wrapped
 * into range the way atoi or strtoul would.
 */
#include <limits.h>
#include <stdio.h>

#include "check.h"
#include "xs_index.h"

static void test_index(void)
{
	CHECK(xs_index_parse("0", 64) == 0);
	CHECK(xs_index_parse("7", 64) == 7);
	CHECK(xs_index_parse("63", 64) == 63);
	CHECK(xs_index_parse("3", 4) == 3);
	/* Out of range: past the deployment's VFs, past the array. */
	CHECK(xs_index_parse("4", 4) == -1);
	CHECK(xs_index_parse("64", 64) == -1);
	CHECK(xs_index_parse("99999", 64) == -1);
	CHECK(xs_index_parse("18446744073709551616", 64) == -1);
	CHECK(xs_index_parse("99999999999999999999999999", UINT_MAX) == -1);
	CHECK(xs_index_parse("0", 0) == -1);
	/* Not a canonical decimal. */
	CHECK(xs_index_parse("-1", 64) == -1);
	CHECK(xs_index_parse("+1", 64) == -1);
	CHECK(xs_index_parse("abc", 64) == -1);
	CHECK(xs_index_parse("1a", 64) == -1);
	CHECK(xs_index_parse(" 1", 64) == -1);
	CHECK(xs_index_parse("1 ", 64) == -1);
	CHECK(xs_index_parse("07", 64) == -1);
	CHECK(xs_index_parse("00", 64) == -1);
	CHECK(xs_index_parse("0x1", 64) == -1);
	CHECK(xs_index_parse("", 64) == -1);
	CHECK(xs_index_parse(NULL, 64) == -1);
	/* The largest limit still gives an int. */
	CHECK(xs_index_parse("2147483646", UINT_MAX) == 2147483646);
	CHECK(xs_index_parse("2147483648", UINT_MAX) == -1);
}

static void test_uint(void)
{
	unsigned v = 12345;

	CHECK(xs_uint_parse("0", &v) == 0 && v == 0);
	CHECK(xs_uint_parse("42", &v) == 0 && v == 42);
	CHECK(xs_uint_parse("4294967295", &v) == 0 && v == UINT_MAX);
	v = 12345;
	CHECK(xs_uint_parse("4294967296", &v) == -1 && v == 12345);
	/* strtoul reads these as 1 and ULONG_MAX: a seq they must not ack. */
	CHECK(xs_uint_parse("-18446744073709551615", &v) == -1);
	CHECK(xs_uint_parse("-1", &v) == -1);
	CHECK(xs_uint_parse("1\n", &v) == -1);
	CHECK(xs_uint_parse("01", &v) == -1);
	CHECK(xs_uint_parse("", &v) == -1);
	CHECK(xs_uint_parse(NULL, &v) == -1);
	CHECK(v == 12345);
}

int main(void)
{
	test_index();
	test_uint();
	return check_summary("xs_index");
}
