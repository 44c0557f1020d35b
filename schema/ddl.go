package schema

// RawSchema holds one table per source: the rows as they came, every source column as text.
const RawSchema = "raw"

// Meta columns of every raw table, after the source's own columns.
const (
	ColIdent     = "_ident"      // stable identity of the row within its source: key (or content hash) + occurrence
	ColHash      = "_hash"       // hash of the row's source values
	ColRun       = "_run"        // the sync run that landed this version
	ColLoc       = "_loc"        // where the row sits in the source
	ColFlags     = "_flags"      // reader notes ("身份证号:number")
	ColFetchedAt = "_fetched_at" // when it was read
	ColCurrent   = "_current"    // this version is the source's current row
	ColEndedRun  = "_ended_run"  // the run that superseded or deleted it
	ColEndReason = "_end_reason" // changed | deleted
	ColSeenRun   = "_seen_run"   // the last run that saw this version at the source
)

// HubDDL creates the hub's own tables (idempotent). Statement per element, run in order.
var HubDDL = []string{
	`CREATE SCHEMA IF NOT EXISTS meta`,
	`CREATE SCHEMA IF NOT EXISTS raw`,
	`CREATE TABLE IF NOT EXISTS meta.schema_version (version INTEGER NOT NULL, applied_at TIMESTAMP NOT NULL)`,
	// One row per sync invocation.
	`CREATE TABLE IF NOT EXISTS meta.syncs (
		sync_id BIGINT PRIMARY KEY, started_at TIMESTAMP NOT NULL, finished_at TIMESTAMP,
		config VARCHAR, ok BOOLEAN)`,
	// One row per source and sync: the figures DataX/SeaTunnel print at the end of a job.
	`CREATE TABLE IF NOT EXISTS meta.runs (
		sync_id BIGINT NOT NULL, source VARCHAR NOT NULL, kind VARCHAR,
		started_at TIMESTAMP NOT NULL, seconds DOUBLE,
		rows_read BIGINT, rows_landed BIGINT, rows_unchanged BIGINT, rows_quarantined BIGINT,
		rows_skipped BIGINT, rows_deleted BIGINT, rows_current BIGINT, bytes BIGINT, rows_per_sec DOUBLE,
		cursor_before VARCHAR, cursor_after VARCHAR, key_check BOOLEAN, ok BOOLEAN NOT NULL, error VARCHAR)`,
	// The committed position of each source: advanced in the same transaction as its rows.
	`CREATE TABLE IF NOT EXISTS meta.source_state (
		source VARCHAR PRIMARY KEY, cursor VARCHAR, last_sync BIGINT, rows_current BIGINT,
		columns VARCHAR, updated_at TIMESTAMP)`,
	// Rows that could not be read or failed a required field, with why.
	`CREATE TABLE IF NOT EXISTS meta.quarantine (
		sync_id BIGINT NOT NULL, source VARCHAR NOT NULL, loc VARCHAR, raw_text VARCHAR, reason VARCHAR NOT NULL,
		landed_at TIMESTAMP NOT NULL)`,
	// Columns that appeared, disappeared or were renamed at a source.
	`CREATE TABLE IF NOT EXISTS meta.schema_drift (
		sync_id BIGINT NOT NULL, source VARCHAR NOT NULL, change VARCHAR NOT NULL, column_name VARCHAR NOT NULL,
		detail VARCHAR, detected_at TIMESTAMP NOT NULL)`,
	// Rows deliberately not data (blank, 合计, notes), counted per run.
	`CREATE TABLE IF NOT EXISTS meta.skipped (
		sync_id BIGINT NOT NULL, source VARCHAR NOT NULL, reason VARCHAR NOT NULL, n BIGINT NOT NULL)`,
}

// Version is the schema version HubDDL produces.
const Version = 1
