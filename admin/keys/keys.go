// Package keys issues and verifies Sluice consumer keys.
//
// A consumer key is a JWT signed by the gateway with HS256. Its claims name the
// consumer (sub), the key (jti), when it was issued (iat), optionally when it
// expires (exp), and the issuer "sluice" (iss). The HMAC secret of every key id
// (kid) is derived from the master secret with HKDF-SHA256, so rotating the
// signing key needs no stored secret: a new current kid signs new keys, older
// kids keep verifying the keys they signed until those expire or are revoked.
//
// Verification answers only "did this gateway sign this key, and is it still
// within its lifetime?". Revocation is the caller's business (by Claims.KeyID).
//
// The package is on the request hot path: it imports only the standard library
// and github.com/golang-jwt/jwt/v5, never Gin or GORM.
package keys

import (
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Issuer is the iss claim of every consumer key.
const Issuer = "sluice"

// hkdfInfoPrefix is the HKDF info of a kid's secret, followed by the kid.
const hkdfInfoPrefix = "sluice consumer key "

// secretLen is the length in bytes of each derived HMAC-SHA256 secret.
const secretLen = 32

// minMasterLen is the shortest master secret NewKeyring accepts.
const minMasterLen = 16

// maxTokenLen bounds the tokens Verify will parse; real keys are ~250 bytes.
const maxTokenLen = 4096

// Errors returned by Verify and ExtractKey. Their messages are safe to show to
// the caller in a 401 answer: they never contain the key itself. Test with
// errors.Is; the returned error may wrap one of them with more detail.
var (
	// ErrMissing means the request carried no key.
	ErrMissing = errors.New("missing API key: send it as 'Authorization: Bearer KEY', 'x-api-key: KEY' or 'api-key: KEY'")
	// ErrMalformed means the key is not a well-formed Sluice key.
	ErrMalformed = errors.New("malformed API key: check that the whole key was copied")
	// ErrBadSignature means the key was not signed by this gateway (forged,
	// altered, or signed with a key id this gateway no longer holds).
	ErrBadSignature = errors.New("invalid API key: it was not issued by this gateway")
	// ErrExpired means the key's lifetime has ended.
	ErrExpired = errors.New("API key expired: ask the gateway operator for a new key")
)

// Claims is what a consumer key says about itself.
type Claims struct {
	// ConsumerID is the consumer owning the key (JWT sub).
	ConsumerID string
	// KeyID identifies the key; revocation is recorded against it (JWT jti).
	KeyID string
	// IssuedAt is when the key was created (JWT iat, whole seconds).
	IssuedAt time.Time
	// ExpiresAt is when the key stops working (JWT exp, whole seconds); nil
	// for a key that never expires. Claims returned by Verify may share this
	// pointer with the verifier's cache: treat it as read-only.
	ExpiresAt *time.Time
}

// Keyring holds the HMAC secrets of the signing key ids. It is immutable and
// safe for concurrent use; rotate by building a new Keyring.
type Keyring struct {
	current string
	secrets map[string][]byte
}

// NewKeyring derives the secrets of the current kid (which signs new keys) and
// of the previous kids (which only verify) from the master secret.
func NewKeyring(master []byte, current string, previous ...string) (*Keyring, error) {
	if len(master) < minMasterLen {
		return nil, fmt.Errorf("keys: master secret must be at least %d bytes, got %d", minMasterLen, len(master))
	}
	if current == "" {
		return nil, errors.New("keys: current key id must not be empty")
	}
	k := &Keyring{current: current, secrets: make(map[string][]byte, 1+len(previous))}
	for _, kid := range append([]string{current}, previous...) {
		if kid == "" {
			return nil, errors.New("keys: key id must not be empty")
		}
		secret, err := hkdf.Key(sha256.New, master, nil, hkdfInfoPrefix+kid, secretLen)
		if err != nil {
			return nil, fmt.Errorf("keys: derive secret for kid %q: %w", kid, err)
		}
		k.secrets[kid] = secret
	}
	return k, nil
}

// Current returns the key id that signs new keys.
func (k *Keyring) Current() string { return k.current }

// Issue signs a new consumer key for c with the current kid. ConsumerID, KeyID
// and IssuedAt are required; times are truncated to whole seconds.
func (k *Keyring) Issue(c Claims) (string, error) {
	switch {
	case c.ConsumerID == "":
		return "", errors.New("keys: issue: consumer id is required")
	case c.KeyID == "":
		return "", errors.New("keys: issue: key id is required")
	case c.IssuedAt.IsZero():
		return "", errors.New("keys: issue: issued-at time is required")
	}
	rc := jwt.RegisteredClaims{
		Issuer:   Issuer,
		Subject:  c.ConsumerID,
		ID:       c.KeyID,
		IssuedAt: jwt.NewNumericDate(c.IssuedAt),
	}
	if c.ExpiresAt != nil {
		rc.ExpiresAt = jwt.NewNumericDate(*c.ExpiresAt)
	}
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, rc)
	t.Header["kid"] = k.current
	s, err := t.SignedString(k.secrets[k.current])
	if err != nil {
		return "", fmt.Errorf("keys: issue: sign: %w", err)
	}
	return s, nil
}

// Hash returns the hex SHA-256 of a key: what the database stores instead of
// the key itself.
func Hash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// prefixLen is how many signature characters Prefix shows.
const prefixLen = 12

// Prefix returns a short label that identifies a key in a list without
// revealing enough of it to use: the first 12 characters of the signature part
// (the text after the last '.') followed by "…". All Sluice keys share the
// same header, so the signature is the part that tells them apart; 12 base64url
// characters are 72 of its 256 bits, which is plenty to tell keys apart and
// useless for forging (the remaining 184 bits stay secret, and a JWT is only
// accepted whole). A token without a long enough signature yields just "…".
func Prefix(token string) string {
	sig := token[strings.LastIndexByte(token, '.')+1:]
	if len(sig) < 2*prefixLen {
		return "…"
	}
	return sig[:prefixLen] + "…"
}

// ExtractKey returns the consumer key from the three places a client may send
// it: the Authorization header ("Bearer KEY"), x-api-key (Anthropic SDKs) or
// api-key (Azure SDKs), in that order of precedence. It returns ErrMissing when
// all three are empty and ErrMalformed when Authorization is set but is not
// "Bearer <token>".
func ExtractKey(authorization, xAPIKey, apiKey string) (string, error) {
	if a := strings.TrimSpace(authorization); a != "" {
		const scheme = "bearer "
		if len(a) <= len(scheme) || !strings.EqualFold(a[:len(scheme)], scheme) {
			return "", fmt.Errorf("%w: the Authorization header must be 'Bearer KEY'", ErrMalformed)
		}
		tok := strings.TrimSpace(a[len(scheme):])
		if tok == "" || strings.ContainsAny(tok, " \t") {
			return "", fmt.Errorf("%w: the Authorization header must be 'Bearer KEY'", ErrMalformed)
		}
		return tok, nil
	}
	for _, v := range [...]string{xAPIKey, apiKey} {
		if tok := strings.TrimSpace(v); tok != "" {
			return tok, nil
		}
	}
	return "", ErrMissing
}
