package standardize

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParsePhones(t *testing.T) {
	mob := func(s string) Phone { return Phone{Std: s, Mobile: true} }
	land := func(s string) Phone { return Phone{Std: s} }
	cases := []struct {
		in     string
		phones []Phone
		flags  []string
	}{
		{"13812345678", []Phone{mob("13812345678")}, nil},
		{"+86 138 1234 5678", []Phone{mob("13812345678")}, []string{PhonePlus86, PhoneSeparators}},
		{"+8613812345678", []Phone{mob("13812345678")}, []string{PhonePlus86}},
		{"138-1234-5678", []Phone{mob("13812345678")}, []string{PhoneSeparators}},
		{"138 1234 5678", []Phone{mob("13812345678")}, []string{PhoneSeparators}},
		{"13812345678;13987654321", []Phone{mob("13812345678"), mob("13987654321")}, []string{PhoneMultiple}},
		{"13812345678 13987654321", []Phone{mob("13812345678"), mob("13987654321")}, []string{PhoneMultiple}},
		{"13812345678或13987654321", []Phone{mob("13812345678"), mob("13987654321")}, []string{PhoneMultiple}},
		{"13812345678、13987654321\n15012345678", []Phone{mob("13812345678"), mob("13987654321"), mob("15012345678")}, []string{PhoneMultiple}},
		{"13812345678；025-86660000", []Phone{mob("13812345678"), land("025-86660000")}, []string{PhoneMultiple, PhoneLandline}},
		{"13812345678，13812345678", []Phone{mob("13812345678")}, nil},
		{"13812345678/138 1234 5678", []Phone{mob("13812345678")}, []string{PhoneSeparators}},
		{"(025)86660000", []Phone{land("025-86660000")}, []string{PhoneSeparators, PhoneLandline}},
		{"（025）86660000", []Phone{land("025-86660000")}, []string{PhoneSeparators, PhoneLandline}},
		{"025 8666 0000", []Phone{land("025-86660000")}, []string{PhoneSeparators, PhoneLandline}},
		{"025 86660000", []Phone{land("025-86660000")}, []string{PhoneSeparators, PhoneLandline}},
		{"025-86660000", []Phone{land("025-86660000")}, []string{PhoneLandline}},
		{"02586660000", []Phone{land("025-86660000")}, []string{PhoneLandline}},
		{"010-62345678", []Phone{land("010-62345678")}, []string{PhoneLandline}},
		{"0512-6666666", []Phone{land("0512-6666666")}, []string{PhoneLandline}},
		{"051266660000", []Phone{land("0512-66660000")}, []string{PhoneLandline}},
		{"025-86660000-123", []Phone{land("025-86660000")}, []string{PhoneLandline}},
		{"025-86660000转123", []Phone{land("025-86660000")}, []string{PhoneLandline}},
		{"025-86660000/86660001", []Phone{land("025-86660000"), land("025-86660001")}, []string{PhoneMultiple, PhoneLandline}},
		{"+86 25 8666 0000", []Phone{land("025-86660000")}, []string{PhonePlus86, PhoneSeparators, PhoneLandline}},
		{"86-13812345678", []Phone{mob("13812345678")}, []string{PhonePlus86}},
		{"8613812345678", []Phone{mob("13812345678")}, []string{PhonePlus86}},
		{"0086 13812345678", []Phone{mob("13812345678")}, []string{PhonePlus86}},
		{"0086-138-1234-5678", []Phone{mob("13812345678")}, []string{PhonePlus86, PhoneSeparators}},
		{"１３８１２３４５６７８", []Phone{mob("13812345678")}, nil},
		{"1381234567", nil, []string{PhoneInvalid}},
		{"138123456789", nil, []string{PhoneInvalid}},
		{"12812345678", nil, []string{PhoneInvalid}},
		{"13812345678转1", []Phone{mob("13812345678")}, nil},
		{"13812345678 转 1", []Phone{mob("13812345678")}, nil},
		{"手机：13812345678", []Phone{mob("13812345678")}, nil},
		{"Tel: 025-86660000", []Phone{land("025-86660000")}, []string{PhoneLandline}},
		{"13812345678(本人)", []Phone{mob("13812345678")}, nil},
		{"张三 13812345678 李四 13987654321", []Phone{mob("13812345678"), mob("13987654321")}, []string{PhoneMultiple}},
		{"13812345678;不详", []Phone{mob("13812345678")}, []string{PhoneInvalid}},
		{"86660000", nil, []string{PhoneInvalid}},
		{"+1 650 253 0000", nil, []string{PhoneInvalid}},
		{"4008123123", nil, []string{PhoneInvalid}},
		{"不详", nil, []string{PhoneInvalid}},
		{"无", nil, []string{PhoneInvalid}},
		{"", nil, nil},
		{" ; / ", nil, nil},
	}
	for _, c := range cases {
		phones, flags := ParsePhones(c.in)
		if !slices.Equal(phones, c.phones) || !slices.Equal(flags, c.flags) {
			t.Errorf("ParsePhones(%q) = %v, %q; want %v, %q", c.in, phones, flags, c.phones, c.flags)
		}
	}
}

var phoneFlagOrder = []string{PhonePlus86, PhoneSeparators, PhoneMultiple, PhoneLandline, PhoneInvalid}

func checkPhones(t *testing.T, in string) {
	phones, flags := ParsePhones(in)
	seen := map[string]bool{}
	landline := false
	for _, p := range phones {
		if !utf8.ValidString(p.Std) || p.Std == "" || seen[p.Std] {
			t.Fatalf("ParsePhones(%q): bad or repeated %q in %v", in, p.Std, phones)
		}
		seen[p.Std] = true
		if p.Mobile {
			if !phoneIsMobile(p.Std) {
				t.Fatalf("ParsePhones(%q): %q is not a mobile number", in, p.Std)
			}
			continue
		}
		landline = true
		if std, ok := phoneLandline(strings.Replace(p.Std, "-", "", 1)); !ok || std != p.Std {
			t.Fatalf("ParsePhones(%q): %q is not a standard landline", in, p.Std)
		}
	}
	last := -1
	for _, f := range flags {
		i := slices.Index(phoneFlagOrder, f)
		if i <= last {
			t.Fatalf("ParsePhones(%q): flags %q unknown, repeated or out of order", in, flags)
		}
		last = i
	}
	if slices.Contains(flags, PhoneMultiple) != (len(phones) > 1) || slices.Contains(flags, PhoneLandline) != landline {
		t.Fatalf("ParsePhones(%q) = %v with flags %q", in, phones, flags)
	}
	// The standard forms read back as themselves.
	var stds []string
	for _, p := range phones {
		stds = append(stds, p.Std)
	}
	again, _ := ParsePhones(strings.Join(stds, ";"))
	if !slices.Equal(again, phones) {
		t.Fatalf("ParsePhones(%q) = %v; its standard forms parse to %v", in, phones, again)
	}
}

func TestParsePhonesInvariants(t *testing.T) {
	for _, in := range phoneSeeds {
		checkPhones(t, in)
	}
}

var phoneSeeds = []string{"+86 138 1234 5678", "138-1234-5678", "13812345678;13987654321", "13812345678；025-86660000",
	"(025)86660000", "025 8666 0000", "86-13812345678", "0086 13812345678", "1381234567", "13812345678转1",
	"025-86660000/86660001", "手机：13812345678(本人)", "+86 25 8666 0000", "\xff13812345678", "", "不详"}

func FuzzParsePhones(f *testing.F) {
	for _, s := range phoneSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		checkPhones(t, in)
	})
}
