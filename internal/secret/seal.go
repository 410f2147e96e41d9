package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
)

// sealPrefix versions the sealed format so the scheme can change later.
const sealPrefix = "v1:"

// Sealer encrypts secrets stored in the database (provider credentials)
// with AES-256-GCM under a key derived from the server secret for that one
// purpose. The column holds "v1:" + base64(nonce ‖ ciphertext ‖ tag).
type Sealer struct {
	aead cipher.AEAD
}

// Sealer returns the sealer for stored credentials.
func (s *Secret) Sealer() *Sealer {
	block, err := aes.NewCipher(s.Derive("credentials"))
	if err != nil {
		panic(err) // a 32-byte key always makes a cipher
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return &Sealer{aead: aead}
}

// Seal encrypts plaintext. The empty string seals to the empty string
// (no credential).
func (x *Sealer) Seal(plaintext string) (string, error) {
	if plaintext == "" {
		return "", nil
	}
	nonce := make([]byte, x.aead.NonceSize(), x.aead.NonceSize()+len(plaintext)+x.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	out := x.aead.Seal(nonce, nonce, []byte(plaintext), []byte(sealPrefix))
	return sealPrefix + base64.StdEncoding.EncodeToString(out), nil
}

// ErrUnseal is returned for a value that was not sealed with this secret
// or was altered.
var ErrUnseal = errors.New("cannot decrypt stored credential: it was sealed with another SLUICE_SECRET_KEY or altered")

// Open decrypts a value made by Seal.
func (x *Sealer) Open(sealed string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	raw, ok := strings.CutPrefix(sealed, sealPrefix)
	if !ok {
		return "", ErrUnseal
	}
	b, err := base64.StdEncoding.DecodeString(raw)
	if err != nil || len(b) < x.aead.NonceSize()+x.aead.Overhead() {
		return "", ErrUnseal
	}
	n := x.aead.NonceSize()
	plain, err := x.aead.Open(nil, b[:n], b[n:], []byte(sealPrefix))
	if err != nil {
		return "", ErrUnseal
	}
	return string(plain), nil
}
