package xlsxsrc

import (
	"context"
	"encoding/xml"
	"io"
)

// sstSizes is the size in bytes of each shared string, as excelize would give it (the text of
// its <t> elements, phonetic runs left out; an upper bound: excelize's unescaping of _xHHHH_
// only shrinks it). The worksheet scanner looks cells up here before excelize reads a row, so
// that a row naming huge strings is rejected without excelize copying them (it copies a shared
// string for every cell that uses it). One byte per string; sizes of 255 bytes and more are
// kept in a map.
type sstSizes struct {
	small []uint8
	big   map[int]int64
	max   int64
}

// size is string i's size; 0 for an index the table does not have (excelize then fails the
// row).
func (s *sstSizes) size(i int) int64 {
	if s == nil || i < 0 || i >= len(s.small) {
		return 0
	}
	if v := s.small[i]; v < 255 {
		return int64(v)
	}
	return s.big[i]
}

// largest is the size of the largest string.
func (s *sstSizes) largest() int64 {
	if s == nil {
		return 0
	}
	return s.max
}

func (s *sstSizes) add(n int64) {
	i := len(s.small)
	if n < 255 {
		s.small = append(s.small, uint8(n))
	} else {
		s.small = append(s.small, 255)
		if s.big == nil {
			s.big = map[int]int64{}
		}
		s.big[i] = n
	}
	s.max = max(s.max, n)
}

// merge combines the tables of two shared-strings parts (a zip may hold the part twice, under
// names differing in case; which one excelize reads depends on its sizes): each string's size
// is the larger of the two.
func (s *sstSizes) merge(o *sstSizes) *sstSizes {
	if s == nil {
		return o
	}
	out := &sstSizes{}
	for i := 0; i < max(len(s.small), len(o.small)); i++ {
		out.add(max(s.size(i), o.size(i)))
	}
	return out
}

// scanSST measures the strings of a shared-strings part, streaming. Excelize numbers the
// strings two ways: holding the part in memory, by the <si> children of the root; unzipped to
// a temporary file, by every <si> not inside another. Both numberings are measured and each
// index gets the larger size, so that the sizes bound what excelize gives either way. ctx is
// checked every few thousand tokens.
func scanSST(ctx context.Context, r io.Reader) (*sstSizes, error) {
	d := newDecoder(r)
	children, all := &sstSizes{}, &sstSizes{}
	var (
		depth          int
		siAt, tAt, rph int // depth of the open <si>, <t> and <rPh>; 0: none
		cur            int64
		child          bool // the open <si> is a child of the root
	)
	for n := 0; ; n++ {
		if n&0xfff == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		tok, err := d.RawToken()
		if err == io.EOF {
			return children.merge(all), nil
		}
		if err != nil {
			return nil, err
		}
		switch el := tok.(type) {
		case xml.StartElement:
			depth++
			switch el.Name.Local {
			case "si":
				if siAt == 0 {
					siAt, cur, child = depth, 0, depth == 2
				}
			case "rPh":
				if siAt > 0 && rph == 0 {
					rph = depth
				}
			case "t":
				if siAt > 0 && rph == 0 && tAt == 0 {
					tAt = depth
				}
			}
		case xml.EndElement:
			switch {
			case depth == tAt && tAt > 0:
				tAt = 0
			case depth == rph && rph > 0:
				rph = 0
			case depth == siAt && siAt > 0:
				siAt = 0
				all.add(cur)
				if child {
					children.add(cur)
				}
			}
			depth--
		case xml.CharData:
			if tAt > 0 {
				cur += int64(len(el))
			}
		}
	}
}
