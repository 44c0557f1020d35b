# The DuckDB Arrow API exists only under this build tag; every command carries it.
TAGS := duckdb_arrow
GO   ?= go

.PHONY: demo test fuzz vet bench
demo:            ## write the demo district, sync it, reconcile it and evaluate against its truth
	$(GO) run -tags $(TAGS) ./cmd/hub demo --out demo-district

test:            ## all tests, one build; SQL tests use HUB_TEST_POSTGRES / HUB_TEST_MYSQL
	$(GO) test -tags $(TAGS) -count=1 ./...

# Budgets are counts of executions, not durations: a duration races the fuzz coordinator's own
# deadline in Go 1.26 (golang/go#75804) and fails with "context deadline exceeded" and no input.
FUZZ_CSV ?= 10000x
FUZZ_XLSX ?= 12000x
FUZZ_DATE ?= 300000x
fuzz:            ## the fuzz targets of the readers and value parsers (about 20 s each here)
	$(GO) test -run '^$$' -fuzz '^FuzzCSV$$' -fuzztime $(FUZZ_CSV) -fuzzminimizetime 100x ./connectors/csvsrc
	$(GO) test -run '^$$' -fuzz '^FuzzXLSX$$' -fuzztime $(FUZZ_XLSX) -fuzzminimizetime 100x ./connectors/xlsxsrc
	$(GO) test -run '^$$' -fuzz '^FuzzParseDate$$' -fuzztime $(FUZZ_DATE) -fuzzminimizetime 100x ./pipeline/standardize

vet:
	gofmt -l . | (! grep .) && $(GO) vet -tags $(TAGS) ./...

bench:           ## hub bench ingest (2M-row CSV vs DuckDB read_csv, PostgreSQL/MariaDB via HUB_TEST_*) and bench reconcile (1M records)
	$(GO) run -tags $(TAGS) ./cmd/hub bench ingest
	$(GO) run -tags $(TAGS) ./cmd/hub bench reconcile
