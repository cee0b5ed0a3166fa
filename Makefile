# tlsgrade - passive TLS auditor.  See README.md.
#
#   make            build ./tlsgrade
#   make test       unit + end-to-end tests (SAN=1: under ASan + UBSan;
#                   SAN=thread: ThreadSanitizer, for -j work)
#   make run        install missing packages (root), build, run on the demo
#                   (samples/demo/), then on samples/
#   make deps       install missing Debian packages (or print the command)
#   make check      written rules: clang-format, generated tables current,
#                   includes follow the layers
#   make bench      benchmark (see tests/bench/)
#   make bench-live live capture: highest rate without loss (root)
#   make install    PREFIX=/usr/local DESTDIR=

CC      ?= cc
PREFIX  ?= /usr/local
DESTDIR ?=
PKGS    := libpcap libndpi libcjson libcrypto htp libnghttp2 libnghttp3 sqlite3 libpq

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# libpq is loaded when a PostgreSQL history is opened (pipeline/history.c),
# not linked: its two dozen libraries cost every run's start some 7 ms;
# libsqlite3 when an SQLite history is (0.6 ms); libndpi when --flows
# labels flows (capture/flow.c): 2 ms of each start.
PKG_LIBS   := $(shell pkg-config --libs $(filter-out libpq libndpi sqlite3,$(PKGS)) 2>/dev/null) -ldl -lm

WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Werror
ifeq ($(SAN),1)
  OPT   := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
           -fno-sanitize-recover=all
  LDSAN := -fsanitize=address,undefined
  B     := build/san
  BIN   := $(B)/tlsgrade
else ifeq ($(SAN),thread)
  OPT   := -O1 -g -fno-omit-frame-pointer -fsanitize=thread
  LDSAN := -fsanitize=thread
  B     := build/tsan
  BIN   := $(B)/tlsgrade
else
  OPT   := -O2 -g
  LDSAN :=
  B     := build/plain
  BIN   := tlsgrade
endif

CFLAGS_ALL  = -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) $(PKG_CFLAGS) -I. $(CFLAGS)
LDFLAGS_ALL = $(LDSAN) $(LDFLAGS)
LIBS_ALL    = $(PKG_LIBS) -lpthread

LIB_SRC  := $(sort $(wildcard base/*.c capture/*.c dissect/*.c grade/*.c pipeline/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(B)/%.o)
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)

.PHONY: all test run deps bench bench-live bench-floods install clean format check check-deps \
        valgrind fuzz

all: check-deps $(BIN)

check-deps:
	@pkg-config --exists $(PKGS) || { \
	  echo "tlsgrade: missing build dependencies; run 'make deps' (as root) first" >&2; \
	  exit 1; }

$(B)/%.o: %.c $(wildcard */*.h) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(B)/libtlsgrade.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(B)/tlsgrade.o $(B)/libtlsgrade.a
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS_ALL)

$(B)/tests/%: tests/unit/%.c $(B)/libtlsgrade.a tests/unit/harness.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP $(LDFLAGS_ALL) -o $@ $< $(B)/libtlsgrade.a $(LIBS_ALL)

test: all $(UNIT_BIN)
	@TLSGRADE=$(abspath $(BIN)) UNIT_DIR=$(abspath $(B)/tests) SAN=$(SAN) tests/run.sh

# The five-day demo first (samples/demo/, see samples/README.md): the four
# consoles' summary, then from the full report the console that changed, when,
# and the two frames that disagree; then every sample as before.
DEMO_ARGS := --ca-file samples/certs/root.pem --keylog samples/demo.keylog samples/demo/
run: deps
	@$(MAKE) --no-print-directory all
	./$(BIN) --summary $(DEMO_ARGS)
	@echo
	@./$(BIN) --no-color $(DEMO_ARGS) | sed -n '/^== /h; /configuration changed at/{x;p;x;p;n;p;n;p;}'
	@echo
	./$(BIN) --summary --ca-file samples/certs/root.pem --keylog samples/a-grade.keylog samples/

# Debian packages: to build, and what the tests run against (testssl.sh,
# nginx and gnutls-bin only re-record tests/data/testssl: tests/oracle/;
# ngtcp2-client and ngtcp2-server re-record tests/data/quic/h3-keylog.pcap).
DEB_BUILD := gcc make pkg-config libpcap-dev libndpi-dev libcjson-dev libssl-dev libhtp-dev libnghttp2-dev libnghttp3-dev \
             libsqlite3-dev libpq-dev
DEB_TEST  := tshark tcpdump openssl python3 python3-jsonschema iproute2 util-linux chromium \
             valgrind clang-format \
             testssl.sh nginx gnutls-bin ngtcp2-client ngtcp2-server postgresql parallel tcpreplay time strace
deps:
	@missing=$$(for p in $(DEB_BUILD) $(DEB_TEST); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' \
	  || echo $$p; done | tr '\n' ' '); \
	if [ -z "$$missing" ]; then echo "deps: every package is installed"; exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
	  echo "deps: installing $$missing"; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -q --no-install-recommends $$missing; \
	else \
	  echo "deps: missing packages: $$missing" >&2; \
	  echo "deps: run: sudo apt-get update && sudo apt-get install -y $$missing" >&2; \
	  exit 1; \
	fi

# Memcheck over the samples (plain build): no error, no definitely lost byte.
valgrind: all
	valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite \
	  --show-leak-kinds=definite ./tlsgrade --no-color --ca-file samples/certs/root.pem \
	  samples/ >/dev/null
	valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite \
	  --show-leak-kinds=definite ./tlsgrade --handshakes --keylog samples/a-grade.keylog \
	  samples/ >/dev/null
	@echo "valgrind: no error, no definitely lost block"

bench: all
	@tests/bench/run.sh

# Live capture: the highest tcpreplay rate each reader takes without loss
# (root; a veth pair in a namespace made for it).  BENCH_DIR as for bench.
bench-live: all
	@f=$${BENCH_DIR:-/tmp/tlsgrade-bench}/tap-300.pcap; \
	[ -s "$$f" ] || python3 ../shared/bench/gen-bench.py --size-mb 300 -o "$$f" >/dev/null; \
	python3 tests/bench/live.py "$$f"

# The floods of issue 16 at full size (tests/bench/floods.py): peak RSS and
# time per row; FLOODS_ARGS="--only sni-100k,keylog-1m" picks rows.
bench-floods: all
	@python3 tests/bench/floods.py $(FLOODS_ARGS)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/tlsgrade
	install -m 644 tlsgrade.1 $(DESTDIR)$(PREFIX)/share/man/man1/tlsgrade.1

# Every C file we write (generated tables aside: their generators format them).
FORMAT_SRC = $(filter-out %_data.h,$(wildcard tlsgrade.c base/*.[ch] capture/*.[ch] \
               dissect/*.[ch] grade/*.[ch] pipeline/*.[ch] tests/unit/*.[ch] \
               tests/fuzz/*.[ch] tests/bench/*.c))

format:
	clang-format -i $(FORMAT_SRC)

# The written rules, checked (README "Design"): format, generated tables
# current, includes only of earlier layers' public headers.
check:
	clang-format --dry-run -Werror $(FORMAT_SRC)
	python3 dissect/gen-registry.py --check
	python3 grade/gen-distrust.py --check
	python3 grade/gen-ct-logs.py --check
	python3 grade/gen-profiles.py --check
	python3 tests/check-includes.py
	@echo "check: format, generated tables and includes as written"

# libFuzzer targets (tests/fuzz/): FUZZ_SECONDS per target, default 300.
fuzz:
	@FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh

clean:
	rm -rf build tlsgrade

-include $(LIB_OBJ:.o=.d) $(B)/tlsgrade.d $(UNIT_BIN:=.d)
