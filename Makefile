# drydock -- top-level Makefile.
#
# Like pg_repack's, it drives two subdirectories: extension/ (PGXS) and
# driver/ (the C command-line program).  `make test` runs every suite, each
# inside a throwaway cluster made by `drydock exec`, and fails only after all
# of them ran.
#
#   make deps            install the Debian packages needed (idempotent)
#   make                 build the extension and the driver
#   make install         install both (extension into the server's dirs)
#   make test            run every suite (needs `make install` first)
#   make example         dry-run the bundled example migration
#   make sanitize-test   driver suites under ASan+UBSan
#   make valgrind-test   driver suites with the driver under valgrind memcheck
#   make cppcheck        static analysis of the driver
#   make dist            a release tarball from git

PG_CONFIG ?= pg_config
PG_MAJOR  ?= 15
prefix    ?= /usr/local
export PG_CONFIG

# Root installs directly; anyone else goes through sudo for system changes.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

DEB_PACKAGES = build-essential pkg-config git \
	postgresql-$(PG_MAJOR) postgresql-server-dev-$(PG_MAJOR) postgresql-$(PG_MAJOR)-pgtap \
	libtap-parser-sourcehandler-pgtap-perl libpq-dev libjansson-dev libssl-dev \
	libjson-validator-perl libxml2-utils libyaml-libyaml-perl

EXTVERSION = $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" extension/drydock.control)

all:
	$(MAKE) -C extension
	$(MAKE) -C driver

install: all
	$(SUDO) $(MAKE) -C extension install
	$(SUDO) $(MAKE) -C driver install prefix=$(prefix)

uninstall:
	$(SUDO) $(MAKE) -C extension uninstall
	$(SUDO) $(MAKE) -C driver uninstall prefix=$(prefix)

deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "all build and test dependencies are installed"; fi

# Every suite runs, then the summary says which failed.
test: all
	DRYDOCK=$(CURDIR)/driver/drydock bash test/run-suites.sh

installcheck: test

# The bundled 12-table migration and its exact inverse (exit 0), report in
# drydock-report-example/ (execution-log.md first).
example: all
	driver/drydock run --schema app --scaffold-schema --policy examples/12-tables/policy.json \
		examples/12-tables/up.sql examples/12-tables/down.sql \
		--out drydock-report-example
	@echo "report: drydock-report-example/execution-log.md"

sanitize-test:
	$(MAKE) -C driver clean
	$(MAKE) -C driver SANFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
	DRYDOCK=$(CURDIR)/driver/drydock ASAN_OPTIONS=detect_leaks=1 SUITES=driver bash test/run-suites.sh; \
	status=$$?; $(MAKE) -C driver clean; $(MAKE) -C driver; exit $$status

# The driver suite with the driver under valgrind memcheck (test/valgrind-drydock.sh):
# an error or a definite leak exits 99; logs in $(VALGRIND_LOG_DIR).
VALGRIND_LOG_DIR ?= $(CURDIR)/build/valgrind
valgrind-test: all
	rm -rf $(VALGRIND_LOG_DIR) && mkdir -p $(VALGRIND_LOG_DIR) && chmod 1777 $(VALGRIND_LOG_DIR)
	DRYDOCK=$(CURDIR)/test/valgrind-drydock.sh VALGRIND_LOG_DIR=$(VALGRIND_LOG_DIR) SUITES=driver bash test/run-suites.sh; \
	status=$$?; \
	for f in $(VALGRIND_LOG_DIR)/*.log; do [ -s "$$f" ] && { echo "== $$f"; cat "$$f"; status=1; }; done; exit $$status

# Static analysis of the driver (jansson's header is named so its macros parse).
cppcheck:
	$(MAKE) -C driver src/codes_table.h
	cppcheck -q --enable=warning,performance,portability --error-exitcode=1 \
		--include=/usr/include/jansson.h --suppress=missingIncludeSystem \
		-I$(shell $(PG_CONFIG) --includedir) -Idriver/src -D_GNU_SOURCE driver/src

dist:
	git archive --format=tar.gz --prefix=drydock-$(EXTVERSION)/ -o drydock-$(EXTVERSION).tar.gz HEAD

clean:
	$(MAKE) -C extension clean
	$(MAKE) -C driver clean
	rm -rf build

.PHONY: all install uninstall deps test installcheck example sanitize-test valgrind-test cppcheck dist clean
