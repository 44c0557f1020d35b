package idcard

import (
	"testing"
	"time"
)

// A published GB 11643 example: 11010519491231002X (Beijing, born 1949-12-31, female).
func TestKnownNumber(t *testing.T) {
	const id = "11010519491231002X"
	if !Valid(id) {
		t.Fatalf("%s should be valid", id)
	}
	if sex, _ := Sex(id); sex != 2 {
		t.Errorf("sex = %d, want 2", sex)
	}
	if b, _ := BirthDate(id); !b.Equal(time.Date(1949, 12, 31, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("birth = %v", b)
	}
	if Valid("110105194912310021") {
		t.Error("wrong check character accepted")
	}
	if Valid("11010519491331002X") {
		t.Error("month 13 accepted")
	}
}

func TestBuildUpgradeDowngradeRoundTrip(t *testing.T) {
	birth := time.Date(1958, 3, 4, 0, 0, 0, 0, time.UTC)
	for seq := 0; seq < 1000; seq += 37 {
		id, err := Build("320105", birth, seq)
		if err != nil {
			t.Fatal(err)
		}
		if !Valid(id) {
			t.Fatalf("Build gave invalid %s", id)
		}
		old, err := Downgrade(id)
		if err != nil || len(old) != 15 {
			t.Fatalf("Downgrade(%s) = %q, %v", id, old, err)
		}
		back, err := Upgrade(old)
		if err != nil || back != id {
			t.Fatalf("Upgrade(%s) = %q, %v; want %s", old, back, err, id)
		}
	}
	if _, err := Downgrade("320105200103040012"); err == nil {
		t.Error("Downgrade of a 2001 birth should fail")
	}
	if _, err := Build("3201", birth, 1); err == nil {
		t.Error("short region accepted")
	}
}

func TestCheckCharRejectsNonDigits(t *testing.T) {
	if _, err := CheckChar("3201051958030400A"); err == nil {
		t.Error("non-digit body accepted")
	}
}
