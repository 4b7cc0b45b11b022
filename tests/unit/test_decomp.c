/*
 * test_decomp.c - lib/decomp: each format round-trips (data compressed here
 * with the same Debian libraries' one-shot encoders), a corrupted and a
 * truncated file give MM_ERR_PARSE with the file named, and the output cap
 * stops a decompression bomb.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lz4frame.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include "buf.h"
#include "decomp.h"
#include "error.h"
#include "unit.h"

static char dir[] = "/tmp/mamori-decomp-XXXXXX";
static char *plain;
static size_t plain_len;

static int collect(const char *d, size_t n, void *arg)
{
	return mm_buf_add(arg, d, n);
}

static void write_file(const char *name, const void *p, size_t n)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(p, 1, n, f) != n)
		abort();
	fclose(f);
}

static int read_back(const char *name, struct mm_buf *b, size_t cap, char **err)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	mm_buf_init(b, 64u << 20);
	return mm_decomp_file(path, cap, collect, b, err);
}

static size_t gz(unsigned char *out, size_t outsz)
{
	z_stream z;
	size_t n;

	memset(&z, 0, sizeof(z));
	deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
	z.next_in = (unsigned char *)plain;
	z.avail_in = (uInt)plain_len;
	z.next_out = out;
	z.avail_out = (uInt)outsz;
	deflate(&z, Z_FINISH);
	n = z.total_out;
	deflateEnd(&z);
	return n;
}

static void check_roundtrip(const char *name, const unsigned char *c, size_t n)
{
	struct mm_buf b;
	char *err = NULL, trunc[64];

	write_file(name, c, n);
	ASSERT_INT_EQ(read_back(name, &b, 64u << 20, &err), 0);
	ASSERT_INT_EQ(b.len, plain_len);
	ASSERT_TRUE(b.len == plain_len && memcmp(b.data, plain, plain_len) == 0);
	mm_buf_free(&b);
	free(err);
	err = NULL;
	/* truncated: cut the compressed file in half */
	snprintf(trunc, sizeof(trunc), "t%s", name);
	write_file(trunc, c, n / 2);
	ASSERT_INT_EQ(read_back(trunc, &b, 64u << 20, &err), MM_ERR_PARSE);
	ASSERT_TRUE(err != NULL && strstr(err, trunc) != NULL);
	if (err != NULL && strstr(err, trunc) == NULL)
		fprintf(stderr, "  message was: %s\n", err);
	mm_buf_free(&b);
	free(err);
	err = NULL;
	/* the cap */
	ASSERT_INT_EQ(read_back(name, &b, 1000, &err), MM_ERR_TOOBIG);
	ASSERT_TRUE(err != NULL && strstr(err, "more than 1000 bytes") != NULL);
	mm_buf_free(&b);
	free(err);
}

TEST(formats)
{
	size_t cap = plain_len + 65536, n;
	unsigned char *c = malloc(cap);

	n = gz(c, cap);
	check_roundtrip("Packages.gz", c, n);
	n = 0;
	ASSERT_INT_EQ(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC64, NULL, (uint8_t *)plain, plain_len,
					      c, &n, cap),
		      LZMA_OK);
	check_roundtrip("Packages.xz", c, n);
	n = ZSTD_compress(c, cap, plain, plain_len, 3);
	ASSERT_TRUE(!ZSTD_isError(n));
	check_roundtrip("Packages.zst", c, n);
	n = LZ4F_compressFrame(c, cap, plain, plain_len, NULL);
	ASSERT_TRUE(!LZ4F_isError(n));
	check_roundtrip("Packages.lz4", c, n);
	write_file("Packages", plain, plain_len);
	{
		struct mm_buf b;
		char *err = NULL;
		ASSERT_INT_EQ(read_back("Packages", &b, 64u << 20, &err), 0);
		ASSERT_INT_EQ(b.len, plain_len);
		mm_buf_free(&b);
		free(err);
	}
	free(c);
}

TEST(corrupt)
{
	size_t cap = plain_len + 65536, n;
	unsigned char *c = malloc(cap);
	struct mm_buf b;
	char *err = NULL;

	n = LZ4F_compressFrame(c, cap, plain, plain_len, NULL);
	memset(c + 20, 0xA5, 64); /* damage the first block */
	write_file("bad.lz4", c, n);
	ASSERT_INT_EQ(read_back("bad.lz4", &b, 64u << 20, &err), MM_ERR_PARSE);
	ASSERT_TRUE(err != NULL && strstr(err, "bad.lz4") != NULL);
	mm_buf_free(&b);
	free(err);
	err = NULL;
	write_file("junk.gz", "this is not gzip at all", 23);
	ASSERT_INT_EQ(read_back("junk.gz", &b, 64u << 20, &err), MM_ERR_PARSE);
	mm_buf_free(&b);
	free(err);
	err = NULL;
	write_file("junk.xz", "\xfd" "7zXZ garbage", 12);
	ASSERT_INT_EQ(read_back("junk.xz", &b, 64u << 20, &err), MM_ERR_PARSE);
	mm_buf_free(&b);
	free(err);
	err = NULL;
	ASSERT_INT_EQ(read_back("missing.zst", &b, 64u << 20, &err), MM_ERR_NOTFOUND);
	mm_buf_free(&b);
	free(c);
	ASSERT_INT_EQ(mm_decomp_supported("x_Packages.bz2"), 0);
	ASSERT_INT_EQ(mm_decomp_supported("x_Packages.lz4"), 1);
}

static void setup(void)
{
	struct mm_buf b;
	int i;

	if (mkdtemp(dir) == NULL)
		abort();
	mm_buf_init(&b, 16u << 20);
	for (i = 0; i < 3000; i++)
		mm_buf_addf(&b, "Package: pkg%d\nVersion: 1.%d-1\nArchitecture: amd64\n\n", i, i);
	plain_len = b.len;
	plain = mm_buf_take(&b);
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	free(plain);
}

TEST(all)
{
	setup();
	formats();
	corrupt();
	teardown();
}

UNIT_MAIN(T(all))
