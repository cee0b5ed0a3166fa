/*
 * base/dl.h - a library loaded when first needed (dlopen), its functions
 * looked up by name: for what only some runs use (nDPI for --flows, the
 * history's databases), so that every start does not pay for loading it.
 * Depends on nothing.
 */
#ifndef TLSGRADE_BASE_DL_H
#define TLSGRADE_BASE_DL_H

#include <dlfcn.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum { DL_LOADED = 0, DL_NO_LIBRARY = -1, DL_NO_SYMBOL = -2 };

/* A function to look up: its name, and where its address goes. */
struct dl_function {
  const char *name;
  void **slot;
};

/* Loads `library` and sets each of fns[0..n)'s slots to its function.
 * DL_NO_LIBRARY: err holds dlerror's words; DL_NO_SYMBOL: err says which
 * name is missing (the library stays loaded: nothing refers to it). */
static inline int dl_functions(const char *library, const struct dl_function fns[], size_t n,
                               char *err, size_t errlen) {
  void *lib = dlopen(library, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char *why = dlerror();
    snprintf(err, errlen, "%s", why ? why : library);
    return DL_NO_LIBRARY;
  }
  for (size_t i = 0; i < n; i++)
    if (!(*fns[i].slot = dlsym(lib, fns[i].name))) {
      snprintf(err, errlen, "%s has no %s", library, fns[i].name);
      return DL_NO_SYMBOL;
    }
  return DL_LOADED;
}

#endif
