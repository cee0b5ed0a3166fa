/*
 * dissect/weak_keys.c - Debian's weak RSA keys (CVE-2008-0166).
 *
 * Debian's OpenSSL of 2006-2008 seeded its generator with little more than
 * the process id, so every key it made is one of a few hundred thousand per
 * size.  The openssl-blacklist package lists them: a file blacklist.RSA-<bits>
 * per key size, one line per key holding the last 20 hex digits of SHA-1 of
 * "Modulus=<HEX>\n" (openssl-vulnkey(1); x509.c computes the same value),
 * '#' starts a comment.  The package is gone from Debian 12, so the user
 * supplies the files (--weak-keys).
 *
 * The lists are loaded once, before any packet is read, into one sorted
 * array of 10-byte entries per key size (binary search), under a cap on the
 * number of entries; afterwards they are only read, by any thread.
 */
#include "dissect/dissect.h"

#include <openssl/crypto.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FP_BYTES 10
#define FP_HEX (2 * FP_BYTES)
#define FILE_PREFIX "blacklist.RSA-"
#define MAX_KEY_BITS 65536

/* The keys of one size, sorted and distinct after each load. */
struct weak_list {
  int bits;
  uint8_t *fps; /* n entries of FP_BYTES, owned */
  size_t n, cap;
};

/* Owns its lists. */
struct x509_weak_keys {
  struct weak_list *lists;
  size_t n_lists;
  size_t total, max_entries;
};

struct x509_weak_keys *x509_weak_keys_new(size_t max_entries) {
  struct x509_weak_keys *keys = calloc(1, sizeof *keys);
  if (keys)
    keys->max_entries = max_entries;
  return keys;
}

void x509_weak_keys_free(struct x509_weak_keys *keys) {
  if (!keys)
    return;
  for (size_t i = 0; i < keys->n_lists; i++)
    free(keys->lists[i].fps);
  free(keys->lists);
  free(keys);
}

size_t x509_weak_keys_count(const struct x509_weak_keys *keys) {
  return keys ? keys->total : 0;
}

static struct weak_list *list_of(const struct x509_weak_keys *keys, int bits) {
  for (size_t i = 0; keys && i < keys->n_lists; i++)
    if (keys->lists[i].bits == bits)
      return &keys->lists[i];
  return NULL;
}

bool x509_weak_keys_cover(const struct x509_weak_keys *keys, int rsa_bits) {
  return list_of(keys, rsa_bits) != NULL;
}

static int compare_fp(const void *a, const void *b) {
  return memcmp(a, b, FP_BYTES);
}

uint8_t x509_weak_keys_lookup(const struct x509_weak_keys *keys, const struct tls_cert *cert) {
  if (!cert->parsed || cert->key_type != TLS_KEY_RSA || !cert->has_weak_key_fp)
    return TLS_WEAK_KEY_UNCHECKED;
  const struct weak_list *list = list_of(keys, cert->key_bits);
  if (!list)
    return TLS_WEAK_KEY_UNCHECKED;
  bool found = list->n && bsearch(cert->weak_key_fp, list->fps, list->n, FP_BYTES, compare_fp);
  return found ? TLS_WEAK_KEY_LISTED : TLS_WEAK_KEY_NOT_LISTED;
}

/* ------------------------------------------------------------------ */
/* Loading                                                             */

/* The key size in a file name "blacklist.RSA-<bits>", 0 when it is not one. */
static int bits_of_name(const char *name) {
  size_t k = strlen(FILE_PREFIX);
  if (strncmp(name, FILE_PREFIX, k) != 0 || !isdigit((unsigned char)name[k]))
    return 0;
  long bits = 0;
  for (const char *p = name + k; *p; p++) {
    if (!isdigit((unsigned char)*p))
      return 0;
    bits = bits * 10 + (*p - '0');
    if (bits > MAX_KEY_BITS)
      return 0;
  }
  return (int)bits;
}

static struct weak_list *list_for(struct x509_weak_keys *keys, int bits) {
  struct weak_list *list = list_of(keys, bits);
  if (list)
    return list;
  struct weak_list *grown = realloc(keys->lists, (keys->n_lists + 1) * sizeof *grown);
  if (!grown)
    return NULL;
  keys->lists = grown;
  list = &keys->lists[keys->n_lists++];
  memset(list, 0, sizeof *list);
  list->bits = bits;
  return list;
}

/* One line without its end of line: NULL when fine (*fp filled, or
 * *skip for a comment or an empty line), else why not. */
static const char *parse_line(const char *line, size_t len, uint8_t fp[FP_BYTES], bool *skip) {
  *skip = len == 0 || line[0] == '#';
  if (*skip)
    return NULL;
  if (len != FP_HEX)
    return "expected 20 hex digits (the last 80 bits of a SHA-1 fingerprint)";
  for (size_t i = 0; i < FP_BYTES; i++) {
    int high = OPENSSL_hexchar2int((unsigned char)line[2 * i]),
        low = OPENSSL_hexchar2int((unsigned char)line[2 * i + 1]);
    if (high < 0 || low < 0)
      return "expected 20 hex digits, found another character";
    fp[i] = (uint8_t)(high << 4 | low);
  }
  return NULL;
}

static bool append(struct weak_list *list, const uint8_t fp[FP_BYTES]) {
  if (list->n == list->cap) {
    size_t cap = list->cap ? list->cap * 2 : 1024;
    uint8_t *grown = realloc(list->fps, cap * FP_BYTES);
    if (!grown)
      return false;
    list->fps = grown, list->cap = cap;
  }
  memcpy(list->fps + list->n * FP_BYTES, fp, FP_BYTES);
  list->n++;
  return true;
}

/* Sort and drop duplicates; keys->total follows. */
static void settle(struct x509_weak_keys *keys, struct weak_list *list) {
  size_t before = list->n;
  if (list->n > 1)
    qsort(list->fps, list->n, FP_BYTES, compare_fp);
  size_t kept = 0;
  for (size_t i = 0; i < list->n; i++) {
    uint8_t *fp = list->fps + i * FP_BYTES;
    if (kept && memcmp(list->fps + (kept - 1) * FP_BYTES, fp, FP_BYTES) == 0)
      continue;
    if (kept != i)
      memcpy(list->fps + kept * FP_BYTES, fp, FP_BYTES);
    kept++;
  }
  list->n = kept;
  keys->total -= before - kept;
}

/* A line longer than this is not a fingerprint (checked, never cut). */
#define LINE_MAX_BYTES 256

/* The next line without its '\n' (NUL bytes kept): 1 read, 0 end of file,
 * -1 longer than LINE_MAX_BYTES. */
static int read_line(FILE *file, char line[LINE_MAX_BYTES], size_t *len) {
  int c;
  *len = 0;
  while ((c = getc(file)) != EOF && c != '\n') {
    if (*len == LINE_MAX_BYTES)
      return -1;
    line[(*len)++] = (char)c;
  }
  return c == EOF && *len == 0 ? 0 : 1;
}

static int load_file(struct x509_weak_keys *keys, const char *path, int bits, char *err,
                     size_t errlen) {
  FILE *file = fopen(path, "r");
  if (!file) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return -1;
  }
  struct weak_list *list = list_for(keys, bits);
  char line[LINE_MAX_BYTES];
  unsigned long number = 0;
  int rc = list ? 0 : -1;
  if (!list)
    snprintf(err, errlen, "%s: out of memory", path);
  size_t len;
  for (int got; rc == 0 && (got = read_line(file, line, &len)) != 0;) {
    number++;
    if (got < 0) {
      snprintf(err, errlen, "%s:%lu: line longer than %d bytes", path, number, LINE_MAX_BYTES);
      rc = -1;
      break;
    }
    if (len && line[len - 1] == '\r')
      len--;
    if (memchr(line, '\0', len)) {
      snprintf(err, errlen, "%s:%lu: a NUL byte: not a text list", path, number);
      rc = -1;
      break;
    }
    uint8_t fp[FP_BYTES];
    bool skip;
    const char *why = parse_line(line, len, fp, &skip);
    if (why) {
      snprintf(err, errlen, "%s:%lu: %s", path, number, why);
      rc = -1;
    } else if (!skip && keys->total >= keys->max_entries) {
      snprintf(err, errlen,
               "%s:%lu: more than %zu weak keys in all (--limit weak-keys=N raises the cap)", path,
               number, keys->max_entries);
      rc = -1;
    } else if (!skip && !append(list, fp)) {
      snprintf(err, errlen, "%s:%lu: out of memory", path, number);
      rc = -1;
    } else if (!skip) {
      keys->total++;
    }
  }
  if (rc == 0 && ferror(file)) {
    snprintf(err, errlen, "%s: read error", path);
    rc = -1;
  }
  fclose(file);
  if (list)
    settle(keys, list);
  return rc;
}

static int compare_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every blacklist.RSA-<bits> file of a directory, in name order. */
static int load_dir(struct x509_weak_keys *keys, const char *path, char *err, size_t errlen) {
  DIR *dir = opendir(path);
  if (!dir) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return -1;
  }
  char **names = NULL;
  size_t n = 0;
  int rc = 0;
  for (struct dirent *entry; rc == 0 && (entry = readdir(dir)) != NULL;) {
    if (!bits_of_name(entry->d_name))
      continue;
    char **grown = realloc(names, (n + 1) * sizeof *grown);
    char *name = grown ? strdup(entry->d_name) : NULL;
    if (grown)
      names = grown;
    if (!name) {
      snprintf(err, errlen, "%s: out of memory", path);
      rc = -1;
    } else {
      names[n++] = name;
    }
  }
  closedir(dir);
  if (rc == 0 && n == 0) {
    snprintf(err, errlen, "%s: no %s<bits> file in this directory", path, FILE_PREFIX);
    rc = -1;
  }
  if (n > 1)
    qsort(names, n, sizeof *names, compare_names);
  for (size_t i = 0; i < n; i++) {
    if (rc == 0) {
      size_t len = strlen(path) + strlen(names[i]) + 2;
      char *file = malloc(len);
      if (!file) {
        snprintf(err, errlen, "%s: out of memory", path);
        rc = -1;
      } else {
        snprintf(file, len, "%s/%s", path, names[i]);
        rc = load_file(keys, file, bits_of_name(names[i]), err, errlen);
        free(file);
      }
    }
    free(names[i]);
  }
  free(names);
  return rc;
}

int x509_weak_keys_load(struct x509_weak_keys *keys, const char *path, char *err, size_t errlen) {
  struct stat st;
  if (stat(path, &st) != 0) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return -1;
  }
  if (S_ISDIR(st.st_mode))
    return load_dir(keys, path, err, errlen);
  const char *slash = strrchr(path, '/');
  int bits = bits_of_name(slash ? slash + 1 : path);
  if (!bits) {
    snprintf(err, errlen, "%s: the file name must be %s<bits> (it gives the key size)", path,
             FILE_PREFIX);
    return -1;
  }
  return load_file(keys, path, bits, err, errlen);
}
