package admin

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"
)

// Sessions stores signed-in admin sessions.
type Sessions struct{ *store }

// NewID returns a random identifier with prefix (16 random bytes, hex).
func NewID(prefix string) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// Create starts a session for a user, valid until expires.
func (s *Sessions) Create(ctx context.Context, userID uint64, expires time.Time) (*Session, error) {
	ses := &Session{ID: NewID("ses_"), UserID: userID, ExpiresAt: expires.UTC(), CreatedAt: s.now()}
	if err := s.db.WithContext(ctx).Create(ses).Error; err != nil {
		return nil, err
	}
	return ses, nil
}

// Get returns a session.
func (s *Sessions) Get(ctx context.Context, id string) (*Session, error) {
	var ses Session
	if err := takeOr(s.db.WithContext(ctx), &ses, "session", id); err != nil {
		return nil, err
	}
	return &ses, nil
}

// Revoke ends a session; revoking it again changes nothing.
func (s *Sessions) Revoke(ctx context.Context, id string) error {
	return s.db.WithContext(ctx).Model(&Session{}).Where("id = ? AND revoked_at IS NULL", id).
		Update("revoked_at", s.now()).Error
}

// RevokeUser ends every session of a user (after a password reset).
func (s *Sessions) RevokeUser(ctx context.Context, userID uint64) error {
	return s.db.WithContext(ctx).Model(&Session{}).Where("user_id = ? AND revoked_at IS NULL", userID).
		Update("revoked_at", s.now()).Error
}
