package keys

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var (
	testMaster = []byte("0123456789abcdef0123456789abcdef")
	t0         = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

func mustRing(t testing.TB, current string, previous ...string) *Keyring {
	t.Helper()
	k, err := NewKeyring(testMaster, current, previous...)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustIssue(t testing.TB, k *Keyring, c Claims) string {
	t.Helper()
	tok, err := k.Issue(c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func ptr[T any](v T) *T { return &v }

// sign builds a token with any method, header and claims, for forgery cases.
func sign(t testing.TB, m jwt.SigningMethod, kid string, claims jwt.MapClaims, key any) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// validClaims returns a complete claim set; tests delete or change fields.
func validClaims() jwt.MapClaims {
	return jwt.MapClaims{"iss": "sluice", "sub": "cons_1", "jti": "key_1", "iat": t0.Unix(), "exp": t0.Add(time.Hour).Unix()}
}

func without(c jwt.MapClaims, field string) jwt.MapClaims {
	delete(c, field)
	return c
}

func with(c jwt.MapClaims, field string, v any) jwt.MapClaims {
	c[field] = v
	return c
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func TestIssueVerifyRoundTrip(t *testing.T) {
	k := mustRing(t, "k1")
	exp := t0.Add(24 * time.Hour)
	tests := []struct {
		name string
		in   Claims
	}{
		{"with expiry", Claims{ConsumerID: "cons_1", KeyID: "key_1", IssuedAt: t0, ExpiresAt: &exp}},
		{"never expires", Claims{ConsumerID: "cons_2", KeyID: "key_2", IssuedAt: t0}},
		{"sub-second times truncate", Claims{ConsumerID: "c", KeyID: "k", IssuedAt: t0.Add(900 * time.Millisecond)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := mustIssue(t, k, tt.in)
			got, err := k.Verifier(0).Verify(tok, t0.Add(time.Minute))
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got.ConsumerID != tt.in.ConsumerID || got.KeyID != tt.in.KeyID {
				t.Errorf("got sub=%q jti=%q, want %q %q", got.ConsumerID, got.KeyID, tt.in.ConsumerID, tt.in.KeyID)
			}
			if !got.IssuedAt.Equal(tt.in.IssuedAt.Truncate(time.Second)) {
				t.Errorf("IssuedAt = %v, want %v", got.IssuedAt, tt.in.IssuedAt.Truncate(time.Second))
			}
			switch {
			case tt.in.ExpiresAt == nil && got.ExpiresAt != nil:
				t.Errorf("ExpiresAt = %v, want nil", *got.ExpiresAt)
			case tt.in.ExpiresAt != nil && (got.ExpiresAt == nil || !got.ExpiresAt.Equal(*tt.in.ExpiresAt)):
				t.Errorf("ExpiresAt = %v, want %v", got.ExpiresAt, *tt.in.ExpiresAt)
			}
		})
	}
}

// TestIssueWireFormat pins the token format and the HKDF derivation: if either
// changes, every key already handed out stops working.
func TestIssueWireFormat(t *testing.T) {
	k := mustRing(t, "k1")
	tok := mustIssue(t, k, Claims{ConsumerID: "cons_1", KeyID: "key_1", IssuedAt: t0, ExpiresAt: ptr(t0.Add(time.Hour))})
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	if want := b64(`{"alg":"HS256","kid":"k1","typ":"JWT"}`); parts[0] != want {
		t.Errorf("header = %s, want %s", parts[0], want)
	}
	wantClaims := fmt.Sprintf(`{"iss":"sluice","sub":"cons_1","exp":%d,"iat":%d,"jti":"key_1"}`, t0.Add(time.Hour).Unix(), t0.Unix())
	if want := b64(wantClaims); parts[1] != want {
		t.Errorf("claims = %s, want %s", parts[1], want)
	}
	secret, err := hkdf.Key(sha256.New, testMaster, nil, "sluice consumer key k1", 32)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := jwt.SigningMethodHS256.Sign(parts[0]+"."+parts[1], secret)
	if err != nil {
		t.Fatal(err)
	}
	if got := parts[2]; got != base64.RawURLEncoding.EncodeToString(sig) {
		t.Errorf("signature does not match HMAC-SHA256 with HKDF(master, info=%q)", "sluice consumer key k1")
	}
}

func TestIssueRejectsIncompleteClaims(t *testing.T) {
	k := mustRing(t, "k1")
	tests := []struct {
		name string
		c    Claims
	}{
		{"no consumer", Claims{KeyID: "k", IssuedAt: t0}},
		{"no key id", Claims{ConsumerID: "c", IssuedAt: t0}},
		{"no issue time", Claims{ConsumerID: "c", KeyID: "k"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tok, err := k.Issue(tt.c); err == nil {
				t.Fatalf("Issue = %q, want error", tok)
			}
		})
	}
}

func TestNewKeyringValidates(t *testing.T) {
	tests := []struct {
		name     string
		master   []byte
		current  string
		previous []string
	}{
		{"short master", []byte("short"), "k1", nil},
		{"empty current", testMaster, "", nil},
		{"empty previous", testMaster, "k1", []string{""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewKeyring(tt.master, tt.current, tt.previous...); err == nil {
				t.Fatal("NewKeyring succeeded, want error")
			}
		})
	}
}

func TestVerifyRefusesForgeries(t *testing.T) {
	k := mustRing(t, "k1", "k0")
	good := mustIssue(t, k, Claims{ConsumerID: "cons_1", KeyID: "key_1", IssuedAt: t0, ExpiresAt: ptr(t0.Add(time.Hour))})
	gp := strings.Split(good, ".")
	s1 := k.secrets["k1"]

	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewKeyring([]byte("another master secret, 32 bytes!"), "k1")
	if err != nil {
		t.Fatal(err)
	}
	unheld, err := hkdf.Key(sha256.New, testMaster, nil, "sluice consumer key k9", 32)
	if err != nil {
		t.Fatal(err)
	}
	// A signature with non-zero trailing bits decodes to the same bytes with
	// lenient base64; strict decoding must refuse the second spelling.
	sig := []byte(gp[2])
	last := strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", sig[len(sig)-1])
	sig[len(sig)-1] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[last|1]
	malleable := gp[0] + "." + gp[1] + "." + string(sig)

	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"empty", "", ErrMissing},
		{"one segment", "notajwt", ErrMalformed},
		{"two segments", gp[0] + "." + gp[1], ErrMalformed},
		{"four segments", good + ".x", ErrMalformed},
		{"header not base64", "!!!." + gp[1] + "." + gp[2], ErrMalformed},
		{"header not JSON", b64("nope") + "." + gp[1] + "." + gp[2], ErrMalformed},
		{"claims not JSON", gp[0] + "." + b64("{") + "." + gp[2], ErrMalformed},
		{"too long", gp[0] + "." + b64(`{"sub":"`+strings.Repeat("a", maxTokenLen)+`"}`) + "." + gp[2], ErrMalformed},
		{"non-canonical signature encoding", malleable, ErrMalformed},
		{"alg none", b64(`{"alg":"none","kid":"k1","typ":"JWT"}`) + "." + gp[1] + ".", ErrBadSignature},
		{"alg none uppercase", b64(`{"alg":"NONE","kid":"k1","typ":"JWT"}`) + "." + gp[1] + ".", ErrBadSignature},
		{"alg missing", b64(`{"kid":"k1","typ":"JWT"}`) + "." + gp[1] + "." + gp[2], ErrBadSignature},
		{"RS256", sign(t, jwt.SigningMethodRS256, "k1", validClaims(), rsaKey), ErrBadSignature},
		{"ES256", sign(t, jwt.SigningMethodES256, "k1", validClaims(), ecKey), ErrBadSignature},
		{"HS384 with the right secret", sign(t, jwt.SigningMethodHS384, "k1", validClaims(), s1), ErrBadSignature},
		{"HS512 with the right secret", sign(t, jwt.SigningMethodHS512, "k1", validClaims(), s1), ErrBadSignature},
		{"RS256 header over HS256 signature", b64(`{"alg":"RS256","kid":"k1","typ":"JWT"}`) + "." + gp[1] + "." + gp[2], ErrBadSignature},
		{"unknown kid", sign(t, jwt.SigningMethodHS256, "k9", validClaims(), unheld), ErrBadSignature},
		{"no kid", sign(t, jwt.SigningMethodHS256, "", validClaims(), s1), ErrBadSignature},
		{"kid not a string", b64(`{"alg":"HS256","kid":1,"typ":"JWT"}`) + "." + gp[1] + "." + gp[2], ErrBadSignature},
		{"kid swapped to previous", b64(`{"alg":"HS256","kid":"k0","typ":"JWT"}`) + "." + gp[1] + "." + gp[2], ErrBadSignature},
		{"wrong secret", sign(t, jwt.SigningMethodHS256, "k1", validClaims(), []byte("guessed-secret-guessed-secret-32")), ErrBadSignature},
		{"other master same kid", mustIssue(t, other, Claims{ConsumerID: "cons_1", KeyID: "key_1", IssuedAt: t0}), ErrBadSignature},
		{"secret is the master itself", sign(t, jwt.SigningMethodHS256, "k1", validClaims(), testMaster), ErrBadSignature},
		{"empty secret", b64(`{"alg":"HS256","kid":"k1","typ":"JWT"}`) + "." + gp[1] + ".", ErrBadSignature},
		{"altered sub", gp[0] + "." + b64(fmt.Sprintf(`{"iss":"sluice","sub":"cons_2","exp":%d,"iat":%d,"jti":"key_1"}`, t0.Add(time.Hour).Unix(), t0.Unix())) + "." + gp[2], ErrBadSignature},
		{"altered exp", gp[0] + "." + b64(fmt.Sprintf(`{"iss":"sluice","sub":"cons_1","exp":%d,"iat":%d,"jti":"key_1"}`, t0.Add(1000*time.Hour).Unix(), t0.Unix())) + "." + gp[2], ErrBadSignature},
		{"exp removed", gp[0] + "." + b64(fmt.Sprintf(`{"iss":"sluice","sub":"cons_1","iat":%d,"jti":"key_1"}`, t0.Unix())) + "." + gp[2], ErrBadSignature},
		{"signature of another key", gp[0] + "." + gp[1] + "." + strings.Split(mustIssue(t, k, Claims{ConsumerID: "x", KeyID: "y", IssuedAt: t0}), ".")[2], ErrBadSignature},
		{"signature truncated", gp[0] + "." + gp[1] + "." + gp[2][:40], ErrBadSignature},
		{"missing sub", sign(t, jwt.SigningMethodHS256, "k1", without(validClaims(), "sub"), s1), ErrMalformed},
		{"empty sub", sign(t, jwt.SigningMethodHS256, "k1", with(validClaims(), "sub", ""), s1), ErrMalformed},
		{"missing jti", sign(t, jwt.SigningMethodHS256, "k1", without(validClaims(), "jti"), s1), ErrMalformed},
		{"missing iat", sign(t, jwt.SigningMethodHS256, "k1", without(validClaims(), "iat"), s1), ErrMalformed},
		{"exp not a number", sign(t, jwt.SigningMethodHS256, "k1", with(validClaims(), "exp", "tomorrow"), s1), ErrMalformed},
		{"missing iss", sign(t, jwt.SigningMethodHS256, "k1", without(validClaims(), "iss"), s1), ErrBadSignature},
		{"other issuer", sign(t, jwt.SigningMethodHS256, "k1", with(validClaims(), "iss", "sluice-admin"), s1), ErrBadSignature},
		{"not valid yet", sign(t, jwt.SigningMethodHS256, "k1", with(validClaims(), "nbf", t0.Add(time.Hour).Unix()), s1), ErrBadSignature},
		{"expired", sign(t, jwt.SigningMethodHS256, "k1", with(validClaims(), "exp", t0.Add(-time.Second).Unix()), s1), ErrExpired},
		{"expires exactly now", sign(t, jwt.SigningMethodHS256, "k1", with(validClaims(), "exp", t0.Unix()), s1), ErrExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, size := range []int{0, 128} { // uncached and cached verifiers alike
				v := k.Verifier(size)
				for range 2 { // a refused token must not be cached as good
					got, err := v.Verify(tt.token, t0)
					if !errors.Is(err, tt.want) {
						t.Fatalf("cache %d: Verify = %+v, %v; want %v", size, got, err, tt.want)
					}
					if got != (Claims{}) {
						t.Errorf("cache %d: refused token returned claims %+v", size, got)
					}
					assertNoEcho(t, err, tt.token)
				}
				if v.cache != nil && v.cache.len() != 0 {
					t.Errorf("refused token was cached")
				}
			}
		})
	}
	if _, err := k.Verifier(0).Verify(good, t0); err != nil {
		t.Fatalf("control: good token refused: %v", err)
	}
}

// assertNoEcho fails if err's message quotes any sizeable piece of token.
func assertNoEcho(t *testing.T, err error, token string) {
	t.Helper()
	msg := err.Error()
	for _, part := range strings.Split(token, ".") {
		for i := 0; i+8 <= len(part); i += 4 {
			if strings.Contains(msg, part[i:i+8]) {
				t.Fatalf("error %q echoes the token", msg)
			}
		}
	}
}

func TestRotation(t *testing.T) {
	old := mustRing(t, "k1")
	oldTok := mustIssue(t, old, Claims{ConsumerID: "c", KeyID: "old", IssuedAt: t0})

	rotated := mustRing(t, "k2", "k1")
	newTok := mustIssue(t, rotated, Claims{ConsumerID: "c", KeyID: "new", IssuedAt: t0})
	if strings.Split(newTok, ".")[0] != b64(`{"alg":"HS256","kid":"k2","typ":"JWT"}`) {
		t.Fatalf("new key not signed with kid k2: %s", strings.Split(newTok, ".")[0])
	}
	retired := mustRing(t, "k2")

	tests := []struct {
		name  string
		ring  *Keyring
		token string
		want  error
	}{
		{"old key, old ring", old, oldTok, nil},
		{"old key after rotation (k1 kept as previous)", rotated, oldTok, nil},
		{"new key after rotation", rotated, newTok, nil},
		{"new key on a replica still on the old ring", old, newTok, ErrBadSignature},
		{"old key after k1 removed", retired, oldTok, ErrBadSignature},
		{"new key after k1 removed", retired, newTok, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.ring.Verifier(16).Verify(tt.token, t0)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestExpiryUsesGivenTime(t *testing.T) {
	k := mustRing(t, "k1")
	exp := t0.Add(time.Hour)
	tok := mustIssue(t, k, Claims{ConsumerID: "c", KeyID: "k", IssuedAt: t0, ExpiresAt: &exp})
	tests := []struct {
		name string
		now  time.Time
		want error
	}{
		{"long before", t0.Add(-24 * time.Hour), nil},
		{"one second before", exp.Add(-time.Second), nil},
		{"one nanosecond before", exp.Add(-time.Nanosecond), nil},
		{"exactly at exp", exp, ErrExpired},
		{"after", exp.Add(time.Second), ErrExpired},
		{"years after", exp.AddDate(5, 0, 0), ErrExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := k.Verifier(0).Verify(tok, tt.now)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("Verify at %v = %v, want %v", tt.now, err, tt.want)
			}
		})
	}
}

func TestCachedTokenStillExpires(t *testing.T) {
	k := mustRing(t, "k1")
	exp := t0.Add(time.Hour)
	tok := mustIssue(t, k, Claims{ConsumerID: "c", KeyID: "k", IssuedAt: t0, ExpiresAt: &exp})
	v := k.Verifier(64)
	if _, err := v.Verify(tok, t0); err != nil {
		t.Fatal(err)
	}
	if n := v.cache.len(); n != 1 {
		t.Fatalf("cache holds %d tokens after one verify, want 1", n)
	}
	if c, err := v.Verify(tok, exp.Add(-time.Nanosecond)); err != nil || c.KeyID != "k" || !c.ExpiresAt.Equal(exp) {
		t.Fatalf("cached verify just before expiry = %+v, %v", c, err)
	}
	if _, err := v.Verify(tok, exp); !errors.Is(err, ErrExpired) {
		t.Fatalf("cached verify at expiry = %v, want ErrExpired", err)
	}
	if _, err := v.Verify(tok, exp.Add(time.Hour)); !errors.Is(err, ErrExpired) {
		t.Fatalf("cached verify after expiry = %v, want ErrExpired", err)
	}
}

func TestCacheHitAllocations(t *testing.T) {
	k := mustRing(t, "k1")
	tok := mustIssue(t, k, Claims{ConsumerID: "c", KeyID: "k", IssuedAt: t0, ExpiresAt: ptr(t0.Add(time.Hour))})
	v := k.Verifier(64)
	if _, err := v.Verify(tok, t0); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := v.Verify(tok, t0); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 2 {
		t.Fatalf("cached Verify allocates %.0f times, want ≤ 2", allocs)
	}
}

func TestCacheBound(t *testing.T) {
	k := mustRing(t, "k1")
	for _, size := range []int{1, 3, 16, 17, 100, 300} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			v := k.Verifier(size)
			toks := make([]string, 3*size+5)
			for i := range toks {
				toks[i] = mustIssue(t, k, Claims{ConsumerID: "c", KeyID: fmt.Sprint("key_", i), IssuedAt: t0})
				if _, err := v.Verify(toks[i], t0); err != nil {
					t.Fatal(err)
				}
				if n := v.cache.len(); n > size {
					t.Fatalf("cache holds %d tokens, bound is %d", n, size)
				}
			}
			if n := v.cache.len(); n < size/2 {
				t.Errorf("cache holds only %d tokens of %d allowed", n, size)
			}
			// Evicted tokens are verified again, with the right claims.
			for i, tok := range toks {
				c, err := v.Verify(tok, t0)
				if err != nil || c.KeyID != fmt.Sprint("key_", i) {
					t.Fatalf("token %d: Verify = %+v, %v", i, c, err)
				}
			}
		})
	}
}

func TestVerifyConcurrent(t *testing.T) {
	k := mustRing(t, "k1")
	v := k.Verifier(32)
	toks := make([]string, 64)
	for i := range toks {
		toks[i] = mustIssue(t, k, Claims{ConsumerID: fmt.Sprint("c", i), KeyID: fmt.Sprint("k", i), IssuedAt: t0})
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				j := (g*7 + i) % len(toks)
				c, err := v.Verify(toks[j], t0)
				if err != nil || c.KeyID != fmt.Sprint("k", j) {
					errs <- fmt.Errorf("token %d: %+v, %v", j, c, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := v.cache.len(); n > 32 {
		t.Errorf("cache holds %d, bound 32", n)
	}
}

func TestExtractKey(t *testing.T) {
	tests := []struct {
		name                  string
		auth, xAPIKey, apiKey string
		want                  string
		wantErr               error
	}{
		{name: "bearer", auth: "Bearer tok", want: "tok"},
		{name: "bearer lower case", auth: "bearer tok", want: "tok"},
		{name: "bearer extra spaces", auth: "  Bearer   tok  ", want: "tok"},
		{name: "x-api-key", xAPIKey: "tok", want: "tok"},
		{name: "api-key", apiKey: " tok ", want: "tok"},
		{name: "authorization wins", auth: "Bearer a", xAPIKey: "b", apiKey: "c", want: "a"},
		{name: "x-api-key before api-key", xAPIKey: "b", apiKey: "c", want: "b"},
		{name: "none", wantErr: ErrMissing},
		{name: "blank values", auth: "  ", xAPIKey: " ", wantErr: ErrMissing},
		{name: "basic scheme", auth: "Basic dXNlcjpwYXNz", wantErr: ErrMalformed},
		{name: "token without scheme", auth: "tok", wantErr: ErrMalformed},
		{name: "bearer without token", auth: "Bearer", wantErr: ErrMalformed},
		{name: "bearer with blank token", auth: "Bearer    ", wantErr: ErrMalformed},
		{name: "bearer with two tokens", auth: "Bearer a b", wantErr: ErrMalformed},
		{name: "bearer glued", auth: "Bearertok", wantErr: ErrMalformed},
		{name: "malformed authorization not rescued by x-api-key", auth: "Basic x", xAPIKey: "tok", wantErr: ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ExtractKey(tt.auth, tt.xAPIKey, tt.apiKey)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("ExtractKey = %q, %v; want %v", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ExtractKey = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestHash(t *testing.T) {
	// SHA-256("abc") from FIPS 180-2, appendix B.1.
	if got, want := Hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; got != want {
		t.Fatalf("Hash(abc) = %s, want %s", got, want)
	}
}

func TestPrefix(t *testing.T) {
	k := mustRing(t, "k1")
	tok := mustIssue(t, k, Claims{ConsumerID: "c", KeyID: "k", IssuedAt: t0})
	sig := tok[strings.LastIndexByte(tok, '.')+1:]
	tests := []struct {
		name, token, want string
	}{
		{"issued key", tok, sig[:12] + "…"},
		{"no dots", strings.Repeat("a", 30), strings.Repeat("a", 12) + "…"},
		{"short signature", "a.b.c", "…"},
		{"empty", "", "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Prefix(tt.token); got != tt.want {
				t.Fatalf("Prefix = %q, want %q", got, tt.want)
			}
		})
	}
	other := mustIssue(t, k, Claims{ConsumerID: "c", KeyID: "k2", IssuedAt: t0})
	if Prefix(tok) == Prefix(other) {
		t.Errorf("two keys share the prefix %q", Prefix(tok))
	}
}

func FuzzVerify(f *testing.F) {
	k := mustRing(f, "k1", "k0")
	valid := map[string]bool{}
	for _, c := range []Claims{
		{ConsumerID: "cons_1", KeyID: "key_1", IssuedAt: t0, ExpiresAt: ptr(t0.Add(time.Hour))},
		{ConsumerID: "cons_2", KeyID: "key_2", IssuedAt: t0},
	} {
		tok := mustIssue(f, k, c)
		valid[tok] = true
		f.Add(tok)
		p := strings.Split(tok, ".")
		f.Add(p[0] + "." + p[1] + "." + p[2][:len(p[2])-1] + "A")
		f.Add(p[0] + "." + p[1] + ".")
		f.Add(b64(`{"alg":"none","kid":"k1"}`) + "." + p[1] + ".")
		f.Add(b64(`{"alg":"HS256","kid":"k0","typ":"JWT"}`) + "." + p[1] + "." + p[2])
	}
	f.Add(mustIssue(f, k, Claims{ConsumerID: "c", KeyID: "expired", IssuedAt: t0, ExpiresAt: ptr(t0)}))
	f.Add(sign(f, jwt.SigningMethodHS256, "k1", without(validClaims(), "sub"), k.secrets["k1"]))
	f.Add("")
	f.Add("..")
	f.Add("a.b.c")
	v := k.Verifier(8)
	f.Fuzz(func(t *testing.T, token string) {
		c, err := v.Verify(token, t0)
		if err == nil && !valid[token] {
			t.Fatalf("accepted forged token %q as %+v", token, c)
		}
		if err != nil && !errors.Is(err, ErrMissing) && !errors.Is(err, ErrMalformed) &&
			!errors.Is(err, ErrBadSignature) && !errors.Is(err, ErrExpired) {
			t.Fatalf("untyped error %v", err)
		}
	})
}

func BenchmarkVerifyCached(b *testing.B) {
	k := mustRing(b, "k1")
	tok := mustIssue(b, k, Claims{ConsumerID: "cons_1", KeyID: "key_1", IssuedAt: t0, ExpiresAt: ptr(t0.Add(time.Hour))})
	v := k.Verifier(10000)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := v.Verify(tok, t0); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkVerifyUncached(b *testing.B) {
	k := mustRing(b, "k1")
	tok := mustIssue(b, k, Claims{ConsumerID: "cons_1", KeyID: "key_1", IssuedAt: t0, ExpiresAt: ptr(t0.Add(time.Hour))})
	v := k.Verifier(0)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(tok, t0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyCachedSerial(b *testing.B) {
	k := mustRing(b, "k1")
	tok := mustIssue(b, k, Claims{ConsumerID: "cons_1", KeyID: "key_1", IssuedAt: t0, ExpiresAt: ptr(t0.Add(time.Hour))})
	v := k.Verifier(10000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(tok, t0); err != nil {
			b.Fatal(err)
		}
	}
}
