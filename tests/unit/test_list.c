/*
 * tests/unit/test_list.c - base/list.h, the intrusive doubly-linked list.
 *
 * Each check walks the list both ways and compares with the order the
 * operations imply, written out by hand.
 */
#include "base/list.h"
#include "harness.h"

struct item {
  int value;
  struct list_node link;
};

/* The values first to last (forward) and last to first (backward) as
 * digits, e.g. "123|321". */
static const char *walk(const struct list *l, char *buf) {
  char *p = buf;
  for (const struct list_node *n = l->first; n; n = n->next)
    *p++ = (char)('0' + list_entry(n, struct item, link)->value);
  *p++ = '|';
  for (const struct list_node *n = l->last; n; n = n->prev)
    *p++ = (char)('0' + list_entry(n, struct item, link)->value);
  *p = '\0';
  return buf;
}

static void test_zero_is_empty(void) {
  struct list l = {0};
  struct item a = {1, {0}};
  char buf[32];
  CHECK(list_empty(&l));
  CHECK(!list_linked(&l, &a.link));
  CHECK_STR(walk(&l, buf), "|");
}

static void test_push_and_remove(void) {
  struct list l = {0};
  struct item it[5] = {{1, {0}}, {2, {0}}, {3, {0}}, {4, {0}}, {5, {0}}};
  char buf[32];
  list_push_back(&l, &it[1].link);
  list_push_back(&l, &it[2].link);
  list_push_front(&l, &it[0].link);
  list_push_back(&l, &it[3].link);
  CHECK_STR(walk(&l, buf), "1234|4321");
  CHECK(list_linked(&l, &it[0].link) && list_linked(&l, &it[3].link));
  CHECK(!list_linked(&l, &it[4].link));
  list_remove(&l, &it[1].link); /* middle */
  CHECK_STR(walk(&l, buf), "134|431");
  CHECK(!list_linked(&l, &it[1].link));
  list_remove(&l, &it[0].link); /* first */
  CHECK_STR(walk(&l, buf), "34|43");
  list_remove(&l, &it[3].link); /* last */
  CHECK_STR(walk(&l, buf), "3|3");
  list_push_back(&l, &it[1].link); /* a removed node goes back on */
  CHECK_STR(walk(&l, buf), "32|23");
  list_remove(&l, &it[2].link);
  list_remove(&l, &it[1].link);
  CHECK(list_empty(&l));
  CHECK(l.last == NULL);
  CHECK_STR(walk(&l, buf), "|");
}

/* Moving a node to the back, as the flow table does on every packet. */
static void test_move_to_back(void) {
  struct list l = {0};
  struct item it[3] = {{1, {0}}, {2, {0}}, {3, {0}}};
  char buf[32];
  for (int i = 0; i < 3; i++)
    list_push_back(&l, &it[i].link);
  list_remove(&l, &it[0].link);
  list_push_back(&l, &it[0].link);
  CHECK_STR(walk(&l, buf), "231|132");
  list_remove(&l, &it[0].link); /* the last moved to the back: no change */
  list_push_back(&l, &it[0].link);
  CHECK_STR(walk(&l, buf), "231|132");
}

int main(void) {
  RUN(test_zero_is_empty);
  RUN(test_push_and_remove);
  RUN(test_move_to_back);
  return harness_done();
}
