/*
 * tlsgen.c - makes the coordinator's CA and server certificate with
 * OpenSSL 3 (tlsgen.h): P-256 keys from EVP_EC_gen, X.509 v3 certificates
 * with the usual extensions, signed with SHA-256.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "buf.h"
#include "error.h"
#include "tlsgen.h"

static int set_err(char **err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int set_err(char **err, int code, const char *fmt, ...)
{
	char msg[300], ssl[200] = "";
	unsigned long e, last = 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	while ((e = ERR_get_error()) != 0)
		last = e;
	if (last != 0)
		ERR_error_string_n(last, ssl, sizeof(ssl));
	if (asprintf(err, "%s%s%s", msg, last != 0 ? ": " : "", ssl) < 0)
		*err = NULL;
	return code;
}

/* Writes a private key (PKCS#8 PEM) readable by the owner only. */
static int write_key(const char *path, EVP_PKEY *pk, char **err)
{
	FILE *f;
	int fd, ok;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0 ||
	    fchmod(fd, 0600) != 0) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		return set_err(err, MM_ERR_IO, "%s: %s", path, strerror(e));
	}
	if ((f = fdopen(fd, "w")) == NULL) {
		close(fd);
		return set_err(err, MM_ERR_IO, "%s: %s", path, strerror(errno));
	}
	ok = PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL) == 1;
	if (fclose(f) != 0 || !ok)
		return set_err(err, MM_ERR_IO, "%s: cannot write the key", path);
	return 0;
}

static int write_cert(const char *path, X509 *x, char **err)
{
	FILE *f;
	int fd, ok;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644)) < 0)
		return set_err(err, MM_ERR_IO, "%s: %s", path, strerror(errno));
	if ((f = fdopen(fd, "w")) == NULL) {
		close(fd);
		return set_err(err, MM_ERR_IO, "%s: %s", path, strerror(errno));
	}
	ok = PEM_write_X509(f, x) == 1;
	if (fclose(f) != 0 || !ok)
		return set_err(err, MM_ERR_IO, "%s: cannot write the certificate", path);
	return 0;
}

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	int ok;

	if (e == NULL)
		return 0;
	ok = X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok;
}

/* A new certificate for pk with a random 127-bit serial, subject CN and
 * validity [now - 5 min, now + days]. */
static X509 *new_cert(EVP_PKEY *pk, const char *cn, int days)
{
	unsigned char serial[16];
	X509 *x = NULL;
	BIGNUM *bn = NULL;
	X509_NAME *name;
	int ok = 0;

	if (RAND_bytes(serial, sizeof(serial)) != 1)
		return NULL;
	serial[0] &= 0x7f;
	if ((x = X509_new()) == NULL || X509_set_version(x, 2) != 1 ||
	    (bn = BN_bin2bn(serial, sizeof(serial), NULL)) == NULL ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -300) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), (long)days * 86400) == NULL ||
	    X509_set_pubkey(x, pk) != 1 || (name = X509_get_subject_name(x)) == NULL ||
	    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)"Mamori",
	                               -1, -1, 0) != 1 ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
	                               0) != 1)
		goto out;
	ok = 1;
out:
	BN_free(bn);
	if (!ok) {
		X509_free(x);
		x = NULL;
	}
	return x;
}

int mm_tls_make_ca(const char *cert_path, const char *key_path, const char *common_name, int days,
                   char **err)
{
	EVP_PKEY *pk = NULL;
	X509 *x = NULL;
	X509V3_CTX ctx;
	int r;

	*err = NULL;
	if ((pk = EVP_EC_gen("P-256")) == NULL) {
		r = set_err(err, MM_ERR_INTERNAL, "cannot make a P-256 key");
		goto out;
	}
	if ((x = new_cert(pk, common_name, days)) == NULL ||
	    X509_set_issuer_name(x, X509_get_subject_name(x)) != 1) {
		r = set_err(err, MM_ERR_INTERNAL, "cannot make the CA certificate");
		goto out;
	}
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	if (!add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
	    !add_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign") ||
	    !add_ext(x, &ctx, NID_subject_key_identifier, "hash") ||
	    !add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always") ||
	    X509_sign(x, pk, EVP_sha256()) == 0) {
		r = set_err(err, MM_ERR_INTERNAL, "cannot sign the CA certificate");
		goto out;
	}
	if ((r = write_key(key_path, pk, err)) != 0 || (r = write_cert(cert_path, x, err)) != 0)
		goto out;
	r = 0;
out:
	X509_free(x);
	EVP_PKEY_free(pk);
	return r;
}

/* Appends "DNS:name" or "IP:addr" for one name; MM_ERR_USAGE when the
 * name is neither a host name nor an address. */
static int add_san(struct mm_buf *b, const char *name)
{
	unsigned char tmp[16];
	size_t i, n = strlen(name);

	if (inet_pton(AF_INET, name, tmp) == 1 || inet_pton(AF_INET6, name, tmp) == 1)
		return mm_buf_addf(b, "%sIP:%s", b->len ? "," : "", name);
	if (n == 0 || n > 253 || name[0] == '.' || name[0] == '-')
		return MM_ERR_USAGE;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.' || (c == '*' && i == 0 && name[1] == '.')))
			return MM_ERR_USAGE;
	}
	return mm_buf_addf(b, "%sDNS:%s", b->len ? "," : "", name);
}

static int load_pem(const char *path, int is_key, void **out, char **err)
{
	FILE *f;

	if ((f = fopen(path, "re")) == NULL)
		return set_err(err, MM_ERR_IO, "%s: %s", path, strerror(errno));
	*out = is_key ? (void *)PEM_read_PrivateKey(f, NULL, NULL, NULL)
	              : (void *)PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (*out == NULL)
		return set_err(err, MM_ERR_PARSE, "%s: not a PEM %s", path,
		               is_key ? "private key" : "certificate");
	return 0;
}

int mm_tls_make_server(const char *ca_cert_path, const char *ca_key_path, const char *cert_path,
                       const char *key_path, const char *const *names, size_t nnames, int days,
                       char **err)
{
	EVP_PKEY *pk = NULL, *cakey = NULL;
	X509 *x = NULL, *ca = NULL;
	X509V3_CTX ctx;
	struct mm_buf san;
	size_t i;
	int r;

	*err = NULL;
	mm_buf_init(&san, 64 << 10);
	if (nnames == 0) {
		r = set_err(err, MM_ERR_USAGE, "the server certificate needs at least one name");
		goto out;
	}
	for (i = 0; i < nnames; i++) {
		if ((r = add_san(&san, names[i])) != 0) {
			if (r == MM_ERR_USAGE)
				set_err(err, r, "'%s' is neither a DNS name nor an IP address",
				        names[i]);
			else
				set_err(err, r, "too many names");
			goto out;
		}
	}
	if ((r = load_pem(ca_cert_path, 0, (void **)&ca, err)) != 0 ||
	    (r = load_pem(ca_key_path, 1, (void **)&cakey, err)) != 0)
		goto out;
	r = MM_ERR_INTERNAL;
	if ((pk = EVP_EC_gen("P-256")) == NULL) {
		set_err(err, r, "cannot make a P-256 key");
		goto out;
	}
	if ((x = new_cert(pk, names[0], days)) == NULL ||
	    X509_set_issuer_name(x, X509_get_subject_name(ca)) != 1) {
		set_err(err, r, "cannot make the server certificate");
		goto out;
	}
	X509V3_set_ctx(&ctx, ca, x, NULL, NULL, 0);
	if (!add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE") ||
	    !add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature") ||
	    !add_ext(x, &ctx, NID_ext_key_usage, "serverAuth") ||
	    !add_ext(x, &ctx, NID_subject_key_identifier, "hash") ||
	    !add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always") ||
	    !add_ext(x, &ctx, NID_subject_alt_name, mm_buf_str(&san)) ||
	    X509_sign(x, cakey, EVP_sha256()) == 0) {
		set_err(err, r, "cannot sign the server certificate");
		goto out;
	}
	if ((r = write_key(key_path, pk, err)) != 0 || (r = write_cert(cert_path, x, err)) != 0)
		goto out;
	r = 0;
out:
	mm_buf_free(&san);
	X509_free(x);
	X509_free(ca);
	EVP_PKEY_free(pk);
	EVP_PKEY_free(cakey);
	return r;
}
