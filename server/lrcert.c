/*
 * lrcert.c - the SSH user CA of Live Response: OpenSSH ECDSA user
 * certificates signed with OpenSSL, public key lines and fingerprints
 * (contract in lrcert.h).
 *
 * Wire encoding (RFC 4251): uint32 and uint64 big-endian, "string" =
 * uint32 length + bytes, "mpint" = a string holding a two's complement
 * big-endian number (a leading zero byte when the high bit is set).  An
 * ECDSA P-256 public key blob is
 *     string "ecdsa-sha2-nistp256", string "nistp256", string Q
 * with Q the uncompressed point (65 bytes, 0x04 || X || Y).  A certificate
 * (PROTOCOL.certkeys) is
 *     string "ecdsa-sha2-nistp256-cert-v01@openssh.com", string nonce,
 *     string "nistp256", string Q, uint64 serial, uint32 type (1 = user),
 *     string key id, string principals, uint64 valid after,
 *     uint64 valid before, string critical options, string extensions,
 *     string reserved, string CA key blob, string signature
 * where principals is a run of strings, options and extensions are runs of
 * (string name, string data) sorted by name, an option's data being itself
 * a string, and the signature is
 *     string "ecdsa-sha2-nistp256", string (mpint r, mpint s)
 * over every byte before it, with SHA-256.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "buf.h"
#include "error.h"
#include "lrcert.h"

#define KEY_TYPE    "ecdsa-sha2-nistp256"
#define CERT_TYPE   "ecdsa-sha2-nistp256-cert-v01@openssh.com"
#define CURVE       "nistp256"
#define POINT_LEN   65
#define CERT_MAX    8192 /* a certificate blob; ours are about 600 bytes */
#define CA_FILE_MAX 16384

static int set_err(char **err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int set_err(char **err, int code, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	free(*err);
	*err = s;
	return code;
}

/* ---- wire encoding ------------------------------------------------------ */

static int put_u32(struct mm_buf *b, uint32_t v)
{
	unsigned char x[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
	                      (unsigned char)(v >> 8), (unsigned char)v};

	return mm_buf_add(b, x, 4);
}

static int put_u64(struct mm_buf *b, uint64_t v)
{
	int r;

	if ((r = put_u32(b, (uint32_t)(v >> 32))) != 0)
		return r;
	return put_u32(b, (uint32_t)v);
}

static int put_str(struct mm_buf *b, const void *p, size_t n)
{
	int r;

	if (n > 0xffffffffu)
		return MM_ERR_TOOBIG;
	if ((r = put_u32(b, (uint32_t)n)) != 0)
		return r;
	return n > 0 ? mm_buf_add(b, p, n) : 0;
}

static int put_cstr(struct mm_buf *b, const char *s)
{
	return put_str(b, s, strlen(s));
}

/* Reads a string at *pos of blob; *p points into the blob. */
static int get_str(const unsigned char *blob, size_t len, size_t *pos, const unsigned char **p,
                   size_t *n)
{
	uint32_t l;

	if (len - *pos < 4)
		return MM_ERR_PARSE;
	l = (uint32_t)blob[*pos] << 24 | (uint32_t)blob[*pos + 1] << 16 |
	    (uint32_t)blob[*pos + 2] << 8 | blob[*pos + 3];
	*pos += 4;
	if (len - *pos < l)
		return MM_ERR_PARSE;
	*p = blob + *pos;
	*n = l;
	*pos += l;
	return 0;
}

/* ---- base64 ------------------------------------------------------------------ */

char *mm_b64_encode(const void *p, size_t n)
{
	char *out;

	if (n > (1u << 30) || (out = malloc(4 * ((n + 2) / 3) + 1)) == NULL)
		return NULL;
	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	return out;
}

int mm_b64_decode(const char *s, size_t n, unsigned char **out, size_t *outlen)
{
	unsigned char *buf;
	size_t i, pad = 0;
	int len;

	*out = NULL;
	*outlen = 0;
	if (n % 4 != 0 || n > (1u << 30))
		return MM_ERR_PARSE;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '=') {
			if (i < n - 2)
				return MM_ERR_PARSE;
			pad++;
		} else if (pad > 0 || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		                        (c >= '0' && c <= '9') || c == '+' || c == '/')) {
			return MM_ERR_PARSE;
		}
	}
	if ((buf = malloc(n / 4 * 3 + 1)) == NULL)
		return MM_ERR_NOMEM;
	if (n == 0) {
		*out = buf;
		return 0;
	}
	len = EVP_DecodeBlock(buf, (const unsigned char *)s, (int)n);
	if (len < 0 || (size_t)len < pad) {
		free(buf);
		return MM_ERR_PARSE;
	}
	*out = buf;
	*outlen = (size_t)len - pad;
	return 0;
}

void mm_ssh_fingerprint(const unsigned char *blob, size_t len, char fp[MM_SSH_FP_LEN + 1])
{
	unsigned char md[32];
	char enc[48];
	size_t n;

	EVP_Digest(blob, len, md, NULL, EVP_sha256(), NULL);
	EVP_EncodeBlock((unsigned char *)enc, md, 32);
	n = strlen(enc);
	while (n > 0 && enc[n - 1] == '=')
		enc[--n] = '\0';
	snprintf(fp, MM_SSH_FP_LEN + 1, "SHA256:%.43s", enc); /* 43 = unpadded base64 of 32 bytes */
}

int mm_ssh_pubkey_parse(const char *line, char type[64], unsigned char **blob, size_t *blob_len)
{
	const char *t, *te, *k, *ke;
	const unsigned char *inner;
	size_t pos = 0, ilen;
	int r;

	*blob = NULL;
	*blob_len = 0;
	type[0] = '\0';
	for (t = line; *t == ' ' || *t == '\t'; t++)
		;
	for (te = t; *te != '\0' && *te != ' ' && *te != '\t'; te++)
		;
	for (k = te; *k == ' ' || *k == '\t'; k++)
		;
	for (ke = k; *ke != '\0' && *ke != ' ' && *ke != '\t' && *ke != '\n' && *ke != '\r'; ke++)
		;
	if (te == t || (size_t)(te - t) >= 64 || ke == k)
		return MM_ERR_PARSE;
	memcpy(type, t, (size_t)(te - t));
	type[te - t] = '\0';
	if ((r = mm_b64_decode(k, (size_t)(ke - k), blob, blob_len)) != 0) {
		type[0] = '\0';
		return r;
	}
	if (get_str(*blob, *blob_len, &pos, &inner, &ilen) != 0 || ilen != strlen(type) ||
	    memcmp(inner, type, ilen) != 0) {
		free(*blob);
		*blob = NULL;
		type[0] = '\0';
		return MM_ERR_PARSE;
	}
	return 0;
}

/* ---- keys ------------------------------------------------------------------- */

/* The uncompressed public point of a P-256 key into q[POINT_LEN]. */
static int ec_point(EVP_PKEY *pk, unsigned char q[POINT_LEN])
{
	char group[64];
	size_t n = 0;

	if (pk == NULL || EVP_PKEY_get_base_id(pk) != EVP_PKEY_EC ||
	    EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
	                                   NULL) != 1 ||
	    strcmp(group, "prime256v1") != 0)
		return MM_ERR_PARSE;
	if (EVP_PKEY_get_octet_string_param(pk, OSSL_PKEY_PARAM_PUB_KEY, q, POINT_LEN, &n) != 1 ||
	    n != POINT_LEN || q[0] != 0x04)
		return MM_ERR_PARSE;
	return 0;
}

/* Appends the public key blob of a P-256 point. */
static int put_key_blob(struct mm_buf *b, const unsigned char q[POINT_LEN])
{
	int r;

	if ((r = put_cstr(b, KEY_TYPE)) != 0 || (r = put_cstr(b, CURVE)) != 0)
		return r;
	return put_str(b, q, POINT_LEN);
}

char *mm_ssh_pubkey_line(EVP_PKEY *pk, const char *comment)
{
	unsigned char q[POINT_LEN];
	struct mm_buf b;
	char *enc = NULL, *line = NULL;

	if (ec_point(pk, q) != 0)
		return NULL;
	mm_buf_init(&b, 1024);
	if (put_key_blob(&b, q) == 0 && (enc = mm_b64_encode(b.data, b.len)) != NULL &&
	    asprintf(&line, "%s %s%s%s", KEY_TYPE, enc, comment != NULL ? " " : "",
	             comment != NULL ? comment : "") < 0)
		line = NULL;
	free(enc);
	mm_buf_free(&b);
	return line;
}

/* A new P-256 key. */
static EVP_PKEY *new_key(void)
{
	return EVP_EC_gen("P-256");
}

int mm_lrcert_ca_create(const char *path, int replace, char **err)
{
	EVP_PKEY *pk = NULL;
	FILE *f = NULL;
	int fd = -1, r = MM_ERR_IO;

	*err = NULL;
	if ((pk = new_key()) == NULL)
		return set_err(err, MM_ERR_INTERNAL, "cannot make an ECDSA P-256 key");
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (replace ? O_TRUNC : O_EXCL),
	          0600);
	if (fd < 0 || fchmod(fd, 0600) != 0) {
		r = set_err(err, MM_ERR_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if ((f = fdopen(fd, "w")) == NULL) {
		r = set_err(err, MM_ERR_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	fd = -1;
	if (PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL) != 1) {
		r = set_err(err, MM_ERR_IO, "%s: cannot write the key", path);
		goto out;
	}
	r = 0;
out:
	if (f != NULL && fclose(f) != 0 && r == 0)
		r = set_err(err, MM_ERR_IO, "%s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	EVP_PKEY_free(pk);
	return r;
}

int mm_lrcert_ca_load(const char *path, EVP_PKEY **out, char **err)
{
	unsigned char q[POINT_LEN];
	EVP_PKEY *pk = NULL;
	FILE *f;

	*out = NULL;
	*err = NULL;
	if ((f = fopen(path, "re")) == NULL)
		return set_err(err, MM_ERR_IO, "%s: %s", path, strerror(errno));
	pk = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (pk == NULL)
		return set_err(err, MM_ERR_PARSE, "%s: not a PEM private key", path);
	if (ec_point(pk, q) != 0) {
		EVP_PKEY_free(pk);
		return set_err(err, MM_ERR_PARSE, "%s: the SSH user CA must be an ECDSA P-256 key",
		               path);
	}
	*out = pk;
	return 0;
}

/* ---- certificates --------------------------------------------------------------- */

/* Appends the signature of b's contents by ca. */
static int put_signature(struct mm_buf *b, EVP_PKEY *ca, char **err)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char der[128], *mp = NULL;
	const unsigned char *dp = der;
	const BIGNUM *br, *bs;
	ECDSA_SIG *sig = NULL;
	struct mm_buf inner;
	size_t dlen = sizeof(der);
	int n, r = MM_ERR_INTERNAL;

	mm_buf_init(&inner, 256);
	if (md == NULL || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, ca) != 1 ||
	    EVP_DigestSign(md, der, &dlen, (const unsigned char *)b->data, b->len) != 1 ||
	    (sig = d2i_ECDSA_SIG(NULL, &dp, (long)dlen)) == NULL) {
		set_err(err, MM_ERR_INTERNAL, "cannot sign the certificate");
		goto out;
	}
	ECDSA_SIG_get0(sig, &br, &bs);
	/* BN_bn2mpi writes exactly the SSH mpint: 4-byte length, big-endian,
	 * a leading zero byte when the high bit is set. */
	if ((mp = malloc(80)) == NULL)
		goto out;
	if (BN_num_bytes(br) > 33 || BN_num_bytes(bs) > 33)
		goto out;
	n = BN_bn2mpi(br, mp);
	if (mm_buf_add(&inner, mp, (size_t)n) != 0)
		goto out;
	n = BN_bn2mpi(bs, mp);
	if (mm_buf_add(&inner, mp, (size_t)n) != 0)
		goto out;
	{
		struct mm_buf sb;

		mm_buf_init(&sb, 512);
		if (put_cstr(&sb, KEY_TYPE) != 0 || put_str(&sb, inner.data, inner.len) != 0 ||
		    put_str(b, sb.data, sb.len) != 0) {
			mm_buf_free(&sb);
			goto out;
		}
		mm_buf_free(&sb);
	}
	r = 0;
out:
	if (r != 0 && *err == NULL)
		set_err(err, r, "cannot sign the certificate");
	free(mp);
	ECDSA_SIG_free(sig);
	EVP_MD_CTX_free(md);
	mm_buf_free(&inner);
	return r;
}

/* Builds and signs the certificate of the point q into out->cert_line. */
static int make_cert(EVP_PKEY *ca, const unsigned char q[POINT_LEN],
                     const struct mm_lrcert_req *req, struct mm_lrcert *out, char **err)
{
	unsigned char nonce[32], caq[POINT_LEN];
	struct mm_buf b, sub, opt;
	char *enc = NULL;
	int r = MM_ERR_NOMEM;

	mm_buf_init(&b, CERT_MAX);
	mm_buf_init(&sub, CERT_MAX);
	mm_buf_init(&opt, CERT_MAX);
	if (req->principal == NULL || req->principal[0] == '\0' || req->key_id == NULL ||
	    req->valid_before <= req->valid_after || req->valid_after < 0) {
		r = set_err(err, MM_ERR_USAGE, "certificate: bad principal, key id or validity");
		goto out;
	}
	if (ec_point(ca, caq) != 0) {
		r = set_err(err, MM_ERR_PARSE, "the SSH user CA is not an ECDSA P-256 key");
		goto out;
	}
	if (RAND_bytes(nonce, sizeof(nonce)) != 1) {
		r = set_err(err, MM_ERR_INTERNAL, "no randomness");
		goto out;
	}
	if (put_cstr(&b, CERT_TYPE) != 0 || put_str(&b, nonce, sizeof(nonce)) != 0 ||
	    put_cstr(&b, CURVE) != 0 || put_str(&b, q, POINT_LEN) != 0 ||
	    put_u64(&b, req->serial) != 0 || put_u32(&b, 1) != 0 || put_cstr(&b, req->key_id) != 0)
		goto fail;
	/* principals */
	if (put_cstr(&sub, req->principal) != 0 || put_str(&b, sub.data, sub.len) != 0)
		goto fail;
	if (put_u64(&b, (uint64_t)req->valid_after) != 0 ||
	    put_u64(&b, (uint64_t)req->valid_before) != 0)
		goto fail;
	/* critical options: source-address, its data a string in a string */
	mm_buf_reset(&sub);
	if (req->source_address != NULL) {
		if (put_cstr(&opt, req->source_address) != 0 ||
		    put_cstr(&sub, "source-address") != 0 || put_str(&sub, opt.data, opt.len) != 0)
			goto fail;
	}
	if (put_str(&b, sub.data, sub.len) != 0)
		goto fail;
	/* extensions (sorted by name): only permit-pty, when asked */
	mm_buf_reset(&sub);
	if (req->permit_pty && (put_cstr(&sub, "permit-pty") != 0 || put_str(&sub, "", 0) != 0))
		goto fail;
	if (put_str(&b, sub.data, sub.len) != 0)
		goto fail;
	/* reserved, CA key */
	mm_buf_reset(&sub);
	if (put_str(&b, "", 0) != 0 || put_key_blob(&sub, caq) != 0 ||
	    put_str(&b, sub.data, sub.len) != 0)
		goto fail;
	if ((r = put_signature(&b, ca, err)) != 0)
		goto out;
	r = MM_ERR_NOMEM;
	if ((enc = mm_b64_encode(b.data, b.len)) == NULL ||
	    asprintf(&out->cert_line, "%s %s mamori-lr", CERT_TYPE, enc) < 0) {
		out->cert_line = NULL;
		goto fail;
	}
	r = 0;
	goto out;
fail:
	r = set_err(err, MM_ERR_NOMEM, "certificate: out of memory or too large");
out:
	free(enc);
	mm_buf_free(&b);
	mm_buf_free(&sub);
	mm_buf_free(&opt);
	return r;
}

int mm_lrcert_issue(EVP_PKEY *ca, const struct mm_lrcert_req *req, struct mm_lrcert *out,
                    char **err)
{
	unsigned char q[POINT_LEN];
	EVP_PKEY *pk = NULL;
	BIO *bio = NULL;
	char *data;
	long n;
	int r;

	*err = NULL;
	memset(out, 0, sizeof(*out));
	if ((pk = new_key()) == NULL || ec_point(pk, q) != 0) {
		r = set_err(err, MM_ERR_INTERNAL, "cannot make a session key");
		goto out;
	}
	if ((r = make_cert(ca, q, req, out, err)) != 0)
		goto out;
	if ((bio = BIO_new(BIO_s_secmem())) == NULL ||
	    PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0, NULL, NULL) != 1 ||
	    (n = BIO_get_mem_data(bio, &data)) <= 0 ||
	    (out->key_pem = malloc((size_t)n + 1)) == NULL) {
		r = set_err(err, MM_ERR_NOMEM, "cannot write the session key");
		goto out;
	}
	memcpy(out->key_pem, data, (size_t)n);
	out->key_pem[n] = '\0';
	out->key_pem_len = (size_t)n;
	r = 0;
out:
	if (r != 0)
		mm_lrcert_clear(out);
	BIO_free(bio); /* secure memory: cleared on free */
	EVP_PKEY_free(pk);
	return r;
}

int mm_lrcert_sign_line(EVP_PKEY *ca, const char *pubkey_line, const struct mm_lrcert_req *req,
                        struct mm_lrcert *out, char **err)
{
	const unsigned char *curve, *q;
	unsigned char *blob = NULL;
	size_t len = 0, pos = 0, clen, qlen;
	const unsigned char *t;
	size_t tlen;
	char type[64];
	int r;

	*err = NULL;
	memset(out, 0, sizeof(*out));
	if (mm_ssh_pubkey_parse(pubkey_line, type, &blob, &len) != 0 ||
	    strcmp(type, KEY_TYPE) != 0 || get_str(blob, len, &pos, &t, &tlen) != 0 ||
	    get_str(blob, len, &pos, &curve, &clen) != 0 || clen != strlen(CURVE) ||
	    memcmp(curve, CURVE, clen) != 0 || get_str(blob, len, &pos, &q, &qlen) != 0 ||
	    qlen != POINT_LEN || q[0] != 0x04 || pos != len) {
		free(blob);
		return set_err(err, MM_ERR_PARSE,
		               "not an ecdsa-sha2-nistp256 public key line (libssh2 and this CA "
		               "sign only ECDSA P-256 keys)");
	}
	r = make_cert(ca, q, req, out, err);
	free(blob);
	return r;
}

void mm_lrcert_clear(struct mm_lrcert *out)
{
	if (out == NULL)
		return;
	free(out->cert_line);
	if (out->key_pem != NULL) {
		OPENSSL_cleanse(out->key_pem, out->key_pem_len);
		free(out->key_pem);
	}
	memset(out, 0, sizeof(*out));
}
