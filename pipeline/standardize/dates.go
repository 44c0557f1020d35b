package standardize

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Date is a standardized calendar date. Day is 0 when the source gave only year and month.
type Date struct {
	Year, Month, Day int
}

// String is ISO 8601: 1958-03-04, or 1958-03 for a year-month.
func (d Date) String() string {
	if d.Day == 0 {
		return fmt.Sprintf("%04d-%02d", d.Year, d.Month)
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)
}

// Time is the date at midnight UTC (the first of the month for a year-month).
func (d Date) Time() time.Time {
	day := d.Day
	if day == 0 {
		day = 1
	}
	return time.Date(d.Year, time.Month(d.Month), day, 0, 0, 0, 0, time.UTC)
}

// DateFlag says how a date was found.
type DateFlag string

const (
	DateOK         DateFlag = "ok"
	DateYearMonth  DateFlag = "year_month"   // only year and month were given (1958.03)
	DateSerial     DateFlag = "excel_serial" // an Excel serial day number (21248)
	DateImpossible DateFlag = "impossible"   // a day the month does not have (1958-02-30)
	DateEmpty      DateFlag = "empty"
	DateUnparsed   DateFlag = "unparsed"
)

// excelEpoch is day 0 of Excel's 1900 date system, allowing for its phantom 1900-02-29.
var excelEpoch = time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)

// ParseDate reads a date in any of the contract's formats: 19580304, 1958-03-04, 1958/3/4,
// 1958.03.04, 1958年3月4日, an Excel serial number, year-month (1958.03, 1958-03, 195803,
// 1958年3月), full-width digits, and timestamps (the date part). An impossible date returns
// its year and month with flag DateImpossible and an error; unreadable text returns DateUnparsed.
func ParseDate(raw string) (Date, DateFlag, error) {
	s := squeeze(Fold(raw))
	if s == "" {
		return Date{}, DateEmpty, nil
	}
	// Timestamps: keep the date part.
	if i := strings.IndexAny(s, "T"); i == 10 {
		s = s[:10]
	} else if len(s) > 10 && s[4] == '-' && s[7] == '-' && s[10] >= '0' && s[10] <= '9' {
		s = s[:10] // "2026-01-02 10:00:00" lost its space to squeeze
	}
	if strings.HasSuffix(s, "日") {
		s = strings.TrimSuffix(s, "日")
	}
	s = dateSeparators.Replace(s)
	s = strings.TrimSuffix(s, "-")
	if allDigits(s) || isSerial(s) {
		switch {
		case len(s) == 8 && allDigits(s):
			return ymd(raw, s[:4], s[4:6], s[6:])
		case len(s) == 6 && allDigits(s):
			return ym(raw, s[:4], s[4:])
		default:
			f, err := strconv.ParseFloat(s, 64)
			if err != nil || f < 1 || f >= 2958466 || f != float64(int64(f)) {
				return Date{}, DateUnparsed, fmt.Errorf("date %q: not a date", raw)
			}
			if f > 80000 {
				return Date{}, DateUnparsed, fmt.Errorf("date %q: a number too large for an Excel date", raw)
			}
			t := excelEpoch.AddDate(0, 0, int(f))
			return Date{t.Year(), int(t.Month()), t.Day()}, DateSerial, nil
		}
	}
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == '-' || r == '/' || r == '.' })
	switch len(parts) {
	case 3:
		return ymd(raw, parts[0], parts[1], parts[2])
	case 2:
		return ym(raw, parts[0], parts[1])
	}
	return Date{}, DateUnparsed, fmt.Errorf("date %q: not a date", raw)
}

func isSerial(s string) bool {
	if strings.HasSuffix(s, ".0") {
		return allDigits(strings.TrimSuffix(s, ".0"))
	}
	return false
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func num(s string, lo, hi int) (int, bool) {
	if !allDigits(s) || len(s) > 4 {
		return 0, false
	}
	n, _ := strconv.Atoi(s)
	return n, n >= lo && n <= hi
}

func ym(raw, ys, ms string) (Date, DateFlag, error) {
	y, ok1 := num(ys, 1800, 2200)
	m, ok2 := num(ms, 1, 12)
	if !ok1 || !ok2 || len(ys) != 4 {
		return Date{}, DateUnparsed, fmt.Errorf("date %q: not a year and month", raw)
	}
	return Date{y, m, 0}, DateYearMonth, nil
}

func ymd(raw, ys, ms, ds string) (Date, DateFlag, error) {
	y, ok1 := num(ys, 1800, 2200)
	m, ok2 := num(ms, 1, 12)
	d, ok3 := num(ds, 1, 31)
	if !ok1 || !ok2 || !ok3 || len(ys) != 4 {
		return Date{}, DateUnparsed, fmt.Errorf("date %q: not a date", raw)
	}
	if last := time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day(); d > last {
		return Date{y, m, 0}, DateImpossible, fmt.Errorf("date %q: %d-%02d has no day %d", raw, y, m, d)
	}
	return Date{y, m, d}, DateOK, nil
}

// dateSeparators turns 2026年1月2 into 2026-1-2 (built once: a Replacer is costly to build).
var dateSeparators = strings.NewReplacer("年", "-", "月", "-")

// ParseTimestamp reads "2006-01-02 15:04:05[.fff]", RFC 3339, or a date alone (midnight).
func ParseTimestamp(raw string) (time.Time, error) {
	s := strings.TrimSpace(Fold(raw))
	for _, layout := range []string{"2006-01-02 15:04:05.999999999", time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006/01/02 15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	d, flag, err := ParseDate(s)
	if err != nil || (flag != DateOK && flag != DateSerial) {
		return time.Time{}, fmt.Errorf("timestamp %q: not a time", raw)
	}
	return d.Time(), nil
}

// ParseDecimal reads a plain number, allowing thousands separators, full-width digits and a
// trailing 元.
func ParseDecimal(raw string) (float64, error) {
	s := strings.TrimSuffix(squeeze(Fold(raw)), "元")
	s = strings.ReplaceAll(s, ",", "")
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("number %q: not a number", raw)
	}
	return f, nil
}

// ParseInt reads a whole number (full-width digits allowed).
func ParseInt(raw string) (int64, error) {
	s := squeeze(Fold(raw))
	n, err := strconv.ParseInt(strings.TrimSuffix(s, ".0"), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("integer %q: not a whole number", raw)
	}
	return n, nil
}
