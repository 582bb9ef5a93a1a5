# Spindle: the two commands a new machine needs are `make serve` and `make test`.
SWIFT ?= swift
ARGS ?=
PYTEST_ARGS ?= -q

.PHONY: serve test build release unit interop system-deps venv bench bench-query fuzz proto clean help

help:
	@echo "make serve   build (release) and run the collector: OTLP/HTTP on 127.0.0.1:4318, data in ./spindle.db"
	@echo "             pass options with ARGS, e.g. make serve ARGS='--db /tmp/x.db --durability full'"
	@echo "make test    build, then run the Swift tests and the Python interop tests"
	@echo "make unit    Swift tests only;  make interop   Python interop tests only"
	@echo "make bench   release build of Benchmarks/ and the ingest benchmark, HTTP and gRPC (prints figures)"
	@echo "make bench-query   the query benchmark: 1,000,000 spans, a 10,000-span trace, filtered lists"
	@echo "make fuzz    libFuzzer + AddressSanitizer on the protobuf and JSON decoders (FUZZ_SECONDS=60)"
	@echo "make proto   regenerate Sources/COTLP from Proto/*.proto (needs protoc-c)"

system-deps:
	@Scripts/ensure-system-deps

venv:
	@Scripts/ensure-venv

build: system-deps
	$(SWIFT) build --build-tests

release: system-deps
	$(SWIFT) build -c release --product spindle

serve: release
	.build/release/spindle serve $(ARGS)

unit: build
	$(SWIFT) test --skip-build

interop: build venv
	@Scripts/ensure-system-deps --with-test-tools
	SPINDLE_BIN=$(CURDIR)/.build/debug/spindle .venv/bin/python -m pytest Tests/Interop $(PYTEST_ARGS)

test: unit interop

bench: system-deps
	Benchmarks/run

bench-query: system-deps
	Benchmarks/query

FUZZ_SECONDS ?= 60
fuzz: system-deps
	$(SWIFT) build -c release --sanitize=fuzzer --sanitize=address --scratch-path .build-fuzz --product SpindleFuzz
	mkdir -p .build-fuzz/corpus
	.build-fuzz/release/SpindleFuzz .build-fuzz/corpus -max_total_time=$(FUZZ_SECONDS) -max_len=65536

proto:
	@Scripts/ensure-system-deps --with-generator
	Scripts/generate-proto

clean:
	rm -rf .build Benchmarks/.build
