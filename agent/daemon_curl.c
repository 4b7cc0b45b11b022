/*
 * daemon_curl.c - loads libcurl for the daemon (see daemon_curl.h for why).
 */
#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon_curl.h"
#include "error.h"

struct mm_curl_api mm_curl;

int mm_curl_load(char **err)
{
	static const struct {
		const char *name;
		size_t off;
	} syms[] = {
		{ "curl_global_init", offsetof(struct mm_curl_api, global_init) },
		{ "curl_global_cleanup", offsetof(struct mm_curl_api, global_cleanup) },
		{ "curl_easy_init", offsetof(struct mm_curl_api, easy_init) },
		{ "curl_easy_setopt", offsetof(struct mm_curl_api, easy_setopt) },
		{ "curl_easy_perform", offsetof(struct mm_curl_api, easy_perform) },
		{ "curl_easy_getinfo", offsetof(struct mm_curl_api, easy_getinfo) },
		{ "curl_easy_cleanup", offsetof(struct mm_curl_api, easy_cleanup) },
		{ "curl_easy_strerror", offsetof(struct mm_curl_api, easy_strerror) },
		{ "curl_slist_append", offsetof(struct mm_curl_api, slist_append) },
		{ "curl_slist_free_all", offsetof(struct mm_curl_api, slist_free_all) },
	};
	static void *lib;
	size_t i;

	*err = NULL;
	if (lib != NULL)
		return 0;
	if ((lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL)) == NULL) {
		const char *why = dlerror();
		if (asprintf(err, "cannot load libcurl (install libcurl4): %s",
			     why != NULL ? why : "dlopen failed") < 0)
			*err = NULL;
		return MM_ERR_NOTFOUND;
	}
	for (i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		void *p = dlsym(lib, syms[i].name);
		if (p == NULL) {
			if (asprintf(err, "libcurl.so.4 has no %s", syms[i].name) < 0)
				*err = NULL;
			dlclose(lib);
			lib = NULL;
			return MM_ERR_NOTFOUND;
		}
		/* POSIX guarantees data and function pointers convert through dlsym. */
		memcpy((char *)&mm_curl + syms[i].off, &p, sizeof(p));
	}
	return 0;
}
