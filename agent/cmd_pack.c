/*
 * cmd_pack.c - `mamori pack run FILE` and `mamori pack check PATH...`.
 *
 * run: loads one pack (YAML or osquery .conf), validates it, runs its
 * discovery statements (any that returns no rows: the pack does not apply
 * to this host, exit 0), then each query once, in file order, printing
 * "-- pack/P/Q (N rows)" and the rows in the chosen format.  With
 * --format jsonl each query is one osquery snapshot event line instead
 * (docs/packs.md), and notes go to stderr so stdout stays JSON.  Exit 0
 * when every query ran, 1 when one failed (the others still run), 2 on a
 * usage error or a pack that does not load or validate.
 *
 * check: parses and validates packs (files, or the .yaml/.yml/.conf files
 * directly in directories, as `mamorictl packs apply` picks them) without
 * running anything; one line per pack.
 * Exit 0 when all are good, 1 when any is not (or two share a name), 2 on
 * usage errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include "cli.h"
#include "fileio.h"
#include "pack.h"
#include "strutil.h"

#define MAX_DIR_ENTRIES    10000
#define MAX_SNAPSHOT_BYTES (64ll << 20) /* column text of one jsonl snapshot line */

static void pack_usage(FILE *f)
{
	fprintf(f, "usage: mamori pack run [--format table|json|jsonl|csv] [--root DIR] "
	           "[--query NAME] [--time-limit D] [--memory-limit S] FILE\n"
	           "       mamori pack check [--root DIR] PATH...\n");
}

/* A jansson string for column text; bytes that are not UTF-8 become '?'
 * (SQLite text from a table may be anything). */
static json_t *jtext(const char *s, size_t n)
{
	json_t *j = json_stringn(s, n);
	char *copy;
	size_t i;

	if (j != NULL)
		return j;
	if ((copy = malloc(n + 1)) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		copy[i] = (unsigned char)s[i] < 0x80 && s[i] != '\0' ? s[i] : '?';
	copy[n] = '\0';
	j = json_stringn(copy, n);
	free(copy);
	return j;
}

/* Runs st and writes one osquery snapshot event line to out.  Returns 0,
 * or an MM_ERR_* with *err (sqlite3_malloc'ed). */
static int run_jsonl(struct mm_engine *e, sqlite3_stmt *st, const char *name, const char *host,
                     FILE *out, long *nrows, char **err)
{
	json_t *rows = json_array(), *ev = NULL;
	time_t now = time(NULL);
	struct tm tm;
	char cal[64];
	long long bytes = 0;
	char *line = NULL;
	int rc, i, ncols = sqlite3_column_count(st), r = MM_ERR_NOMEM;

	*nrows = 0;
	if (rows == NULL)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *row = json_object();
		if (row == NULL || json_array_append_new(rows, row) != 0)
			goto out;
		for (i = 0; i < ncols; i++) {
			const char *v = (const char *)sqlite3_column_text(st, i);
			size_t n = v != NULL ? (size_t)sqlite3_column_bytes(st, i) : 0;
			bytes += (long long)n + 16;
			if (bytes > MAX_SNAPSHOT_BYTES) {
				*err = sqlite3_mprintf("the snapshot is larger than %lld bytes",
				                       MAX_SNAPSHOT_BYTES);
				r = MM_ERR_LIMIT;
				goto out;
			}
			if (json_object_set_new(row, sqlite3_column_name(st, i),
			                        jtext(v != NULL ? v : "", n)) != 0)
				goto out;
		}
		(*nrows)++;
	}
	if (rc != SQLITE_DONE) {
		*err = mm_engine_errmsg(e);
		r = mm_engine_errcode(e);
		goto out;
	}
	gmtime_r(&now, &tm);
	strftime(cal, sizeof(cal), "%a %b %e %H:%M:%S %Y UTC", &tm);
	ev = json_pack("{s:s, s:o, s:s, s:I, s:i, s:i, s:b, s:{}, s:O, s:s}", "name", name,
	               "hostIdentifier", jtext(host, strlen(host)), "calendarTime", cal, "unixTime",
	               (json_int_t)now, "epoch", 0, "counter", 0, "numerics", 0, "decorations",
	               "snapshot", rows, "action", "snapshot");
	if (ev == NULL || (line = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL)
		goto out;
	fputs(line, out);
	fputc('\n', out);
	r = 0;
out:
	if (r == MM_ERR_NOMEM && *err == NULL)
		*err = sqlite3_mprintf("out of memory");
	free(line);
	json_decref(ev);
	json_decref(rows);
	return r;
}

/* The host identifier of snapshot lines: system_info's host name under the
 * root (osquery's default --host_identifier=hostname). */
static char *host_identifier(struct mm_engine *e)
{
	sqlite3_stmt *st = NULL;
	char *err = NULL, *h = NULL;

	if (mm_engine_prepare(e, "SELECT hostname FROM system_info", &st, NULL, &err) == 0 &&
	    st != NULL && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL)
		h = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_free(err);
	return h != NULL ? h : strdup("localhost");
}

/* Copies f (from its start) to stdout. */
static void copy_out(FILE *f)
{
	char buf[8192];
	size_t n;

	rewind(f);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, stdout);
}

/* A note for the reader: stdout, or stderr in jsonl mode. */
static FILE *notes(enum mm_format f)
{
	return f == MM_FMT_JSONL ? stderr : stdout;
}

/* Runs discovery: 1 when every statement returns a row, 0 when one does
 * not (printed), -1 on an error (printed). */
static int discover(struct mm_engine *e, const struct mm_pack *p, enum mm_format f)
{
	size_t i;

	for (i = 0; i < p->ndiscovery; i++) {
		sqlite3_stmt *st = NULL;
		char *err = NULL;
		int rc;

		if (mm_engine_prepare(e, p->discovery[i], &st, NULL, &err) != 0 || st == NULL) {
			fprintf(stderr, "mamori pack: pack %s, discovery[%zu]: %s\n", p->name, i,
			        err != NULL ? err : "no statement");
			sqlite3_free(err);
			sqlite3_finalize(st);
			return -1;
		}
		rc = sqlite3_step(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
			err = mm_engine_errmsg(e);
			fprintf(stderr, "mamori pack: pack %s, discovery[%zu]: %s\n", p->name, i,
			        err);
			sqlite3_free(err);
			sqlite3_finalize(st);
			return -1;
		}
		sqlite3_finalize(st);
		if (rc == SQLITE_DONE) {
			fprintf(notes(f),
			        "-- pack %s does not apply to this host: discovery[%zu] returned "
			        "no rows\n",
			        p->name, i);
			return 0;
		}
	}
	return 1;
}

/* Runs one query into a temporary file, then prints its header and rows.
 * Returns 0 or 1 (failed, printed). */
static int run_query(struct mm_engine *e, const struct mm_pack *p, const struct mm_pack_query *q,
                     enum mm_format f, const char *host)
{
	char name[2 * MM_PACK_MAX_NAME + 8];
	sqlite3_stmt *st = NULL;
	char *err = NULL;
	FILE *tmp = NULL;
	long nrows = 0;
	int r, bad = 1;

	snprintf(name, sizeof(name), "pack/%s/%s", p->name, q->name);
	if (!mm_pack_platform_ok(q->platform)) {
		fprintf(notes(f), "-- %s skipped: platform '%s'\n", name, q->platform);
		return 0;
	}
	if ((tmp = tmpfile()) == NULL) {
		fprintf(stderr, "mamori pack: %s: cannot create a temporary file\n", name);
		return 1;
	}
	if ((r = mm_engine_prepare(e, q->query, &st, NULL, &err)) != 0 || st == NULL)
		goto out;
	if (f == MM_FMT_JSONL)
		r = run_jsonl(e, st, name, host, tmp, &nrows, &err);
	else
		r = mm_output_stmt(e, st, f, tmp, &nrows, &err);
	if (r != 0 || fflush(tmp) != 0 || ferror(tmp))
		goto out;
	if (f != MM_FMT_JSONL)
		printf("-- %s (%ld %s)\n", name, nrows, nrows == 1 ? "row" : "rows");
	copy_out(tmp);
	bad = 0;
out:
	if (bad) {
		fflush(stdout);
		fprintf(stderr, "mamori pack: %s: %s\n", name, err != NULL ? err : "failed");
	}
	sqlite3_free(err);
	sqlite3_finalize(st);
	fclose(tmp);
	return bad;
}

static int cmd_run(int argc, char **argv)
{
	struct mm_engine_args a = {.format = MM_FMT_TABLE};
	struct mm_engine *e = NULL;
	struct mm_pack *p = NULL;
	const char *file = NULL, *only = NULL;
	char *err = NULL, *host = NULL;
	size_t i;
	int ai, r, rc = MM_EXIT_USAGE;

	for (ai = 1; ai < argc; ai++) {
		if ((r = mm_parse_engine_arg(argc, argv, &ai, &a)) < 0)
			goto out;
		if (r > 0)
			continue;
		if (strcmp(argv[ai], "--query") == 0 && ai + 1 < argc) {
			only = argv[++ai];
		} else if (argv[ai][0] == '-' && argv[ai][1] != '\0') {
			fprintf(stderr, "mamori pack run: unknown option '%s'\n", argv[ai]);
			goto out;
		} else if (file == NULL) {
			file = argv[ai];
		} else {
			fprintf(stderr, "mamori pack run: one pack file at a time\n");
			goto out;
		}
	}
	if (file == NULL) {
		pack_usage(stderr);
		goto out;
	}
	if (a.format != MM_FMT_TABLE && a.format != MM_FMT_JSON && a.format != MM_FMT_JSONL &&
	    a.format != MM_FMT_CSV) {
		fprintf(stderr, "mamori pack run: --format must be table, json, jsonl or csv\n");
		goto out;
	}
	if (mm_pack_load(file, &p, &err) != 0) {
		fprintf(stderr, "mamori pack: %s\n", err);
		goto out;
	}
	if (only != NULL) {
		for (i = 0; i < p->nqueries && strcmp(p->queries[i].name, only) != 0; i++)
			;
		if (i == p->nqueries) {
			fprintf(stderr, "mamori pack: pack %s has no query '%s'\n", p->name, only);
			goto out;
		}
	}
	rc = MM_EXIT_FAIL;
	if ((e = mm_open_engine(&a, 0)) == NULL)
		goto out;
	if (mm_pack_validate(p, e, &err) != 0) {
		fprintf(stderr, "mamori pack: %s: %s\n", file, err);
		rc = MM_EXIT_USAGE;
		goto out;
	}
	rc = MM_EXIT_OK;
	if (!mm_pack_platform_ok(p->platform)) {
		fprintf(notes(a.format), "-- pack %s does not apply to this host: platform '%s'\n",
		        p->name, p->platform);
		goto out;
	}
	if ((r = discover(e, p, a.format)) <= 0) {
		rc = r < 0 ? MM_EXIT_FAIL : MM_EXIT_OK;
		goto out;
	}
	if (a.format == MM_FMT_JSONL && (host = host_identifier(e)) == NULL) {
		rc = MM_EXIT_FAIL;
		goto out;
	}
	for (i = 0; i < p->nqueries; i++)
		if (only == NULL || strcmp(p->queries[i].name, only) == 0)
			if (run_query(e, p, &p->queries[i], a.format, host) != 0)
				rc = MM_EXIT_FAIL;
out:
	if (fflush(stdout) != 0 && rc == MM_EXIT_OK)
		rc = MM_EXIT_FAIL;
	free(host);
	free(err);
	mm_pack_free(p);
	mm_engine_free(e);
	return rc;
}

struct checked {
	char **names; /* pack names seen, for duplicates */
	char **files; /* the file of each */
	size_t n, alloc;
};

/* Checks one file.  Returns 0 or 1 (bad, printed). */
static int check_file(struct mm_engine *e, const char *path, struct checked *seen)
{
	struct mm_pack *p = NULL;
	char *err = NULL;
	size_t i;
	int bad = 1;

	if (mm_pack_load(path, &p, &err) != 0) {
		fprintf(stderr, "mamori pack check: %s\n", err);
		goto out;
	}
	if (mm_pack_validate(p, e, &err) != 0) {
		fprintf(stderr, "mamori pack check: %s: %s\n", path, err);
		goto out;
	}
	for (i = 0; i < seen->n; i++)
		if (strcmp(seen->names[i], p->name) == 0) {
			fprintf(stderr,
			        "mamori pack check: %s: pack name '%s' is also used by %s\n", path,
			        p->name, seen->files[i]);
			goto out;
		}
	if (seen->n == seen->alloc) {
		size_t want = seen->alloc ? seen->alloc * 2 : 16;
		char **nn = realloc(seen->names, want * sizeof(*nn));
		char **nf;
		if (nn == NULL)
			goto nomem;
		seen->names = nn;
		if ((nf = realloc(seen->files, want * sizeof(*nf))) == NULL)
			goto nomem;
		seen->files = nf;
		seen->alloc = want;
	}
	if ((seen->names[seen->n] = strdup(p->name)) == NULL)
		goto nomem;
	if ((seen->files[seen->n] = strdup(path)) == NULL) {
		free(seen->names[seen->n]);
		goto nomem;
	}
	seen->n++;
	printf("%s: ok (pack %s, %zu %s, %zu discovery)\n", path, p->name, p->nqueries,
	       p->nqueries == 1 ? "query" : "queries", p->ndiscovery);
	bad = 0;
	goto out;
nomem:
	fprintf(stderr, "mamori pack check: out of memory\n");
out:
	free(err);
	mm_pack_free(p);
	return bad;
}

/* Checks a file, or the pack files directly in a directory (name order).
 * Returns the number of bad ones. */
static int check_path(struct mm_engine *e, const char *path, struct checked *seen)
{
	static const char *const exts[] = {".yaml", ".yml", ".conf", NULL};
	struct stat sb;
	char **names = NULL;
	size_t n = 0, i;
	int bad = 0, r;

	if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode))
		return check_file(e, path, seen);
	r = mm_dir_files(path, exts, MAX_DIR_ENTRIES, &names, &n);
	if (r == MM_ERR_IO) {
		fprintf(stderr, "mamori pack check: %s: cannot open the directory\n", path);
		return 1;
	}
	if (r == MM_ERR_LIMIT)
		fprintf(stderr, "mamori pack check: %s: more than %d pack files\n", path,
		        MAX_DIR_ENTRIES);
	else if (r == MM_ERR_NOMEM)
		fprintf(stderr, "mamori pack check: %s: out of memory\n", path);
	else if (n == 0)
		fprintf(stderr, "mamori pack check: %s: no pack files (.yaml, .yml, .conf)\n",
		        path);
	if (r != 0 || n == 0)
		bad++;
	for (i = 0; i < n; i++)
		bad += check_file(e, names[i], seen);
	mm_dir_files_free(names, n);
	return bad;
}

static int cmd_check(int argc, char **argv)
{
	struct mm_engine_args a = {.format = MM_FMT_TABLE};
	struct checked seen = {NULL, NULL, 0, 0};
	struct mm_engine *e = NULL;
	const char **paths = NULL;
	int ai, r, bad = 0, npaths = 0, rc = MM_EXIT_USAGE;
	size_t i;

	if ((paths = calloc((size_t)argc, sizeof(*paths))) == NULL)
		goto out;
	for (ai = 1; ai < argc; ai++) {
		if (strcmp(argv[ai], "--format") == 0) {
			fprintf(stderr,
			        "mamori pack check: no --format (it prints one line per pack)\n");
			goto out;
		}
		if ((r = mm_parse_engine_arg(argc, argv, &ai, &a)) < 0)
			goto out;
		if (r > 0)
			continue;
		if (strcmp(argv[ai], "--") == 0) {
			for (ai++; ai < argc; ai++)
				paths[npaths++] = argv[ai];
		} else if (argv[ai][0] == '-' && argv[ai][1] != '\0') {
			fprintf(stderr, "mamori pack check: unknown option '%s'\n", argv[ai]);
			goto out;
		} else {
			paths[npaths++] = argv[ai];
		}
	}
	if (npaths == 0) {
		pack_usage(stderr);
		goto out;
	}
	rc = MM_EXIT_FAIL;
	if ((e = mm_open_engine(&a, 0)) == NULL)
		goto out;
	for (ai = 0; ai < npaths; ai++)
		bad += check_path(e, paths[ai], &seen);
	rc = bad == 0 ? MM_EXIT_OK : MM_EXIT_FAIL;
	if (fflush(stdout) != 0)
		rc = MM_EXIT_FAIL;
out:
	for (i = 0; i < seen.n; i++) {
		free(seen.names[i]);
		free(seen.files[i]);
	}
	free(seen.names);
	free(seen.files);
	free(paths);
	mm_engine_free(e);
	return rc;
}

int mm_cmd_pack(int argc, char **argv)
{
	if (argc < 2) {
		pack_usage(stderr);
		return MM_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		pack_usage(stdout);
		return MM_EXIT_OK;
	}
	if (strcmp(argv[1], "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	if (strcmp(argv[1], "check") == 0)
		return cmd_check(argc - 1, argv + 1);
	fprintf(stderr, "mamori pack: unknown command '%s' (run or check)\n", argv[1]);
	pack_usage(stderr);
	return MM_EXIT_USAGE;
}
