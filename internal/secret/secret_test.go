package secret

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestGenerateOnceAndReuse(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	a, err := Load("", dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, FileName))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v mode %v", err, st.Mode())
	}
	b, err := Load("", dir)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Master(), b.Master()) || len(a.Master()) != 64 {
		t.Fatal("second load did not reuse the generated key")
	}
	if bytes.Equal(a.Derive("sessions"), a.Derive("credentials")) || len(a.Derive("sessions")) != 32 {
		t.Fatal("derived keys must differ by purpose")
	}
	if !bytes.Equal(a.Derive("sessions"), b.Derive("sessions")) {
		t.Fatal("derivation is not deterministic")
	}
}

func TestExplicitValueWins(t *testing.T) {
	dir := t.TempDir()
	s, err := Load("0123456789abcdef0123456789abcdef", dir)
	if err != nil || string(s.Master()) != "0123456789abcdef0123456789abcdef" || s.Source != "SLUICE_SECRET_KEY" {
		t.Fatalf("%v %v", s, err)
	}
	if _, err := os.Stat(filepath.Join(dir, FileName)); !os.IsNotExist(err) {
		t.Fatal("a key file was written although the secret was given")
	}
}

func TestShortFileRefused(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load("", dir); err == nil {
		t.Fatal("short key file accepted")
	}
}
