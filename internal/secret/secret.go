// Package secret holds the server secret: SLUICE_SECRET_KEY when set, else
// a random key generated once into DATA_DIR/secret.key (mode 0600). Every
// purpose gets its own key derived from it with HKDF (consumer-key signing,
// session signing, credential encryption), so one secret never serves two
// uses.
package secret

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// FileName is the generated key's file in the data folder.
const FileName = "secret.key"

// Secret is the server secret.
type Secret struct {
	master []byte
	// Source says where it came from, for the start-up log.
	Source string
}

// Load returns the secret from value when non-empty, else from
// dataDir/secret.key, generating that file when it does not exist.
func Load(value, dataDir string) (*Secret, error) {
	if value != "" {
		return &Secret{master: []byte(value), Source: "SLUICE_SECRET_KEY"}, nil
	}
	path := filepath.Join(dataDir, FileName)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("create data folder: %w", err)
		}
		raw := make([]byte, 32)
		if _, err := rand.Read(raw); err != nil {
			return nil, err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			return Load("", dataDir) // another process generated it first
		}
		if err != nil {
			return nil, fmt.Errorf("write %s: %w", path, err)
		}
		_, werr := f.WriteString(hex.EncodeToString(raw) + "\n")
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return nil, fmt.Errorf("write %s: %w", path, werr)
		}
		return &Secret{master: []byte(hex.EncodeToString(raw)), Source: path + " (generated)"}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	key := strings.TrimSpace(string(b))
	if len(key) < 32 {
		return nil, fmt.Errorf("%s holds fewer than 32 characters; delete it to generate a new one", path)
	}
	return &Secret{master: []byte(key), Source: path}, nil
}

// Derive returns a 32-byte key for one purpose ("consumer-keys",
// "sessions", "credentials").
func (s *Secret) Derive(purpose string) []byte {
	k, err := hkdf.Key(sha256.New, s.master, nil, "sluice "+purpose, 32)
	if err != nil {
		panic(err) // only for lengths over 255*32 bytes
	}
	return k
}

// Master returns the secret itself, for packages that derive their own
// keys (the consumer-key keyring derives one per key id).
func (s *Secret) Master() []byte { return s.master }
