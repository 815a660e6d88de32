/*
 * What a domain boots: the kernel, ramdisk and cmdline keys of the server
 * and of each app (docs/deployment.md, "Images"). Loading checks their
 * form; resolving joins relative paths to the daemon's images_dir and,
 * before anything starts, checks that each file can be read.
 */
#include "deployment_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A path ".." component by component, as the kernel walks it. */
static int has_dotdot(const char *s)
{
	for (const char *p = s; *p;
	     p = strchr(p, '/') ? strchr(p, '/') + 1 : p + strlen(p))
		if (p[0] == '.' && p[1] == '.' && (p[2] == '/' || p[2] == '\0'))
			return 1;
	return 0;
}

/*
 * Relative, and inside images_dir: the daemon opens an image as root and
 * hands it to a guest the file's author controls, so a file may only name
 * what the operator put in images_dir, never /etc/shadow as a ramdisk.
 */
static int load_image_path(struct lt_yaml *y, yaml_node_t *node,
			   const char *where, char **out, struct lt_pos *pos)
{
	char found[64];
	const char *s = lt_yaml_string(y, node, where, 0,
				       "a file path relative to librettod's "
				       "images_dir");

	if (!s)
		return -1;
	lt_yaml_describe(node, found, sizeof(found));
	if (strlen(s) > LT_IMAGE_PATH_MAX)
		return lt_yaml_fail(y, node, where,
				    "%s is longer than %d characters", found,
				    LT_IMAGE_PATH_MAX);
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return lt_yaml_fail(y, node, where,
					    "%s holds a control character "
					    "(expected a file path)",
					    found);
	if (s[0] == '/')
		return lt_yaml_fail(y, node, where,
				    "%s is an absolute path (expected a path "
				    "relative to librettod's images_dir: a "
				    "deployment names only the images put "
				    "there)",
				    found);
	if (has_dotdot(s))
		return lt_yaml_fail(y, node, where,
				    "%s leaves images_dir with '..' (expected "
				    "a path inside librettod's images_dir)",
				    found);
	*out = strdup(s);
	if (*out == NULL)
		return lt_yaml_fail(y, node, where, "out of memory");
	*pos = lt_yaml_pos(node);
	return 0;
}

/* The daemon config's xen_cmdline rule (lt_yaml_cmdline). */
static int load_cmdline(struct lt_yaml *y, yaml_node_t *node, const char *where,
			char **out)
{
	const char *s = lt_yaml_cmdline(y, node, where, LT_CMDLINE_MAX);

	if (!s)
		return -1;
	*out = strdup(s);
	if (*out == NULL)
		return lt_yaml_fail(y, node, where, "out of memory");
	return 0;
}

int lt_load_image(struct lt_yaml *y, yaml_node_t *kernel, yaml_node_t *ramdisk,
		  yaml_node_t *cmdline, const char *where,
		  struct lt_image *image)
{
	char path[64];

	if (kernel) {
		snprintf(path, sizeof(path), "%s.kernel", where);
		if (load_image_path(y, kernel, path, &image->kernel,
				    &image->kernel_pos) < 0)
			return -1;
	}
	if (ramdisk) {
		snprintf(path, sizeof(path), "%s.ramdisk", where);
		if (load_image_path(y, ramdisk, path, &image->ramdisk,
				    &image->ramdisk_pos) < 0)
			return -1;
	}
	if (cmdline) {
		snprintf(path, sizeof(path), "%s.cmdline", where);
		if (load_cmdline(y, cmdline, path, &image->cmdline) < 0)
			return -1;
	}
	return 0;
}

/* A regular file this process can open for reading: what the backend
 * will do with it at create. */
static int image_readable(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	close(fd);
	if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

static int resolve_one(char **path, const struct lt_pos *pos, const char *where,
		       const char *images_dir, int check, const char *file,
		       struct lt_load_error *err)
{
	char *joined;

	if (*path == NULL)
		return 0;
	if ((*path)[0] != '/') {
		size_t n = strlen(images_dir) + 1 + strlen(*path) + 1;

		joined = malloc(n);
		if (joined == NULL) {
			lt_load_error_set(err, file, pos, "%s: out of memory",
					  where);
			return -1;
		}
		snprintf(joined, n, "%s/%s", images_dir, *path);
		free(*path);
		*path = joined;
	}
	/* Unquoted, whole: the file's value has no control character, and
	 * images_dir is the daemon's own config. */
	if (check && image_readable(*path) < 0) {
		int saved = errno;

		lt_load_error_set(err, file, pos,
				  "%s: %s: %s (expected a readable file; a "
				  "relative path is taken from images_dir %s)",
				  where, *path,
				  saved == EINVAL ? "not a regular file"
						  : strerror(saved),
				  images_dir);
		return -1;
	}
	return 0;
}

static int resolve_image(struct lt_image *image, const char *where,
			 const char *images_dir, int check, const char *file,
			 struct lt_load_error *err)
{
	char path[64];

	snprintf(path, sizeof(path), "%s.kernel", where);
	if (resolve_one(&image->kernel, &image->kernel_pos, path, images_dir,
			check, file, err) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s.ramdisk", where);
	return resolve_one(&image->ramdisk, &image->ramdisk_pos, path,
			   images_dir, check, file, err);
}

int lt_deployment_resolve_images(struct lt_deployment *d,
				 const char *images_dir, int check,
				 const char *file, struct lt_load_error *err)
{
	char where[32];

	memset(err, 0, sizeof(*err));
	free(d->images_dir);
	d->images_dir = strdup(images_dir);
	if (d->images_dir == NULL) {
		lt_load_error_set(err, file, NULL, "out of memory");
		return -1;
	}
	if (resolve_image(&d->server.image, "server", images_dir, check, file,
			  err) < 0)
		return -1;
	for (size_t i = 0; i < d->napps; i++) {
		snprintf(where, sizeof(where), "apps[%zu]", i);
		if (resolve_image(&d->apps[i].image, where, images_dir, check,
				  file, err) < 0)
			return -1;
	}
	return 0;
}

static int names_files(const struct lt_image *image)
{
	return image->kernel != NULL || image->ramdisk != NULL;
}

int lt_deployment_names_images(const struct lt_deployment *d)
{
	if (names_files(&d->server.image))
		return 1;
	for (size_t i = 0; i < d->napps; i++)
		if (names_files(&d->apps[i].image))
			return 1;
	return 0;
}

static int dup_or_null(char **dst, const char *src)
{
	*dst = src != NULL ? strdup(src) : NULL;
	return src != NULL && *dst == NULL ? -1 : 0;
}

int lt_image_copy(struct lt_image *dst, const struct lt_image *src)
{
	*dst = *src;
	dst->kernel = dst->ramdisk = dst->cmdline = NULL;
	if (dup_or_null(&dst->kernel, src->kernel) < 0 ||
	    dup_or_null(&dst->ramdisk, src->ramdisk) < 0 ||
	    dup_or_null(&dst->cmdline, src->cmdline) < 0) {
		lt_image_free(dst);
		return -1;
	}
	return 0;
}

void lt_image_free(struct lt_image *image)
{
	free(image->kernel);
	free(image->ramdisk);
	free(image->cmdline);
	image->kernel = image->ramdisk = image->cmdline = NULL;
}

static int same_string(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* Paths as resolved, not the files' contents: an image rebuilt in place
 * is taken by the next domain that starts, not by a redeploy. */
int lt_image_equal(const struct lt_image *a, const struct lt_image *b)
{
	return same_string(a->kernel, b->kernel) &&
	       same_string(a->ramdisk, b->ramdisk) &&
	       same_string(a->cmdline, b->cmdline);
}
