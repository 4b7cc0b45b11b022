/*
 * strutil.c - string helpers; see strutil.h.
 */
#include "strutil.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

char *mm_trim(char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n' || *s == '\v' || *s == '\f')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' ||
			 s[n - 1] == '\n' || s[n - 1] == '\v' || s[n - 1] == '\f'))
		s[--n] = '\0';
	return s;
}

int mm_startswith(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

int mm_endswith(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

int mm_parse_i64(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
		return MM_ERR_PARSE;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return MM_ERR_PARSE;
	*out = (int64_t)v;
	return 0;
}

int mm_parse_u64(const char *s, int base, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (s == NULL || *s == '\0' || *s == '-' || *s == '+' || isspace((unsigned char)*s))
		return MM_ERR_PARSE;
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno != 0 || *end != '\0')
		return MM_ERR_PARSE;
	*out = (uint64_t)v;
	return 0;
}

int mm_split_ws(char *s, const char *seps, char **fields, int max)
{
	int n = 0;

	while (*s != '\0' && n < max) {
		while (*s != '\0' && strchr(seps, *s) != NULL)
			s++;
		if (*s == '\0')
			break;
		fields[n++] = s;
		while (*s != '\0' && strchr(seps, *s) == NULL)
			s++;
		if (*s != '\0')
			*s++ = '\0';
	}
	return n;
}

int mm_split_char(char *s, char sep, char **fields, int max)
{
	int n = 0;
	char *p;

	if (max <= 0)
		return 0;
	fields[n++] = s;
	while (n < max && (p = strchr(s, sep)) != NULL) {
		*p = '\0';
		s = p + 1;
		fields[n++] = s;
	}
	return n;
}

char *mm_next_line(char *buf, size_t len, size_t *pos)
{
	char *line, *nl;

	if (*pos >= len)
		return NULL;
	line = buf + *pos;
	nl = memchr(line, '\n', len - *pos);
	if (nl != NULL) {
		*nl = '\0';
		*pos = (size_t)(nl - buf) + 1;
	} else {
		/* The buffer is NUL-terminated one past len by the readers. */
		*pos = len;
	}
	return line;
}

int mm_is_text(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 && c != '\t')
			return 0;
		if (c == 0x7f)
			return 0;
	}
	return 1;
}

char *mm_strdup0(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

/* 1 when [s, end) is a plain decimal number ("12", "1.5"): strtod also
 * takes "nan", "inf" and hex, which no duration or size should be. */
static int plain_decimal(const char *s, const char *end)
{
	for (; s < end; s++)
		if (!isdigit((unsigned char)*s) && *s != '.')
			return 0;
	return 1;
}

int mm_parse_duration_ms(const char *s, int64_t *ms)
{
	char *end;
	double v;

	if (s == NULL || *s == '\0' || isspace((unsigned char)*s) || *s == '-')
		return MM_ERR_PARSE;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || v < 0 || !plain_decimal(s, end))
		return MM_ERR_PARSE;
	if (strcmp(end, "ms") == 0)
		;
	else if (*end == '\0' || strcmp(end, "s") == 0)
		v *= 1000.0;
	else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
		v *= 60000.0;
	else if (strcmp(end, "h") == 0)
		v *= 3600000.0;
	else
		return MM_ERR_PARSE;
	if (v > 9e15)
		return MM_ERR_PARSE;
	*ms = (int64_t)v;
	return 0;
}

int mm_parse_size(const char *s, int64_t *bytes)
{
	char *end;
	double v, mul = 1;

	if (s == NULL || *s == '\0' || isspace((unsigned char)*s) || *s == '-')
		return MM_ERR_PARSE;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || v < 0 || !plain_decimal(s, end))
		return MM_ERR_PARSE;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': mul = 1024.0; end++; break;
	case 'm': case 'M': mul = 1024.0 * 1024; end++; break;
	case 'g': case 'G': mul = 1024.0 * 1024 * 1024; end++; break;
	default: return MM_ERR_PARSE;
	}
	if (*end == 'i')
		end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end != '\0')
		return MM_ERR_PARSE;
	v *= mul;
	if (v > 9e15)
		return MM_ERR_PARSE;
	*bytes = (int64_t)v;
	return 0;
}
