package admin

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"
)

// Roles of admin users.
const (
	RoleAdmin  = "admin"
	RoleMember = "member"
)

// User is a person who signs in to the admin API and console.
type User struct {
	ID           uint64    `json:"id" gorm:"primaryKey"`
	Email        string    `json:"email"`
	Name         string    `json:"name"`
	PasswordHash string    `json:"-"`
	Role         string    `json:"role"`
	Disabled     bool      `json:"disabled"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// ErrDuplicate is returned when a unique field (an email, a slug) is taken.
var ErrDuplicate = errors.New("already exists")

// ErrNotFound is returned when a record does not exist.
var ErrNotFound = errors.New("not found")

// BcryptCost is bcrypt's work factor for admin passwords.
const BcryptCost = 12

// HashPassword hashes a password with bcrypt at BcryptCost.
func HashPassword(password string) (string, error) {
	return hashPassword(password, BcryptCost)
}

func hashPassword(password string, cost int) (string, error) {
	if len(password) < 8 {
		return "", errors.New("password must have at least 8 characters")
	}
	if len(password) > 72 {
		return "", errors.New("password must have at most 72 bytes")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	return string(h), err
}

// CheckPassword reports whether password matches hash, in constant time.
func CheckPassword(hash, password string) bool {
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
}

// GeneratePassword returns a random 24-character password from an
// unambiguous alphabet (about 137 bits).
func GeneratePassword() string {
	const alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	return randomFrom(alphabet, 24)
}

func randomFrom(alphabet string, n int) string {
	b := make([]byte, n)
	// Rejection sampling keeps every character equally likely.
	limit := byte(256 - 256%len(alphabet))
	buf := make([]byte, 1)
	for i := 0; i < n; {
		_, _ = rand.Read(buf)
		if buf[0] >= limit {
			continue
		}
		b[i] = alphabet[int(buf[0])%len(alphabet)]
		i++
	}
	return string(b)
}

// Users stores admin users.
type Users struct {
	db   *gorm.DB
	cost int // bcrypt work factor; tests lower it
}

// NewUsers returns the user store over db.
func NewUsers(db *gorm.DB) *Users { return &Users{db: db, cost: BcryptCost} }

// Create adds a user with a hashed password.
func (s *Users) Create(ctx context.Context, email, name, password, role string) (*User, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if !strings.Contains(email, "@") {
		return nil, fmt.Errorf("email %q is not an email address", email)
	}
	if role != RoleAdmin && role != RoleMember {
		return nil, fmt.Errorf("role must be %s or %s", RoleAdmin, RoleMember)
	}
	hash, err := hashPassword(password, s.cost)
	if err != nil {
		return nil, err
	}
	u := &User{Email: email, Name: name, PasswordHash: hash, Role: role}
	if err := s.db.WithContext(ctx).Create(u).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return nil, fmt.Errorf("user %s: %w", email, ErrDuplicate)
		}
		return nil, err
	}
	return u, nil
}

// ByEmail finds a user by email.
func (s *Users) ByEmail(ctx context.Context, email string) (*User, error) {
	var u User
	err := s.db.WithContext(ctx).Where("email = ?", strings.ToLower(strings.TrimSpace(email))).Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, fmt.Errorf("user %s: %w", email, ErrNotFound)
	}
	return &u, err
}

// SetPassword replaces a user's password.
func (s *Users) SetPassword(ctx context.Context, email, password string) error {
	hash, err := hashPassword(password, s.cost)
	if err != nil {
		return err
	}
	res := s.db.WithContext(ctx).Model(&User{}).Where("email = ?", strings.ToLower(strings.TrimSpace(email))).
		Updates(map[string]any{"password_hash": hash, "updated_at": time.Now().UTC()})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("user %s: %w", email, ErrNotFound)
	}
	return nil
}

// HasAdmin reports whether any enabled admin exists.
func (s *Users) HasAdmin(ctx context.Context) (bool, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&User{}).Where("role = ? AND disabled = ?", RoleAdmin, false).Count(&n).Error
	return n > 0, err
}

// Bootstrap creates the first admin when no admin exists. When password is
// empty it generates one and returns it, to be shown once. It returns
// created=false when an admin already exists (also when another process
// created it at the same moment).
func Bootstrap(ctx context.Context, users *Users, email, password string) (created bool, generated string, err error) {
	has, err := users.HasAdmin(ctx)
	if err != nil || has {
		return false, "", err
	}
	if password == "" {
		password = GeneratePassword()
		generated = password
	}
	if _, err := users.Create(ctx, email, "Administrator", password, RoleAdmin); err != nil {
		if errors.Is(err, ErrDuplicate) {
			return false, "", nil
		}
		return false, "", err
	}
	return true, generated, nil
}
