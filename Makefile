# The DuckDB Arrow API exists only under this build tag; every command carries it.
TAGS := duckdb_arrow
GO   ?= go

.PHONY: demo test fuzz vet bench
demo:            ## write the demo district, sync it, reconcile it and evaluate against its truth
	$(GO) run -tags $(TAGS) ./cmd/hub demo --out demo-district

test:            ## all tests, one build; SQL tests use HUB_TEST_POSTGRES / HUB_TEST_MYSQL
	$(GO) test -tags $(TAGS) -count=1 ./...

FUZZTIME ?= 15s
fuzz:            ## the fuzz targets of the readers and value parsers, FUZZTIME each
	$(GO) test -run '^$$' -fuzz '^FuzzCSV$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 2s ./connectors/csvsrc
	$(GO) test -run '^$$' -fuzz '^FuzzXLSX$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 2s ./connectors/xlsxsrc
	$(GO) test -run '^$$' -fuzz '^FuzzParseDate$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 2s ./pipeline/standardize

vet:
	gofmt -l . | (! grep .) && $(GO) vet -tags $(TAGS) ./...

bench:           ## hub bench ingest (2M-row CSV vs DuckDB read_csv, PostgreSQL/MariaDB via HUB_TEST_*) and bench reconcile (1M records)
	$(GO) run -tags $(TAGS) ./cmd/hub bench ingest
	$(GO) run -tags $(TAGS) ./cmd/hub bench reconcile
