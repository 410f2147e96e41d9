package keys

import (
	"errors"
	"fmt"
	"hash/maphash"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Verifier checks consumer keys against a Keyring and remembers the keys it
// has already verified, so the hot path costs one map lookup. It is safe for
// concurrent use. A Verifier belongs to one Keyring: after a rotation build a
// new one from the new Keyring (its cache starts empty).
type Verifier struct {
	ring   *Keyring
	parser *jwt.Parser
	cache  *cache // nil when caching is off
}

// Verifier returns a verifier for k that caches up to cacheSize verified keys
// (0 or less disables the cache). A cached key is still refused once it expires.
func (k *Keyring) Verifier(cacheSize int) *Verifier {
	return &Verifier{
		ring: k,
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			// Strict base64 gives each signature exactly one spelling, so a key
			// has one token string (and one Hash).
			jwt.WithStrictDecoding(),
			// Claims are checked below against the caller's now, not the wall clock.
			jwt.WithoutClaimsValidation(),
		),
		cache: newCache(cacheSize),
	}
}

// Verify returns the claims of token if this gateway signed it with a kid it
// still holds, the algorithm is HS256, the claims are complete, the issuer is
// "sluice" and the key has not expired at now. Errors wrap ErrMissing,
// ErrMalformed, ErrBadSignature or ErrExpired.
func (v *Verifier) Verify(token string, now time.Time) (Claims, error) {
	if token == "" {
		return Claims{}, ErrMissing
	}
	if v.cache != nil {
		if e, ok := v.cache.get(token); ok {
			if e.exp != 0 && now.UnixNano() >= e.exp {
				return Claims{}, ErrExpired
			}
			return e.claims, nil
		}
	}
	c, err := v.verify(token, now)
	if err != nil {
		return Claims{}, err
	}
	if v.cache != nil {
		e := cacheEntry{claims: c}
		if c.ExpiresAt != nil {
			e.exp = c.ExpiresAt.UnixNano()
		}
		v.cache.put(token, e)
	}
	return c, nil
}

// verify does the full check of a token that is not in the cache.
func (v *Verifier) verify(token string, now time.Time) (Claims, error) {
	if len(token) > maxTokenLen {
		return Claims{}, fmt.Errorf("%w: too long", ErrMalformed)
	}
	var rc jwt.RegisteredClaims
	_, err := v.parser.ParseWithClaims(token, &rc, v.keyFunc)
	if err != nil {
		// jwt's messages can quote decoded bytes; answer with our own text.
		switch {
		case errors.Is(err, jwt.ErrTokenMalformed):
			return Claims{}, ErrMalformed
		default:
			return Claims{}, ErrBadSignature
		}
	}
	switch {
	case rc.Issuer != Issuer:
		return Claims{}, fmt.Errorf("%w: wrong issuer", ErrBadSignature)
	case rc.Subject == "":
		return Claims{}, fmt.Errorf("%w: no consumer (sub)", ErrMalformed)
	case rc.ID == "":
		return Claims{}, fmt.Errorf("%w: no key id (jti)", ErrMalformed)
	case rc.IssuedAt == nil:
		return Claims{}, fmt.Errorf("%w: no issue time (iat)", ErrMalformed)
	case rc.NotBefore != nil && now.Before(rc.NotBefore.Time):
		return Claims{}, fmt.Errorf("%w: not valid yet", ErrBadSignature)
	case rc.ExpiresAt != nil && !now.Before(rc.ExpiresAt.Time):
		return Claims{}, ErrExpired
	}
	c := Claims{ConsumerID: rc.Subject, KeyID: rc.ID, IssuedAt: rc.IssuedAt.Time}
	if rc.ExpiresAt != nil {
		exp := rc.ExpiresAt.Time
		c.ExpiresAt = &exp
	}
	return c, nil
}

// errUnknownKid is returned by keyFunc; Verify reports it as ErrBadSignature.
var errUnknownKid = errors.New("unknown kid")

// keyFunc returns the secret of the token's kid.
func (v *Verifier) keyFunc(t *jwt.Token) (any, error) {
	kid, _ := t.Header["kid"].(string)
	secret, ok := v.ring.secrets[kid]
	if !ok {
		return nil, errUnknownKid
	}
	return secret, nil
}

// cacheEntry is one verified token.
type cacheEntry struct {
	claims Claims
	exp    int64 // ExpiresAt in Unix nanoseconds, 0 for never
}

// maxShards is the most shards a cache uses; fewer when the cache is small.
const maxShards = 64

// cache is a bounded map of verified tokens split in shards, each with its own
// lock and FIFO eviction, so readers on different shards never contend.
type cache struct {
	seed   maphash.Seed
	mask   uint64
	shards []cacheShard
}

// cacheShard is one lock's worth of the cache.
type cacheShard struct {
	mu    sync.RWMutex
	m     map[string]cacheEntry
	order []string // insertion order, a ring of len ≤ cap
	next  int      // next ring slot to overwrite once full
	cap   int
	_     [40]byte // keep neighbouring shards' locks off one cache line
}

// newCache returns a cache holding at most size entries, or nil if size ≤ 0.
func newCache(size int) *cache {
	if size <= 0 {
		return nil
	}
	n := 1
	for n*2 <= maxShards && n*2 <= size/16 {
		n *= 2
	}
	c := &cache{seed: maphash.MakeSeed(), mask: uint64(n - 1), shards: make([]cacheShard, n)}
	per := size / n
	for i := range c.shards {
		c.shards[i].m = make(map[string]cacheEntry, per)
		c.shards[i].cap = per
	}
	return c
}

// shard returns the shard of token.
func (c *cache) shard(token string) *cacheShard {
	return &c.shards[maphash.String(c.seed, token)&c.mask]
}

// get returns the entry of token.
func (c *cache) get(token string) (cacheEntry, bool) {
	s := c.shard(token)
	s.mu.RLock()
	e, ok := s.m[token]
	s.mu.RUnlock()
	return e, ok
}

// put stores e for token, evicting the shard's oldest entry when full.
func (c *cache) put(token string, e cacheEntry) {
	s := c.shard(token)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[token]; ok {
		return
	}
	token = strings.Clone(token) // do not pin the caller's buffer
	if len(s.order) < s.cap {
		s.order = append(s.order, token)
	} else {
		delete(s.m, s.order[s.next])
		s.order[s.next] = token
		s.next = (s.next + 1) % s.cap
	}
	s.m[token] = e
}

// len returns the number of cached tokens.
func (c *cache) len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.m)
		s.mu.RUnlock()
	}
	return n
}
