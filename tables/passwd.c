/*
 * passwd.c - pure parsers for /etc/passwd and /etc/group; see passwd.h for
 * the rules.  Both files share one line splitter: a line is checked (length,
 * control bytes, comment), split at every ':' and its fields counted before
 * the record-specific checks run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "passwd.h"
#include "strutil.h"

#define MAXF 8 /* one more than the widest record, to count extra fields */

/* Parses a uid/gid: 1..10 decimal digits, value at most MM_ID_MAX.  No sign,
 * no spaces (glibc is laxer, but "1000 " or "+5" in passwd is a mistake
 * worth a warning).  Returns 0 or -1. */
static int parse_id(const char *s, int64_t *out)
{
	int64_t v = 0;
	size_t i, n = strlen(s);

	if (n == 0 || n > 10)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v > MM_ID_MAX)
		return -1;
	*out = v;
	return 0;
}

/* Splits one line into fields.  Returns the field count (>= 1), 0 for a
 * line to skip silently (blank or comment), or -1 after writing the reason
 * into why. */
static int split_line(char *line, size_t maxlen, char **f, char *why, size_t whysz)
{
	size_t n = strlen(line), lead;
	int nf;

	if (n > 0 && line[n - 1] == '\r')
		line[--n] = '\0'; /* tolerate CRLF files */
	if (n > maxlen) {
		snprintf(why, whysz, "line longer than %zu bytes", maxlen);
		return -1;
	}
	lead = strspn(line, " \t");
	if (line[lead] == '\0' || line[lead] == '#')
		return 0;
	if (!mm_is_text(line, n)) {
		snprintf(why, whysz, "control characters in line");
		return -1;
	}
	nf = mm_split_char(line, ':', f, MAXF);
	if (nf == MAXF && strchr(f[MAXF - 1], ':') != NULL) {
		/* count the rest for the message only */
		const char *p;
		for (p = f[MAXF - 1]; (p = strchr(p, ':')) != NULL; p++)
			nf++;
	}
	return nf;
}

/* Checks a record name: not empty, not a NIS "+"/"-" compat entry. */
static int bad_name(const char *name, char *why, size_t whysz)
{
	if (name[0] == '\0') {
		snprintf(why, whysz, "empty name");
		return 1;
	}
	if (name[0] == '+' || name[0] == '-') {
		snprintf(why, whysz, "NIS compat entry '%.32s' not supported", name);
		return 1;
	}
	return 0;
}

int mm_passwd_parse(char *buf, size_t len, mm_passwd_fn fn, mm_parse_warn_fn warn, void *arg)
{
	char *line, *f[MAXF], why[96];
	size_t pos = 0;
	int lineno = 0, nf, r;

	while ((line = mm_next_line(buf, len, &pos)) != NULL) {
		struct mm_passwd pw;

		lineno++;
		why[0] = '\0';
		nf = split_line(line, MM_PASSWD_LINE_MAX, f, why, sizeof(why));
		if (nf == 0)
			continue;
		if (nf > 0 && nf != 7)
			snprintf(why, sizeof(why), "expected 7 fields, got %d", nf);
		else if (nf == 7 && !bad_name(f[0], why, sizeof(why))) {
			if (parse_id(f[2], &pw.uid) != 0)
				snprintf(why, sizeof(why), "bad uid '%.32s'", f[2]);
			else if (parse_id(f[3], &pw.gid) != 0)
				snprintf(why, sizeof(why), "bad gid '%.32s'", f[3]);
		}
		if (why[0] != '\0') {
			if (warn != NULL)
				warn(arg, lineno, why);
			continue;
		}
		pw.name = f[0];
		pw.passwd = f[1];
		pw.gecos = f[4];
		pw.dir = f[5];
		pw.shell = f[6];
		if ((r = fn(arg, lineno, &pw)) != 0)
			return r;
	}
	return 0;
}

int mm_group_parse(char *buf, size_t len, mm_group_fn fn, mm_parse_warn_fn warn, void *arg)
{
	char *line, *f[MAXF], why[96];
	size_t pos = 0;
	int lineno = 0, nf, r;

	while ((line = mm_next_line(buf, len, &pos)) != NULL) {
		struct mm_group gr;

		lineno++;
		why[0] = '\0';
		nf = split_line(line, MM_GROUP_LINE_MAX, f, why, sizeof(why));
		if (nf == 0)
			continue;
		if (nf > 0 && nf != 4)
			snprintf(why, sizeof(why), "expected 4 fields, got %d", nf);
		else if (nf == 4 && !bad_name(f[0], why, sizeof(why)) &&
			 parse_id(f[2], &gr.gid) != 0)
			snprintf(why, sizeof(why), "bad gid '%.32s'", f[2]);
		if (why[0] != '\0') {
			if (warn != NULL)
				warn(arg, lineno, why);
			continue;
		}
		gr.name = f[0];
		gr.passwd = f[1];
		gr.members = f[3];
		if ((r = fn(arg, lineno, &gr)) != 0)
			return r;
	}
	return 0;
}

int mm_group_next_member(const char **list, const char **name, size_t *len)
{
	const char *p = *list;
	size_t n;

	while (*p == ',')
		p++;
	if (*p == '\0') {
		*list = p;
		return 0;
	}
	n = strcspn(p, ",");
	*name = p;
	*len = n;
	*list = p + n;
	return 1;
}

static size_t id_hash(int64_t id, size_t cap)
{
	uint64_t h = (uint64_t)id * 0x9e3779b97f4a7c15ull; /* Fibonacci hashing */

	return (size_t)(h >> 32) & (cap - 1);
}

/* Grows the table to newcap slots (a power of two) and re-inserts. */
static int idset_grow(struct mm_idset *s, size_t newcap)
{
	int64_t *slot = malloc(newcap * sizeof(*slot));
	size_t i, j;

	if (slot == NULL)
		return MM_ERR_NOMEM;
	for (i = 0; i < newcap; i++)
		slot[i] = -1;
	for (i = 0; i < s->cap; i++) {
		if (s->slot[i] < 0)
			continue;
		for (j = id_hash(s->slot[i], newcap); slot[j] >= 0; j = (j + 1) & (newcap - 1))
			;
		slot[j] = s->slot[i];
	}
	free(s->slot);
	s->slot = slot;
	s->cap = newcap;
	return 0;
}

int mm_idset_add(struct mm_idset *s, int64_t id)
{
	size_t j;
	int r;

	if (id < 0)
		return MM_ERR_INTERNAL;
	/* keep the load under one half so probe runs stay short */
	if ((s->n + 1) * 2 > s->cap && (r = idset_grow(s, s->cap ? s->cap * 2 : 64)) != 0)
		return r;
	for (j = id_hash(id, s->cap); s->slot[j] >= 0; j = (j + 1) & (s->cap - 1))
		if (s->slot[j] == id)
			return 0;
	s->slot[j] = id;
	s->n++;
	return 1;
}

void mm_idset_free(struct mm_idset *s)
{
	if (s == NULL)
		return;
	free(s->slot);
	s->slot = NULL;
	s->n = 0;
	s->cap = 0;
}
