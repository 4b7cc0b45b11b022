/*
 * fuzz_apt.c - the APT readers end to end: the first input byte picks one
 * file of a small APT root (sources.list, a deb822 .sources file, the
 * Packages list plain or as a .gz, the InRelease file, preferences, apt.conf,
 * dpkg status), the rest of the input becomes that file, and the APT tables
 * are queried through the engine.  Any crash, leak or sanitizer report is a
 * bug; warnings are expected.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine.h"

static char root[] = "/tmp/mamori-fuzz-apt-XXXXXX";
static struct mm_engine *eng;

static const char *const files[] = {
	"/etc/apt/sources.list",
	"/etc/apt/sources.list.d/extra.sources",
	"/var/lib/apt/lists/example.org_debian_dists_stable_main_binary-amd64_Packages",
	"/var/lib/apt/lists/example.org_debian_dists_stable_main_binary-amd64_Packages.gz",
	"/var/lib/apt/lists/example.org_debian_dists_stable_InRelease",
	"/etc/apt/preferences",
	"/etc/apt/apt.conf.d/50fuzz",
	"/var/lib/dpkg/status",
};
#define NFILES (sizeof(files) / sizeof(files[0]))

static void put(const char *rel, const void *p, size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s%s", root, rel);
	if ((f = fopen(path, "wb")) == NULL)
		abort();
	if (n > 0 && fwrite(p, 1, n, f) != n)
		abort();
	fclose(f);
}

static void quiet(void *arg, const char *table, const char *msg)
{
	(void)arg;
	(void)table;
	(void)msg;
}

static void setup(void)
{
	static const char *const dirs[] = { "/etc", "/etc/apt", "/etc/apt/sources.list.d",
					    "/etc/apt/apt.conf.d", "/var", "/var/lib",
					    "/var/lib/apt", "/var/lib/apt/lists", "/var/lib/dpkg" };
	struct mm_engine_opts o = { 0 };
	char path[512], *err = NULL;
	size_t i;

	if (mkdtemp(root) == NULL)
		abort();
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", root, dirs[i]);
		mkdir(path, 0755);
	}
	o.root = root;
	o.time_limit_ms = 2000;
	o.heap_limit = -1;
	o.warn = quiet;
	if (mm_engine_new(&o, &eng, &err) != 0)
		abort();
}

static void reset(void)
{
	static const char src[] = "deb http://example.org/debian stable main\n";
	static const char rel[] = "Origin: Ex\nLabel: Ex\nSuite: stable\nCodename: ex\n";
	static const char pkgs[] = "Package: a\nVersion: 2.0\nArchitecture: amd64\n\n";
	static const char status[] =
		"Package: a\nStatus: install ok installed\nVersion: 1.0\nArchitecture: amd64\n\n";

	put(files[0], src, sizeof(src) - 1);
	put(files[1], "", 0);
	put(files[2], pkgs, sizeof(pkgs) - 1);
	put(files[3], "", 0);
	put(files[4], rel, sizeof(rel) - 1);
	put(files[5], "", 0);
	put(files[6], "", 0);
	put(files[7], status, sizeof(status) - 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const queries[] = {
		"SELECT count(*) FROM apt_upgradable",
		"SELECT count(*) FROM apt_sources",
		"SELECT count(*) FROM apt_config",
		"SELECT pending_updates FROM patch_status",
	};
	size_t i;

	if (eng == NULL)
		setup();
	if (size < 1)
		return 0;
	reset();
	put(files[data[0] % NFILES], data + 1, size - 1);
	for (i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
		sqlite3_stmt *st = NULL;
		char *err = NULL;
		if (mm_engine_prepare(eng, queries[i], &st, NULL, &err) == 0 && st != NULL) {
			while (sqlite3_step(st) == SQLITE_ROW)
				;
			sqlite3_finalize(st);
		}
		sqlite3_free(err);
	}
	return 0;
}
