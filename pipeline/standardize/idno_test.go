package standardize

import (
	"testing"
	"time"

	"communityhub/pipeline/standardize/idcard"
)

// Reference numbers (check characters computed with idcard.CheckChar):
//
//	320105195803041231 valid: Nanjing Gulou, born 1958-03-04, male (17th character 3)
//	32010519580304124X valid, check character X
//	320105580304123    its legacy 15-digit form
//	32010519580304123X the 17 digits of the first with a wrong check character
const (
	idOK   = "320105195803041231"
	idOKX  = "32010519580304124X"
	idOld  = "320105580304123"
	idBadX = "32010519580304123X"
)

func TestParseID(t *testing.T) {
	cases := []struct {
		name    string
		in      string
		numeric bool
		want    ID
	}{
		// valid
		{"valid", idOK, false, ID{IDValid, idOK, idOK, "1958-03-04", 1, "320105"}},
		{"valid X", idOKX, false, ID{IDValid, idOKX, idOKX, "1958-03-04", 2, "320105"}},
		{"valid lower x spaced", " 320105195803041 24x ", false, ID{IDValid, idOKX, idOKX, "1958-03-04", 2, "320105"}},
		{"valid full-width", "３２０１０５１９５８０３０４１２４Ｘ", false, ID{IDValid, idOKX, idOKX, "1958-03-04", 2, "320105"}},
		{"valid dashes", "320105-19580304-1231", false, ID{IDValid, idOK, idOK, "1958-03-04", 1, "320105"}},
		{"valid apostrophe", "'320105195803041231", false, ID{IDValid, idOK, idOK, "1958-03-04", 1, "320105"}},
		{"valid full-width apostrophe", "＇320105195803041231", false, ID{IDValid, idOK, idOK, "1958-03-04", 1, "320105"}},
		{"valid formula text", `="320105195803041231"`, false, ID{IDValid, idOK, idOK, "1958-03-04", 1, "320105"}},
		{"valid tabs newline", "\t320105\n195803041231\r\n", false, ID{IDValid, idOK, idOK, "1958-03-04", 1, "320105"}},
		{"valid trailing times is X", "32010519580304124×", false, ID{IDValid, idOKX, idOKX, "1958-03-04", 2, "320105"}},
		{"published example", "11010519491231002X", false, ID{IDValid, "11010519491231002X", "11010519491231002X", "1949-12-31", 2, "110105"}},
		{"text ending 000 with right check", "320105195803041004", false, ID{IDValid, "320105195803041004", "320105195803041004", "1958-03-04", 2, "320105"}},
		// legacy
		{"legacy", idOld, false, ID{IDLegacy, idOK, idOK, "1958-03-04", 1, "320105"}},
		{"legacy from number cell", idOld, true, ID{IDLegacy, idOK, idOK, "1958-03-04", 1, "320105"}},
		{"legacy number cell .0", "320105580304123.0", true, ID{IDLegacy, idOK, idOK, "1958-03-04", 1, "320105"}},
		// bad_check
		{"bad check X", idBadX, false, ID{IDBadCheck, idBadX, idBadX, "1958-03-04", 1, "320105"}},
		{"bad check spaced lower x", " 320105195803041 23x ", false, ID{IDBadCheck, idBadX, idBadX, "1958-03-04", 1, "320105"}},
		{"bad check full-width", "３２０１０５１９５８０３０４１２３Ｘ", false, ID{IDBadCheck, idBadX, idBadX, "1958-03-04", 1, "320105"}},
		{"one-digit typo", "320105195803042231", false, ID{IDBadCheck, "320105195803042231", "320105195803042231", "1958-03-04", 1, "320105"}},
		{"typo in birth digits", "320105195813041231", false, ID{IDBadCheck, "320105195813041231", "320105195813041231", "", 1, "320105"}},
		{"text ending 000 wrong check", "320105195803041000", false, ID{IDBadCheck, "320105195803041000", "320105195803041000", "1958-03-04", 2, "320105"}},
		{"bad check, impossible year", "110101000001011234", false, ID{Class: IDBadCheck, Std: "110101000001011234", Known: "110101000001011234", Sex: 1, Region: "110101"}},
		{"trailing times wrong check", "32010519580304123×", false, ID{IDMasked, "", "32010519580304123?", "1958-03-04", 1, "320105"}},
		// masked
		{"masked 4+4", "3201**********1234", false, ID{IDMasked, "", "3201??????????1234", "", 1, ""}},
		{"masked 6+4", "320105********1234", false, ID{IDMasked, "", "320105????????1234", "", 1, "320105"}},
		{"masked spaced", "3201 **** **** **12 34", false, ID{IDMasked, "", "3201??????????1234", "", 1, ""}},
		{"masked full-width stars", "3201＊＊＊＊＊＊＊＊＊＊1234", false, ID{IDMasked, "", "3201??????????1234", "", 1, ""}},
		{"masked dots", "320105●●●●●●●●123X", false, ID{IDMasked, "", "320105????????123X", "", 1, "320105"}},
		{"masked times", "320105××××××××1234", false, ID{IDMasked, "", "320105????????1234", "", 1, "320105"}},
		{"masked x middle", "320105xxxxxxxx1234", false, ID{IDMasked, "", "320105????????1234", "", 1, "320105"}},
		{"masked birth visible", "32010519580304****", false, ID{IDMasked, "", "32010519580304????", "1958-03-04", 0, "320105"}},
		{"masked check only", "32010519580304123*", false, ID{IDMasked, "", "32010519580304123?", "1958-03-04", 1, "320105"}},
		{"masked question marks", "3201??????????1234", false, ID{IDMasked, "", "3201??????????1234", "", 1, ""}},
		{"masked legacy", "320105580304***", false, ID{IDMasked, "", "32010519580304????", "1958-03-04", 0, "320105"}},
		{"masked legacy tail visible", "320105******123", false, ID{IDMasked, "", "32010519??????123?", "", 1, "320105"}},
		// numeric
		{"sci short", "3.20105E+17", false, ID{IDNumeric, "", "320105????????????", "", 0, "320105"}},
		{"sci lower", "3.20105e+17", false, ID{IDNumeric, "", "320105????????????", "", 0, "320105"}},
		{"sci 15 digits", "3.20105195803041E+17", false, ID{IDNumeric, "", "320105195803041???", "1958-03-04", 0, "320105"}},
		{"sci from number cell", "3.20105195803041E+17", true, ID{IDNumeric, "", "320105195803041???", "1958-03-04", 0, "320105"}},
		{"sci full-width", "３.２０１０５Ｅ＋１７", false, ID{IDNumeric, "", "320105????????????", "", 0, "320105"}},
		{"sci legacy partial", "3.20106E+14", false, ID{IDNumeric, "", "32010619??????????", "", 0, "320106"}},
		{"sci legacy exact", "3.20105580304123E+14", false, ID{IDLegacy, idOK, idOK, "1958-03-04", 1, "320105"}},
		{"sci every digit", "3.20105195803041231E+17", false, ID{IDValid, idOK, idOK, "1958-03-04", 1, "320105"}},
		{"number cell 000", "320105195803041000", true, ID{IDNumeric, "", "320105195803041???", "1958-03-04", 0, "320105"}},
		{"number cell .0", "320105195803041000.0", true, ID{IDNumeric, "", "320105195803041???", "1958-03-04", 0, "320105"}},
		{"number cell passing check", idOK, true, ID{IDNumeric, "", "320105195803041???", "1958-03-04", 0, "320105"}},
		{"number cell but X", idOKX, true, ID{IDValid, idOKX, idOKX, "1958-03-04", 2, "320105"}},
		// absent
		{"empty", "", false, ID{Class: IDAbsent}},
		{"blank", "  \t ", false, ID{Class: IDAbsent}},
		{"无", "无", false, ID{Class: IDAbsent}},
		{"不详", "不详", false, ID{Class: IDAbsent}},
		{"不详 spaced", " 不 详 ", false, ID{Class: IDAbsent}},
		{"zero", "0", false, ID{Class: IDAbsent}},
		{"zero number cell", "0", true, ID{Class: IDAbsent}},
		{"zeros", "000000000000000000", false, ID{Class: IDAbsent}},
		{"dash", "-", false, ID{Class: IDAbsent}},
		{"full-width dash", "－", false, ID{Class: IDAbsent}},
		{"slash", "/", false, ID{Class: IDAbsent}},
		{"null", "null", false, ID{Class: IDAbsent}},
		{"all masked", "******************", false, ID{Class: IDAbsent}},
		// invalid
		{"letters", "abc", false, ID{Class: IDInvalid}},
		{"wrong birth date, right check", "320105195802301230", false, ID{Class: IDInvalid}},
		{"legacy impossible date", "320105580230123", false, ID{Class: IDInvalid}},
		{"17 digits", "32010519580304123", false, ID{Class: IDInvalid}},
		{"19 digits", "3201051958030412311", false, ID{Class: IDInvalid}},
		{"letter inside", "32010519580304A231", false, ID{Class: IDInvalid}},
		{"X at end of 15", "32010558030412X", false, ID{Class: IDInvalid}},
		{"masked wrong length", "3201****1234", false, ID{Class: IDInvalid}},
		{"sci wrong exponent", "3.20105E+10", false, ID{Class: IDInvalid}},
		{"sci negative exponent", "3.20105E-17", false, ID{Class: IDInvalid}},
		{"chinese text", "身份证320105195803041231", false, ID{Class: IDInvalid}},
	}
	for _, c := range cases {
		got := ParseID(c.in, c.numeric)
		if got != c.want {
			t.Errorf("%s: ParseID(%q, %v) =\n\t%+v\nwant\t%+v", c.name, c.in, c.numeric, got, c.want)
		}
	}
}

// A check-passing number whose birth year is not plausible is invalid, not valid.
func TestParseIDImplausibleYear(t *testing.T) {
	for _, birth := range []time.Time{
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1800, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2150, 6, 1, 0, 0, 0, 0, time.UTC),
	} {
		id, err := idcard.Build("320105", birth, 123)
		if err != nil {
			t.Fatal(err)
		}
		if got := ParseID(id, false); got.Class != IDInvalid {
			t.Errorf("ParseID(%s) = %+v, want invalid", id, got)
		}
	}
}

func TestIDCompatibleDistanceTransposed(t *testing.T) {
	p := func(s string) ID { return ParseID(s, false) }
	valid := p(idOK)
	cases := []struct {
		name         string
		a, b         ID
		compatible   bool
		distance     int
		transposed   bool
		transposedBA bool
	}{
		{"same valid", valid, p(" 320105 19580304 1231 "), true, 0, false, false},
		{"legacy and its upgrade", p(idOld), valid, true, 0, false, false},
		{"two different valid", valid, p(idOKX), false, 2, false, false},
		{"masked agrees", valid, p("3201**********1231"), true, 0, false, false},
		{"masked disagrees", valid, p("3201**********1234"), false, 1, false, false},
		{"numeric agrees", valid, ParseID("320105195803041000", true), true, 0, false, false},
		{"sci agrees", valid, p("3.20105E+17"), true, 0, false, false},
		{"sci disagrees", valid, p("3.20106E+17"), false, 1, false, false},
		{"masked legacy agrees", valid, p("320105580304***"), true, 0, false, false},
		{"one-digit typo", valid, p("320105195803042231"), false, 1, false, false},
		{"adjacent swap", valid, p("320105195803042131"), false, 2, true, true},
		{"swap in birth date", valid, p("320105195830041231"), false, 2, true, true},
		{"swap with a masked one", valid, p("3201**********2131"), false, 2, true, true},
		{"non-adjacent swap", valid, p("320105195803043211"), false, 2, false, false},
		{"two unrelated changes", valid, p("320105195803045531"), false, 2, false, false},
		{"absent", valid, p(""), false, -1, false, false},
		{"invalid", valid, p("abc"), false, -1, false, false},
		{"both absent", p("无"), p(""), false, -1, false, false},
	}
	for _, c := range cases {
		if got := IDCompatible(c.a, c.b); got != c.compatible {
			t.Errorf("%s: IDCompatible(%q, %q) = %v", c.name, c.a.Known, c.b.Known, got)
		}
		if got := IDCompatible(c.b, c.a); got != c.compatible {
			t.Errorf("%s: IDCompatible not symmetric", c.name)
		}
		if got := IDDistance(c.a, c.b); got != c.distance {
			t.Errorf("%s: IDDistance(%q, %q) = %d, want %d", c.name, c.a.Known, c.b.Known, got, c.distance)
		}
		if got := IDTransposed(c.a, c.b); got != c.transposed {
			t.Errorf("%s: IDTransposed(%q, %q) = %v", c.name, c.a.Known, c.b.Known, got)
		}
		if got := IDTransposed(c.b, c.a); got != c.transposedBA {
			t.Errorf("%s: IDTransposed(%q, %q) = %v", c.name, c.b.Known, c.a.Known, got)
		}
	}
}

func FuzzParseID(f *testing.F) {
	for _, s := range []string{
		idOK, idOKX, idBadX, " 320105195803041 23x ", "３２０１０５１９５８０３０４１２３Ｘ", idOld,
		"320105195803042231", "3201**********1234", "3201 **** **** **12 34", "320105××××××××1234",
		"320105580304***", "3.20105E+17", "3.20105195803041E+17", "3.20105580304123E+14",
		"320105195803041000", "320105195803041000.0", "'320105195803041231", `="320105195803041231"`,
		"", "无", "不详", "0", "-", "/", "abc", "320105195802301230", "3.E+17", "1E+99", "×",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, raw string, numeric bool) {
		r := ParseID(raw, numeric)
		if r.Known != "" {
			if len(r.Known) != 18 {
				t.Fatalf("ParseID(%q) Known %q is not 18 characters", raw, r.Known)
			}
			for i := 0; i < len(r.Known); i++ {
				if c := r.Known[i]; !isDigit(c) && c != '?' && c != 'X' {
					t.Fatalf("ParseID(%q) Known %q has %q", raw, r.Known, c)
				}
			}
		}
		switch r.Class {
		case IDValid, IDLegacy:
			if !idcard.Valid(r.Std) || r.Known != r.Std || r.Birth == "" || r.Sex == 0 || len(r.Region) != 6 {
				t.Fatalf("ParseID(%q) = %+v: inconsistent %s", raw, r, r.Class)
			}
			again := ParseID(r.Std, false)
			if again.Class != IDValid || again.Std != r.Std {
				t.Fatalf("ParseID(%q) = %+v, but ParseID(Std) = %+v", raw, r, again)
			}
		case IDBadCheck:
			if len(r.Std) != 18 || r.Known != r.Std || idcard.Valid(r.Std) {
				t.Fatalf("ParseID(%q) = %+v: inconsistent bad_check", raw, r)
			}
			if again := ParseID(r.Std, false); again != r {
				t.Fatalf("ParseID(%q) = %+v, but ParseID(Std) = %+v", raw, r, again)
			}
		case IDMasked, IDNumeric:
			if r.Std != "" || r.Known == "" {
				t.Fatalf("ParseID(%q) = %+v: inconsistent %s", raw, r, r.Class)
			}
		case IDAbsent, IDInvalid:
			if r != (ID{Class: r.Class}) {
				t.Fatalf("ParseID(%q) = %+v: %s with fields", raw, r, r.Class)
			}
		default:
			t.Fatalf("ParseID(%q): unknown class %q", raw, r.Class)
		}
		if r.Sex < 0 || r.Sex > 2 {
			t.Fatalf("ParseID(%q) sex %d", raw, r.Sex)
		}
		if r.Birth != "" {
			if _, err := time.Parse("2006-01-02", r.Birth); err != nil || r.Known[6:14] != r.Birth[:4]+r.Birth[5:7]+r.Birth[8:] {
				t.Fatalf("ParseID(%q) birth %q vs Known %q", raw, r.Birth, r.Known)
			}
		}
		if r.Region != "" && (len(r.Region) != 6 || r.Known[:6] != r.Region) {
			t.Fatalf("ParseID(%q) region %q vs Known %q", raw, r.Region, r.Known)
		}
		if r.Known != "" {
			if !IDCompatible(r, r) || IDDistance(r, r) != 0 || IDTransposed(r, r) {
				t.Fatalf("ParseID(%q): %+v not compatible with itself", raw, r)
			}
		}
	})
}
