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

// ResolveDDL creates the tables of standardized records, matching and golden records.
var ResolveDDL = []string{
	`CREATE SCHEMA IF NOT EXISTS std`,
	`CREATE SCHEMA IF NOT EXISTS resolve`,
	`CREATE SCHEMA IF NOT EXISTS golden`,
	// One row per person named in a current source row, standardized, raw values beside.
	`CREATE TABLE IF NOT EXISTS std.records (
		record_key VARCHAR NOT NULL, source VARCHAR NOT NULL, loc VARCHAR, role VARCHAR NOT NULL, record_hash UBIGINT NOT NULL,
		id_raw VARCHAR, id_std VARCHAR, id_class VARCHAR, id_known VARCHAR,
		name_raw VARCHAR, name_std VARCHAR, name_pinyin VARCHAR, name_flags VARCHAR,
		sex INTEGER, birth VARCHAR, birth_flag VARCHAR, phones VARCHAR, address_raw VARCHAR, address_key VARCHAR)`,
	// Which person each record is, with the probability and rule that put it there.
	`CREATE TABLE IF NOT EXISTS resolve.record_person (
		record_key VARCHAR NOT NULL, person_id VARCHAR NOT NULL, probability DOUBLE, rule VARCHAR, record_hash UBIGINT, run BIGINT)`,
	// The links that joined records, and why: levels holds "comparison=level,…"; the view
	// resolve.link_detail spells it out with each level's weight from resolve.params.
	`CREATE TABLE IF NOT EXISTS resolve.links (
		run BIGINT, record_a VARCHAR, record_b VARCHAR, probability DOUBLE, weight DOUBLE, rule VARCHAR, levels VARCHAR)`,
	// The records the last reconcile resolved (all after a full run; new or changed ones otherwise).
	`CREATE TABLE IF NOT EXISTS resolve.resolved_last (record_key VARCHAR NOT NULL)`,
	// Pairs in the uncertain band waiting for a person.
	`CREATE TABLE IF NOT EXISTS resolve.review (
		run BIGINT, record_a VARCHAR, record_b VARCHAR, probability DOUBLE, weight DOUBLE, explanation VARCHAR)`,
	// Reviewers' verdicts: they win over the model in every later run.
	`CREATE TABLE IF NOT EXISTS resolve.decisions (
		record_a VARCHAR NOT NULL, record_b VARCHAR NOT NULL, same BOOLEAN NOT NULL, decided_by VARCHAR, decided_at TIMESTAMP, note VARCHAR)`,
	`CREATE TABLE IF NOT EXISTS resolve.id_events (
		run BIGINT, kind VARCHAR, person_id VARCHAR, other_person_id VARCHAR, records INTEGER, reason VARCHAR)`,
	`CREATE TABLE IF NOT EXISTS resolve.params (
		run BIGINT, comparison VARCHAR, level VARCHAR, m DOUBLE, u DOUBLE, weight DOUBLE, prior_lambda DOUBLE)`,
	`CREATE OR REPLACE VIEW resolve.link_detail AS
		WITH l AS (SELECT run, record_a, record_b, probability, unnest(string_split(levels, ',')) AS x FROM resolve.links WHERE levels <> ''),
		     p AS (SELECT comparison, level, weight FROM resolve.params WHERE run = (SELECT max(run) FROM resolve.params))
		SELECT l.run, l.record_a, l.record_b, l.probability, split_part(l.x, '=', 1) AS comparison, split_part(l.x, '=', 2) AS level,
		       CASE WHEN split_part(l.x, '=', 2) = 'null' THEN 0 ELSE p.weight END AS weight
		FROM l LEFT JOIN p ON p.comparison = split_part(l.x, '=', 1) AND p.level = split_part(l.x, '=', 2)`,
	`CREATE TABLE IF NOT EXISTS resolve.runs (
		run BIGINT PRIMARY KEY, run_at TIMESTAMP, mode VARCHAR, records BIGINT, resolved BIGINT, pairs BIGINT, pairs_per_sec DOUBLE,
		links BIGINT, review_pairs BIGINT, persons BIGINT, seconds DOUBLE, next_person BIGINT, sync_id BIGINT)`,
	// Databases made before sync_id was recorded get the column.
	`ALTER TABLE resolve.runs ADD COLUMN IF NOT EXISTS sync_id BIGINT`,
	// Golden records: each field chosen by source authority and recency, with provenance.
	`CREATE TABLE IF NOT EXISTS golden.person (
		person_id VARCHAR NOT NULL, name VARCHAR, id_no VARCHAR, sex INTEGER, birth_date VARCHAR, ethnicity VARCHAR,
		phone VARCHAR, address VARCHAR, address_key VARCHAR, household_id VARCHAR, hukou_status VARCHAR, status_date VARCHAR,
		person_type VARCHAR, records INTEGER, sources VARCHAR)`,
	`CREATE TABLE IF NOT EXISTS golden.person_field (
		person_id VARCHAR, field VARCHAR, value VARCHAR, source VARCHAR, record_key VARCHAR, rule VARCHAR)`,
	`CREATE TABLE IF NOT EXISTS golden.household (
		household_id VARCHAR NOT NULL, hu_hao VARCHAR, kind VARCHAR, address VARCHAR, address_key VARCHAR, members INTEGER)`,
	`CREATE TABLE IF NOT EXISTS golden.household_member (
		household_id VARCHAR, person_id VARCHAR, relation VARCHAR)`,
}
