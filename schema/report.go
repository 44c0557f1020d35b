package schema

// ReportDDL creates the record of report builds and deliveries (pipeline/report). A build is one
// kind for one community (community "*" is the street roll-up) and period; rebuilding makes a new
// version, never overwrites one. Every filled figure is stored with the persons behind it, so a
// figure can be explained later as it was built.
var ReportDDL = []string{
	`CREATE SCHEMA IF NOT EXISTS report`,
	// The residents a report counts (../shared/spec/reports.md): placed in a community and neither
	// dead nor moved out per 户籍, with their age in whole years on the build's reference date
	// (the DuckDB variable ref_date, set by the report engine; analysts SET VARIABLE it).
	`CREATE OR REPLACE VIEW report.residents AS
		SELECT p.person_id, p.community, p.grid, p.name, p.id_no, p.sex, TRY_CAST(p.birth_date AS DATE) AS birth_date,
			CASE WHEN TRY_CAST(p.birth_date AS DATE) IS NOT NULL
				THEN date_sub('year', TRY_CAST(p.birth_date AS DATE), CAST(getvariable('ref_date') AS DATE)) END AS age,
			p.phone, p.address, p.household_id, coalesce(nullif(p.person_type, ''), '未知') AS person_type, p.ethnicity
		FROM golden.person p
		WHERE coalesce(p.community, '') <> '' AND coalesce(p.hukou_status, '') NOT IN ('死亡', '迁出')`,
	`CREATE TABLE IF NOT EXISTS report.builds (
		build_id BIGINT PRIMARY KEY, kind VARCHAR NOT NULL, community VARCHAR NOT NULL, period VARCHAR NOT NULL,
		ref_date DATE NOT NULL, version INTEGER NOT NULL, built_at TIMESTAMP NOT NULL,
		resolve_run BIGINT, sync_id BIGINT, definition_fp VARCHAR, file VARCHAR, sha256 VARCHAR,
		figures INTEGER, rows INTEGER, checks_failed INTEGER, full_values BOOLEAN, built_by VARCHAR,
		batch BIGINT)`,
	// batch is the first build id of the run that made the build: a street roll-up's persons are
	// those of the community builds of its batch (report.figure_persons holds communities only).
	// figure is the definition's name of the number: an anchor, matrix[row,col] (* for a total)
	// or band.rows; cell is where it was written (sheet!A1, "" for a total the form has no cell
	// for); value is the number.
	`CREATE TABLE IF NOT EXISTS report.figures (
		build_id BIGINT NOT NULL, figure VARCHAR NOT NULL, cell VARCHAR, label VARCHAR, value DOUBLE)`,
	// The persons behind the figures of a community build, one row a person with the figures they
	// count in (band.rows for a band's persons); a roll-up's are its batch's communities'.
	`CREATE TABLE IF NOT EXISTS report.figure_persons (
		build_id BIGINT NOT NULL, person_id VARCHAR NOT NULL, figures VARCHAR[] NOT NULL)`,
	// The definition's validation rules, as checked on the build.
	`CREATE TABLE IF NOT EXISTS report.checks (
		build_id BIGINT NOT NULL, rule VARCHAR NOT NULL, ok BOOLEAN NOT NULL, detail VARCHAR)`,
	// Figures that changed against the previous version of the same kind, community and period.
	`CREATE TABLE IF NOT EXISTS report.diffs (
		build_id BIGINT NOT NULL, previous_build_id BIGINT NOT NULL, figure VARCHAR NOT NULL, cell VARCHAR, label VARCHAR,
		old_value VARCHAR, new_value VARCHAR)`,
	// Every output that showed full ID numbers or phones, and who asked for it.
	`CREATE TABLE IF NOT EXISTS report.full_value_outputs (
		output_at TIMESTAMP NOT NULL, build_id BIGINT, kind VARCHAR, community VARCHAR, period VARCHAR,
		role VARCHAR, requested_by VARCHAR, columns VARCHAR, purpose VARCHAR)`,
	// One row per (build, target): attempts and outcome. A (kind, community, period, target)
	// with status 'sent' is never sent again.
	`CREATE TABLE IF NOT EXISTS report.deliveries (
		delivery_id BIGINT PRIMARY KEY, build_id BIGINT NOT NULL, kind VARCHAR NOT NULL, community VARCHAR NOT NULL,
		period VARCHAR NOT NULL, department VARCHAR, target VARCHAR NOT NULL, target_kind VARCHAR NOT NULL,
		idempotency_key VARCHAR NOT NULL, status VARCHAR NOT NULL, attempts INTEGER NOT NULL,
		first_attempt_at TIMESTAMP, last_attempt_at TIMESTAMP, sent_at TIMESTAMP, error VARCHAR, receipt VARCHAR)`,
}
