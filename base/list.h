/*
 * base/list.h - the intrusive doubly-linked list: a struct list_node in the
 * element, a struct list that knows the first and the last.  Depends on
 * nothing.
 *
 * Both zero-initialised mean "empty list" and "on no list", so elements
 * from calloc need no set-up.  Removal and insertion at either end are
 * O(1); the list owns nothing (the element's owner frees it).  Get the
 * element back with list_entry(node, type, member).
 */
#ifndef TLSGRADE_BASE_LIST_H
#define TLSGRADE_BASE_LIST_H

#include <stdbool.h>
#include <stddef.h>

struct list_node {
  struct list_node *prev, *next; /* NULL at the ends */
};

struct list {
  struct list_node *first, *last; /* NULL when empty */
};

#define list_entry(node, type, member) ((type *)(void *)((char *)(node)-offsetof(type, member)))

static inline bool list_empty(const struct list *l) {
  return l->first == NULL;
}

/* n is on l (a node is on one list at most). */
static inline bool list_linked(const struct list *l, const struct list_node *n) {
  return n->prev != NULL || l->first == n;
}

static inline void list_push_back(struct list *l, struct list_node *n) {
  n->prev = l->last;
  n->next = NULL;
  if (l->last)
    l->last->next = n;
  else
    l->first = n;
  l->last = n;
}

static inline void list_push_front(struct list *l, struct list_node *n) {
  n->prev = NULL;
  n->next = l->first;
  if (l->first)
    l->first->prev = n;
  else
    l->last = n;
  l->first = n;
}

/* Take n, which is on l, off it. */
static inline void list_remove(struct list *l, struct list_node *n) {
  if (n->prev)
    n->prev->next = n->next;
  else
    l->first = n->next;
  if (n->next)
    n->next->prev = n->prev;
  else
    l->last = n->prev;
  n->prev = n->next = NULL;
}

#endif
