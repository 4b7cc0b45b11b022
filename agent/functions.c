/*
 * functions.c - the SQL functions osquery queries use, so that existing
 * queries run unchanged:
 *
 *   split(str, tokens, index)           index-th piece of str cut at any char of tokens
 *   regex_match(str, pattern, index)    index-th group of the first match (POSIX ERE)
 *   regex_split(str, pattern, index)    index-th piece of str cut at matches
 *   concat(a, ...)                      text of all non-NULL arguments
 *   concat_ws(sep, a, ...)              same, joined by sep
 *   version_compare(a, b [, type])      -1/0/1; type 'DPKG' (or 'DEB') uses
 *                                       dpkg's order, else a generic
 *                                       numeric-aware order
 *   COLLATE version_dpkg                dpkg's order as a collation
 *   in_cidr_block(cidr, ip)             1 if ip lies in cidr (IPv4 and IPv6)
 *   sha256(x), md5(x)                   lower-case hex digests
 *   to_base64(x), from_base64(x)        base64 (from_base64: NULL on bad input)
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "dpkgver.h"
#include "engine.h"

/* ---- split / regex ------------------------------------------------------- */

static void fn_split(sqlite3_context *c, int argc, sqlite3_value **argv)
{
	const char *s = (const char *)sqlite3_value_text(argv[0]);
	const char *tok = (const char *)sqlite3_value_text(argv[1]);
	sqlite3_int64 want = sqlite3_value_int64(argv[2]), idx = 0;
	const char *p;

	(void)argc;
	if (s == NULL || tok == NULL || want < 0)
		return;
	p = s;
	for (;;) {
		size_t skip = strspn(p, tok), n;
		p += skip;
		if (*p == '\0')
			return;
		n = strcspn(p, tok);
		if (idx == want) {
			sqlite3_result_text(c, p, (int)n, SQLITE_TRANSIENT);
			return;
		}
		idx++;
		p += n;
	}
}

/* Compiled patterns are cached per statement with sqlite3_set_auxdata. */
static void regex_free(void *p)
{
	regfree(p);
	sqlite3_free(p);
}

static regex_t *get_regex(sqlite3_context *c, sqlite3_value **argv, int argi)
{
	regex_t *re = sqlite3_get_auxdata(c, argi);
	const char *pat;
	int rc;

	if (re != NULL)
		return re;
	if ((pat = (const char *)sqlite3_value_text(argv[argi])) == NULL)
		return NULL;
	if ((re = sqlite3_malloc(sizeof(*re))) == NULL) {
		sqlite3_result_error_nomem(c);
		return NULL;
	}
	if ((rc = regcomp(re, pat, REG_EXTENDED)) != 0) {
		char msg[256], *full;
		regerror(rc, re, msg, sizeof(msg));
		sqlite3_free(re);
		full = sqlite3_mprintf("invalid regular expression '%s': %s", pat, msg);
		sqlite3_result_error(c, full, -1);
		sqlite3_free(full);
		return NULL;
	}
	sqlite3_set_auxdata(c, argi, re, regex_free);
	return sqlite3_get_auxdata(c, argi);
}

static void fn_regex_match(sqlite3_context *c, int argc, sqlite3_value **argv)
{
	const char *s = (const char *)sqlite3_value_text(argv[0]);
	sqlite3_int64 idx = sqlite3_value_int64(argv[2]);
	regmatch_t m[10];
	regex_t *re;

	(void)argc;
	if (s == NULL || (re = get_regex(c, argv, 1)) == NULL)
		return;
	if (idx < 0 || idx > 9)
		return;
	if (regexec(re, s, 10, m, 0) != 0 || m[idx].rm_so < 0)
		return;
	sqlite3_result_text(c, s + m[idx].rm_so, (int)(m[idx].rm_eo - m[idx].rm_so),
			    SQLITE_TRANSIENT);
}

static void fn_regex_split(sqlite3_context *c, int argc, sqlite3_value **argv)
{
	const char *s = (const char *)sqlite3_value_text(argv[0]);
	sqlite3_int64 want = sqlite3_value_int64(argv[2]), idx = 0;
	regmatch_t m;
	regex_t *re;
	const char *p;

	(void)argc;
	if (s == NULL || want < 0 || (re = get_regex(c, argv, 1)) == NULL)
		return;
	p = s;
	for (;;) {
		int found = regexec(re, p, 1, &m, p == s ? 0 : REG_NOTBOL) == 0 && m.rm_eo > 0;
		size_t n = found ? (size_t)m.rm_so : strlen(p);
		/* Empty pieces are dropped, as osquery's regex_split does. */
		if (n > 0) {
			if (idx == want) {
				sqlite3_result_text(c, p, (int)n, SQLITE_TRANSIENT);
				return;
			}
			idx++;
		}
		if (!found)
			return;
		p += m.rm_eo;
	}
}

/* ---- concat -------------------------------------------------------------- */

static void concat_common(sqlite3_context *c, int argc, sqlite3_value **argv, const char *sep)
{
	sqlite3_str *s = sqlite3_str_new(sqlite3_context_db_handle(c));
	int i, first = 1;
	char *out;

	for (i = 0; i < argc; i++) {
		const char *t;
		if (sqlite3_value_type(argv[i]) == SQLITE_NULL)
			continue;
		t = (const char *)sqlite3_value_text(argv[i]);
		if (!first && sep != NULL)
			sqlite3_str_appendall(s, sep);
		sqlite3_str_appendall(s, t != NULL ? t : "");
		first = 0;
	}
	if (sqlite3_str_errcode(s) != SQLITE_OK) {
		sqlite3_free(sqlite3_str_finish(s));
		sqlite3_result_error_nomem(c);
		return;
	}
	out = sqlite3_str_finish(s);
	sqlite3_result_text(c, out != NULL ? out : "", -1, out != NULL ? sqlite3_free : SQLITE_STATIC);
}

static void fn_concat(sqlite3_context *c, int argc, sqlite3_value **argv)
{
	concat_common(c, argc, argv, NULL);
}

static void fn_concat_ws(sqlite3_context *c, int argc, sqlite3_value **argv)
{
	const char *sep;

	if (argc < 1)
		return;
	sep = (const char *)sqlite3_value_text(argv[0]);
	concat_common(c, argc - 1, argv + 1, sep != NULL ? sep : "");
}

/* ---- versions ------------------------------------------------------------ */

/* A generic order for versions that are not Debian's: runs of digits compare
 * as numbers, other runs as text, separators ('.', '-', '_', '+', ':') only
 * split; a missing part sorts first ("1.2" < "1.2.1"). */
static int generic_vercmp(const char *a, const char *b)
{
	while (*a != '\0' || *b != '\0') {
		while (*a != '\0' && !isalnum((unsigned char)*a))
			a++;
		while (*b != '\0' && !isalnum((unsigned char)*b))
			b++;
		if (*a == '\0' || *b == '\0')
			return (*a != '\0') - (*b != '\0');
		if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
			const char *ae, *be;
			size_t al, bl;
			int r;
			while (*a == '0' && isdigit((unsigned char)a[1]))
				a++;
			while (*b == '0' && isdigit((unsigned char)b[1]))
				b++;
			for (ae = a; isdigit((unsigned char)*ae); ae++)
				;
			for (be = b; isdigit((unsigned char)*be); be++)
				;
			al = (size_t)(ae - a);
			bl = (size_t)(be - b);
			if (al != bl)
				return al > bl ? 1 : -1;
			if ((r = memcmp(a, b, al)) != 0)
				return r > 0 ? 1 : -1;
			a = ae;
			b = be;
		} else if (isdigit((unsigned char)*a) || isdigit((unsigned char)*b)) {
			/* A number sorts after letters ("1.0a" < "1.0.1"). */
			return isdigit((unsigned char)*a) ? 1 : -1;
		} else {
			const char *ae = a, *be = b;
			size_t al, bl, n;
			int r;
			while (isalpha((unsigned char)*ae))
				ae++;
			while (isalpha((unsigned char)*be))
				be++;
			al = (size_t)(ae - a);
			bl = (size_t)(be - b);
			n = al < bl ? al : bl;
			if ((r = memcmp(a, b, n)) != 0)
				return r > 0 ? 1 : -1;
			if (al != bl)
				return al > bl ? 1 : -1;
			a = ae;
			b = be;
		}
	}
	return 0;
}

static int sign(int v)
{
	return (v > 0) - (v < 0);
}

static void fn_version_compare(sqlite3_context *c, int argc, sqlite3_value **argv)
{
	const char *a = (const char *)sqlite3_value_text(argv[0]);
	const char *b = (const char *)sqlite3_value_text(argv[1]);
	const char *type = argc > 2 ? (const char *)sqlite3_value_text(argv[2]) : NULL;

	if (a == NULL || b == NULL)
		return;
	if (type != NULL && (sqlite3_stricmp(type, "DPKG") == 0 || sqlite3_stricmp(type, "DEB") == 0))
		sqlite3_result_int(c, sign(mm_dpkg_vercmp(a, b)));
	else if (type == NULL || sqlite3_stricmp(type, "GENERIC") == 0 || type[0] == '\0')
		sqlite3_result_int(c, sign(generic_vercmp(a, b)));
	else {
		char *m = sqlite3_mprintf("version_compare: unknown version type '%s' "
					  "(use 'DPKG' or 'GENERIC')", type);
		sqlite3_result_error(c, m, -1);
		sqlite3_free(m);
	}
}

static int coll_dpkg(void *arg, int alen, const void *a, int blen, const void *b)
{
	(void)arg;
	return mm_dpkg_vercmp_n(a, (size_t)alen, b, (size_t)blen);
}

/* ---- networks ------------------------------------------------------------ */

static int parse_addr(const char *s, unsigned char out[16], int *family)
{
	if (inet_pton(AF_INET, s, out) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, out) == 1) {
		*family = AF_INET6;
		return 0;
	}
	return -1;
}

static void fn_in_cidr_block(sqlite3_context *c, int argc, sqlite3_value **argv)
{
	const char *cidr = (const char *)sqlite3_value_text(argv[0]);
	const char *ip = (const char *)sqlite3_value_text(argv[1]);
	unsigned char net[16], addr[16];
	char buf[128], *slash, *end;
	int nfam, afam, i;
	long bits;

	(void)argc;
	if (cidr == NULL || ip == NULL)
		return;
	if (strlen(cidr) >= sizeof(buf))
		goto bad;
	memcpy(buf, cidr, strlen(cidr) + 1);
	slash = strchr(buf, '/');
	if (slash != NULL)
		*slash = '\0';
	if (parse_addr(buf, net, &nfam) != 0)
		goto bad;
	bits = nfam == AF_INET ? 32 : 128;
	if (slash != NULL) {
		bits = strtol(slash + 1, &end, 10);
		if (*end != '\0' || slash[1] == '\0' || bits < 0 || bits > (nfam == AF_INET ? 32 : 128))
			goto bad;
	}
	if (parse_addr(ip, addr, &afam) != 0) {
		sqlite3_result_int(c, 0);
		return;
	}
	if (afam != nfam) {
		sqlite3_result_int(c, 0);
		return;
	}
	for (i = 0; bits > 0; i++, bits -= 8) {
		unsigned char mask = bits >= 8 ? 0xff : (unsigned char)(0xff << (8 - bits));
		if ((net[i] & mask) != (addr[i] & mask)) {
			sqlite3_result_int(c, 0);
			return;
		}
	}
	sqlite3_result_int(c, 1);
	return;
bad:
	{
		char *m = sqlite3_mprintf("in_cidr_block: invalid CIDR block '%s'", cidr);
		sqlite3_result_error(c, m, -1);
		sqlite3_free(m);
	}
}

/* ---- digests and base64 -------------------------------------------------- */

static void digest(sqlite3_context *c, sqlite3_value *v, const EVP_MD *md)
{
	unsigned char out[EVP_MAX_MD_SIZE];
	char hex[EVP_MAX_MD_SIZE * 2 + 1];
	unsigned int n = 0, i;
	const void *p;
	int len;

	if (sqlite3_value_type(v) == SQLITE_NULL)
		return;
	if (sqlite3_value_type(v) == SQLITE_BLOB) {
		p = sqlite3_value_blob(v);
		len = sqlite3_value_bytes(v);
	} else {
		p = sqlite3_value_text(v);
		len = sqlite3_value_bytes(v);
	}
	if (EVP_Digest(p != NULL ? p : "", (size_t)len, out, &n, md, NULL) != 1) {
		sqlite3_result_error(c, "digest failed", -1);
		return;
	}
	for (i = 0; i < n; i++) {
		hex[2 * i] = "0123456789abcdef"[out[i] >> 4];
		hex[2 * i + 1] = "0123456789abcdef"[out[i] & 15];
	}
	sqlite3_result_text(c, hex, (int)(2 * n), SQLITE_TRANSIENT);
}

static void fn_sha256(sqlite3_context *c, int argc, sqlite3_value **argv)
{
	(void)argc;
	digest(c, argv[0], EVP_sha256());
}

static void fn_md5(sqlite3_context *c, int argc, sqlite3_value **argv)
{
	(void)argc;
	digest(c, argv[0], EVP_md5());
}

static void fn_to_base64(sqlite3_context *c, int argc, sqlite3_value **argv)
{
	const unsigned char *p;
	unsigned char *out;
	int len;

	(void)argc;
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL)
		return;
	p = sqlite3_value_type(argv[0]) == SQLITE_BLOB ? sqlite3_value_blob(argv[0])
						       : sqlite3_value_text(argv[0]);
	len = sqlite3_value_bytes(argv[0]);
	if ((out = sqlite3_malloc64((size_t)len / 3 * 4 + 8)) == NULL) {
		sqlite3_result_error_nomem(c);
		return;
	}
	len = EVP_EncodeBlock(out, p != NULL ? p : (const unsigned char *)"", len);
	sqlite3_result_text(c, (char *)out, len, sqlite3_free);
}

static void fn_from_base64(sqlite3_context *c, int argc, sqlite3_value **argv)
{
	const char *p = (const char *)sqlite3_value_text(argv[0]);
	unsigned char *out;
	int len, n, pad = 0;

	(void)argc;
	if (p == NULL)
		return;
	len = (int)strlen(p);
	if (len % 4 != 0)
		return; /* not base64: NULL, as osquery returns "" -> we prefer NULL */
	if ((out = sqlite3_malloc64((size_t)len / 4 * 3 + 4)) == NULL) {
		sqlite3_result_error_nomem(c);
		return;
	}
	n = EVP_DecodeBlock(out, (const unsigned char *)p, len);
	if (n < 0) {
		sqlite3_free(out);
		return;
	}
	if (len >= 1 && p[len - 1] == '=')
		pad++;
	if (len >= 2 && p[len - 2] == '=')
		pad++;
	n -= pad;
	out[n] = '\0';
	/* Text when it is text, so `SELECT from_base64(...)` prints nicely. */
	if (memchr(out, '\0', (size_t)n) == NULL)
		sqlite3_result_text(c, (char *)out, n, sqlite3_free);
	else
		sqlite3_result_blob(c, out, n, sqlite3_free);
}

struct fn {
	const char *name;
	int nargs;
	void (*f)(sqlite3_context *, int, sqlite3_value **);
};

static const struct fn fns[] = {
	{ "split", 3, fn_split },
	{ "regex_match", 3, fn_regex_match },
	{ "regex_split", 3, fn_regex_split },
	{ "concat", -1, fn_concat },
	{ "concat_ws", -1, fn_concat_ws },
	{ "version_compare", 2, fn_version_compare },
	{ "version_compare", 3, fn_version_compare },
	{ "in_cidr_block", 2, fn_in_cidr_block },
	{ "sha256", 1, fn_sha256 },
	{ "md5", 1, fn_md5 },
	{ "to_base64", 1, fn_to_base64 },
	{ "from_base64", 1, fn_from_base64 },
	{ NULL, 0, NULL },
};

int mm_functions_register(sqlite3 *db)
{
	int i;

	for (i = 0; fns[i].name != NULL; i++)
		if (sqlite3_create_function_v2(db, fns[i].name, fns[i].nargs,
					       SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS,
					       NULL, fns[i].f, NULL, NULL, NULL) != SQLITE_OK)
			return MM_ERR_SQL;
	if (sqlite3_create_collation_v2(db, "version_dpkg", SQLITE_UTF8, NULL, coll_dpkg, NULL) !=
	    SQLITE_OK)
		return MM_ERR_SQL;
	return 0;
}
