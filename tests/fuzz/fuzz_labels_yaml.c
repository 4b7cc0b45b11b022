/*
 * fuzz_labels_yaml.c - mamorictl's label file reader (ctl/labels_yaml.c,
 * `mamorictl labels apply -f FILE`) on arbitrary bytes.
 *
 * Checks memory safety, no leak, no UB, and the reader's promises: either
 * 0 with a JSON array and no message, or an error code with a message
 * naming the file ("fuzz.yaml:LINE: ..." or "fuzz.yaml: no label in it")
 * and no JSON; never both, never neither.  On success every label is an
 * object whose keys are only name, description, query and hosts, every
 * scalar in it a string, nested at most CTL_LABELS_DEPTH_MAX deep, and the
 * array turns into the JSON text of the request body.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../ctl/labels_yaml.c"
#include "../../ctl/util.c"

#define FILE_NAME "fuzz.yaml"

/* Every leaf of v is a string, and v is at most depth levels deep. */
static int strings_only(const json_t *v, int depth)
{
	const char *k;
	json_t *x;
	size_t i;

	if (depth < 0)
		return 0;
	switch (json_typeof(v)) {
	case JSON_STRING: return 1;
	case JSON_ARRAY:
		json_array_foreach(v, i, x)
		{
			if (!strings_only(x, depth - 1))
				return 0;
		}
		return 1;
	case JSON_OBJECT:
		json_object_foreach((json_t *)v, k, x)
		{
			if (!strings_only(x, depth - 1))
				return 0;
		}
		return 1;
	default: return 0;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = {"name", "description", "query", "hosts", NULL};
	json_t *labels = (json_t *)1, *l, *v;
	char *err = (char *)1, *text;
	const char *k;
	size_t i, j;
	int r;

	r = ctl_labels_parse(FILE_NAME, (const char *)data, size, &labels, &err);
	if (r != 0) {
		if (r != MM_ERR_PARSE && r != MM_ERR_NOMEM)
			abort();
		if (labels != NULL || err == NULL ||
		    strncmp(err, FILE_NAME ":", sizeof(FILE_NAME)) != 0)
			abort();
		free(err);
		return 0;
	}
	if (err != NULL || !json_is_array(labels))
		abort();
	json_array_foreach(labels, i, l)
	{
		if (!json_is_object(l) || !strings_only(l, CTL_LABELS_DEPTH_MAX + 1))
			abort();
		json_object_foreach(l, k, v)
		{
			for (j = 0; keys[j] != NULL && strcmp(keys[j], k) != 0; j++)
				;
			if (keys[j] == NULL)
				abort();
		}
	}
	if ((text = json_dumps(labels, JSON_COMPACT)) == NULL)
		abort();
	free(text);
	json_decref(labels);
	return 0;
}
