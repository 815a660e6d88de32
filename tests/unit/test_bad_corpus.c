/*
 * Runs the deployment loader on every tests/corpus/bad/NN-name.yaml and
 * compares the formatted error with NN-name.err, byte for byte. The file
 * name passed to the loader is the basename, so the .err files do not
 * depend on where the tree is. Every .yaml needs an .err and vice versa.
 *
 * usage: test_bad_corpus DIR
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deployment.h"
#include "yaml_util.h"

/* Each error class of docs/deployment.md has at least one file. */
#define MIN_CASES 35

static int has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n > m && strcmp(s + n - m, suffix) == 0;
}

static char *read_in(const char *dir, const char *name, size_t *len)
{
	char path[4096];
	char *text;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (lt_read_file(path, 4 * LT_DEPLOYMENT_MAX_SIZE, &text, len) < 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return NULL;
	}
	return text;
}

/* The sibling with the other suffix exists. */
static int sibling_exists(const char *dir, const char *name, const char *from,
			  const char *to)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%.*s%s", dir,
		 (int)(strlen(name) - strlen(from)), name, to);
	f = fopen(path, "r");
	if (!f)
		return 0;
	fclose(f);
	return 1;
}

static int run_case(const char *dir, const char *name)
{
	char errname[1024], got[1024];
	struct lt_deployment *d = NULL;
	struct lt_load_error err;
	size_t len, elen;
	char *text = NULL, *want = NULL;
	int ok = 0;

	snprintf(errname, sizeof(errname), "%.*s.err",
		 (int)(strlen(name) - strlen(".yaml")), name);
	text = read_in(dir, name, &len);
	want = read_in(dir, errname, &elen);
	if (!text || !want)
		goto out;
	while (elen && (want[elen - 1] == '\n' || want[elen - 1] == '\r'))
		want[--elen] = '\0';
	if (lt_deployment_load(text, len, name, &d, &err) == 0) {
		printf("FAIL %s: loaded, expected\n     %s\n", name, want);
		goto out;
	}
	lt_load_error_format(&err, got, sizeof(got));
	if (strcmp(got, want) != 0) {
		printf("FAIL %s:\n  want %s\n  got  %s\n", name, want, got);
		goto out;
	}
	ok = 1;
out:
	lt_deployment_free(d);
	free(text);
	free(want);
	return ok;
}

int main(int argc, char **argv)
{
	const char *dir;
	struct dirent **names = NULL;
	int n, cases = 0, failures = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS-DIR\n", argv[0]);
		return 2;
	}
	dir = argv[1];
	n = scandir(dir, &names, NULL, alphasort);
	if (n < 0) {
		fprintf(stderr, "%s: %s\n", dir, strerror(errno));
		return 2;
	}
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		if (has_suffix(name, ".yaml")) {
			cases++;
			if (!sibling_exists(dir, name, ".yaml", ".err")) {
				printf("FAIL %s: no matching .err\n", name);
				failures++;
			} else if (!run_case(dir, name)) {
				failures++;
			}
		} else if (has_suffix(name, ".err") &&
			   !sibling_exists(dir, name, ".err", ".yaml")) {
			printf("FAIL %s: no matching .yaml\n", name);
			failures++;
		}
		free(names[i]);
	}
	free(names);
	if (cases < MIN_CASES) {
		printf("FAIL only %d cases (expected at least %d)\n", cases,
		       MIN_CASES);
		failures++;
	}
	printf("%d cases, %d failures\n", cases, failures);
	return failures ? 1 : 0;
}
