// Package accesstest seeds a database with the access model (a team, models,
// a service, a consumer with a key, optionally a subscription) for tests of
// the data plane. It is imported by tests only.
package accesstest

import (
	"context"
	"strconv"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/sluicehq/sluice/admin"
	"github.com/sluicehq/sluice/admin/keys"
	"github.com/sluicehq/sluice/internal/dbtest"
	"github.com/sluicehq/sluice/migrations"
)

// Master is the test secret the fixture's keyring derives from.
var Master = []byte("accesstest master secret, 32+ bytes long")

// Fixture is a seeded access model.
type Fixture struct {
	DB       *gorm.DB
	Keyring  *keys.Keyring
	Team     admin.Team
	Model    admin.Model // "gpt-4o", in Service
	Other    admin.Model // "claude", in no service
	Service  admin.Service
	Consumer admin.Consumer
	KeyRow   admin.ConsumerKey
	// Key is the consumer key (a JWT) to send.
	Key string
}

// Migrated returns a fresh migrated database of kind.
func Migrated(t testing.TB, kind string) *gorm.DB {
	t.Helper()
	d, _ := dbtest.NewDatabase(t, kind)
	h := dbtest.OpenURL(t, d)
	m, err := migrations.New(h, d)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Up(context.Background()); err != nil {
		t.Fatal(err)
	}
	return h.Gorm
}

// Seed creates a team, two models, a service holding the first with limits
// l, a consumer and a key. No subscription yet: see Subscribe.
func Seed(t testing.TB, db *gorm.DB, l admin.Limits) *Fixture {
	t.Helper()
	ring, err := keys.NewKeyring(Master, "k1")
	if err != nil {
		t.Fatal(err)
	}
	f := &Fixture{DB: db, Keyring: ring}
	must(t, db.Create(&admin.Team{Name: "team-a"}).Error)
	must(t, db.Where("name = ?", "team-a").Take(&f.Team).Error)
	f.Model = admin.Model{Name: "gpt-4o", InputPrice: 2.5, OutputPrice: 10}
	f.Other = admin.Model{Name: "claude"}
	must(t, db.Create(&f.Model).Error)
	must(t, db.Create(&f.Other).Error)
	f.Service = admin.Service{Slug: "chat", Name: "Chat", TeamID: f.Team.ID, Approval: admin.ApprovalManual, Limits: l}
	must(t, db.Omit("Models").Create(&f.Service).Error)
	must(t, db.Create(&admin.ServiceModel{ServiceID: f.Service.ID, ModelID: f.Model.ID}).Error)
	f.Service.Models = []admin.Model{f.Model}
	f.Consumer = admin.Consumer{Name: "app", TeamID: f.Team.ID}
	must(t, db.Create(&f.Consumer).Error)
	f.Key, f.KeyRow = f.NewKey(t, "key_1", nil)
	return f
}

// NewKey issues and stores another key of the fixture's consumer.
func (f *Fixture) NewKey(t testing.TB, id string, expires *time.Time) (string, admin.ConsumerKey) {
	t.Helper()
	tok, err := f.Keyring.Issue(keys.Claims{ConsumerID: strconv.FormatUint(f.Consumer.ID, 10), KeyID: id,
		IssuedAt: time.Now().Add(-time.Minute), ExpiresAt: expires})
	must(t, err)
	row := admin.ConsumerKey{ID: id, ConsumerID: f.Consumer.ID, Name: id, Prefix: keys.Prefix(tok),
		Hash: keys.Hash(tok), KID: f.Keyring.Current(), ExpiresAt: expires, CreatedAt: time.Now()}
	must(t, f.DB.Create(&row).Error)
	return tok, row
}

// Subscribe gives the consumer a subscription to the service in status.
func (f *Fixture) Subscribe(t testing.TB, status string) admin.Subscription {
	t.Helper()
	sub := admin.Subscription{ConsumerID: f.Consumer.ID, ServiceID: f.Service.ID, Status: status}
	must(t, f.DB.Create(&sub).Error)
	return sub
}

// SetStatus changes the subscription's status.
func (f *Fixture) SetStatus(t testing.TB, sub admin.Subscription, status string) {
	t.Helper()
	must(t, f.DB.Model(&admin.Subscription{}).Where("id = ?", sub.ID).Update("status", status).Error)
}

// Revoke revokes the key with id.
func (f *Fixture) Revoke(t testing.TB, id string) {
	t.Helper()
	now := time.Now().UTC()
	must(t, f.DB.Model(&admin.ConsumerKey{}).Where("id = ?", id).Update("revoked_at", &now).Error)
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// PlainOpener "unseals" credentials stored in the clear, for tests.
type PlainOpener struct{}

// Open returns sealed as is.
func (PlainOpener) Open(sealed string) (string, error) { return sealed, nil }

// AddProvider stores a provider whose credential is kept in the clear
// (open it with PlainOpener).
func (f *Fixture) AddProvider(t testing.TB, name, kind, baseURL, apiKey string) admin.Provider {
	t.Helper()
	p := admin.Provider{Name: name, Kind: kind, BaseURL: baseURL, APIKeySealed: apiKey, Enabled: true}
	must(t, f.DB.Create(&p).Error)
	return p
}

// Route adds a target to the fixture's model.
func (f *Fixture) Route(t testing.TB, p admin.Provider, upstreamModel string, weight, priority int) {
	t.Helper()
	must(t, f.DB.Create(&admin.ModelTarget{ModelID: f.Model.ID, ProviderID: p.ID, UpstreamModel: upstreamModel,
		Weight: weight, Priority: priority}).Error)
}
