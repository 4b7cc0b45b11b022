/*
 * error.h - the project's one table of error codes.
 *
 * Every function in lib/, agent/ and tables/ that can fail returns int: 0 on
 * success or one of the negative codes below.  Messages meant for a human
 * travel separately through a `char **err` out-parameter (SQLite style); the
 * code says what kind of failure it was so callers can decide what to do.
 */
#ifndef MM_ERROR_H
#define MM_ERROR_H

enum mm_error {
	MM_OK = 0,
	MM_ERR_INTERNAL = -1,  /* a bug or an impossible state */
	MM_ERR_NOMEM = -2,     /* allocation failed */
	MM_ERR_TOOBIG = -3,    /* input hit a size cap set by the caller */
	MM_ERR_IO = -4,        /* read/write/open failed (errno is kept) */
	MM_ERR_NOTFOUND = -5,  /* a file, table or key does not exist */
	MM_ERR_PARSE = -6,     /* malformed input */
	MM_ERR_USAGE = -7,     /* bad arguments from the user */
	MM_ERR_SQL = -8,       /* SQLite reported an error */
	MM_ERR_DENIED = -9,    /* refused by policy (authorizer, role, sandbox) */
	MM_ERR_LIMIT = -10,    /* a time, memory or row limit was reached */
	MM_ERR_CONSTRAINT = -11, /* a required constraint is missing */
};

/* Returns a static, human-readable description of an error code. */
const char *mm_strerror(int code);

#endif
