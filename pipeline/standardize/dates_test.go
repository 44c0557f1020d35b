package standardize

import (
	"testing"
	"unicode/utf8"
)

func TestParseDateFormats(t *testing.T) {
	cases := []struct {
		in   string
		want string
		flag DateFlag
	}{
		{"19580304", "1958-03-04", DateOK},
		{"1958-03-04", "1958-03-04", DateOK},
		{"1958/3/4", "1958-03-04", DateOK},
		{"1958.03.04", "1958-03-04", DateOK},
		{"1958年3月4日", "1958-03-04", DateOK},
		{"１９５８-０３-０４", "1958-03-04", DateOK},
		{" 1958-03-04 ", "1958-03-04", DateOK},
		{"21248", "1958-03-04", DateSerial},
		{"21248.0", "1958-03-04", DateSerial},
		{"1958.03", "1958-03", DateYearMonth},
		{"1958-03", "1958-03", DateYearMonth},
		{"195803", "1958-03", DateYearMonth},
		{"1958年3月", "1958-03", DateYearMonth},
		{"2026-11-20 10:15:00", "2026-11-20", DateOK},
		{"2026-11-20T10:15:00+08:00", "2026-11-20", DateOK},
		{"1958-02-30", "1958-02", DateImpossible},
		{"1958-04-31", "1958-04", DateImpossible},
		{"", "0000-00", DateEmpty},
		{"不详", "0000-00", DateUnparsed},
		{"1958-13-01", "0000-00", DateUnparsed},
		{"99999999999", "0000-00", DateUnparsed},
	}
	for _, c := range cases {
		d, flag, err := ParseDate(c.in)
		if flag != c.flag || d.String() != c.want {
			t.Errorf("ParseDate(%q) = %s, %s, %v; want %s, %s", c.in, d, flag, err, c.want, c.flag)
		}
		if (flag == DateImpossible || flag == DateUnparsed) != (err != nil) {
			t.Errorf("ParseDate(%q): flag %s with error %v", c.in, flag, err)
		}
	}
}

func TestParseTimestampAndNumbers(t *testing.T) {
	for _, s := range []string{"2026-11-20 10:15:00", "2026-11-20 10:15:00.123456", "2026-11-20T10:15:00Z", "2026-11-20"} {
		if _, err := ParseTimestamp(s); err != nil {
			t.Errorf("ParseTimestamp(%q): %v", s, err)
		}
	}
	if _, err := ParseTimestamp("yesterday"); err == nil {
		t.Error("ParseTimestamp accepted yesterday")
	}
	if f, err := ParseDecimal("1,250.50元"); err != nil || f != 1250.5 {
		t.Errorf("ParseDecimal = %v, %v", f, err)
	}
	if n, err := ParseInt("１２"); err != nil || n != 12 {
		t.Errorf("ParseInt = %v, %v", n, err)
	}
	if _, err := ParseInt("12a"); err == nil {
		t.Error("ParseInt accepted 12a")
	}
}

// FuzzParseDate: never panics; a date it accepts prints and re-parses to itself.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"19580304", "1958/3/4", "1958年3月4日", "21248", "1958.03", "1958-02-30", "２０２６-１１-２０", "2026-11-20T10:15:00+08:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, flag, err := ParseDate(s)
		if err == nil && (flag == DateOK || flag == DateSerial || flag == DateYearMonth) {
			d2, _, err2 := ParseDate(d.String())
			if err2 != nil || d2 != d {
				t.Fatalf("%q -> %s does not re-parse (%v, %v)", s, d, d2, err2)
			}
		}
		if !utf8.ValidString(d.String()) {
			t.Fatal("invalid output")
		}
		ParseTimestamp(s)
		ParseDecimal(s)
		ParseInt(s)
	})
}
