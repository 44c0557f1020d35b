# The DuckDB Arrow API exists only under this build tag; every command carries it.
TAGS := duckdb_arrow
GO   ?= go

.PHONY: demo test fuzz vet bench
demo:            ## write (and, as issues land, sync and reconcile) the demo district
	$(GO) run -tags $(TAGS) ./cmd/hub demo --out demo-district

test:            ## all tests, one build; SQL tests use HUB_TEST_POSTGRES / HUB_TEST_MYSQL
	$(GO) test -tags $(TAGS) -count=1 ./...

vet:
	gofmt -l . | (! grep .) && $(GO) vet -tags $(TAGS) ./...

bench:
	$(GO) test -tags $(TAGS) -run '^$$' -bench . -benchtime 1x ./...
