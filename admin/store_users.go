package admin

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"gorm.io/gorm"
)

// NewUsersWithCost returns the user store hashing new passwords at the given
// bcrypt cost; tests pass bcrypt.MinCost. Production uses NewUsers.
func NewUsersWithCost(db *gorm.DB, cost int) *Users { return &Users{db: db, cost: cost} }

// UserFilter selects users.
type UserFilter struct {
	// Q matches a substring of the email or name.
	Q      string
	Role   string
	TeamID uint64
	Page   Page
}

// UserUpdate changes the fields that are set.
type UserUpdate struct {
	Name     *string
	Role     *string
	Disabled *bool
}

// List returns one page of users.
func (s *Users) List(ctx context.Context, f UserFilter) ([]User, int64, error) {
	q := whereQ(s.db.WithContext(ctx).Model(&User{}), f.Q, "email", "name")
	if f.Role != "" {
		q = q.Where("role = ?", f.Role)
	}
	if f.TeamID != 0 {
		q = q.Where("id IN (?)", s.db.Model(&TeamMember{}).Select("user_id").Where("team_id = ?", f.TeamID))
	}
	return list[User](q, f.Page, "id")
}

// ByID finds a user by id.
func (s *Users) ByID(ctx context.Context, id uint64) (*User, error) {
	var u User
	if err := takeOr(s.db.WithContext(ctx), &u, "user", id); err != nil {
		return nil, err
	}
	return &u, nil
}

// CreateBy adds a user like Create and records who did it in the audit log.
func (s *Users) CreateBy(ctx context.Context, a Actor, email, name, password, role string) (*User, error) {
	u, err := s.Create(ctx, email, name, password, role)
	if err != nil {
		return nil, err
	}
	return u, audit(s.db.WithContext(ctx), a, "create", "user", u.ID, nil, nil, u)
}

// Update changes a user's name, role or disabled flag. The last enabled
// admin cannot be demoted or disabled (ErrConflict).
func (s *Users) Update(ctx context.Context, a Actor, id uint64, up UserUpdate) (*User, error) {
	var u User
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := takeOr(tx, &u, "user", id); err != nil {
			return err
		}
		before := u
		set := map[string]any{}
		if up.Name != nil {
			set["name"] = *up.Name
		}
		if up.Role != nil {
			set["role"] = *up.Role
		}
		if up.Disabled != nil {
			set["disabled"] = *up.Disabled
		}
		losesAdmin := u.Role == RoleAdmin && !u.Disabled &&
			((up.Role != nil && *up.Role != RoleAdmin) || (up.Disabled != nil && *up.Disabled))
		if losesAdmin {
			var n int64
			if err := tx.Model(&User{}).Where("role = ? AND disabled = ? AND id <> ?", RoleAdmin, false, id).Count(&n).Error; err != nil {
				return err
			}
			if n == 0 {
				return &ConflictError{Message: fmt.Sprintf("user %s is the last enabled admin; make another user admin first", u.Email)}
			}
		}
		if len(set) == 0 {
			return nil
		}
		set["updated_at"] = gorm.Expr("?", tx.NowFunc())
		if err := tx.Model(&User{}).Where("id = ?", id).Updates(set).Error; err != nil {
			return err
		}
		if err := takeOr(tx, &u, "user", id); err != nil {
			return err
		}
		return audit(tx, a, "update", "user", id, nil, before, u)
	})
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// ResetPassword sets a user's password; the audit log records that it
// changed, never the password or its hash.
func (s *Users) ResetPassword(ctx context.Context, a Actor, id uint64, password string) error {
	u, err := s.ByID(ctx, id)
	if err != nil {
		return err
	}
	if err := s.SetPassword(ctx, u.Email, password); err != nil {
		return err
	}
	return audit(s.db.WithContext(ctx), a, "reset_password", "user", id, nil, nil, map[string]any{"id": id, "email": strings.ToLower(u.Email)})
}

// CheckNoUser spends the time of a password check at this store's cost
// against a hash no password matches, so a login for an unknown email takes
// as long as one for a real user. It always returns false.
func (s *Users) CheckNoUser(password string) bool {
	h, ok := dummyHashes.Load(s.cost)
	if !ok {
		fresh, _ := hashPassword(GeneratePassword(), s.cost)
		h, _ = dummyHashes.LoadOrStore(s.cost, fresh)
	}
	CheckPassword(h.(string), password)
	return false
}

// dummyHashes caches one unmatchable hash per bcrypt cost for CheckNoUser.
var dummyHashes sync.Map
