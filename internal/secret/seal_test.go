package secret

import (
	"errors"
	"strings"
	"testing"
)

func TestSealRoundTrip(t *testing.T) {
	s, _ := Load("0123456789abcdef0123456789abcdef", t.TempDir())
	x := s.Sealer()
	a, err := x.Seal("sk-live-secret")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := x.Seal("sk-live-secret")
	if a == b || strings.Contains(a, "sk-live") || !strings.HasPrefix(a, "v1:") {
		t.Fatalf("sealed %q / %q: must be prefixed, random per seal and hide the plaintext", a, b)
	}
	if got, err := x.Open(a); err != nil || got != "sk-live-secret" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if got, err := x.Seal(""); err != nil || got != "" {
		t.Fatalf("empty credential sealed to %q", got)
	}
}

func TestOpenRefusesTamperingAndOtherKeys(t *testing.T) {
	s, _ := Load("0123456789abcdef0123456789abcdef", t.TempDir())
	other, _ := Load("fedcba9876543210fedcba9876543210", t.TempDir())
	sealed, _ := s.Sealer().Seal("sk-live-secret")
	flipped := []byte(sealed)
	flipped[len(flipped)-5] ^= 1
	for name, v := range map[string]string{
		"other key":  sealed,
		"tampered":   string(flipped),
		"no prefix":  strings.TrimPrefix(sealed, "v1:"),
		"not base64": "v1:!!!",
		"too short":  "v1:AAAA",
	} {
		x := s.Sealer()
		if name == "other key" {
			x = other.Sealer()
		}
		if _, err := x.Open(v); !errors.Is(err, ErrUnseal) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}
