/*
 * ssh_users.c - the home-directory walk and the authorized_keys line parser
 * shared by the per-user SSH tables; see ssh_users.h.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passwd.h"
#include "ssh_users.h"

struct acct {
	int64_t uid;
	const char *home; /* points into the passwd buffer */
};

struct collect {
	struct mm_ctx *ctx;
	int uid_col;
	struct acct *v;
	size_t n, alloc;
};

static int on_user(void *arg, int line, const struct mm_passwd *pw)
{
	struct collect *c = arg;
	struct acct *nv;
	char uid[24];

	(void)line;
	if (pw->dir[0] != '/')
		return 0;
	if (mm_eq_count(c->ctx, c->uid_col) >= 0) {
		snprintf(uid, sizeof(uid), "%lld", (long long)pw->uid);
		if (!mm_eq_allows(c->ctx, c->uid_col, uid))
			return 0;
	}
	if (c->n == c->alloc) {
		size_t na = c->alloc ? c->alloc * 2 : 64;

		if ((nv = realloc(c->v, na * sizeof(*nv))) == NULL)
			return MM_ERR_NOMEM;
		c->v = nv;
		c->alloc = na;
	}
	c->v[c->n].uid = pw->uid;
	c->v[c->n].home = pw->dir;
	c->n++;
	return 0;
}

static int cmp_acct(const void *a, const void *b)
{
	const struct acct *x = a, *y = b;

	if (x->uid != y->uid)
		return x->uid < y->uid ? -1 : 1;
	return strcmp(x->home, y->home);
}

int mm_ssh_users(struct mm_ctx *ctx, int uid_col, mm_ssh_user_fn fn, void *arg)
{
	struct collect c = {.ctx = ctx, .uid_col = uid_col};
	char *data = NULL;
	size_t len = 0, i;
	int r;

	r = mm_read(ctx, "/etc/passwd", MM_READ_CAP, &data, &len);
	if (r == MM_ERR_NOTFOUND)
		return 0;
	if (r != 0) {
		mm_warn(ctx, "/etc/passwd: %s", mm_strerror(r));
		return 0;
	}
	if ((r = mm_passwd_parse(data, len, on_user, NULL, &c)) != 0)
		goto out;
	if (c.n > 1)
		qsort(c.v, c.n, sizeof(c.v[0]), cmp_acct);
	/* Two accounts with the same uid and home (root and a "toor" alias)
	 * would give the same rows twice: visit each pair once. */
	for (i = 0; i < c.n; i++) {
		if (i > 0 && cmp_acct(&c.v[i - 1], &c.v[i]) == 0)
			continue;
		if ((r = mm_check(ctx)) != 0 || (r = fn(ctx, c.v[i].uid, c.v[i].home, arg)) != 0)
			goto out;
	}
	r = 0;
out:
	free(c.v);
	free(data);
	return r;
}

/* ---- authorized_keys ------------------------------------------------------ */

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Key types sshd 9.2 accepts in authorized_keys (certificates as well). */
static int is_keytype(const char *s, size_t n)
{
	static const char *const types[] = {
	    "ssh-ed25519",
	    "ssh-rsa",
	    "ssh-dss",
	    "ecdsa-sha2-nistp256",
	    "ecdsa-sha2-nistp384",
	    "ecdsa-sha2-nistp521",
	    "sk-ecdsa-sha2-nistp256@openssh.com",
	    "sk-ssh-ed25519@openssh.com",
	    "ssh-xmss@openssh.com",
	    "ssh-ed25519-cert-v01@openssh.com",
	    "ssh-rsa-cert-v01@openssh.com",
	    "ssh-dss-cert-v01@openssh.com",
	    "ecdsa-sha2-nistp256-cert-v01@openssh.com",
	    "ecdsa-sha2-nistp384-cert-v01@openssh.com",
	    "ecdsa-sha2-nistp521-cert-v01@openssh.com",
	    "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
	    "sk-ssh-ed25519-cert-v01@openssh.com",
	    NULL,
	};
	size_t i;

	for (i = 0; types[i] != NULL; i++)
		if (strlen(types[i]) == n && memcmp(types[i], s, n) == 0)
			return 1;
	return 0;
}

static size_t token_len(const char *s)
{
	size_t n = 0;

	while (s[n] != '\0' && !is_blank(s[n]))
		n++;
	return n;
}

/* Checks that the key blob (n base64 characters) starts with the SSH string
 * naming its type, as every OpenSSH public key and certificate does.  Only
 * the first 60 characters are decoded. */
static int type_matches(const char *type, const char *b64, size_t n)
{
	unsigned char out[45];
	size_t tl = strlen(type), l;
	int k;

	if (n > 60)
		n = 60;
	if ((k = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)n)) < 4)
		return 0;
	l = (size_t)out[0] << 24 | (size_t)out[1] << 16 | (size_t)out[2] << 8 | out[3];
	if (l != tl || tl + 4 > (size_t)k)
		return tl + 4 > (size_t)k && l == tl; /* a type too long to check here */
	return memcmp(out + 4, type, tl) == 0;
}

int mm_authkey_parse(char *line, struct mm_authkey *k, const char **why)
{
	char *p = line, *e;
	size_t n;
	int quoted = 0;

	memset(k, 0, sizeof(*k));
	*why = NULL;
	n = strlen(p);
	while (n > 0 && (is_blank(p[n - 1]) || p[n - 1] == '\r'))
		p[--n] = '\0';
	while (is_blank(*p))
		p++;
	if (*p == '\0' || *p == '#')
		return 0;
	k->options = "";
	if (!is_keytype(p, token_len(p))) {
		/* An option list: up to the first blank outside double quotes. */
		k->options = p;
		for (; *p != '\0' && (quoted || !is_blank(*p)); p++) {
			if (*p == '\\' && quoted && p[1] == '"')
				p++;
			else if (*p == '"')
				quoted = !quoted;
		}
		if (quoted) {
			*why = "unterminated quote in the options";
			return -1;
		}
		if (*p == '\0') {
			*why = "no key type and key";
			return -1;
		}
		*p++ = '\0';
		while (is_blank(*p))
			p++;
		if (!is_keytype(p, token_len(p))) {
			*why = "unknown key type";
			return -1;
		}
	}
	k->algorithm = p;
	p += token_len(p);
	if (*p == '\0') {
		*why = "no key after the key type";
		return -1;
	}
	*p++ = '\0';
	while (is_blank(*p))
		p++;
	k->key = p;
	n = token_len(p);
	if (n == 0 ||
	    strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") < n) {
		*why = "key is not base64";
		return -1;
	}
	if (n % 4 != 0) {
		*why = "key is not valid base64 (cut short?)";
		return -1;
	}
	if (!type_matches(k->algorithm, p, n)) {
		*why = "key blob does not start with its key type";
		return -1;
	}
	e = p + n;
	if (*e != '\0') {
		*e++ = '\0';
		while (is_blank(*e))
			e++;
	}
	k->comment = e;
	return 1;
}
