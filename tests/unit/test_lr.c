/*
 * test_lr.c - Live Response's pure parts: the OpenSSH user certificates the
 * coordinator signs (every field read back and the signature verified with
 * the CA's public key), public key lines and fingerprints, base64, and the
 * command set (what each command runs on the host, sh quoting, refusals).
 * The e2e tests (tests/e2e/lr_*.sh) show a real sshd accepting them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "buf.h"
#include "error.h"
#include "lr.h"
#include "lrcert.h"
#include "unit.h"

/* ---- a small reader of the SSH wire format ------------------------------------- */

struct rd {
	const unsigned char *p;
	size_t n, pos;
	int bad;
};

static uint64_t rd_u(struct rd *r, int bytes)
{
	uint64_t v = 0;
	int i;

	if (r->n - r->pos < (size_t)bytes) {
		r->bad = 1;
		return 0;
	}
	for (i = 0; i < bytes; i++)
		v = v << 8 | r->p[r->pos++];
	return v;
}

/* A string: returns a pointer into the buffer and its length. */
static const unsigned char *rd_s(struct rd *r, size_t *len)
{
	size_t l = (size_t)rd_u(r, 4);
	const unsigned char *s = r->p + r->pos;

	if (r->bad || r->n - r->pos < l) {
		r->bad = 1;
		*len = 0;
		return (const unsigned char *)"";
	}
	r->pos += l;
	*len = l;
	return s;
}

static int rd_eq(struct rd *r, const char *want)
{
	size_t l;
	const unsigned char *s = rd_s(r, &l);

	return l == strlen(want) && memcmp(s, want, l) == 0;
}

static char dir[64]; /* the test's temporary directory, removed by the last test */

static char *tmp_path(const char *name)
{
	char *p = NULL;

	if (dir[0] == '\0') {
		snprintf(dir, sizeof(dir), "/tmp/mamori-test-lr.XXXXXX");
		if (mkdtemp(dir) == NULL)
			return NULL;
	}
	if (asprintf(&p, "%s/%s", dir, name) < 0)
		return NULL;
	return p;
}

/* ---- certificates ------------------------------------------------------------------ */

TEST(ca_key_and_pubkey_line)
{
	char *path = tmp_path("ca.key"), *err = NULL, *line, type[64], fp[MM_SSH_FP_LEN + 1];
	unsigned char *blob = NULL;
	size_t blen = 0;
	EVP_PKEY *ca = NULL;

	ASSERT_INT_EQ(mm_lrcert_ca_create(path, 0, &err), 0);
	ASSERT_INT_EQ(mm_lrcert_ca_create(path, 0, &err), MM_ERR_IO); /* no silent replace */
	free(err);
	err = NULL;
	ASSERT_INT_EQ(access(path, R_OK), 0);
	ASSERT_INT_EQ(mm_lrcert_ca_load(path, &ca, &err), 0);
	line = mm_ssh_pubkey_line(ca, "mamori-lr-ca");
	ASSERT_TRUE(line != NULL && strncmp(line, "ecdsa-sha2-nistp256 AAAA", 24) == 0);
	ASSERT_TRUE(line != NULL && strstr(line, " mamori-lr-ca") != NULL);
	ASSERT_INT_EQ(mm_ssh_pubkey_parse(line, type, &blob, &blen), 0);
	ASSERT_STR_EQ(type, "ecdsa-sha2-nistp256");
	ASSERT_INT_EQ(blen, 4 + 19 + 4 + 8 + 4 + 65);
	mm_ssh_fingerprint(blob, blen, fp);
	ASSERT_INT_EQ(strlen(fp), MM_SSH_FP_LEN);
	ASSERT_TRUE(strncmp(fp, "SHA256:", 7) == 0 && strchr(fp, '=') == NULL);
	free(blob);
	free(line);
	EVP_PKEY_free(ca);
	unlink(path);
	free(path);
}

TEST(pubkey_parse_rejects)
{
	char type[64];
	unsigned char *blob = NULL;
	size_t blen = 0;

	/* The fingerprint of a known key, as ssh-keygen -l prints it. */
	ASSERT_INT_EQ(mm_ssh_pubkey_parse(
	                  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILGLu1C+d49UXKcxNUDRcOX0E4UQfK5d"
	                  "Ubjxcs8KvFpf comment",
	                  type, &blob, &blen),
	              0);
	ASSERT_STR_EQ(type, "ssh-ed25519");
	{
		char fp[MM_SSH_FP_LEN + 1];

		mm_ssh_fingerprint(blob, blen, fp);
		ASSERT_STR_EQ(fp, "SHA256:ivQLoi5gFi8eiWHub1AN3Rn9eNOIH4oVEgTIbV9MIp4");
	}
	free(blob);
	/* The type outside must be the type inside. */
	ASSERT_INT_EQ(
	    mm_ssh_pubkey_parse("ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAILGLu1C+d49UXKcxNUDRcOX0E4UQf"
	                        "K5dUbjxcs8KvFpf",
	                        type, &blob, &blen),
	    MM_ERR_PARSE);
	ASSERT_INT_EQ(mm_ssh_pubkey_parse("ssh-ed25519", type, &blob, &blen), MM_ERR_PARSE);
	ASSERT_INT_EQ(mm_ssh_pubkey_parse("ssh-ed25519 AAA*", type, &blob, &blen), MM_ERR_PARSE);
	ASSERT_INT_EQ(mm_ssh_pubkey_parse("", type, &blob, &blen), MM_ERR_PARSE);
	ASSERT_INT_EQ(mm_ssh_pubkey_parse("x AAAA", type, &blob, &blen), MM_ERR_PARSE);
	ASSERT_TRUE(blob == NULL);
}

TEST(base64)
{
	unsigned char *out = NULL;
	size_t n = 0;
	char *e = mm_b64_encode("hello!", 6);

	ASSERT_STR_EQ(e, "aGVsbG8h");
	free(e);
	ASSERT_INT_EQ(mm_b64_decode("aGVsbG8=", 8, &out, &n), 0);
	ASSERT_INT_EQ(n, 5);
	ASSERT_TRUE(out != NULL && memcmp(out, "hello", 5) == 0);
	free(out);
	ASSERT_INT_EQ(mm_b64_decode("", 0, &out, &n), 0);
	ASSERT_INT_EQ(n, 0);
	free(out);
	ASSERT_INT_EQ(mm_b64_decode("aGVsbG8", 7, &out, &n), MM_ERR_PARSE);
	ASSERT_INT_EQ(mm_b64_decode("aG=sbG8h", 8, &out, &n), MM_ERR_PARSE);
	ASSERT_INT_EQ(mm_b64_decode("aGV sbG8", 8, &out, &n), MM_ERR_PARSE);
}

/* Verifies an SSH ECDSA signature blob (string type, string (mpint r,
 * mpint s)) over data with the CA key. */
static int verify_sig(EVP_PKEY *ca, const unsigned char *data, size_t dlen,
                      const unsigned char *sig, size_t slen)
{
	struct rd r = {sig, slen, 0, 0}, in;
	const unsigned char *inner, *rb, *sb;
	size_t ilen, rl, sl;
	ECDSA_SIG *es = ECDSA_SIG_new();
	unsigned char *der = NULL;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int dl, ok = 0;

	if (!rd_eq(&r, "ecdsa-sha2-nistp256"))
		goto out;
	inner = rd_s(&r, &ilen);
	in = (struct rd){inner, ilen, 0, 0};
	rb = rd_s(&in, &rl);
	sb = rd_s(&in, &sl);
	if (r.bad || in.bad || r.pos != slen || in.pos != ilen)
		goto out;
	ECDSA_SIG_set0(es, BN_bin2bn(rb, (int)rl, NULL), BN_bin2bn(sb, (int)sl, NULL));
	if ((dl = i2d_ECDSA_SIG(es, &der)) <= 0)
		goto out;
	ok = EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, ca) == 1 &&
	     EVP_DigestVerify(md, der, (size_t)dl, data, dlen) == 1;
out:
	OPENSSL_free(der);
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(md);
	return ok;
}

TEST(certificate_fields_and_signature)
{
	char *path = tmp_path("ca2.key"), *err = NULL, *caline, type[64];
	unsigned char *blob = NULL, *cablob = NULL;
	size_t blen = 0, cablen = 0, l, sigstart;
	const unsigned char *s;
	struct mm_lrcert cert;
	struct mm_lrcert_req req;
	EVP_PKEY *ca = NULL, *key = NULL;
	BIO *bio;
	struct rd r, sub;

	ASSERT_INT_EQ(mm_lrcert_ca_create(path, 1, &err), 0);
	ASSERT_INT_EQ(mm_lrcert_ca_load(path, &ca, &err), 0);
	memset(&req, 0, sizeof(req));
	req.key_id = "mamori-lr session=0123456789abcdef operator=alice host=web01";
	req.principal = "root";
	req.source_address = "127.0.0.1/32";
	req.valid_after = 1700000000;
	req.valid_before = 1700000300;
	req.serial = 42;
	req.permit_pty = 1;
	ASSERT_INT_EQ(mm_lrcert_issue(ca, &req, &cert, &err), 0);
	ASSERT_TRUE(cert.key_pem != NULL && strstr(cert.key_pem, "PRIVATE KEY") != NULL);
	ASSERT_INT_EQ(mm_ssh_pubkey_parse(cert.cert_line, type, &blob, &blen), 0);
	ASSERT_STR_EQ(type, "ecdsa-sha2-nistp256-cert-v01@openssh.com");
	r = (struct rd){blob, blen, 0, 0};
	ASSERT_TRUE(rd_eq(&r, "ecdsa-sha2-nistp256-cert-v01@openssh.com"));
	rd_s(&r, &l);
	ASSERT_INT_EQ(l, 32); /* nonce */
	ASSERT_TRUE(rd_eq(&r, "nistp256"));
	s = rd_s(&r, &l);
	ASSERT_INT_EQ(l, 65);
	/* The certified point is the session key's. */
	bio = BIO_new_mem_buf(cert.key_pem, (int)cert.key_pem_len);
	key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	ASSERT_TRUE(key != NULL);
	if (key != NULL) {
		unsigned char q[65];
		size_t qn = 0;

		EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, q, sizeof(q), &qn);
		ASSERT_TRUE(qn == 65 && l == 65 && memcmp(q, s, 65) == 0);
	}
	ASSERT_INT_EQ(rd_u(&r, 8), 42);
	ASSERT_INT_EQ(rd_u(&r, 4), 1); /* user certificate */
	ASSERT_TRUE(rd_eq(&r, req.key_id));
	s = rd_s(&r, &l);
	sub = (struct rd){s, l, 0, 0};
	ASSERT_TRUE(rd_eq(&sub, "root") && sub.pos == l); /* one principal */
	ASSERT_INT_EQ(rd_u(&r, 8), 1700000000);
	ASSERT_INT_EQ(rd_u(&r, 8), 1700000300);
	s = rd_s(&r, &l); /* critical options */
	sub = (struct rd){s, l, 0, 0};
	ASSERT_TRUE(rd_eq(&sub, "source-address"));
	{
		const unsigned char *d = rd_s(&sub, &l);
		struct rd dd = {d, l, 0, 0};

		ASSERT_TRUE(rd_eq(&dd, "127.0.0.1/32") && dd.pos == l);
		ASSERT_INT_EQ(sub.pos, sub.n);
	}
	s = rd_s(&r, &l); /* extensions */
	sub = (struct rd){s, l, 0, 0};
	ASSERT_TRUE(rd_eq(&sub, "permit-pty"));
	rd_s(&sub, &l);
	ASSERT_INT_EQ(l, 0);
	ASSERT_INT_EQ(sub.pos, sub.n);
	rd_s(&r, &l);
	ASSERT_INT_EQ(l, 0); /* reserved */
	s = rd_s(&r, &l);    /* the CA's key */
	caline = mm_ssh_pubkey_line(ca, NULL);
	ASSERT_INT_EQ(mm_ssh_pubkey_parse(caline, type, &cablob, &cablen), 0);
	ASSERT_TRUE(l == cablen && memcmp(s, cablob, l) == 0);
	sigstart = r.pos;
	s = rd_s(&r, &l);
	ASSERT_TRUE(!r.bad && r.pos == blen);
	ASSERT_TRUE(verify_sig(ca, blob, sigstart, s, l));
	/* One changed byte and the signature no longer holds. */
	blob[40] ^= 1;
	ASSERT_TRUE(!verify_sig(ca, blob, sigstart, s, l));
	/* Without a source address and pty: empty option and extension lists. */
	mm_lrcert_clear(&cert);
	ASSERT_TRUE(cert.cert_line == NULL && cert.key_pem == NULL);
	req.source_address = NULL;
	req.permit_pty = 0;
	ASSERT_INT_EQ(mm_lrcert_sign_line(ca, caline, &req, &cert, &err), 0);
	ASSERT_TRUE(cert.key_pem == NULL);
	mm_lrcert_clear(&cert);
	/* Refusals: validity backwards, no principal, a non-P-256 key line. */
	req.valid_before = req.valid_after;
	ASSERT_INT_EQ(mm_lrcert_issue(ca, &req, &cert, &err), MM_ERR_USAGE);
	free(err);
	err = NULL;
	req.valid_before = req.valid_after + 1;
	req.principal = "";
	ASSERT_INT_EQ(mm_lrcert_issue(ca, &req, &cert, &err), MM_ERR_USAGE);
	free(err);
	err = NULL;
	req.principal = "root";
	ASSERT_INT_EQ(
	    mm_lrcert_sign_line(ca,
	                        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILGLu1C+d49UXKcxNUDRcOX"
	                        "0E4UQfK5dUbjxcs8KvFpf",
	                        &req, &cert, &err),
	    MM_ERR_PARSE);
	free(err);
	free(caline);
	free(blob);
	free(cablob);
	EVP_PKEY_free(key);
	EVP_PKEY_free(ca);
	unlink(path);
	free(path);
}

/* ---- the command set -------------------------------------------------------------- */

static struct mm_lr_op *build(const char *cmd, const char *args_json, const char *cwd, char **err)
{
	json_t *args = args_json != NULL ? json_loads(args_json, 0, NULL) : NULL;
	struct mm_lr_op *op = NULL;

	*err = NULL;
	mm_lr_op_build(cmd, args, cwd, 100, (const unsigned char *)"data", 4, 0600, &op, err);
	json_decref(args);
	return op;
}

TEST(commands)
{
	struct mm_lr_op *op;
	char *err = NULL;

	op = build("exec", "[\"id -u; echo x\"]", "/root", &err);
	ASSERT_TRUE(op != NULL && op->kind == MM_LR_OP_EXEC);
	ASSERT_STR_EQ(op ? op->line : NULL, "cd -- '/root' && id -u; echo x");
	mm_lr_op_free(op);
	op = build("exec", "[\"echo\", \"a b\"]", "/", &err);
	ASSERT_STR_EQ(op ? op->line : NULL, "cd -- '/' && echo a b");
	mm_lr_op_free(op);
	op = build("ps", "[]", "/", &err);
	ASSERT_STR_EQ(op ? op->line : NULL,
	              "cd -- '/' && ps -eww -o pid,ppid,user,stat,etime,args");
	mm_lr_op_free(op);
	op = build("kill", "[\"1234\"]", "/", &err);
	ASSERT_STR_EQ(op ? op->line : NULL, "cd -- '/' && kill 1234");
	mm_lr_op_free(op);
	op = build("kill", "[\"-KILL\", \"99\"]", "/", &err);
	ASSERT_STR_EQ(op ? op->line : NULL, "cd -- '/' && kill -KILL 99");
	mm_lr_op_free(op);
	op = build("ls", NULL, "/it's", &err);
	ASSERT_STR_EQ(op ? op->line : NULL, "cd -- '/it'\\''s' && ls -la -- '.'");
	mm_lr_op_free(op);
	op = build("dir", "[\"$(reboot)\"]", "/", &err);
	ASSERT_STR_EQ(op ? op->line : NULL, "cd -- '/' && ls -la -- '$(reboot)'");
	mm_lr_op_free(op);
	op = build("cd", "[\"../etc\"]", "/root", &err);
	ASSERT_TRUE(op != NULL && op->is_cd);
	ASSERT_STR_EQ(op ? op->line : NULL, "cd -- '/root' && cd -- '../etc' && pwd");
	mm_lr_op_free(op);
	op = build("cat", "[\"/etc/passwd\"]", "/", &err);
	ASSERT_STR_EQ(op ? op->line : NULL, "cd -- '/' && head -c 101 -- '/etc/passwd'");
	mm_lr_op_free(op);
	op = build("get", "[\"log/x.txt\"]", "/var", &err);
	ASSERT_TRUE(op != NULL && op->kind == MM_LR_OP_GET && op->line == NULL);
	ASSERT_STR_EQ(op ? op->path : NULL, "/var/log/x.txt");
	mm_lr_op_free(op);
	op = build("put", "[\"/etc/motd\"]", "/var", &err);
	ASSERT_TRUE(op != NULL && op->kind == MM_LR_OP_PUT && op->len == 4 && op->mode == 0600);
	ASSERT_STR_EQ(op ? op->path : NULL, "/etc/motd");
	mm_lr_op_free(op);
	op = build("shell", NULL, "/srv", &err);
	ASSERT_TRUE(op != NULL && op->kind == MM_LR_OP_SHELL && op->cols == 80);
	ASSERT_STR_EQ(op ? op->line : NULL,
	              "cd -- '/srv' 2>/dev/null; exec \"${SHELL:-/bin/sh}\" -l");
	mm_lr_op_free(op);
}

TEST(command_refusals)
{
	static const char *const bad[][2] = {
	    {"kill", "[\"12abc\"]"},
	    {"kill", "[\"-1\"]"},
	    {"kill", "[]"},
	    {"kill", "[\"-S;x\", \"1\"]"},
	    {"ps", "[\"x\"]"},
	    {"cd", "[]"},
	    {"exec", "[]"},
	    {"cat", "[\"\"]"},
	    {"get", "[]"},
	    {"put", "[\"a\", \"b\"]"},
	    {"ls", "[\"a\", \"b\"]"},
	    {"shell", "[\"x\"]"},
	    {"exec", "[1]"},
	    {"exec", "{}"},
	    {"reboot", "[]"},
	    {"sql", "[\"select 1\"]"},
	};
	struct mm_lr_op *op;
	size_t i;
	char *err;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		op = build(bad[i][0], bad[i][1], "/", &err);
		if (op != NULL || err == NULL)
			fprintf(stderr, "accepted: %s %s\n", bad[i][0], bad[i][1]);
		ASSERT_TRUE(op == NULL && err != NULL);
		mm_lr_op_free(op);
		free(err);
	}
	op = build("sql", "[\"select 1\"]", "/", &err);
	ASSERT_STR_EQ(err, "sql: runs as a live query on the coordinator, not over SSH");
	free(err);
	op = build("reboot", NULL, "/", &err);
	ASSERT_STR_EQ(err, "unknown command 'reboot' (ps, kill, ls, dir, cd, pwd, cat, get, put, "
	                   "exec, shell)");
	free(err);
}

TEST(quoting_and_paths)
{
	struct mm_buf b;
	char *p;

	mm_buf_init(&b, 1024);
	ASSERT_INT_EQ(mm_lr_shquote(&b, "a 'b' \"c\" $d"), 0);
	ASSERT_STR_EQ(mm_buf_str(&b), "'a '\\''b'\\'' \"c\" $d'");
	mm_buf_free(&b);
	p = mm_lr_path_join("/root", "x");
	ASSERT_STR_EQ(p, "/root/x");
	free(p);
	p = mm_lr_path_join("/", "x");
	ASSERT_STR_EQ(p, "/x");
	free(p);
	p = mm_lr_path_join("/root", "/etc/x");
	ASSERT_STR_EQ(p, "/etc/x");
	free(p);
}

TEST(cleanup)
{
	if (dir[0] != '\0')
		ASSERT_INT_EQ(rmdir(dir), 0);
}

UNIT_MAIN(T(ca_key_and_pubkey_line), T(pubkey_parse_rejects), T(base64),
          T(certificate_fields_and_signature), T(commands), T(command_refusals),
          T(quoting_and_paths), T(cleanup))
