/*
 * error.c - descriptions for the codes in error.h.
 */
#include "error.h"

const char *mm_strerror(int code)
{
	switch (code) {
	case MM_OK: return "success";
	case MM_ERR_INTERNAL: return "internal error";
	case MM_ERR_NOMEM: return "out of memory";
	case MM_ERR_TOOBIG: return "input exceeds size limit";
	case MM_ERR_IO: return "input/output error";
	case MM_ERR_NOTFOUND: return "not found";
	case MM_ERR_PARSE: return "malformed input";
	case MM_ERR_USAGE: return "usage error";
	case MM_ERR_SQL: return "SQL error";
	case MM_ERR_DENIED: return "denied";
	case MM_ERR_LIMIT: return "limit reached";
	case MM_ERR_CONSTRAINT: return "required constraint missing";
	}
	return "unknown error";
}
