// Package schema owns the unified resident database: the canonical fields a source's columns
// map to, the mapping types a deployment's config targets, and the DuckDB DDL of the hub's own
// tables. It does no I/O against sources.
package schema

import (
	"fmt"
	"sort"
	"strings"
)

// Type is the kind of value a canonical field holds; standardizers and required-field checks
// parse by it.
type Type string

const (
	Text      Type = "text"
	ID        Type = "id"        // resident ID number (GB 11643), possibly masked or mangled
	Date      Type = "date"      // a calendar date in any of the contract's formats
	YearMonth Type = "yearmonth" // 1975.06
	Timestamp Type = "timestamp"
	Int       Type = "int"
	Decimal   Type = "decimal"
	Bool      Type = "bool"
	Phone     Type = "phone"
	Address   Type = "address"
	Code      Type = "code" // a coded value (sex, ethnicity, relation, status …)
	List      Type = "list" // several values in one cell
)

// Field is one canonical field of the resident model.
type Field struct {
	Name string
	Type Type
	Doc  string
}

// Fields lists the canonical fields. Person fields describe one person; a source row that names
// several people (system 8) maps each person's columns under a role: "mother.id_no".
var Fields = []Field{
	{"id_no", ID, "公民身份号码 / 身份证号 (any form: 18, 15, masked, numeric)"},
	{"id_masked", ID, "an ID with hidden characters (3201**********1234)"},
	{"passport", Text, "passport or other document number"},
	{"doc_type", Code, "证件类型"},
	{"name", Text, "姓名"},
	{"sex", Code, "性别: code or 男/女"},
	{"birth_date", Date, "出生日期"},
	{"birth_month", YearMonth, "出生年月 (year and month only)"},
	{"ethnicity", Code, "民族 (GB/T 3304)"},
	{"phone", Phone, "contact numbers"},
	{"address", Address, "where the person lives"},
	{"hukou_address", Address, "户籍地址"},
	{"household_no", Text, "户号"},
	{"householder_id_no", ID, "户主身份号码"},
	{"householder_name", Text, "户主姓名"},
	{"household_kind", Code, "户别"},
	{"relation", Code, "与户主关系 (code or free text)"},
	{"status", Code, "人员状态 / 参保状态 / 救助状态 …"},
	{"status_date", Date, "状态变更日期"},
	{"updated_at", Timestamp, "the source's last-update time"},
	{"record_no", Text, "the source's own record number (档案编号, 个人编号, 志愿者编号 …)"},
	{"community", Text, "社区 as the source writes it"},
	{"grid", Text, "网格编号"},
	{"person_type", Code, "人员类型: 户籍/流动/境外"},
	{"tags", List, "标签"},
	{"collected_at", Date, "采集日期"},
	{"permit_no", Text, "居住证号"},
	{"registered_at", Date, "登记日期"},
	{"disability_cert", Text, "残疾证号 (ID + category + grade)"},
	{"disability_category", Code, "残疾类别"},
	{"disability_grade", Code, "残疾等级"},
	{"guardian_name", Text, "监护人姓名"},
	{"guardian_phone", Phone, "监护人电话"},
	{"issued_at", Date, "发证日期"},
	{"disability_subsidy", List, "两项补贴"},
	{"family_id", Text, "救助家庭编号"},
	{"relief_type", Code, "保障类型"},
	{"relief_persons", Int, "保障人口数"},
	{"relief_amount", Decimal, "月保障金额 (元)"},
	{"relief_since", YearMonth, "起始年月"},
	{"disabled_flag", Bool, "是否残疾"},
	{"education", Code, "文化程度"},
	{"employment_status", Code, "就业状态"},
	{"employment_difficulty", Code, "就业困难人员类别"},
	{"insurance_category", Code, "参保类别"},
	{"insurance_year", Int, "缴费年度"},
	{"elder_allowance_band", Code, "高龄津贴档次"},
	{"lives_alone", Bool, "独居"},
	{"services", List, "服务类型"},
	{"doctor", Text, "签约医生"},
	{"signed_at", Date, "签约日期"},
	{"chronic", List, "慢病标签"},
	{"child_birth_date", Date, "子女出生日期"},
	{"birth_registered_at", Date, "生育登记日期"},
	{"enlisted_at", YearMonth, "入伍时间"},
	{"discharged_at", YearMonth, "退役时间"},
	{"unit", Text, "部队番号"},
	{"youfu_category", Code, "优抚类别"},
	{"volunteer_no", Text, "志愿者编号"},
	{"service_hours", Decimal, "服务时长"},
	{"team", Text, "志愿队伍"},
	{"party_org", Text, "所在党组织"},
	{"reported_at", Date, "报到日期"},
	{"age", Int, "年龄 as typed"},
	{"contact_name", Text, "紧急联系人"},
	{"contact_phone", Phone, "紧急联系人电话"},
	{"visited_at", Date, "走访日期"},
	{"visit_note", Text, "走访情况"},
	{"visitor", Text, "走访人"},
	{"note", Text, "备注"},
	{"serial", Int, "序号 as typed"},
}

// Roles a multi-person row may name its people by.
var Roles = []string{"resident", "mother", "father", "householder", "guardian", "contact"}

var byName = func() map[string]Field {
	m := map[string]Field{}
	for _, f := range Fields {
		m[f.Name] = f
	}
	return m
}()

// Ref is a mapping target: a canonical field, optionally of a named person in the row.
type Ref struct {
	Role  string // "" = the row's resident
	Field Field
}

func (r Ref) String() string {
	if r.Role == "" {
		return r.Field.Name
	}
	return r.Role + "." + r.Field.Name
}

// ParseRef resolves "field" or "role.field"; an unknown name is an error listing the choices.
func ParseRef(s string) (Ref, error) {
	role, name, ok := strings.Cut(s, ".")
	if !ok {
		role, name = "", s
	} else {
		known := false
		for _, r := range Roles {
			known = known || r == role
		}
		if !known {
			return Ref{}, fmt.Errorf("unknown role %q in %q (roles: %s)", role, s, strings.Join(Roles, ", "))
		}
	}
	f, ok := byName[name]
	if !ok {
		var names []string
		for n := range byName {
			names = append(names, n)
		}
		sort.Strings(names)
		return Ref{}, fmt.Errorf("unknown canonical field %q (fields: %s)", name, strings.Join(names, ", "))
	}
	return Ref{Role: role, Field: f}, nil
}

// Mapping maps a source's columns to canonical fields. Columns not in it are kept in the raw
// landing but not interpreted.
type Mapping map[string]Ref

// ParseMapping resolves a config's column → "field" table.
func ParseMapping(m map[string]string) (Mapping, error) {
	out := Mapping{}
	cols := make([]string, 0, len(m))
	for c := range m {
		cols = append(cols, c)
	}
	sort.Strings(cols)
	for _, c := range cols {
		r, err := ParseRef(m[c])
		if err != nil {
			return nil, fmt.Errorf("column %q: %w", c, err)
		}
		out[c] = r
	}
	return out, nil
}

// Columns returns the mapped source columns, sorted.
func (m Mapping) Columns() []string {
	out := make([]string, 0, len(m))
	for c := range m {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// SourceRole is what kind of system a source is. Survivorship (which source wins which field)
// and other per-system rules are keyed by role, never by a deployment's source names.
type SourceRole struct {
	Name string
	Doc  string
}

// SourceRoles are the roles a [[source]] may declare (role = "…").
var SourceRoles = []SourceRole{
	{"hukou", "户籍人口 (persons): the authority for identity, death and move-out"},
	{"hukou_household", "户籍 households (户号, 户主)"},
	{"floating", "流动人口 (residence permits)"},
	{"relief_family", "社会救助 families"},
	{"relief_member", "社会救助 family members"},
	{"elderly", "养老服务"},
	{"disabled", "残疾人"},
	{"employment", "就业失业登记"},
	{"insurance", "医保参保"},
	{"health", "生育登记 and 家庭医生签约"},
	{"veterans", "退役军人"},
	{"volunteers", "志愿服务"},
	{"party", "党员"},
	{"grid", "网格 (door-to-door collection: freshest phones and addresses)"},
	{"ledger", "a community's hand-kept ledger"},
}

// SourceRoleNames lists the valid role names, in order.
func SourceRoleNames() []string {
	out := make([]string, len(SourceRoles))
	for i, r := range SourceRoles {
		out[i] = r.Name
	}
	return out
}
