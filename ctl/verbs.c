/*
 * verbs.c - the shapes several verb families share: "list the collection"
 * and "the path of one object in it".
 */
#include "buf.h"
#include "ctl.h"
#include "util.h"

int ctl_list_verb(struct ctl *c, int argc, char **argv, const char *path, const char *key,
		  const struct ctl_col *cols)
{
	static const struct ctl_opt opts[] = { { NULL } };
	json_t *resp = NULL, *list;
	int npos, r;

	if (ctl_parse_opts(c, argc, argv, opts, &npos) != 0)
		return CTL_EXIT_USAGE;
	if (npos != 0)
		return ctl_usage_error(c, "unexpected argument '%s'", argv[0]);
	if ((r = ctl_call(c, "GET", path, NULL, &resp)) != 0)
		return r;
	r = CTL_EXIT_FAIL;
	if ((list = ctl_expect(resp, key, JSON_ARRAY)) != NULL) {
		ctl_print_list(list, cols, c->format, stdout);
		r = CTL_EXIT_OK;
	}
	json_decref(resp);
	return r;
}

char *ctl_object_path(const char *collection, const char *name, const char *what)
{
	struct mm_buf path;

	mm_buf_init(&path, 4096);
	if (mm_buf_adds(&path, collection) != 0 || ctl_path_segment(&path, name) != 0) {
		mm_buf_free(&path);
		ctl_fail("%s too long", what);
		return NULL;
	}
	return mm_buf_take(&path);
}

int ctl_delete_verb(struct ctl *c, int argc, char **argv, const char *collection,
		    const char *what, const char *give, const char *past)
{
	static const struct ctl_opt opts[] = { { NULL } };
	char *path, *done, *name_what;
	int npos, r;

	if (ctl_parse_opts(c, argc, argv, opts, &npos) != 0)
		return CTL_EXIT_USAGE;
	if (npos == 0)
		return ctl_usage_error(c, "which %s? give its %s", what, give);
	if (npos != 1)
		return ctl_usage_error(c, "expected one %s", what);
	name_what = xasprintf("%s %s", what, give);
	path = ctl_object_path(collection, argv[0], name_what);
	free(name_what);
	if (path == NULL)
		return CTL_EXIT_FAIL;
	done = xasprintf("%s %s %s", past, what, argv[0]);
	r = ctl_change(c, "DELETE", path, NULL, done);
	free(done);
	free(path);
	return r;
}
