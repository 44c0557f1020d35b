// Package deliver owns pushing filled report workbooks out to the departments
// (../shared/spec/reports.md "Delivery") and the delivery ledger report.deliveries.
//
// A Package is one built workbook (a row of report.builds) with its optional line items; a
// Target is one way of handing it over: an outbox folder (Outbox: temp file, fsync, rename), a
// department's HTTP endpoint (HTTP: POST with an Idempotency-Key) or a department's database
// table (Table: the package, its rows and its key inserted in one transaction). Push sends every
// package to every target it is given, retrying transient failures with backoff, and records each
// attempt in report.deliveries. A (kind, community, period, target) the ledger has as sent is never
// sent again, and the key a target receives is the same on every attempt and every run, so a
// retry after a lost answer does not deliver twice either.
//
// The package speaks HTTP only as a client of a department's endpoint; it serves nothing.
package deliver
