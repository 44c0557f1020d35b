package csvsrc

import (
	"bytes"
	"strings"
	"unicode/utf8"
	"unsafe"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"
)

type encKind uint8

const (
	encAuto encKind = iota
	encUTF8
	encUTF8BOM
	encGBK
	encGB18030
)

var encNames = map[string]encKind{
	"auto":      encAuto,
	"utf-8":     encUTF8,
	"utf8":      encUTF8,
	"utf-8-bom": encUTF8BOM,
	"utf8-bom":  encUTF8BOM,
	"gbk":       encGBK,
	"gb2312":    encGBK, // GBK is a superset of GB2312
	"cp936":     encGBK,
	"gb18030":   encGB18030,
}

func (e encKind) String() string {
	switch e {
	case encUTF8, encUTF8BOM:
		return "utf-8"
	case encGBK:
		return "gbk"
	case encGB18030:
		return "gb18030"
	}
	return "auto"
}

var bom = []byte{0xEF, 0xBB, 0xBF}

// detect picks a file's encoding from its first bytes: a UTF-8 BOM, else UTF-8 if the sample
// is valid UTF-8, else GB18030 (a superset of GBK). complete says the sample is the whole file.
func detect(sample []byte, complete bool) encKind {
	if bytes.HasPrefix(sample, bom) {
		return encUTF8BOM
	}
	if len(sample) > sniffSize {
		sample, complete = sample[:sniffSize], false
	}
	if !complete {
		// Do not hold a character cut by the end of the sample against the file.
		for i := 1; i <= utf8.UTFMax && i <= len(sample); i++ {
			if utf8.RuneStart(sample[len(sample)-i]) {
				if !utf8.FullRune(sample[len(sample)-i:]) {
					sample = sample[:len(sample)-i]
				}
				break
			}
		}
	}
	if utf8.Valid(sample) {
		return encUTF8
	}
	return encGB18030
}

// firstInvalidUTF8 is the offset of the first byte of p that is not valid UTF-8, or -1.
func firstInvalidUTF8(p []byte) int {
	for i := 0; i < len(p); {
		if p[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRune(p[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return -1
}

// gbDecoder decodes GBK or GB18030 and finds bytes that are invalid in it: the x/text decoders
// replace those with U+FFFD silently.
type gbDecoder struct {
	t       transform.Transformer
	gb18030 bool
	one     [8]byte
}

func newGBDecoder(e encKind) *gbDecoder {
	if e == encGBK {
		return &gbDecoder{t: simplifiedchinese.GBK.NewDecoder()}
	}
	return &gbDecoder{t: simplifiedchinese.GB18030.NewDecoder(), gb18030: true}
}

var (
	replacement  = []byte("\uFFFD")
	gbReplacment = []byte{0x84, 0x31, 0xA4, 0x37} // U+FFFD in GB18030
)

// appendDecoded appends src decoded to dst. ok is false if src has bytes invalid in the
// encoding (they are decoded as U+FFFD).
func (d *gbDecoder) appendDecoded(dst, src []byte) (out []byte, ok bool) {
	i := 0
	for i < len(src) && src[i] < utf8.RuneSelf {
		i++
	}
	if i == len(src) {
		return append(dst, src...), true
	}
	// At most 3 bytes of UTF-8 per byte of input (0x80 and invalid bytes).
	n := len(dst)
	if need := n + 3*len(src); cap(dst) < need {
		nd := make([]byte, n, max(need, 2*cap(dst)))
		copy(nd, dst)
		dst = nd
	}
	nDst, _, _ := d.t.Transform(dst[n:cap(dst)], src, true)
	dst = dst[:n+nDst]
	if bytes.Contains(dst[n:], replacement) && d.firstInvalid(src) >= 0 {
		return dst, false
	}
	return dst, true
}

// seqLen is the length of the character starting p as the x/text decoder reads it.
func (d *gbDecoder) seqLen(p []byte) int {
	c0 := p[0]
	if c0 < 0x81 || c0 == 0xff || len(p) < 2 {
		return 1
	}
	c1 := p[1]
	if isTrail(c1) {
		return 2
	}
	if d.gb18030 && c1 >= 0x30 && c1 <= 0x39 && len(p) >= 4 && isLead(p[2]) && p[3] >= 0x30 && p[3] <= 0x39 {
		return 4
	}
	return 1
}

// firstInvalid is the offset of the first invalid character of p, or -1.
func (d *gbDecoder) firstInvalid(p []byte) int {
	for i := 0; i < len(p); {
		if p[i] < 0x80 { // ASCII; 0x80 is € in both
			i++
			continue
		}
		n := d.seqLen(p[i:])
		seq := p[i : i+n]
		nDst, _, _ := d.t.Transform(d.one[:], seq, true)
		if bytes.Equal(d.one[:nDst], replacement) && !(d.gb18030 && bytes.Equal(seq, gbReplacment)) {
			return i
		}
		i += n
	}
	return -1
}

// text decodes p for display, invalid bytes as U+FFFD.
func (d *gbDecoder) text(p []byte) string {
	out, _ := d.appendDecoded(nil, p)
	return string(out)
}

// rawText renders a record's bytes as valid UTF-8 of at most rawMax bytes.
func rawText(p []byte, d *gbDecoder) string {
	if len(p) > rawMax {
		p = p[:rawMax]
	}
	var s string
	if d != nil {
		s = strings.ToValidUTF8(d.text(p), "\uFFFD")
	} else {
		s = strings.ToValidUTF8(string(p), "\uFFFD")
	}
	if len(s) > rawMax {
		n := rawMax
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n]
	}
	return s
}

// unescape appends a quoted field's content with "" turned into ".
func unescape(dst, src []byte) []byte {
	for {
		i := bytes.IndexByte(src, '"')
		if i < 0 || i+1 >= len(src) {
			return append(dst, src...)
		}
		dst = append(dst, src[:i+1]...)
		src = src[i+2:]
	}
}

// view is a string over b without copying, for handing to a builder that copies it at once.
// b must not change while the string is in use.
func view(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
