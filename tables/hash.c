/*
 * hash.c - osquery's `hash` table: MD5, SHA-1 and SHA-256 of regular files
 * named by path (=, LIKE) or directory (=), read under the root prefix in
 * streaming chunks (no size cap; the query's time limit bounds the work).
 */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "fswalk.h"
#include "table.h"

enum { C_PATH, C_DIRECTORY, C_MD5, C_SHA1, C_SHA256 };

static const struct mm_column cols[] = {
	{ "path", MM_TEXT, MM_COL_REQUIRED | MM_COL_INDEX | MM_COL_LIKE,
	  "Absolute path of a regular file; '=' or LIKE" },
	{ "directory", MM_TEXT, MM_COL_REQUIRED | MM_COL_INDEX,
	  "Directory whose regular files are hashed (one level)" },
	{ "md5", MM_TEXT, 0, "MD5 of the file's contents" },
	{ "sha1", MM_TEXT, 0, "SHA-1 of the file's contents" },
	{ "sha256", MM_TEXT, 0, "SHA-256 of the file's contents" },
	{ NULL },
};

static void hex(const unsigned char *d, unsigned n, char *out)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		out[2 * i] = "0123456789abcdef"[d[i] >> 4];
		out[2 * i + 1] = "0123456789abcdef"[d[i] & 15];
	}
	out[2 * n] = '\0';
}

static int one(struct mm_ctx *ctx, const char *path, const char *dir, const char *full, void *arg)
{
	const EVP_MD *mds[3] = { EVP_md5(), EVP_sha1(), EVP_sha256() };
	const int colv[3] = { C_MD5, C_SHA1, C_SHA256 };
	EVP_MD_CTX *mdc[3] = { NULL, NULL, NULL };
	unsigned char buf[65536], d[EVP_MAX_MD_SIZE];
	char out[3][EVP_MAX_MD_SIZE * 2 + 1];
	int use[3], i, fd = -1, r = 0, live = strcmp(mm_root(ctx), "/") == 0;
	unsigned dn;
	struct stat st;
	ssize_t n;

	(void)arg;
	fd = open(full, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (live ? 0 : O_NOFOLLOW));
	if (fd < 0)
		return 0; /* unreadable or a link under an image root */
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		goto out;
	(void)fcntl(fd, F_SETFL, 0);
	for (i = 0; i < 3; i++) {
		use[i] = mm_col_used(ctx, colv[i]);
		if (use[i] && ((mdc[i] = EVP_MD_CTX_new()) == NULL ||
			       EVP_DigestInit_ex(mdc[i], mds[i], NULL) != 1)) {
			r = MM_ERR_NOMEM;
			goto out;
		}
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (i = 0; i < 3; i++)
			if (use[i])
				EVP_DigestUpdate(mdc[i], buf, (size_t)n);
		if ((r = mm_check(ctx)) != 0)
			goto out;
	}
	if (n < 0) {
		mm_warn(ctx, "%s: read error, skipped", path);
		goto out;
	}
	for (i = 0; i < 3; i++) {
		out[i][0] = '\0';
		if (use[i] && EVP_DigestFinal_ex(mdc[i], d, &dn) == 1)
			hex(d, dn, out[i]);
	}
	if ((r = mm_row_begin(ctx)) != 0)
		goto out;
	mm_set_text(ctx, C_PATH, path);
	mm_set_text(ctx, C_DIRECTORY, dir);
	for (i = 0; i < 3; i++)
		mm_set_text(ctx, colv[i], use[i] ? out[i] : NULL);
	r = mm_row_end(ctx);
out:
	for (i = 0; i < 3; i++)
		EVP_MD_CTX_free(mdc[i]);
	if (fd >= 0)
		close(fd);
	return r;
}

static int gen(struct mm_ctx *ctx)
{
	return mm_fswalk(ctx, C_PATH, C_DIRECTORY, one, NULL);
}

const struct mm_table mm_table_hash = {
	.name = "hash",
	.description = "MD5, SHA-1 and SHA-256 of regular files. Needs a constraint on path "
		       "('=' or LIKE) or directory ('=').",
	.columns = cols,
	.generate = gen,
	.example = "SELECT path, sha256 FROM hash WHERE directory = '/usr/sbin';",
};
