/*
 * user_ssh_keys.c - osquery's `user_ssh_keys` table: private keys in each
 * local account's ~/.ssh, and whether a passphrase protects them.
 *
 * Only the start of each file is read (HEAD_MAX bytes) and only its
 * metadata is looked at; the buffer is wiped before it is freed:
 *   -----BEGIN OPENSSH PRIVATE KEY-----  the base64 is decoded just far
 *       enough to read the cipher name ("none" = not encrypted) and the
 *       public key that precedes the private section (type, curve, size);
 *   -----BEGIN RSA|DSA|EC PRIVATE KEY----- (PEM): encrypted when the
 *       header block says "Proc-Type: 4,ENCRYPTED";
 *   -----BEGIN ENCRYPTED PRIVATE KEY----- (PKCS#8): encrypted;
 *   -----BEGIN PRIVATE KEY----- (PKCS#8): not encrypted.
 * Any regular file of ~/.ssh that starts with such a header is reported
 * (*.pub files are not read); an id_* file that does not is reported with a
 * warning, since it is named like a key.
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confread.h"
#include "fileio.h"
#include "ssh_users.h"
#include "strutil.h"
#include "table.h"

enum {
	C_UID,
	C_PATH,
	C_ENCRYPTED,
	C_KEY_TYPE,
	C_KEY_GROUP_NAME,
	C_KEY_LENGTH,
	C_KEY_SECURITY_BITS,
	C_PID_WITH_NAMESPACE
};

static const struct mm_column cols[] = {
    {"uid", MM_BIGINT, MM_COL_INDEX, "Uid of the account whose ~/.ssh holds the key"},
    {"path", MM_TEXT, MM_COL_INDEX, "Path of the key file"},
    {"encrypted", MM_INTEGER, 0, "1 if the key is protected by a passphrase, else 0"},
    {"key_type", MM_TEXT, 0,
     "rsa, dsa, ec, ed25519 (or ecdsa-sk/ed25519-sk); '' when the header does not say"},
    {"key_group_name", MM_TEXT, 0,
     "Curve of an EC key (prime256v1, secp384r1, secp521r1), else ''"},
    {"key_length", MM_INTEGER, 0, "Key size in bits when the header shows it, else NULL"},
    {"key_security_bits", MM_INTEGER, 0, "Security strength in bits (NIST SP 800-57), else NULL"},
    {"pid_with_namespace", MM_INTEGER, MM_COL_HIDDEN, "Unused on Mamori (always 0)"},
    {NULL},
};

#define HEAD_MAX 4096 /* bytes read from each file: headers and public part only */

struct keyinfo {
	int encrypted;
	const char *type;  /* static text */
	const char *group; /* static text */
	int64_t bits;      /* -1 when unknown */
	int64_t secbits;   /* -1 when unknown */
};

/* Lazily decodes base64 text 4 characters (3 bytes) at a time, so that no
 * more than 2 bytes past what the parser asked for are ever decoded. */
struct b64 {
	const char *src; /* base64 characters, line breaks removed */
	size_t srclen;
	size_t used;             /* characters decoded */
	unsigned char out[3072]; /* decoded bytes (HEAD_MAX base64 fits) */
	size_t n;                /* bytes in out */
};

/* Makes sure at least want bytes are decoded.  Returns 0 or -1. */
static int b64_need(struct b64 *b, size_t want)
{
	int k;

	while (b->n < want) {
		if (b->used + 4 > b->srclen || b->n + 3 > sizeof(b->out))
			return -1;
		k = EVP_DecodeBlock(b->out + b->n, (const unsigned char *)b->src + b->used, 4);
		if (k != 3)
			return -1;
		b->used += 4;
		b->n += 3;
	}
	return 0;
}

/* Reads an SSH wire string (uint32 length + bytes) at *off. */
static int b64_string(struct b64 *b, size_t *off, const unsigned char **s, size_t *len)
{
	uint32_t l;

	if (b64_need(b, *off + 4) != 0)
		return -1;
	l = (uint32_t)b->out[*off] << 24 | (uint32_t)b->out[*off + 1] << 16 |
	    (uint32_t)b->out[*off + 2] << 8 | b->out[*off + 3];
	if (l > sizeof(b->out) || b64_need(b, *off + 4 + l) != 0)
		return -1;
	*s = b->out + *off + 4;
	*len = l;
	*off += 4 + l;
	return 0;
}

static int str_is(const unsigned char *s, size_t n, const char *lit)
{
	return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

/* Bits of an SSH mpint (big-endian, maybe a leading 0). */
static int64_t mpint_bits(const unsigned char *s, size_t n)
{
	unsigned char c;
	int64_t bits;

	while (n > 0 && s[0] == 0) {
		s++;
		n--;
	}
	if (n == 0)
		return 0;
	bits = (int64_t)n * 8;
	for (c = s[0]; !(c & 0x80); c <<= 1)
		bits--;
	return bits;
}

/* Strength of an RSA/DSA modulus, as OpenSSL's BN_security_bits() tabulates. */
static int64_t ff_security_bits(int64_t bits)
{
	if (bits >= 15360)
		return 256;
	if (bits >= 7680)
		return 192;
	if (bits >= 3072)
		return 128;
	if (bits >= 2048)
		return 112;
	if (bits >= 1024)
		return 80;
	return 0;
}

/* Reads an openssh-key-v1 blob header (see PROTOCOL.key in OpenSSH):
 * magic, cipher name, KDF name, KDF options, key count, first public key.
 * Returns 0 or -1 when the header is malformed. */
static int parse_openssh(const char *b64text, size_t b64len, struct keyinfo *ki)
{
	static const char magic[] = "openssh-key-v1"; /* followed by a NUL */
	struct b64 *b;
	const unsigned char *s, *t, *pk;
	size_t off = sizeof(magic), n, tn, pkn, po;
	int r = -1;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return -1;
	b->src = b64text;
	b->srclen = b64len;
	if (b64_need(b, sizeof(magic)) != 0 || memcmp(b->out, magic, sizeof(magic)) != 0)
		goto out;
	if (b64_string(b, &off, &s, &n) != 0) /* cipher name */
		goto out;
	ki->encrypted = !str_is(s, n, "none");
	if (b64_string(b, &off, &s, &n) != 0 || b64_string(b, &off, &s, &n) != 0) /* kdf */
		goto out;
	off += 4;                                /* number of keys */
	if (b64_string(b, &off, &pk, &pkn) != 0) /* the public key: type, then fields */
		goto out;
	po = 0;
	if (pkn < 4)
		goto out;
	tn = (size_t)pk[0] << 24 | (size_t)pk[1] << 16 | (size_t)pk[2] << 8 | pk[3];
	if (tn > pkn - 4)
		goto out;
	t = pk + 4;
	po = 4 + tn;
	if (str_is(t, tn, "ssh-ed25519")) {
		ki->type = "ed25519", ki->bits = 256, ki->secbits = 128;
	} else if (str_is(t, tn, "sk-ssh-ed25519@openssh.com")) {
		ki->type = "ed25519-sk", ki->bits = 256, ki->secbits = 128;
	} else if (str_is(t, tn, "ecdsa-sha2-nistp256")) {
		ki->type = "ec", ki->group = "prime256v1", ki->bits = 256, ki->secbits = 128;
	} else if (str_is(t, tn, "ecdsa-sha2-nistp384")) {
		ki->type = "ec", ki->group = "secp384r1", ki->bits = 384, ki->secbits = 192;
	} else if (str_is(t, tn, "ecdsa-sha2-nistp521")) {
		ki->type = "ec", ki->group = "secp521r1", ki->bits = 521, ki->secbits = 256;
	} else if (str_is(t, tn, "sk-ecdsa-sha2-nistp256@openssh.com")) {
		ki->type = "ecdsa-sk", ki->group = "prime256v1", ki->bits = 256, ki->secbits = 128;
	} else if (str_is(t, tn, "ssh-rsa") || str_is(t, tn, "ssh-dss")) {
		/* rsa: e then n; dss: p first.  Both are public values. */
		int rsa = str_is(t, tn, "ssh-rsa");
		size_t i, l = 0;

		ki->type = rsa ? "rsa" : "dsa";
		for (i = 0; i < (rsa ? 2u : 1u); i++) {
			if (pkn - po < 4)
				goto out;
			l = (size_t)pk[po] << 24 | (size_t)pk[po + 1] << 16 |
			    (size_t)pk[po + 2] << 8 | pk[po + 3];
			if (l > pkn - po - 4)
				goto out;
			po += 4 + (i + 1 < (rsa ? 2u : 1u) ? l : 0);
		}
		ki->bits = mpint_bits(pk + po, l);
		ki->secbits = ff_security_bits(ki->bits);
	}
	r = 0;
out:
	OPENSSL_cleanse(b, sizeof(*b));
	free(b);
	return r;
}

/* Collects the base64 body after the BEGIN line into out (at most cap
 * characters, line breaks dropped), up to the END line or the end of the
 * buffer.  Returns the number of characters. */
static size_t body_b64(const char *body, char *out, size_t cap)
{
	size_t n = 0;

	for (; *body != '\0' && *body != '-' && n < cap; body++)
		if (*body != '\n' && *body != '\r' && *body != ' ' && *body != '\t')
			out[n++] = *body;
	return n;
}

/* Classifies a file head (NUL-terminated).  Returns 1 for a private key
 * (ki filled), 0 when the file is not one, -1 for a damaged OpenSSH key. */
static int classify(const char *head, struct keyinfo *ki)
{
	static const char begin[] = "-----BEGIN ";
	const char *label, *end, *body;
	char b64[HEAD_MAX];
	size_t ll, n;
	int r;

	memset(ki, 0, sizeof(*ki));
	ki->type = "";
	ki->group = "";
	ki->bits = ki->secbits = -1;
	if (strncmp(head, begin, sizeof(begin) - 1) != 0)
		return 0;
	label = head + sizeof(begin) - 1;
	if ((end = strstr(label, "-----")) == NULL || memchr(label, '\n', (size_t)(end - label)))
		return 0;
	ll = (size_t)(end - label);
	if (ll < 11 || memcmp(end - 11, "PRIVATE KEY", 11) != 0)
		return 0;
	body = end + 5;
	if (ll == 19 && memcmp(label, "OPENSSH PRIVATE KEY", 19) == 0) {
		n = body_b64(body, b64, sizeof(b64));
		r = parse_openssh(b64, n, ki);
		OPENSSL_cleanse(b64, sizeof(b64));
		return r == 0 ? 1 : -1;
	}
	if (ll == 15 && (memcmp(label, "RSA PRIVATE KEY", 15) == 0 ||
	                 memcmp(label, "DSA PRIVATE KEY", 15) == 0))
		ki->type = label[0] == 'R' ? "rsa" : "dsa";
	else if (ll == 14 && memcmp(label, "EC PRIVATE KEY", 14) == 0)
		ki->type = "ec";
	/* PEM headers ("Proc-Type: 4,ENCRYPTED") come before the first blank
	 * line; a PKCS#8 label says it outright. */
	ki->encrypted = strstr(body, "Proc-Type: 4,ENCRYPTED") != NULL ||
	                (ll >= 21 && memmem(label, ll, "ENCRYPTED", 9) != NULL);
	return 1;
}

static int on_user(struct mm_ctx *ctx, int64_t uid, const char *home, void *arg)
{
	char dir[4096], path[4096 + 256], full[4096 + 256];
	char **names = NULL, *head = NULL;
	size_t n = 0, i, hlen;
	struct keyinfo ki;
	int k, r, trunc;

	(void)arg;
	k = snprintf(dir, sizeof(dir), "%s%s.ssh", home, home[strlen(home) - 1] == '/' ? "" : "/");
	if (k < 0 || (size_t)k >= sizeof(dir))
		return 0;
	r = mm_conf_list_dir(ctx, dir, NULL, &names, &n);
	if (r == MM_ERR_NOTFOUND)
		return 0;
	if (r != 0) {
		mm_warn(ctx, "%s: %s", dir, mm_strerror(r));
		return r == MM_ERR_NOMEM ? r : 0;
	}
	for (i = 0; i < n; i++) {
		if (mm_endswith(names[i], ".pub"))
			continue;
		k = snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (k < 0 || (size_t)k >= sizeof(path) || !mm_eq_allows(ctx, C_PATH, path))
			continue;
		if (mm_rpath(ctx, path, full, sizeof(full)) != 0)
			continue;
		if (mm_read_file_trunc(full, HEAD_MAX, &head, &hlen, &trunc) != 0)
			continue;
		k = classify(head, &ki);
		OPENSSL_cleanse(head, hlen);
		free(head);
		head = NULL;
		if (k < 0)
			mm_warn(ctx, "%s: damaged OPENSSH PRIVATE KEY header, skipped", path);
		if (k <= 0) {
			if (k == 0 && mm_startswith(names[i], "id_"))
				mm_warn(ctx, "%s: named like a key but holds no private key header",
				        path);
			continue;
		}
		if ((r = mm_row_begin(ctx)) != 0)
			goto out;
		mm_set_int(ctx, C_UID, uid);
		mm_set_text(ctx, C_PATH, path);
		mm_set_int(ctx, C_ENCRYPTED, ki.encrypted);
		mm_set_text(ctx, C_KEY_TYPE, ki.type);
		mm_set_text(ctx, C_KEY_GROUP_NAME, ki.group);
		if (ki.bits >= 0)
			mm_set_int(ctx, C_KEY_LENGTH, ki.bits);
		if (ki.secbits >= 0)
			mm_set_int(ctx, C_KEY_SECURITY_BITS, ki.secbits);
		mm_set_int(ctx, C_PID_WITH_NAMESPACE, 0);
		if ((r = mm_row_end(ctx)) != 0)
			goto out;
	}
	r = 0;
out:
	mm_conf_names_free(names, n);
	return r;
}

static int gen(struct mm_ctx *ctx)
{
	return mm_ssh_users(ctx, C_UID, on_user, NULL);
}

const struct mm_table mm_table_user_ssh_keys = {
    .name = "user_ssh_keys",
    .description = "Private keys in each local account's ~/.ssh and whether they are "
                   "encrypted with a passphrase, read from the key headers only.",
    .columns = cols,
    .generate = gen,
    .example = "SELECT u.username, k.path, k.key_type, k.key_length FROM users u JOIN "
               "user_ssh_keys k USING (uid) WHERE k.encrypted = 0;",
    .notes = "Only the first 4 KiB of each file are read and only the unencrypted metadata "
             "is decoded; no key is loaded. key_type, key_group_name and key_length come from "
             "the public half of OpenSSH-format keys and from the PEM label otherwise (so an "
             "old PEM RSA key shows key_type 'rsa' with key_length NULL). Unlike osquery, "
             "Ed25519 keys show key_type 'ed25519' rather than ''.",
};
