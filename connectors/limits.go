package connectors

import (
	"fmt"
	"strings"
)

// Limits bound what one read may hold in memory. Every kind enforces the ones that concern it;
// the landing enforces ValueBytes and RowBytes again on every row it receives. A row over a
// value or row limit is rejected (quarantined) with a reason naming the limit; a response, part
// or page count over its limit fails the read with an error naming the limit and the option
// that raises it. Zero fields take the defaults of DefaultLimits (see WithDefaults).
type Limits struct {
	ValueBytes         int64 `toml:"value_bytes" json:"value_bytes"`                   // one value (cell, field, JSON string), default 1 MiB
	RowBytes           int64 `toml:"row_bytes" json:"row_bytes"`                       // one row, all values and separators, default 4 MiB
	ResponseBytes      int64 `toml:"response_bytes" json:"response_bytes"`             // one HTTP response body, default 64 MiB
	SharedStringsBytes int64 `toml:"shared_strings_bytes" json:"shared_strings_bytes"` // an xlsx's shared-strings table, uncompressed, default 64 MiB
	PartBytes          int64 `toml:"part_bytes" json:"part_bytes"`                     // any other xlsx part (a sheet), uncompressed, default 1 GiB
	Pages              int   `toml:"pages" json:"pages"`                               // pages an HTTP listing may take in one run, default 100 000
}

// DefaultLimits are the limits of a source that sets none.
func DefaultLimits() Limits {
	return Limits{
		ValueBytes:         1 << 20,
		RowBytes:           4 << 20,
		ResponseBytes:      64 << 20,
		SharedStringsBytes: 64 << 20,
		PartBytes:          1 << 30,
		Pages:              100_000,
	}
}

// WithDefaults fills the zero fields from DefaultLimits.
func (l Limits) WithDefaults() Limits { return l.Or(DefaultLimits()) }

// Or fills the zero (or negative) fields of l from d: a source's own limits over the
// deployment's.
func (l Limits) Or(d Limits) Limits {
	pick := func(v, def int64) int64 {
		if v <= 0 {
			return def
		}
		return v
	}
	l.ValueBytes = pick(l.ValueBytes, d.ValueBytes)
	l.RowBytes = pick(l.RowBytes, d.RowBytes)
	l.ResponseBytes = pick(l.ResponseBytes, d.ResponseBytes)
	l.SharedStringsBytes = pick(l.SharedStringsBytes, d.SharedStringsBytes)
	l.PartBytes = pick(l.PartBytes, d.PartBytes)
	l.Pages = int(pick(int64(l.Pages), int64(d.Pages)))
	return l
}

// Exceeded is the message of a limit that was hit: what, how much, and the setting that raises
// it ("limits.value_bytes").
func Exceeded(what string, limit int64, setting string) string {
	return fmt.Sprintf("%s exceeds the limit of %s (raise limits.%s)", what, humanBytes(limit), setting)
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// Excerpt is what an error may quote of a file or a value: at most max runes (40 when max <=
// 0), control characters shown as "·", and "…" when cut. Errors never echo more of a source
// than this, so a file that is not what it should be (a key file behind a symlink) does not end
// up in logs.
func Excerpt(s string, max int) string {
	if max <= 0 {
		max = 40
	}
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n == max {
			b.WriteString("…")
			break
		}
		if r < 0x20 || r == 0x7f || r == 0xfffd {
			r = '·'
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}
