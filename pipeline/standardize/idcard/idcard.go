// Package idcard implements the arithmetic of the Chinese resident identity number (GB 11643-1999):
// the MOD 11-2 check character, the upgrade of a legacy 15-digit number to 18 characters, and the
// fields an 18-character number carries (region, birth date, sequence and sex).
//
// It is pure: no I/O, no global state. The standardizer that classifies messy source values
// (full-width digits, masks, numbers mangled by Excel) builds on it; so does the simulator.
package idcard

import (
	"fmt"
	"time"
)

// weights are the GB 11643 MOD 11-2 weights for positions 1..17 (2^(18-i) mod 11).
var weights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// checkChars maps (sum mod 11) to the check character.
const checkChars = "10X98765432"

// CheckChar returns the check character for the first 17 digits of an 18-character number.
// It returns an error if body is not 17 ASCII digits.
func CheckChar(body string) (byte, error) {
	if len(body) != 17 {
		return 0, fmt.Errorf("idcard: body must be 17 digits, got %d characters", len(body))
	}
	sum := 0
	for i := 0; i < 17; i++ {
		c := body[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("idcard: non-digit %q at position %d", c, i+1)
		}
		sum += int(c-'0') * weights[i]
	}
	return checkChars[sum%11], nil
}

// Valid reports whether id is a well-formed 18-character number whose check character is right
// and whose birth date is a real calendar date. id must already be normalised (ASCII, upper-case X).
func Valid(id string) bool {
	if len(id) != 18 {
		return false
	}
	c, err := CheckChar(id[:17])
	if err != nil || c != id[17] {
		return false
	}
	_, err = BirthDate(id)
	return err == nil
}

// Upgrade converts a legacy 15-digit number (YYMMDD birth date, no check character) to its
// 18-character form by inserting the century "19" and appending the check character.
func Upgrade(id15 string) (string, error) {
	if len(id15) != 15 {
		return "", fmt.Errorf("idcard: legacy number must be 15 digits, got %d characters", len(id15))
	}
	body := id15[:6] + "19" + id15[6:]
	c, err := CheckChar(body)
	if err != nil {
		return "", err
	}
	return body + string(c), nil
}

// Downgrade returns the legacy 15-digit form of an 18-character number of someone born in the
// 1900s (the form such a person's older records carry). It fails for other centuries.
func Downgrade(id18 string) (string, error) {
	if len(id18) != 18 || id18[6:8] != "19" {
		return "", fmt.Errorf("idcard: only 18-character numbers of the 1900s have a legacy form")
	}
	return id18[:6] + id18[8:17], nil
}

// Build assembles a valid 18-character number from a 6-digit region code, a birth date and a
// 3-digit sequence (odd for men, even for women, per GB 11643).
func Build(region string, birth time.Time, seq int) (string, error) {
	if len(region) != 6 {
		return "", fmt.Errorf("idcard: region code must be 6 digits, got %q", region)
	}
	if seq < 0 || seq > 999 {
		return "", fmt.Errorf("idcard: sequence %d out of 0..999", seq)
	}
	body := fmt.Sprintf("%s%s%03d", region, birth.Format("20060102"), seq)
	c, err := CheckChar(body)
	if err != nil {
		return "", err
	}
	return body + string(c), nil
}

// BirthDate returns the birth date encoded in an 18-character number (positions 7-14).
func BirthDate(id18 string) (time.Time, error) {
	if len(id18) != 18 {
		return time.Time{}, fmt.Errorf("idcard: need 18 characters, got %d", len(id18))
	}
	s := id18[6:14]
	t, err := time.Parse("20060102", s)
	if err != nil {
		return time.Time{}, fmt.Errorf("idcard: birth date %q is not a calendar date", s)
	}
	return t, nil
}

// Sex returns 1 (male) or 2 (female) per GB/T 2261.1 from the parity of the 17th character.
func Sex(id18 string) (int, error) {
	if len(id18) != 18 || id18[16] < '0' || id18[16] > '9' {
		return 0, fmt.Errorf("idcard: need 18 characters with a digit at position 17")
	}
	if (id18[16]-'0')%2 == 1 {
		return 1, nil
	}
	return 2, nil
}

// Region returns the 6-digit administrative division code (GB/T 2260) at the head of the number.
func Region(id string) string {
	if len(id) < 6 {
		return ""
	}
	return id[:6]
}
