/*
 * decomp.c - streaming decompression by file extension; see decomp.h.
 * Each format uses its Debian library's streaming API; nothing is hand-
 * written.
 */
#include "decomp.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lz4frame.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include "error.h"
#include "strutil.h"

#define IN_CHUNK (256u * 1024u)
#define OUT_CHUNK (256u * 1024u)

struct sink {
	mm_decomp_fn fn;
	void *arg;
	size_t total, cap;
};

static int deliver(struct sink *s, const char *p, size_t n)
{
	if (n == 0)
		return 0;
	if (n > s->cap || s->total > s->cap - n)
		return MM_ERR_TOOBIG;
	s->total += n;
	return s->fn(p, n, s->arg);
}

static char *msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *msg(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

/* Reads up to n bytes; returns bytes read, 0 at EOF, -1 on error. */
static ssize_t rd(int fd, unsigned char *buf, size_t n)
{
	ssize_t r;

	do
		r = read(fd, buf, n);
	while (r < 0 && errno == EINTR);
	return r;
}

static int do_plain(int fd, struct sink *s, unsigned char *in, char **err)
{
	ssize_t n;
	int r;

	(void)err;
	while ((n = rd(fd, in, IN_CHUNK)) > 0)
		if ((r = deliver(s, (char *)in, (size_t)n)) != 0)
			return r;
	return n < 0 ? MM_ERR_IO : 0;
}

static int do_gz(int fd, struct sink *s, unsigned char *in, unsigned char *out, const char *path,
		 char **err)
{
	z_stream z;
	ssize_t n;
	int zr = Z_OK, r = 0;

	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 15 + 32) != Z_OK) /* +32: gzip or zlib header */
		return MM_ERR_NOMEM;
	while (zr != Z_STREAM_END) {
		if (z.avail_in == 0) {
			if ((n = rd(fd, in, IN_CHUNK)) < 0) {
				r = MM_ERR_IO;
				break;
			}
			if (n == 0) {
				*err = msg("%s: gzip data truncated after %lu bytes", path, z.total_in);
				r = MM_ERR_PARSE;
				break;
			}
			z.next_in = in;
			z.avail_in = (uInt)n;
		}
		z.next_out = out;
		z.avail_out = OUT_CHUNK;
		zr = inflate(&z, Z_NO_FLUSH);
		if (zr != Z_OK && zr != Z_STREAM_END) {
			*err = msg("%s: corrupt gzip data at byte %lu: %s", path, z.total_in,
				   z.msg != NULL ? z.msg : "inflate failed");
			r = MM_ERR_PARSE;
			break;
		}
		if ((r = deliver(s, (char *)out, OUT_CHUNK - z.avail_out)) != 0)
			break;
		if (zr == Z_STREAM_END && z.avail_in == 0) {
			/* Concatenated gzip members: go on if more input follows. */
			if ((n = rd(fd, in, IN_CHUNK)) > 0) {
				z.next_in = in;
				z.avail_in = (uInt)n;
				inflateReset(&z);
				zr = Z_OK;
			}
		} else if (zr == Z_STREAM_END && z.avail_in > 0) {
			inflateReset(&z);
			zr = Z_OK;
		}
	}
	inflateEnd(&z);
	return r;
}

static int do_xz(int fd, struct sink *s, unsigned char *in, unsigned char *out, const char *path,
		 char **err)
{
	lzma_stream z = LZMA_STREAM_INIT;
	lzma_action action = LZMA_RUN;
	lzma_ret lr;
	ssize_t n;
	int r = 0;

	if (lzma_auto_decoder(&z, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK)
		return MM_ERR_NOMEM;
	for (;;) {
		if (z.avail_in == 0 && action == LZMA_RUN) {
			if ((n = rd(fd, in, IN_CHUNK)) < 0) {
				r = MM_ERR_IO;
				break;
			}
			if (n == 0)
				action = LZMA_FINISH;
			z.next_in = in;
			z.avail_in = (size_t)n;
		}
		z.next_out = out;
		z.avail_out = OUT_CHUNK;
		lr = lzma_code(&z, action);
		if ((r = deliver(s, (char *)out, OUT_CHUNK - z.avail_out)) != 0)
			break;
		if (lr == LZMA_STREAM_END)
			break;
		if (lr != LZMA_OK) {
			*err = msg("%s: corrupt xz data at byte %llu (liblzma error %d)", path,
				   (unsigned long long)z.total_in, (int)lr);
			r = MM_ERR_PARSE;
			break;
		}
	}
	lzma_end(&z);
	return r;
}

static int do_zst(int fd, struct sink *s, unsigned char *in, unsigned char *out, const char *path,
		  char **err)
{
	ZSTD_DStream *z = ZSTD_createDStream();
	ZSTD_inBuffer ib = { in, 0, 0 };
	size_t zr = 1;
	unsigned long long consumed = 0;
	ssize_t n;
	int r = 0;

	if (z == NULL)
		return MM_ERR_NOMEM;
	ZSTD_initDStream(z);
	for (;;) {
		ZSTD_outBuffer ob = { out, OUT_CHUNK, 0 };
		if (ib.pos == ib.size) {
			if ((n = rd(fd, in, IN_CHUNK)) < 0) {
				r = MM_ERR_IO;
				break;
			}
			if (n == 0) {
				if (zr != 0) {
					*err = msg("%s: zstd data truncated after %llu bytes", path,
						   consumed);
					r = MM_ERR_PARSE;
				}
				break;
			}
			consumed += (unsigned long long)n;
			ib.size = (size_t)n;
			ib.pos = 0;
		}
		zr = ZSTD_decompressStream(z, &ob, &ib);
		if (ZSTD_isError(zr)) {
			*err = msg("%s: corrupt zstd data near byte %llu: %s", path, consumed,
				   ZSTD_getErrorName(zr));
			r = MM_ERR_PARSE;
			break;
		}
		if ((r = deliver(s, (char *)out, ob.pos)) != 0)
			break;
	}
	ZSTD_freeDStream(z);
	return r;
}

static int do_lz4(int fd, struct sink *s, unsigned char *in, unsigned char *out, const char *path,
		  char **err)
{
	LZ4F_dctx *z = NULL;
	size_t hint = 1, pos = 0, len = 0;
	unsigned long long consumed = 0;
	ssize_t n;
	int r = 0;

	if (LZ4F_isError(LZ4F_createDecompressionContext(&z, LZ4F_VERSION)))
		return MM_ERR_NOMEM;
	for (;;) {
		size_t src, dst = OUT_CHUNK, lr;
		if (pos == len) {
			if ((n = rd(fd, in, IN_CHUNK)) < 0) {
				r = MM_ERR_IO;
				break;
			}
			if (n == 0) {
				if (hint != 0) {
					*err = msg("%s: lz4 data truncated after %llu bytes", path,
						   consumed);
					r = MM_ERR_PARSE;
				}
				break;
			}
			consumed += (unsigned long long)n;
			pos = 0;
			len = (size_t)n;
		}
		src = len - pos;
		lr = LZ4F_decompress(z, out, &dst, in + pos, &src, NULL);
		if (LZ4F_isError(lr)) {
			*err = msg("%s: corrupt lz4 data near byte %llu: %s", path, consumed,
				   LZ4F_getErrorName(lr));
			r = MM_ERR_PARSE;
			break;
		}
		pos += src;
		hint = lr;
		if ((r = deliver(s, (char *)out, dst)) != 0)
			break;
	}
	LZ4F_freeDecompressionContext(z);
	return r;
}

int mm_decomp_supported(const char *path)
{
	static const char *const bad[] = { ".bz2", ".diff", ".ed", ".gpg", NULL };
	int i;

	for (i = 0; bad[i] != NULL; i++)
		if (mm_endswith(path, bad[i]))
			return 0;
	return 1;
}

int mm_decomp_file(const char *path, size_t cap, mm_decomp_fn fn, void *arg, char **err)
{
	struct sink s = { fn, arg, 0, cap };
	unsigned char *in = NULL, *out = NULL;
	int fd, r = MM_ERR_NOMEM;

	*err = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return errno == ENOENT ? MM_ERR_NOTFOUND : MM_ERR_IO;
	if ((in = malloc(IN_CHUNK)) == NULL || (out = malloc(OUT_CHUNK)) == NULL)
		goto out;
	if (mm_endswith(path, ".gz"))
		r = do_gz(fd, &s, in, out, path, err);
	else if (mm_endswith(path, ".xz") || mm_endswith(path, ".lzma"))
		r = do_xz(fd, &s, in, out, path, err);
	else if (mm_endswith(path, ".zst"))
		r = do_zst(fd, &s, in, out, path, err);
	else if (mm_endswith(path, ".lz4"))
		r = do_lz4(fd, &s, in, out, path, err);
	else
		r = do_plain(fd, &s, in, err);
	if (r == MM_ERR_TOOBIG && *err == NULL)
		*err = msg("%s: more than %zu bytes once decompressed", path, cap);
out:
	free(in);
	free(out);
	close(fd);
	return r;
}
