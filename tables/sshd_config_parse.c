/*
 * sshd_config_parse.c - line splitting, keyword table, argument splitting
 * and the first-wins model of sshd_config; see sshd_config_parse.h for the
 * rules.  The keyword table is sorted case-insensitively (bsearch) and
 * carries each keyword's OpenSSH 9.2 default where one is reported.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "sshd_config_parse.h"

/* OpenSSH 9.2 (Debian 12) keywords, sorted by strcasecmp for bsearch().
 * Columns: spelling, keyword it sets, flags, default when unset. */
static const struct mm_sshd_kw keywords[] = {
    {"AcceptEnv", "AcceptEnv", MM_SSHD_KW_MULTI, NULL},
    {"AddressFamily", "AddressFamily", MM_SSHD_KW_GLOBAL, "any"},
    {"AFSTokenPassing", "AFSTokenPassing", MM_SSHD_KW_DEPRECATED, NULL},
    {"AllowAgentForwarding", "AllowAgentForwarding", 0, "yes"},
    {"AllowGroups", "AllowGroups", MM_SSHD_KW_MULTI, NULL},
    {"AllowStreamLocalForwarding", "AllowStreamLocalForwarding", 0, "yes"},
    {"AllowTcpForwarding", "AllowTcpForwarding", 0, "yes"},
    {"AllowUsers", "AllowUsers", MM_SSHD_KW_MULTI, NULL},
    {"AuthenticationMethods", "AuthenticationMethods", 0, "any"},
    {"AuthorizedKeysCommand", "AuthorizedKeysCommand", 0, "none"},
    {"AuthorizedKeysCommandUser", "AuthorizedKeysCommandUser", 0, NULL},
    {"AuthorizedKeysFile", "AuthorizedKeysFile", 0, ".ssh/authorized_keys .ssh/authorized_keys2"},
    {"AuthorizedKeysFile2", "AuthorizedKeysFile2", MM_SSHD_KW_DEPRECATED, NULL},
    {"AuthorizedPrincipalsCommand", "AuthorizedPrincipalsCommand", 0, NULL},
    {"AuthorizedPrincipalsCommandUser", "AuthorizedPrincipalsCommandUser", 0, NULL},
    {"AuthorizedPrincipalsFile", "AuthorizedPrincipalsFile", 0, "none"},
    {"Banner", "Banner", 0, "none"},
    {"CASignatureAlgorithms", "CASignatureAlgorithms", MM_SSHD_KW_GLOBAL, NULL},
    {"ChallengeResponseAuthentication", "KbdInteractiveAuthentication", MM_SSHD_KW_GLOBAL, NULL},
    {"CheckMail", "CheckMail", MM_SSHD_KW_DEPRECATED, NULL},
    {"ChrootDirectory", "ChrootDirectory", 0, "none"},
    {"Ciphers", "Ciphers", MM_SSHD_KW_GLOBAL,
     "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-"
     "gcm@openssh.com"},
    {"ClientAliveCountMax", "ClientAliveCountMax", 0, "3"},
    {"ClientAliveInterval", "ClientAliveInterval", 0, "0"},
    {"Compression", "Compression", MM_SSHD_KW_GLOBAL, "yes"},
    {"DebianBanner", "DebianBanner", MM_SSHD_KW_GLOBAL, NULL},
    {"DenyGroups", "DenyGroups", MM_SSHD_KW_MULTI, NULL},
    {"DenyUsers", "DenyUsers", MM_SSHD_KW_MULTI, NULL},
    {"DisableForwarding", "DisableForwarding", 0, "no"},
    {"DSAAuthentication", "PubkeyAuthentication", MM_SSHD_KW_GLOBAL, NULL},
    {"ExposeAuthInfo", "ExposeAuthInfo", 0, "no"},
    {"FingerprintHash", "FingerprintHash", MM_SSHD_KW_GLOBAL, "SHA256"},
    {"ForceCommand", "ForceCommand", 0, "none"},
    {"GatewayPorts", "GatewayPorts", 0, "no"},
    {"GSSAPIAuthentication", "GSSAPIAuthentication", 0, "no"},
    {"GSSAPICleanupCredentials", "GSSAPICleanupCredentials", MM_SSHD_KW_GLOBAL, NULL},
    {"GSSAPIKexAlgorithms", "GSSAPIKexAlgorithms", MM_SSHD_KW_GLOBAL, NULL},
    {"GSSAPIKeyExchange", "GSSAPIKeyExchange", MM_SSHD_KW_GLOBAL, NULL},
    {"GSSAPIStoreCredentialsOnRekey", "GSSAPIStoreCredentialsOnRekey", MM_SSHD_KW_GLOBAL, NULL},
    {"GSSAPIStrictAcceptorCheck", "GSSAPIStrictAcceptorCheck", MM_SSHD_KW_GLOBAL, NULL},
    {"HostbasedAcceptedAlgorithms", "HostbasedAcceptedAlgorithms", 0, NULL},
    {"HostbasedAcceptedKeyTypes", "HostbasedAcceptedAlgorithms", 0, NULL},
    {"HostbasedAuthentication", "HostbasedAuthentication", 0, "no"},
    {"HostbasedUsesNameFromPacketOnly", "HostbasedUsesNameFromPacketOnly", 0, NULL},
    {"HostCertificate", "HostCertificate", MM_SSHD_KW_GLOBAL | MM_SSHD_KW_MULTI, NULL},
    {"HostDSAKey", "HostKey", MM_SSHD_KW_GLOBAL | MM_SSHD_KW_MULTI, NULL},
    {"HostKey", "HostKey", MM_SSHD_KW_GLOBAL | MM_SSHD_KW_MULTI, NULL},
    {"HostKeyAgent", "HostKeyAgent", MM_SSHD_KW_GLOBAL, NULL},
    {"HostKeyAlgorithms", "HostKeyAlgorithms", MM_SSHD_KW_GLOBAL, NULL},
    {"IgnoreRhosts", "IgnoreRhosts", 0, "yes"},
    {"IgnoreUserKnownHosts", "IgnoreUserKnownHosts", MM_SSHD_KW_GLOBAL, "no"},
    {"Include", "Include", MM_SSHD_KW_INCLUDE, NULL},
    {"IPQoS", "IPQoS", 0, NULL},
    {"KbdInteractiveAuthentication", "KbdInteractiveAuthentication", 0, "yes"},
    {"KeepAlive", "TCPKeepAlive", MM_SSHD_KW_GLOBAL, NULL},
    {"KerberosAuthentication", "KerberosAuthentication", 0, "no"},
    {"KerberosGetAFSToken", "KerberosGetAFSToken", MM_SSHD_KW_GLOBAL, NULL},
    {"KerberosOrLocalPasswd", "KerberosOrLocalPasswd", MM_SSHD_KW_GLOBAL, NULL},
    {"KerberosTGTPassing", "KerberosTGTPassing", MM_SSHD_KW_DEPRECATED, NULL},
    {"KerberosTicketCleanup", "KerberosTicketCleanup", MM_SSHD_KW_GLOBAL, NULL},
    {"KexAlgorithms", "KexAlgorithms", MM_SSHD_KW_GLOBAL,
     "sntrup761x25519-sha512@openssh.com,curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-"
     "nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha256,diffie-"
     "hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group14-sha256"},
    {"KeyRegenerationInterval", "KeyRegenerationInterval", MM_SSHD_KW_DEPRECATED, NULL},
    {"ListenAddress", "ListenAddress", MM_SSHD_KW_GLOBAL | MM_SSHD_KW_MULTI, NULL},
    {"LoginGraceTime", "LoginGraceTime", MM_SSHD_KW_GLOBAL, "120"},
    {"LogLevel", "LogLevel", 0, "INFO"},
    {"LogVerbose", "LogVerbose", 0, NULL},
    {"MACs", "MACs", MM_SSHD_KW_GLOBAL,
     "umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-"
     "etm@openssh.com,hmac-sha1-etm@openssh.com,umac-64@openssh.com,umac-128@openssh.com,hmac-sha2-"
     "256,hmac-sha2-512,hmac-sha1"},
    {"Match", "Match", MM_SSHD_KW_MATCH, NULL},
    {"MaxAuthTries", "MaxAuthTries", 0, "6"},
    {"MaxSessions", "MaxSessions", 0, "10"},
    {"MaxStartups", "MaxStartups", MM_SSHD_KW_GLOBAL, "10:30:100"},
    {"ModuliFile", "ModuliFile", MM_SSHD_KW_GLOBAL, NULL},
    {"PAMAuthenticationViaKbdInt", "PAMAuthenticationViaKbdInt", MM_SSHD_KW_DEPRECATED, NULL},
    {"PasswordAuthentication", "PasswordAuthentication", 0, "yes"},
    {"PermitEmptyPasswords", "PermitEmptyPasswords", 0, "no"},
    {"PermitListen", "PermitListen", 0, "any"},
    {"PermitOpen", "PermitOpen", 0, "any"},
    {"PermitRootLogin", "PermitRootLogin", 0, "prohibit-password"},
    {"PermitTTY", "PermitTTY", 0, "yes"},
    {"PermitTunnel", "PermitTunnel", 0, "no"},
    {"PermitUserEnvironment", "PermitUserEnvironment", MM_SSHD_KW_GLOBAL, "no"},
    {"PermitUserRC", "PermitUserRC", 0, "yes"},
    {"PerSourceMaxStartups", "PerSourceMaxStartups", MM_SSHD_KW_GLOBAL, "none"},
    {"PerSourceNetBlockSize", "PerSourceNetBlockSize", MM_SSHD_KW_GLOBAL, "32:128"},
    {"PidFile", "PidFile", MM_SSHD_KW_GLOBAL, NULL},
    {"Port", "Port", MM_SSHD_KW_GLOBAL | MM_SSHD_KW_MULTI, "22"},
    {"PrintLastLog", "PrintLastLog", MM_SSHD_KW_GLOBAL, "yes"},
    {"PrintMotd", "PrintMotd", MM_SSHD_KW_GLOBAL, "yes"},
    {"Protocol", "Protocol", MM_SSHD_KW_DEPRECATED, NULL},
    {"PubkeyAcceptedAlgorithms", "PubkeyAcceptedAlgorithms", 0, NULL},
    {"PubkeyAcceptedKeyTypes", "PubkeyAcceptedAlgorithms", 0, NULL},
    {"PubkeyAuthentication", "PubkeyAuthentication", 0, "yes"},
    {"PubkeyAuthOptions", "PubkeyAuthOptions", 0, "none"},
    {"RDomain", "RDomain", 0, NULL},
    {"RekeyLimit", "RekeyLimit", 0, "default none"},
    {"RequiredRSASize", "RequiredRSASize", 0, "1024"},
    {"ReverseMappingCheck", "ReverseMappingCheck", MM_SSHD_KW_DEPRECATED, NULL},
    {"RevokedKeys", "RevokedKeys", 0, "none"},
    {"RhostsAuthentication", "RhostsAuthentication", MM_SSHD_KW_DEPRECATED, NULL},
    {"RhostsRSAAuthentication", "RhostsRSAAuthentication", MM_SSHD_KW_DEPRECATED, NULL},
    {"RSAAuthentication", "RSAAuthentication", MM_SSHD_KW_DEPRECATED, NULL},
    {"SecurityKeyProvider", "SecurityKeyProvider", MM_SSHD_KW_GLOBAL, NULL},
    {"ServerKeyBits", "ServerKeyBits", MM_SSHD_KW_DEPRECATED, NULL},
    {"SetEnv", "SetEnv", 0, NULL},
    {"SkeyAuthentication", "KbdInteractiveAuthentication", MM_SSHD_KW_GLOBAL, NULL},
    {"StreamLocalBindMask", "StreamLocalBindMask", 0, NULL},
    {"StreamLocalBindUnlink", "StreamLocalBindUnlink", 0, NULL},
    {"StrictModes", "StrictModes", MM_SSHD_KW_GLOBAL, "yes"},
    {"Subsystem", "Subsystem", MM_SSHD_KW_GLOBAL | MM_SSHD_KW_MULTI, NULL},
    {"SyslogFacility", "SyslogFacility", MM_SSHD_KW_GLOBAL, "AUTH"},
    {"TCPKeepAlive", "TCPKeepAlive", MM_SSHD_KW_GLOBAL, "yes"},
    {"TrustedUserCAKeys", "TrustedUserCAKeys", 0, "none"},
    {"UnusedConnectionTimeout", "UnusedConnectionTimeout", 0, "none"},
    {"UseDNS", "UseDNS", MM_SSHD_KW_GLOBAL, "no"},
    {"UseLogin", "UseLogin", MM_SSHD_KW_DEPRECATED, NULL},
    {"UsePAM", "UsePAM", MM_SSHD_KW_GLOBAL, "no"},
    {"UsePrivilegeSeparation", "UsePrivilegeSeparation", MM_SSHD_KW_DEPRECATED, NULL},
    {"VerifyReverseMapping", "VerifyReverseMapping", MM_SSHD_KW_DEPRECATED, NULL},
    {"VersionAddendum", "VersionAddendum", MM_SSHD_KW_GLOBAL, "none"},
    {"X11DisplayOffset", "X11DisplayOffset", 0, "10"},
    {"X11Forwarding", "X11Forwarding", 0, "no"},
    {"X11UseLocalhost", "X11UseLocalhost", 0, "yes"},
    {"XAuthLocation", "XAuthLocation", MM_SSHD_KW_GLOBAL, NULL},
};

#define NKEYWORDS (sizeof(keywords) / sizeof(keywords[0]))

static int cmp_kw(const void *key, const void *elem)
{
	return strcasecmp(key, ((const struct mm_sshd_kw *)elem)->name);
}

const struct mm_sshd_kw *mm_sshd_keyword(const char *name)
{
	return bsearch(name, keywords, NKEYWORDS, sizeof(keywords[0]), cmp_kw);
}

/* ---- lines --------------------------------------------------------------- */

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Splits s in place the way sshd's argv_split() does (see the header):
 * arguments end up NUL-terminated back to back from s.  Returns the count,
 * or -1 on an unterminated quote. */
static long split_args(char *s)
{
	char *r = s, *w = s, quote;
	long n = 0;

	for (;;) {
		while (is_blank(*r))
			r++;
		if (*r == '\0' || *r == '#')
			break;
		quote = 0;
		for (; *r != '\0'; r++) {
			if (*r == '\\' && (r[1] == '\'' || r[1] == '"' || r[1] == '\\' ||
			                   (quote == 0 && r[1] == ' '))) {
				*w++ = *++r;
			} else if (quote == 0 && is_blank(*r)) {
				break;
			} else if (quote == 0 && (*r == '"' || *r == '\'')) {
				quote = *r;
			} else if (quote != 0 && *r == quote) {
				quote = 0;
			} else {
				*w++ = *r;
			}
		}
		if (quote != 0)
			return -1;
		if (*r != '\0')
			r++; /* the blank that ended the argument; w < r so it is safe */
		*w++ = '\0'; /* at most at r's old NUL: never past this line */
		n++;
	}
	return n;
}

/* Next argument of a back-to-back list. */
static const char *next_arg(const char *a)
{
	return a + strlen(a) + 1;
}

char *mm_sshd_join(const char *args, size_t nargs)
{
	const char *a = args;
	size_t i, len = 0;
	char *out;

	for (i = 0; i < nargs; i++, a = next_arg(a))
		len += strlen(a) + 1;
	if ((out = malloc(len + 1)) == NULL)
		return NULL;
	if (len == 0) {
		out[0] = '\0';
		return out;
	}
	memcpy(out, args, len);
	for (i = 0; i + 1 < len; i++)
		if (out[i] == '\0')
			out[i] = ' ';
	out[len - 1] = '\0';
	return out;
}

/* Reports a skipped line as "<pre>'<word>'<post>".  The word comes from the
 * file: at most 64 bytes of it are quoted, and only when it is plain text. */
static void warn_word(const struct mm_sshd_cb *cb, void *arg, int line, const char *pre,
                      const char *word, const char *post)
{
	char why[256];
	const unsigned char *p;

	if (cb->warn == NULL)
		return;
	for (p = (const unsigned char *)word; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			break;
	if (*p != '\0')
		word = "(binary data)";
	snprintf(why, sizeof(why), "%s'%.64s%s'%s", pre, word, strlen(word) > 64 ? "..." : "",
	         post);
	cb->warn(arg, line, why);
}

static void warn_msg(const struct mm_sshd_cb *cb, void *arg, int line, const char *why)
{
	if (cb->warn != NULL)
		cb->warn(arg, line, why);
}

/* Match attributes sshd 9.2 knows; "all" stands alone. */
static const char *const match_attrs[] = {
    "user", "group", "host", "localaddress", "localport", "rdomain", "address", NULL,
};

/* Checks Match criteria (args/nargs) and warns about what sshd would reject.
 * The block is kept either way: its settings are still worth reporting. */
static void check_match(const char *args, size_t nargs, int line, const struct mm_sshd_cb *cb,
                        void *arg)
{
	const char *a = args;
	size_t i, k;

	if (nargs == 1 && strcasecmp(a, "all") == 0)
		return;
	for (i = 0; i < nargs; i++, a = next_arg(a)) {
		if (strcasecmp(a, "all") == 0) {
			warn_msg(cb, arg, line,
			         "Match 'all' cannot be combined with other criteria");
			return;
		}
		for (k = 0; match_attrs[k] != NULL; k++)
			if (strcasecmp(a, match_attrs[k]) == 0)
				break;
		if (match_attrs[k] == NULL) {
			warn_word(cb, arg, line, "unknown Match criterion ", a, "");
			return;
		}
		if (i + 1 == nargs) {
			warn_word(cb, arg, line, "Match criterion ", a, " needs a value");
			return;
		}
		i++;
		a = next_arg(a);
	}
}

/* Parses one line (NUL-terminated, no newline).  *match is the Match context
 * in force and is updated by a Match line (pointing into the line, which
 * the caller keeps alive). */
static int parse_line(char *line, int lineno, const char **match, const struct mm_sshd_cb *cb,
                      void *arg)
{
	struct mm_sshd_line l;
	const struct mm_sshd_kw *kw;
	char *p = line, *kwend, *e;
	long n;
	size_t len;

	len = strlen(line);
	while (len > 0 && strchr(" \t\r\n\f", line[len - 1]) != NULL)
		line[--len] = '\0';
	while (is_blank(*p))
		p++;
	if (*p == '\0' || *p == '#')
		return 0;
	for (kwend = p; *kwend != '\0' && !is_blank(*kwend) && *kwend != '='; kwend++)
		;
	e = kwend;
	while (is_blank(*e))
		e++;
	if (*e == '=')
		e++;
	*kwend = '\0'; /* e > kwend unless the line ends here */
	if ((kw = mm_sshd_keyword(p)) == NULL) {
		warn_word(cb, arg, lineno, "unknown keyword ", p, ", skipped");
		return 0;
	}
	if (kwend == e || (n = split_args(e)) == 0) {
		warn_word(cb, arg, lineno, "no value after keyword ", kw->name, ", skipped");
		return 0;
	}
	if (n < 0) {
		warn_word(cb, arg, lineno, "unbalanced quotes after keyword ", kw->name,
		          ", skipped");
		return 0;
	}
	l.line = lineno;
	l.kw = kw;
	l.args = e;
	l.nargs = (size_t)n;
	l.match = *match;
	if (kw->flags & MM_SSHD_KW_DEPRECATED) {
		warn_word(cb, arg, lineno, "deprecated keyword ", kw->name, " is ignored by sshd");
		return 0;
	}
	if (kw->flags & MM_SSHD_KW_MATCH) {
		check_match(e, l.nargs, lineno, cb, arg);
		/* Join the criteria in place: they become the block's name. */
		for (p = e; l.nargs > 1; p++)
			if (*p == '\0') {
				*p = ' ';
				l.nargs--;
			}
		*match = e;
		return 0;
	}
	if ((kw->flags & MM_SSHD_KW_GLOBAL) && (*match)[0] != '\0') {
		warn_word(cb, arg, lineno, "keyword ", kw->name,
		          " is not allowed inside a Match block, skipped");
		return 0;
	}
	if (kw->flags & MM_SSHD_KW_INCLUDE)
		return cb->include != NULL ? cb->include(arg, &l) : 0;
	return cb->setting != NULL ? cb->setting(arg, &l) : 0;
}

int mm_sshd_parse(char *buf, size_t len, const char *match, const struct mm_sshd_cb *cb, void *arg)
{
	const char *cur = match != NULL ? match : "";
	char why[64], *line, *nl;
	size_t pos = 0, n;
	int lineno = 0, r;

	while (pos < len) {
		line = buf + pos;
		nl = memchr(line, '\n', len - pos);
		if (nl != NULL) {
			n = (size_t)(nl - line);
			*nl = '\0';
			pos += n + 1;
		} else {
			n = len - pos;
			pos = len;
		}
		if (lineno == 0x7fffffff)
			break;
		lineno++;
		if (n > MM_SSHD_LINE_MAX) {
			snprintf(why, sizeof(why), "line longer than %u bytes, skipped",
			         MM_SSHD_LINE_MAX);
			warn_msg(cb, arg, lineno, why);
			continue;
		}
		if (memchr(line, '\0', n) != NULL) {
			warn_msg(cb, arg, lineno, "NUL byte in line, skipped");
			continue;
		}
		if ((r = parse_line(line, lineno, &cur, cb, arg)) != 0)
			return r;
	}
	return 0;
}

/* ---- the effective configuration ------------------------------------------ */

struct mm_sshd_conf {
	struct mm_sshd_entry *e; /* entries in the order they were added */
	size_t n, alloc;
	char **slot;  /* open-addressing set of first-wins keys (see conf_key) */
	size_t nkeys; /* keys stored */
	size_t cap;   /* slots, a power of two (0 before the first key) */
};

struct mm_sshd_conf *mm_sshd_conf_new(void)
{
	return calloc(1, sizeof(struct mm_sshd_conf));
}

void mm_sshd_conf_free(struct mm_sshd_conf *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n; i++) {
		free(c->e[i].value);
		free(c->e[i].file);
		free(c->e[i].match);
	}
	for (i = 0; i < c->cap; i++)
		free(c->slot[i]);
	free(c->e);
	free(c->slot);
	free(c);
}

size_t mm_sshd_conf_count(const struct mm_sshd_conf *c)
{
	return c->n;
}

const struct mm_sshd_entry *mm_sshd_conf_get(const struct mm_sshd_conf *c, size_t i)
{
	return i < c->n ? &c->e[i] : NULL;
}

static size_t hash_str(const char *s)
{
	size_t h = 14695981039346656037u;

	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 1099511628211u;
	return h;
}

/* Builds the key "a\x1fb\x1fc" (c may be NULL).  Returns NULL on no memory. */
static char *conf_key(const char *a, const char *b, const char *c)
{
	size_t la = strlen(a), lb = strlen(b), lc = c != NULL ? strlen(c) + 1 : 0;
	char *k = malloc(la + lb + lc + 2);

	if (k == NULL)
		return NULL;
	memcpy(k, a, la);
	k[la] = '\x1f';
	memcpy(k + la + 1, b, lb);
	if (c != NULL) {
		k[la + 1 + lb] = '\x1f';
		memcpy(k + la + lb + 2, c, lc - 1);
	}
	k[la + lb + lc + 1] = '\0';
	return k;
}

/* Adds key (taking ownership).  Returns 1 if new, 0 if already there (key
 * freed), MM_ERR_NOMEM (key freed). */
static int set_add(struct mm_sshd_conf *c, char *key)
{
	size_t i, ncap, mask;
	char **ns;

	if (key == NULL)
		return MM_ERR_NOMEM;
	if ((c->nkeys + 1) * 2 > c->cap) {
		ncap = c->cap ? c->cap * 2 : 64;
		if ((ns = calloc(ncap, sizeof(char *))) == NULL) {
			free(key);
			return MM_ERR_NOMEM;
		}
		for (i = 0; i < c->cap; i++) {
			size_t j;

			if (c->slot[i] == NULL)
				continue;
			for (j = hash_str(c->slot[i]) & (ncap - 1); ns[j] != NULL;
			     j = (j + 1) & (ncap - 1))
				;
			ns[j] = c->slot[i];
		}
		free(c->slot);
		c->slot = ns;
		c->cap = ncap;
	}
	mask = c->cap - 1;
	for (i = hash_str(key) & mask; c->slot[i] != NULL; i = (i + 1) & mask) {
		if (strcmp(c->slot[i], key) == 0) {
			free(key);
			return 0;
		}
	}
	c->slot[i] = key;
	c->nkeys++;
	return 1;
}

/* Appends an entry; value, file and match are copied (file may be NULL). */
static int push(struct mm_sshd_conf *c, const char *keyword, char *value, const char *file,
                int line, const char *match, int is_default)
{
	struct mm_sshd_entry *ne, *e;
	size_t na;

	if (c->n >= MM_SSHD_MAX_ENTRIES) {
		free(value);
		return MM_ERR_TOOBIG;
	}
	if (c->n == c->alloc) {
		na = c->alloc ? c->alloc * 2 : 32;
		if ((ne = realloc(c->e, na * sizeof(*ne))) == NULL) {
			free(value);
			return MM_ERR_NOMEM;
		}
		c->e = ne;
		c->alloc = na;
	}
	e = &c->e[c->n];
	e->keyword = keyword;
	e->value = value;
	e->file = file != NULL ? strdup(file) : NULL;
	e->match = strdup(match);
	e->line = line;
	e->is_default = is_default;
	if (value == NULL || (file != NULL && e->file == NULL) || e->match == NULL) {
		free(e->value);
		free(e->file);
		free(e->match);
		return MM_ERR_NOMEM;
	}
	c->n++;
	return 0;
}

int mm_sshd_conf_add(struct mm_sshd_conf *c, const struct mm_sshd_line *l, const char *file,
                     int *dup)
{
	const char *canon = l->kw->canon;
	int r;

	*dup = 0;
	if (c->n >= MM_SSHD_MAX_ENTRIES)
		return MM_ERR_TOOBIG;
	/* The keyword+Match key: first-wins for ordinary keywords, a "was set"
	 * mark for accumulating ones (so no default is added for them). */
	r = set_add(c, conf_key(canon, l->match, NULL));
	if (r < 0)
		return r;
	if (r == 0 && !(l->kw->flags & MM_SSHD_KW_MULTI))
		return 0;
	if (strcmp(canon, "Subsystem") == 0) {
		r = set_add(c, conf_key(canon, l->match, l->args));
		if (r < 0)
			return r;
		if (r == 0) {
			*dup = 1;
			return 0;
		}
	}
	if ((r = push(c, canon, mm_sshd_join(l->args, l->nargs), file, l->line, l->match, 0)) != 0)
		return r;
	return 1;
}

int mm_sshd_conf_add_defaults(struct mm_sshd_conf *c)
{
	size_t i;
	int r;

	for (i = 0; i < NKEYWORDS; i++) {
		const struct mm_sshd_kw *kw = &keywords[i];

		if (kw->dflt == NULL || strcmp(kw->name, kw->canon) != 0)
			continue;
		r = set_add(c, conf_key(kw->canon, "", NULL));
		if (r < 0)
			return r;
		if (r == 0)
			continue;
		if ((r = push(c, kw->canon, strdup(kw->dflt), NULL, 0, "", 1)) != 0)
			return r;
	}
	return 0;
}
