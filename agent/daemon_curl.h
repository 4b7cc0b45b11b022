/*
 * daemon_curl.h - libcurl, loaded when the daemon starts rather than when the
 * program starts.
 *
 * `mamori query` is run from scripts, often thousands of times, so its
 * start-up time matters (1.6 ms with the static dependencies).  Linking
 * libcurl would make every run map libcurl and its ~25 shared libraries
 * (TLS, HTTP/2, IDN, Kerberos, LDAP ...), about 4 ms more, for a library
 * only `mamori daemon` uses.  So the daemon's files include this header
 * after <curl/curl.h>: it turns the nine libcurl calls they make into calls
 * through pointers that mm_curl_load() fills from libcurl.so.4 (Debian's
 * soname; the daemon's only runtime dependency on it).
 */
#ifndef MM_DAEMON_CURL_H
#define MM_DAEMON_CURL_H

#include <curl/curl.h>

struct mm_curl_api {
	CURLcode (*global_init)(long flags);
	void (*global_cleanup)(void);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *h, CURLoption opt, ...);
	CURLcode (*easy_perform)(CURL *h);
	CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
	void (*easy_cleanup)(CURL *h);
	const char *(*easy_strerror)(CURLcode c);
	struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
	void (*slist_free_all)(struct curl_slist *l);
};
extern struct mm_curl_api mm_curl;

/* Loads libcurl once.  Returns 0, or MM_ERR_NOTFOUND with *err (malloc'ed)
 * naming what is missing. */
int mm_curl_load(char **err);

#undef curl_easy_setopt
#undef curl_easy_getinfo
#define curl_global_init (mm_curl.global_init)
#define curl_global_cleanup (mm_curl.global_cleanup)
#define curl_easy_init (mm_curl.easy_init)
#define curl_easy_setopt (mm_curl.easy_setopt)
#define curl_easy_perform (mm_curl.easy_perform)
#define curl_easy_getinfo (mm_curl.easy_getinfo)
#define curl_easy_cleanup (mm_curl.easy_cleanup)
#define curl_easy_strerror (mm_curl.easy_strerror)
#define curl_slist_append (mm_curl.slist_append)
#define curl_slist_free_all (mm_curl.slist_free_all)

#endif
