/*
 * lrcert.h - OpenSSH keys and user certificates for Live Response.
 *
 * The coordinator holds an SSH user CA (ECDSA P-256).  For every Live
 * Response session it makes a fresh ECDSA P-256 key pair and signs an
 * OpenSSH user certificate for it (PROTOCOL.certkeys, type
 * "ecdsa-sha2-nistp256-cert-v01@openssh.com"): valid for minutes, for one
 * login (principal), with the `source-address` critical option and the
 * session id and operator in the key id.  Hosts trust the CA with sshd's
 * TrustedUserCAKeys.  libssh2 1.10 can present only ECDSA certificates,
 * hence ECDSA for both the CA and the session keys.
 *
 * The certificate is built here with OpenSSL rather than by running
 * ssh-keygen -s: the format is small and documented, the server stays one
 * process (no fork from a threaded server, no private key in a temporary
 * file), and tests check the result against a real sshd and ssh-keygen -L.
 *
 * Also here: OpenSSH public key lines ("TYPE BASE64 [COMMENT]") and their
 * SHA-256 fingerprints ("SHA256:" + unpadded base64), as ssh-keygen -l
 * prints them, for host key pinning.
 *
 * Everything is thread-safe: the CA key is only read (OpenSSL 3 allows
 * signing with one EVP_PKEY from several threads).
 */
#ifndef MM_LRCERT_H
#define MM_LRCERT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define MM_SSH_FP_LEN       50 /* "SHA256:" + 43 base64 characters */
#define MM_SSH_KEY_LINE_MAX 16384

/* Creates a new ECDSA P-256 private key in PEM (PKCS#8) at path, mode 0600,
 * refusing to replace an existing file unless replace is set.  Returns 0 or
 * MM_ERR_* with *err (malloc'ed). */
int mm_lrcert_ca_create(const char *path, int replace, char **err);
/* Loads the CA private key (PEM).  It must be ECDSA P-256.  Returns 0 or
 * MM_ERR_* with *err (malloc'ed); *out: EVP_PKEY_free(). */
int mm_lrcert_ca_load(const char *path, EVP_PKEY **out, char **err);

/* The OpenSSH public key line of an ECDSA P-256 key:
 * "ecdsa-sha2-nistp256 BASE64 COMMENT" (comment may be NULL).  Returns a
 * malloc'ed string or NULL (out of memory, or not a P-256 key). */
char *mm_ssh_pubkey_line(EVP_PKEY *pk, const char *comment);

/* Parses an OpenSSH public key line: "TYPE BASE64 [COMMENT]".  On success
 * *blob (malloc'ed) gets the decoded key blob and *blob_len its length, and
 * type[] (at least 64 bytes) the type, which must equal the type named
 * inside the blob.  Returns 0, MM_ERR_PARSE or MM_ERR_NOMEM. */
int mm_ssh_pubkey_parse(const char *line, char type[64], unsigned char **blob, size_t *blob_len);
/* The SHA-256 fingerprint of a key blob: "SHA256:..." into fp[MM_SSH_FP_LEN + 1]. */
void mm_ssh_fingerprint(const unsigned char *blob, size_t len, char fp[MM_SSH_FP_LEN + 1]);

/* What a session certificate says. */
struct mm_lrcert_req {
	const char *key_id;         /* "mamori-lr session=... operator=... host=..." */
	const char *principal;      /* the login */
	const char *source_address; /* CIDR list for source-address, NULL = none */
	int64_t valid_after;        /* Unix s */
	int64_t valid_before;       /* Unix s */
	uint64_t serial;
	int permit_pty; /* the permit-pty extension (interactive shells) */
};

/* A session's key pair and certificate. */
struct mm_lrcert {
	char *cert_line; /* "ecdsa-sha2-nistp256-cert-v01@openssh.com BASE64 mamori-lr" */
	char *key_pem;   /* the private key, PEM; wiped by mm_lrcert_clear */
	size_t key_pem_len;
};

/* Makes a new P-256 key pair and a user certificate for it, signed by ca.
 * Returns 0 or MM_ERR_* with *err (malloc'ed). */
int mm_lrcert_issue(EVP_PKEY *ca, const struct mm_lrcert_req *req, struct mm_lrcert *out,
                    char **err);
/* Signs the public key of an existing OpenSSH public key line (ECDSA
 * P-256 only) instead: out->key_pem stays NULL.  For `mamori-server
 * lr-cert`.  Returns 0 or MM_ERR_* with *err. */
int mm_lrcert_sign_line(EVP_PKEY *ca, const char *pubkey_line, const struct mm_lrcert_req *req,
                        struct mm_lrcert *out, char **err);
/* Frees and wipes what out holds. */
void mm_lrcert_clear(struct mm_lrcert *out);

/* Base64 with padding, no line breaks: malloc'ed, NULL on out-of-memory. */
char *mm_b64_encode(const void *p, size_t n);
/* Decodes base64 text s[0..n) (padding required, no white space).  Returns
 * 0 with *out (malloc'ed, also when empty) and *outlen, MM_ERR_PARSE or
 * MM_ERR_NOMEM. */
int mm_b64_decode(const char *s, size_t n, unsigned char **out, size_t *outlen);

#endif
