/*
 * version.h - the project's version, set by the build.
 */
#ifndef MM_VERSION_H
#define MM_VERSION_H

#ifndef MM_VERSION
#define MM_VERSION "0.1.0"
#endif
#define MM_PRODUCT "mamori"

#endif
