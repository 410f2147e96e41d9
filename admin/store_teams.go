package admin

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"
)

// Teams stores teams and their members.
type Teams struct{ *store }

// TeamView is a team with its members.
type TeamView struct {
	Team
	Members []User `json:"members"`
}

// TeamFilter selects teams.
type TeamFilter struct {
	// Q matches a substring of the name.
	Q    string
	Page Page
}

// List returns one page of teams.
func (s *Teams) List(ctx context.Context, f TeamFilter) ([]Team, int64, error) {
	q := whereQ(s.db.WithContext(ctx).Model(&Team{}), f.Q, "name")
	return list[Team](q, f.Page, "id")
}

// Get returns a team with its members.
func (s *Teams) Get(ctx context.Context, id uint64) (*TeamView, error) {
	var t TeamView
	db := s.db.WithContext(ctx)
	if err := takeOr(db, &t.Team, "team", id); err != nil {
		return nil, err
	}
	t.Members = []User{}
	err := db.Joins("JOIN team_members ON team_members.user_id = users.id").
		Where("team_members.team_id = ?", id).Order("users.id").Find(&t.Members).Error
	return &t, err
}

// ForUser returns the teams a user belongs to.
func (s *Teams) ForUser(ctx context.Context, userID uint64) ([]Team, error) {
	out := []Team{}
	err := s.db.WithContext(ctx).Joins("JOIN team_members ON team_members.team_id = teams.id").
		Where("team_members.user_id = ?", userID).Order("teams.id").Find(&out).Error
	return out, err
}

// IDsForUser returns the ids of the teams a user belongs to.
func (s *Teams) IDsForUser(ctx context.Context, userID uint64) ([]uint64, error) {
	ids := []uint64{}
	err := s.db.WithContext(ctx).Model(&TeamMember{}).Where("user_id = ?", userID).
		Order("team_id").Pluck("team_id", &ids).Error
	return ids, err
}

// Create adds a team.
func (s *Teams) Create(ctx context.Context, a Actor, name string) (*Team, error) {
	t := &Team{Name: name}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(t).Error; err != nil {
			return dup(err, fmt.Sprintf("team %q", name))
		}
		return audit(tx, a, "create", "team", t.ID, &t.ID, nil, t)
	})
	if err != nil {
		return nil, err
	}
	return t, s.changed(ctx)
}

// Rename changes a team's name.
func (s *Teams) Rename(ctx context.Context, a Actor, id uint64, name string) (*Team, error) {
	var t Team
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := takeOr(tx, &t, "team", id); err != nil {
			return err
		}
		before := t
		t.Name = name
		if err := tx.Model(&Team{}).Where("id = ?", id).Updates(map[string]any{"name": name, "updated_at": s.now()}).Error; err != nil {
			return dup(err, fmt.Sprintf("team %q", name))
		}
		if err := takeOr(tx, &t, "team", id); err != nil {
			return err
		}
		return audit(tx, a, "update", "team", id, &id, before, t)
	})
	if err != nil {
		return nil, err
	}
	return &t, s.changed(ctx)
}

// Delete removes a team that owns no services and no consumers, with its
// memberships.
func (s *Teams) Delete(ctx context.Context, a Actor, id uint64) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var t Team
		if err := takeOr(tx, &t, "team", id); err != nil {
			return err
		}
		var services, consumers int64
		if err := tx.Model(&Service{}).Where("team_id = ?", id).Count(&services).Error; err != nil {
			return err
		}
		if err := tx.Model(&Consumer{}).Where("team_id = ?", id).Count(&consumers).Error; err != nil {
			return err
		}
		if services+consumers > 0 {
			return &ConflictError{Message: fmt.Sprintf("team %d still owns %d services and %d consumers; delete them or move them to another team first", id, services, consumers)}
		}
		if err := tx.Where("team_id = ?", id).Delete(&TeamMember{}).Error; err != nil {
			return err
		}
		if err := tx.Delete(&Team{}, id).Error; err != nil {
			return err
		}
		return audit(tx, a, "delete", "team", id, &id, t, nil)
	})
	if err != nil {
		return err
	}
	return s.changed(ctx)
}

// AddMember makes a user a member of a team.
func (s *Teams) AddMember(ctx context.Context, a Actor, teamID, userID uint64) (*TeamMember, error) {
	m := &TeamMember{TeamID: teamID, UserID: userID}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := takeOr(tx, &Team{}, "team", teamID); err != nil {
			return err
		}
		var u User
		if err := tx.Where("id = ?", userID).Take(&u).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			return &FieldError{Field: "user_id", Message: fmt.Sprintf("no user has id %d", userID)}
		} else if err != nil {
			return err
		}
		if err := tx.Create(m).Error; err != nil {
			return dup(err, fmt.Sprintf("user %d is already a member of team %d", userID, teamID))
		}
		return audit(tx, a, "add_member", "team", teamID, &teamID, nil, m)
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// RemoveMember ends a user's membership of a team.
func (s *Teams) RemoveMember(ctx context.Context, a Actor, teamID, userID uint64) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var m TeamMember
		err := tx.Where("team_id = ? AND user_id = ?", teamID, userID).Take(&m).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return fmt.Errorf("user %d in team %d: %w", userID, teamID, ErrNotFound)
		} else if err != nil {
			return err
		}
		if err := tx.Where("team_id = ? AND user_id = ?", teamID, userID).Delete(&TeamMember{}).Error; err != nil {
			return err
		}
		return audit(tx, a, "remove_member", "team", teamID, &teamID, m, nil)
	})
}
