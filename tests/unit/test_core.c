/*
 * test_core.c - unit tests for lib/: dpkg version order (checked against
 * cases dpkg itself documents), capped buffers, number/duration/size
 * parsing, line splitting and capped file reads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "dpkgver.h"
#include "error.h"
#include "fileio.h"
#include "strutil.h"
#include "unit.h"

static int sgn(int v) { return (v > 0) - (v < 0); }

TEST(dpkg_order)
{
	static const struct { const char *a, *b; int want; } cases[] = {
		{ "1.0", "1.0", 0 },        { "1.0", "1.1", -1 },        { "1.10", "1.9", 1 },
		{ "1:0.1", "2.0", 1 },      { "0:1.0", "1.0", 0 },       { "1.0~rc1", "1.0", -1 },
		{ "1.0~~", "1.0~", -1 },    { "1.0~", "1.0", -1 },       { "1.0", "1.0a", -1 },
		{ "1.0a", "1.0+", -1 },     { "1.0-1", "1.0-2", -1 },    { "1.0-1", "1.0+b1", -1 },
		{ "2.36-9+deb12u4", "2.36-9+deb12u10", -1 }, { "7.4.3-1", "7.4.3-1+b1", -1 },
		{ "1.001", "1.1", 0 },      { "1.0-0", "1.0", 0 },       { "9.2p1-2+deb12u2", "9.2p1-2+deb12u3", -1 },
		{ "1:9.2p1-2", "9.9", 1 },  { "abc", "abd", -1 },        { "", "0", 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int got = sgn(mm_dpkg_vercmp(cases[i].a, cases[i].b));
		if (got != cases[i].want) {
			fprintf(stderr, "vercmp(%s, %s): expected %d, got %d\n", cases[i].a,
				cases[i].b, cases[i].want, got);
			ASSERT_TRUE(0);
		}
		ASSERT_INT_EQ(sgn(mm_dpkg_vercmp(cases[i].b, cases[i].a)), -cases[i].want);
	}
	ASSERT_INT_EQ(mm_dpkg_version_valid("1:2.3-4"), 0);
	ASSERT_INT_EQ(mm_dpkg_version_valid("x1.0"), MM_ERR_PARSE);
	ASSERT_INT_EQ(mm_dpkg_version_valid(""), MM_ERR_PARSE);
}

TEST(buf_cap)
{
	struct mm_buf b;
	char *s;

	mm_buf_init(&b, 8);
	ASSERT_INT_EQ(mm_buf_adds(&b, "12345"), 0);
	ASSERT_INT_EQ(mm_buf_addf(&b, "%d", 678), 0);
	ASSERT_STR_EQ(mm_buf_str(&b), "12345678");
	ASSERT_INT_EQ(mm_buf_addc(&b, '9'), MM_ERR_TOOBIG);
	ASSERT_INT_EQ(mm_buf_addf(&b, "%s", "x"), MM_ERR_TOOBIG);
	ASSERT_STR_EQ(mm_buf_str(&b), "12345678"); /* unchanged by the refused appends */
	s = mm_buf_take(&b);
	ASSERT_STR_EQ(s, "12345678");
	ASSERT_INT_EQ(b.len, 0);
	free(s);
	mm_buf_free(&b);
}

TEST(parse_numbers)
{
	int64_t v = 0;
	uint64_t u = 0;

	ASSERT_INT_EQ(mm_parse_i64("-42", &v), 0);
	ASSERT_INT_EQ(v, -42);
	ASSERT_INT_EQ(mm_parse_i64("42x", &v), MM_ERR_PARSE);
	ASSERT_INT_EQ(mm_parse_i64("", &v), MM_ERR_PARSE);
	ASSERT_INT_EQ(mm_parse_i64("99999999999999999999", &v), MM_ERR_PARSE);
	ASSERT_INT_EQ(mm_parse_u64("ff", 16, &u), 0);
	ASSERT_INT_EQ(u, 255);
	ASSERT_INT_EQ(mm_parse_u64("-1", 10, &u), MM_ERR_PARSE);
	ASSERT_INT_EQ(mm_parse_duration_ms("250ms", &v), 0);
	ASSERT_INT_EQ(v, 250);
	ASSERT_INT_EQ(mm_parse_duration_ms("10s", &v), 0);
	ASSERT_INT_EQ(v, 10000);
	ASSERT_INT_EQ(mm_parse_duration_ms("2m", &v), 0);
	ASSERT_INT_EQ(v, 120000);
	ASSERT_INT_EQ(mm_parse_duration_ms("3", &v), 0);
	ASSERT_INT_EQ(v, 3000);
	ASSERT_INT_EQ(mm_parse_duration_ms("soon", &v), MM_ERR_PARSE);
	ASSERT_INT_EQ(mm_parse_duration_ms("nan", &v), MM_ERR_PARSE);
	ASSERT_INT_EQ(mm_parse_duration_ms("infs", &v), MM_ERR_PARSE);
	ASSERT_INT_EQ(mm_parse_size("nanMiB", &v), MM_ERR_PARSE);
	ASSERT_INT_EQ(mm_parse_size("0x10", &v), MM_ERR_PARSE);
	ASSERT_INT_EQ(mm_parse_size("64M", &v), 0);
	ASSERT_INT_EQ(v, 64ll << 20);
	ASSERT_INT_EQ(mm_parse_size("1GiB", &v), 0);
	ASSERT_INT_EQ(v, 1ll << 30);
	ASSERT_INT_EQ(mm_parse_size("12Q", &v), MM_ERR_PARSE);
}

TEST(split_and_lines)
{
	char s1[] = "  a  b\tc ";
	char s2[] = "root:x:0:0::/root:/bin/bash";
	char s3[] = "one\ntwo\n\nthree";
	char *f[8], *line;
	size_t pos = 0;
	int n;

	n = mm_split_ws(s1, " \t", f, 8);
	ASSERT_INT_EQ(n, 3);
	ASSERT_STR_EQ(f[2], "c");
	n = mm_split_char(s2, ':', f, 8);
	ASSERT_INT_EQ(n, 7);
	ASSERT_STR_EQ(f[4], "");
	ASSERT_STR_EQ(f[6], "/bin/bash");
	n = 0;
	while ((line = mm_next_line(s3, strlen("one\ntwo\n\nthree"), &pos)) != NULL)
		n++;
	ASSERT_INT_EQ(n, 4);
}

TEST(read_file_cap)
{
	char path[] = "/tmp/mamori-unit-XXXXXX";
	int fd = mkstemp(path);
	char *data = NULL;
	size_t len = 0;
	int trunc = 0;

	ASSERT_TRUE(fd >= 0);
	ASSERT_INT_EQ(write(fd, "0123456789", 10), 10);
	close(fd);
	ASSERT_INT_EQ(mm_read_file(path, 10, &data, &len), 0);
	ASSERT_INT_EQ(len, 10);
	ASSERT_STR_EQ(data, "0123456789");
	free(data);
	ASSERT_INT_EQ(mm_read_file(path, 9, &data, &len), MM_ERR_TOOBIG);
	ASSERT_TRUE(data == NULL);
	ASSERT_INT_EQ(mm_read_file_trunc(path, 4, &data, &len, &trunc), 0);
	ASSERT_INT_EQ(trunc, 1);
	ASSERT_STR_EQ(data, "0123");
	free(data);
	unlink(path);
	ASSERT_INT_EQ(mm_read_file(path, 10, &data, &len), MM_ERR_NOTFOUND);
	{
		char out[16];
		ASSERT_INT_EQ(mm_path_join(out, sizeof(out), "/img/", "/etc/x"), 0);
		ASSERT_STR_EQ(out, "/img/etc/x");
		ASSERT_INT_EQ(mm_path_join(out, sizeof(out), "/", "/etc/x"), 0);
		ASSERT_STR_EQ(out, "/etc/x");
		ASSERT_INT_EQ(mm_path_join(out, sizeof(out), "/a/very/long/root", "/etc/x"),
			      MM_ERR_TOOBIG);
	}
}

TEST(dir_files)
{
	static const char *const exts[] = {".yaml", ".conf", NULL};
	static const char *const make[] = {"b.yaml", "a.conf", ".hidden.yaml", "c.txt", "d.yaml"};
	char dir[] = "/tmp/mamori-unit-dir-XXXXXX", p[128], **names = NULL;
	size_t n = 0, i;

	ASSERT_TRUE(mkdtemp(dir) != NULL);
	for (i = 0; i < sizeof(make) / sizeof(make[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, make[i]);
		fclose(fopen(p, "w"));
	}
	snprintf(p, sizeof(p), "%s/sub.yaml", dir); /* a directory: skipped */
	ASSERT_INT_EQ(mkdir(p, 0700), 0);
	ASSERT_INT_EQ(mm_dir_files(dir, exts, 10, &names, &n), 0);
	ASSERT_INT_EQ(n, 3);
	snprintf(p, sizeof(p), "%s/a.conf", dir);
	ASSERT_STR_EQ(names[0], p);
	snprintf(p, sizeof(p), "%s/b.yaml", dir);
	ASSERT_STR_EQ(names[1], p);
	snprintf(p, sizeof(p), "%s/d.yaml", dir);
	ASSERT_STR_EQ(names[2], p);
	mm_dir_files_free(names, n);
	ASSERT_INT_EQ(mm_dir_files(dir, exts, 2, &names, &n), MM_ERR_LIMIT);
	ASSERT_INT_EQ(n, 2);
	mm_dir_files_free(names, n);
	for (i = 0; i < sizeof(make) / sizeof(make[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, make[i]);
		unlink(p);
	}
	snprintf(p, sizeof(p), "%s/sub.yaml", dir);
	rmdir(p);
	rmdir(dir);
	ASSERT_INT_EQ(mm_dir_files(dir, exts, 10, &names, &n), MM_ERR_IO);
	ASSERT_INT_EQ(n, 0);
}

UNIT_MAIN(T(dpkg_order), T(buf_cap), T(parse_numbers), T(split_and_lines), T(read_file_cap),
	  T(dir_files))
