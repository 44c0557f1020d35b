package schema

// FactsDDL creates the facts tables: for each kind of department, what its system knows of a
// person, typed (dates as DATE, amounts as DECIMAL), one row per source record and keyed by the
// golden person_id. record_key and source trace every row to its source record (std.records,
// raw."<source>"); report definitions and analysts' SQL read these and golden.person, never raw
// tables. pipeline/facts writes them whole on every reconcile. Codes are the contract's own
// spellings (保障类型 城市低保, 就业状态 登记失业 …), folded to one spelling each; a value the
// hub cannot read is NULL here and counted in resolve.counts (stage "facts").
var FactsDDL = []string{
	`CREATE SCHEMA IF NOT EXISTS facts`,
	// 户籍: status 正常 | 死亡 | 迁出.
	`CREATE TABLE IF NOT EXISTS facts.hukou (
		person_id VARCHAR NOT NULL, record_key VARCHAR NOT NULL, source VARCHAR NOT NULL,
		status VARCHAR, status_date DATE, household_no VARCHAR, relation VARCHAR)`,
	// 流动人口: status 有效 | 注销.
	`CREATE TABLE IF NOT EXISTS facts.floating (
		person_id VARCHAR NOT NULL, record_key VARCHAR NOT NULL, source VARCHAR NOT NULL,
		permit_no VARCHAR, registered_at DATE, status VARCHAR)`,
	// 社会救助: one row per family member (the householder included), the family's values on
	// each. relief_type 城市低保 | 特困供养 | 临时救助; relief_status 在保 | 停保.
	`CREATE TABLE IF NOT EXISTS facts.relief (
		person_id VARCHAR NOT NULL, record_key VARCHAR NOT NULL, source VARCHAR NOT NULL,
		family_id VARCHAR, is_head BOOLEAN, relation VARCHAR, relief_type VARCHAR, relief_status VARCHAR,
		monthly_amount DECIMAL(12,2), family_persons INTEGER, since DATE, disabled BOOLEAN)`,
	// 养老服务 and the community's own elderly ledgers: allowance_band 80-89 | 90-99 | 100+.
	`CREATE TABLE IF NOT EXISTS facts.elderly (
		person_id VARCHAR NOT NULL, record_key VARCHAR NOT NULL, source VARCHAR NOT NULL,
		allowance_band VARCHAR, lives_alone BOOLEAN, services VARCHAR[])`,
	// 残疾人: category 1 视力, 2 听力, 3 言语, 4 肢体, 5 智力, 6 精神, 7 多重; grade 1–4.
	`CREATE TABLE IF NOT EXISTS facts.disabled (
		person_id VARCHAR NOT NULL, record_key VARCHAR NOT NULL, source VARCHAR NOT NULL,
		cert_no VARCHAR, category INTEGER, category_name VARCHAR, grade INTEGER,
		living_subsidy BOOLEAN, care_subsidy BOOLEAN, issued_at DATE, guardian_name VARCHAR)`,
	// 就业失业: status 登记失业 | 就业 | 灵活就业; difficulty 4050人员 | 零就业家庭 | 残疾人 | NULL.
	`CREATE TABLE IF NOT EXISTS facts.employment (
		person_id VARCHAR NOT NULL, record_key VARCHAR NOT NULL, source VARCHAR NOT NULL,
		status VARCHAR, difficulty VARCHAR, registered_at DATE, education VARCHAR)`,
	// 医保: category 职工 | 城乡居民; status 参保缴费 | 暂停 | 终止.
	`CREATE TABLE IF NOT EXISTS facts.insurance (
		person_id VARCHAR NOT NULL, record_key VARCHAR NOT NULL, source VARCHAR NOT NULL,
		record_no VARCHAR, category VARCHAR, status VARCHAR, year INTEGER, community_text VARCHAR)`,
	// 卫健: role resident | mother | father (a birth registration names three).
	`CREATE TABLE IF NOT EXISTS facts.health (
		person_id VARCHAR NOT NULL, record_key VARCHAR NOT NULL, source VARCHAR NOT NULL,
		role VARCHAR, record_no VARCHAR, doctor VARCHAR, signed_at DATE, chronic VARCHAR[],
		child_birth_date DATE, birth_registered_at DATE)`,
	// 退役军人: months as the first day of the month.
	`CREATE TABLE IF NOT EXISTS facts.veterans (
		person_id VARCHAR NOT NULL, record_key VARCHAR NOT NULL, source VARCHAR NOT NULL,
		enlisted_at DATE, discharged_at DATE, unit VARCHAR, youfu_category VARCHAR)`,
	`CREATE TABLE IF NOT EXISTS facts.party (
		person_id VARCHAR NOT NULL, record_key VARCHAR NOT NULL, source VARCHAR NOT NULL,
		party_org VARCHAR, reported_community VARCHAR, reported_at DATE)`,
	`CREATE TABLE IF NOT EXISTS facts.volunteers (
		person_id VARCHAR NOT NULL, record_key VARCHAR NOT NULL, source VARCHAR NOT NULL,
		volunteer_no VARCHAR, team VARCHAR, service_hours DECIMAL(10,1), registered_at DATE)`,
	// 网格: person_type 户籍 | 流动 | 境外; tags as listed (独居老人, 残疾人, 低保 …).
	`CREATE TABLE IF NOT EXISTS facts.grid (
		person_id VARCHAR NOT NULL, record_key VARCHAR NOT NULL, source VARCHAR NOT NULL,
		grid VARCHAR, person_type VARCHAR, tags VARCHAR[], collected_at DATE)`,
}

// PlaceDDL adds where each golden person lives: the community and grid derived from the chosen
// address through the street's community register (placed_by "address"), or from the person's
// grid through the grid register ("grid"); "" when neither placed the person, with the reason in
// unplaced_reason. golden.unplaced lists those persons.
var PlaceDDL = []string{
	// What kind of system each record came from (schema.SourceRoles): R12 and analysts group by it.
	`ALTER TABLE std.records ADD COLUMN IF NOT EXISTS source_role VARCHAR`,
	`ALTER TABLE golden.person ADD COLUMN IF NOT EXISTS community VARCHAR`,
	`ALTER TABLE golden.person ADD COLUMN IF NOT EXISTS grid VARCHAR`,
	`ALTER TABLE golden.person ADD COLUMN IF NOT EXISTS placed_by VARCHAR`,
	`ALTER TABLE golden.person ADD COLUMN IF NOT EXISTS unplaced_reason VARCHAR`,
	`CREATE OR REPLACE VIEW golden.unplaced AS
		SELECT person_id, name, address, grid, unplaced_reason FROM golden.person WHERE coalesce(community, '') = ''`,
}
