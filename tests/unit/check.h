/*
 * The checks of the C tests: CHECK(cond) reports a false condition as
 * file:line and the expression and counts it; the test goes on.  main
 * ends with "return check_summary(name);".  Include it once per test
 * program (the counter is per program).
 */
#ifndef LIBRETTO_TESTS_CHECK_H
#define LIBRETTO_TESTS_CHECK_H

#include <stdio.h>

/* Failed checks so far.  A test may count a failure of its own (one that
 * it reports itself) with check_failures++, and a forked child starts
 * again from 0 and exits with its own count. */
static int check_failures;

static inline int check_at(int ok, const char *file, int line, const char *expr)
{
	if (!ok) {
		fprintf(stderr, "%s:%d: CHECK(%s) failed\n", file, line, expr);
		check_failures++;
	}
	return ok;
}

/* Evaluates cond once; its value (0 or 1) is the macro's. */
#define CHECK(cond) check_at(!!(cond), __FILE__, __LINE__, #cond)

/* Prints the outcome under name; returns main's exit status. */
static inline int check_summary(const char *name)
{
	if (check_failures != 0) {
		fprintf(stderr, "%s: %d check(s) failed\n", name,
			check_failures);
		return 1;
	}
	printf("%s: ok\n", name);
	return 0;
}

#endif
