package land

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"communityhub/connectors"
)

// Cursor types: how the values of a source's cursor column compare.
const (
	CursorTimestamp = "timestamp"
	CursorNumber    = "number"
	CursorToken     = "token" // opaque text, compared as text
)

// CursorTypes are the valid cursor_type settings ("" = inferred).
var CursorTypes = []string{CursorTimestamp, CursorNumber, CursorToken}

// DefaultCursorFuture is how far in the future a cursor value may lie before it is refused:
// naive local times of a server east of UTC look hours ahead, a year 2099 does not.
const DefaultCursorFuture = 24 * time.Hour

var timeLayouts = []string{
	"2006-01-02 15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999Z07",
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006/01/02 15:04:05.999999999",
	"2006-01-02",
	"2006/01/02",
}

// cursorValue is one parsed cursor value.
type cursorValue struct {
	t    time.Time
	n    float64
	text string
}

// cursorParser checks and compares the values of a cursor column.
type cursorParser struct {
	column string
	typ    string // "" until inferred
	future time.Duration
	now    time.Time
	max    *cursorValue
}

// inferCursorType says which type a value reads as ("" when neither a time nor a number).
func inferCursorType(v string) string {
	v = strings.TrimSpace(v)
	if _, err := parseTime(v); err == nil {
		return CursorTimestamp
	}
	if _, err := strconv.ParseFloat(v, 64); err == nil {
		return CursorNumber
	}
	return ""
}

func parseTime(v string) (time.Time, error) {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("not a timestamp")
}

// check parses v; a non-empty reason means the row is quarantined and v does not move the cursor.
// An empty value lands but does not move the cursor either.
func (c *cursorParser) check(v string) (reason string) {
	v = strings.TrimSpace(v)
	if v == "" {
		return ""
	}
	low := strings.ToLower(v)
	if low == "infinity" || low == "-infinity" || low == "+infinity" || low == "nan" {
		return fmt.Sprintf("cursor column %s: %q is a sentinel, not a time of change", c.column, connectors.Excerpt(v, 40))
	}
	if c.typ == "" {
		c.typ = inferCursorType(v)
		if c.typ == "" {
			return fmt.Sprintf("cursor column %s: %q is neither a timestamp nor a number (set cursor_type)", c.column, connectors.Excerpt(v, 40))
		}
	}
	cv := cursorValue{text: v}
	switch c.typ {
	case CursorTimestamp:
		t, err := parseTime(v)
		if err != nil {
			return fmt.Sprintf("cursor column %s: %q is not a timestamp", c.column, connectors.Excerpt(v, 40))
		}
		if t.Year() >= 9999 {
			return fmt.Sprintf("cursor column %s: %q is a sentinel, not a time of change", c.column, connectors.Excerpt(v, 40))
		}
		if c.future > 0 && t.After(c.now.Add(c.future)) {
			return fmt.Sprintf("cursor column %s: %q lies in the future (more than %s ahead); it would hide every later update", c.column, connectors.Excerpt(v, 40), c.future)
		}
		cv.t = t
	case CursorNumber:
		n, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsInf(n, 0) || math.IsNaN(n) {
			return fmt.Sprintf("cursor column %s: %q is not a number", c.column, connectors.Excerpt(v, 40))
		}
		if n >= 9e15 {
			return fmt.Sprintf("cursor column %s: %q is a sentinel, not a sequence number", c.column, connectors.Excerpt(v, 40))
		}
		cv.n = n
	}
	if c.max == nil || c.less(*c.max, cv) {
		c.max = &cv
	}
	return ""
}

func (c *cursorParser) less(a, b cursorValue) bool {
	switch c.typ {
	case CursorTimestamp:
		return a.t.Before(b.t)
	case CursorNumber:
		return a.n < b.n
	}
	return a.text < b.text
}

// after is the cursor to commit: the larger of the previous cursor and the largest value that
// landed, as the source wrote it.
func (c *cursorParser) after(prev string) string {
	if c.max == nil {
		return prev
	}
	if prev == "" {
		return c.max.text
	}
	p := cursorParser{column: c.column, typ: c.typ}
	if p.check(prev) != "" || p.max == nil {
		return c.max.text // the stored cursor no longer parses (an old, untyped one): the typed value wins
	}
	if c.less(*p.max, *c.max) {
		return c.max.text
	}
	return prev
}
