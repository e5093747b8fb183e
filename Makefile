# drydock -- top-level Makefile.
#
# Like pg_repack's, it drives two subdirectories: extension/ (PGXS) and
# driver/ (the C command-line program).  `make test` runs every suite, each
# inside a throwaway cluster made by `drydock exec`, and fails only after all
# of them ran.
#
#   make deps            install the Debian packages needed (idempotent), and
#                        every PostgreSQL major of PG="15 18 13" (tools/pg-build.sh)
#   make                 build the extension and the driver
#   make install         install both (extension into the server's dirs, and into every
#                        other installed major of PG; no sudo: run it as root or with DESTDIR)
#   make test            run every suite (needs `make install` first)
#   make test-majors     the regression and pgTAP suites on each major of PG
#   make example         dry-run the bundled example migration
#   make sanitize-test   driver suites under ASan+UBSan
#   make valgrind-test   driver suites with the driver under valgrind memcheck
#   make cppcheck        static analysis of the driver
#   make dist            a release tarball from git

PG_CONFIG ?= pg_config
PG_MAJOR  ?= 15
prefix    ?= /usr/local
export PG_CONFIG
# -Werror in a git checkout (development, CI), not in a release tarball
WERROR    ?= $(if $(wildcard .git),1,0)

# The PostgreSQL majors to get (`make deps`), to install the extension into
# (`make install`) and to test (`make test-majors`): Debian's packages where
# this release has them, else a server built from Debian's source package
# into /var/cache/drydock/pg/MAJOR (see tools/pg-build.sh and README).
PG ?= $(PG_MAJOR)
DEFAULT_MAJOR := $(shell $(PG_CONFIG) --version 2>/dev/null | sed 's/^[^0-9]*\([0-9]*\).*/\1/')
OTHER_MAJORS = $(filter-out $(DEFAULT_MAJOR),$(PG))

# `make deps` installs system packages: root directly, anyone else through
# sudo.  `make install` never calls sudo itself: run it as a user who may
# write the target directories, or with DESTDIR= for a staged install.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

DEB_PACKAGES = build-essential pkg-config git \
	postgresql-$(PG_MAJOR) postgresql-server-dev-$(PG_MAJOR) postgresql-$(PG_MAJOR)-pgtap \
	libtap-parser-sourcehandler-pgtap-perl libpq-dev libjansson-dev libssl-dev \
	libjson-validator-perl libxml2-utils libyaml-libyaml-perl

# What a source build of a major needs (tools/pg-build.sh): the parser
# generators, and the libraries production servers are built with; patchelf
# for 17 (Debian's binaries run on their own glibc).
PG_BUILD_PACKAGES = bison flex curl ca-certificates libicu-dev libreadline-dev zlib1g-dev \
	libssl-dev libxml2-dev liblz4-dev libzstd-dev patchelf

EXTVERSION = $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" extension/drydock.control)

all:
	$(MAKE) -C extension
	$(MAKE) -C driver

install: all install-majors
	$(MAKE) -C extension install
	$(MAKE) -C driver install prefix=$(prefix)

# The extension for every major of PG other than the default one, each built
# in a copy of extension/ under build/ so no major's objects mix with
# another's (without JIT bitcode: Debian's 17 was built with LLVM, and
# clang need not be here; without the warning options of a newer gcc than
# this machine's, which 19's CFLAGS have).
install-majors:
	@for m in $(OTHER_MAJORS); do \
		pgc=$$(tools/pg-build.sh --pg-config $$m) || { echo "PostgreSQL $$m is not installed: make deps PG=$$m"; exit 1; }; \
		rm -rf build/ext-$$m build/common && mkdir -p build/ext-$$m/src && \
		cp -r extension/Makefile extension/drydock.control extension/sql build/ext-$$m/ && \
		cp extension/src/*.[ch] build/ext-$$m/src/ && cp -r common build/ && \
		$(MAKE) -s -C build/ext-$$m PG_CONFIG=$$pgc with_llvm=no WERROR=$(WERROR) CFLAGS="$$(tools/pg-build.sh --cflags $$m)" && \
		$(MAKE) -s -C build/ext-$$m PG_CONFIG=$$pgc with_llvm=no install && \
		echo "extension installed for PostgreSQL $$m ($$pgc)" || exit 1; \
	done

uninstall:
	$(MAKE) -C extension uninstall
	$(MAKE) -C driver uninstall prefix=$(prefix)

deps:
	@missing=""; for p in $(DEB_PACKAGES) $(if $(OTHER_MAJORS),$(PG_BUILD_PACKAGES)); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "all build and test dependencies are installed"; fi
	@for m in $(PG); do tools/pg-build.sh $$m || exit 1; done

# Every suite runs, then the summary says which failed.
test: all
	DRYDOCK=$(CURDIR)/driver/drydock bash test/run-suites.sh

installcheck: test

# The regression and pgTAP suites on each major of PG (the driver's own
# per-major tests, test/driver/70_majors.t, run in `make test`).
test-majors: all
	@status=0; for m in $(PG); do \
		echo "=== PostgreSQL $$m"; \
		DRYDOCK_PG=$$m SUITES="regress pgtap" DRYDOCK=$(CURDIR)/driver/drydock bash test/run-suites.sh || status=1; \
	done; exit $$status

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
	cppcheck -q --enable=warning,performance,portability --error-exitcode=1 \
		--include=/usr/include/jansson.h --suppress=missingIncludeSystem \
		-I$(shell $(PG_CONFIG) --includedir) $(addprefix -Idriver/src/,cmd pipeline sandbox report lib) -Icommon -D_GNU_SOURCE driver/src common

# The release tarball: the committed tree plus the generated install script
# (META.json's provides.file names it), buildable with plain `make && make
# install` as a PGXN client does.  DIST_DIR: where to put it.
DIST_DIR ?= .
dist:
	$(MAKE) -C extension drydock--$(EXTVERSION).sql
	git archive --format=tar.gz -o $(DIST_DIR)/drydock-$(EXTVERSION).tar.gz \
		--prefix=drydock-$(EXTVERSION)/extension/ --add-file=extension/drydock--$(EXTVERSION).sql \
		--prefix=drydock-$(EXTVERSION)/ HEAD

clean:
	$(MAKE) -C extension clean
	$(MAKE) -C driver clean
	rm -rf build

.PHONY: all install install-majors uninstall deps test test-majors installcheck example sanitize-test valgrind-test cppcheck dist clean
