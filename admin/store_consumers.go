package admin

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm"

	"github.com/sluicehq/sluice/admin/keys"
)

// Consumers stores consumers (applications).
type Consumers struct{ *store }

// ConsumerFilter selects consumers.
type ConsumerFilter struct {
	Scope  Scope
	TeamID uint64
	// Q matches a substring of the name.
	Q    string
	Page Page
}

// ConsumerUpdate changes the fields that are set.
type ConsumerUpdate struct {
	Name        *string
	Description *string
	TeamID      *uint64
}

// List returns one page of consumers.
func (s *Consumers) List(ctx context.Context, f ConsumerFilter) ([]Consumer, int64, error) {
	q := f.Scope.where(s.db.WithContext(ctx).Model(&Consumer{}), "team_id")
	if f.TeamID != 0 {
		q = q.Where("team_id = ?", f.TeamID)
	}
	return list[Consumer](whereQ(q, f.Q, "name"), f.Page, "id")
}

// Get returns a consumer.
func (s *Consumers) Get(ctx context.Context, id uint64) (*Consumer, error) {
	var c Consumer
	if err := takeOr(s.db.WithContext(ctx), &c, "consumer", id); err != nil {
		return nil, err
	}
	return &c, nil
}

// Create adds a consumer.
func (s *Consumers) Create(ctx context.Context, a Actor, c *Consumer) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := checkTeam(tx, c.TeamID); err != nil {
			return err
		}
		if err := tx.Create(c).Error; err != nil {
			return dup(err, fmt.Sprintf("consumer %q in team %d", c.Name, c.TeamID))
		}
		return audit(tx, a, "create", "consumer", c.ID, &c.TeamID, nil, c)
	})
	if err != nil {
		return err
	}
	return s.changed(ctx)
}

// Update changes a consumer. The caller checks that the actor may write to
// both the old and the new team.
func (s *Consumers) Update(ctx context.Context, a Actor, id uint64, u ConsumerUpdate) (*Consumer, error) {
	var c Consumer
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := takeOr(tx, &c, "consumer", id); err != nil {
			return err
		}
		before := c
		set := map[string]any{"updated_at": s.now()}
		if u.Name != nil {
			set["name"] = *u.Name
		}
		if u.Description != nil {
			set["description"] = *u.Description
		}
		if u.TeamID != nil {
			if err := checkTeam(tx, *u.TeamID); err != nil {
				return err
			}
			set["team_id"] = *u.TeamID
		}
		if err := tx.Model(&Consumer{}).Where("id = ?", id).Updates(set).Error; err != nil {
			return dup(err, "a consumer with this name already exists in the team")
		}
		if err := takeOr(tx, &c, "consumer", id); err != nil {
			return err
		}
		return audit(tx, a, "update", "consumer", id, &c.TeamID, before, c)
	})
	if err != nil {
		return nil, err
	}
	return &c, s.changed(ctx)
}

// Delete removes a consumer with its keys and subscriptions.
func (s *Consumers) Delete(ctx context.Context, a Actor, id uint64) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var c Consumer
		if err := takeOr(tx, &c, "consumer", id); err != nil {
			return err
		}
		subs := tx.Model(&Subscription{}).Select("id").Where("consumer_id = ?", id)
		if err := tx.Where("subscription_id IN (?)", subs).Delete(&SubscriptionEvent{}).Error; err != nil {
			return err
		}
		if err := tx.Where("consumer_id = ?", id).Delete(&Subscription{}).Error; err != nil {
			return err
		}
		if err := tx.Where("consumer_id = ?", id).Delete(&ConsumerKey{}).Error; err != nil {
			return err
		}
		if err := tx.Delete(&Consumer{}, id).Error; err != nil {
			return err
		}
		return audit(tx, a, "delete", "consumer", id, &c.TeamID, c, nil)
	})
	if err != nil {
		return err
	}
	return s.changed(ctx)
}

// Keys stores consumer keys: their ids, prefixes and hashes, never the keys.
type Keys struct{ *store }

// List returns one page of a consumer's keys, newest first.
func (s *Keys) List(ctx context.Context, consumerID uint64, page Page) ([]ConsumerKey, int64, error) {
	q := s.db.WithContext(ctx).Model(&ConsumerKey{}).Where("consumer_id = ?", consumerID)
	return list[ConsumerKey](q, page, "created_at DESC, id")
}

// Issue signs a new key for a consumer with ring and stores its id, prefix
// and hash. The key is returned once, here.
func (s *Keys) Issue(ctx context.Context, a Actor, ring *keys.Keyring, consumerID uint64, name string, expiresAt *time.Time) (*ConsumerKey, string, error) {
	now := s.now().Truncate(time.Second)
	k := &ConsumerKey{ID: NewID("key_"), ConsumerID: consumerID, Name: name, KID: ring.Current(), CreatedBy: a.ID, CreatedAt: now}
	if expiresAt != nil {
		k.ExpiresAt = ptr(expiresAt.UTC().Truncate(time.Second))
	}
	token, err := ring.Issue(keys.Claims{ConsumerID: strconv.FormatUint(consumerID, 10), KeyID: k.ID, IssuedAt: now, ExpiresAt: k.ExpiresAt})
	if err != nil {
		return nil, "", err
	}
	k.Prefix, k.Hash = keys.Prefix(token), keys.Hash(token)
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var c Consumer
		if err := takeOr(tx, &c, "consumer", consumerID); err != nil {
			return err
		}
		if err := tx.Create(k).Error; err != nil {
			return err
		}
		return audit(tx, a, "create", "key", k.ID, &c.TeamID, nil, k)
	})
	if err != nil {
		return nil, "", err
	}
	return k, token, s.changed(ctx)
}

// Revoke revokes a key of a consumer; revoking a revoked key returns it
// unchanged. The data plane is told before Revoke returns.
func (s *Keys) Revoke(ctx context.Context, a Actor, consumerID uint64, keyID string) (*ConsumerKey, error) {
	var k ConsumerKey
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var c Consumer
		if err := takeOr(tx, &c, "consumer", consumerID); err != nil {
			return err
		}
		if err := tx.Where("id = ? AND consumer_id = ?", keyID, consumerID).Take(&k).Error; err != nil {
			if err == gorm.ErrRecordNotFound {
				return notFound("key", keyID)
			}
			return err
		}
		if k.Revoked() {
			return nil
		}
		before := k
		now := s.now()
		res := tx.Model(&ConsumerKey{}).Where("id = ? AND revoked_at IS NULL", keyID).
			Updates(map[string]any{"revoked_at": now, "revoked_by": a.ID})
		if res.Error != nil {
			return res.Error
		}
		if err := tx.Where("id = ?", keyID).Take(&k).Error; err != nil {
			return err
		}
		if res.RowsAffected == 0 {
			return nil // revoked by another request a moment ago
		}
		return audit(tx, a, "revoke", "key", keyID, &c.TeamID, before, k)
	})
	if err != nil {
		return nil, err
	}
	// Tell the data plane even when another request revoked it a moment
	// ago: this caller must be able to rely on the key being refused.
	return &k, s.changed(ctx)
}
