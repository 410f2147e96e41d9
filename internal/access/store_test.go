package access_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sluicehq/sluice/admin"
	"github.com/sluicehq/sluice/internal/access"
	"github.com/sluicehq/sluice/internal/access/accesstest"
	"github.com/sluicehq/sluice/internal/dbtest"
)

var _ admin.ChangeNotifier = (*access.Store)(nil)

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

func TestStoreLoadAndChanged(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		db := accesstest.Migrated(t, kind)
		f := accesstest.Seed(t, db, admin.Limits{RPM: 60})
		st := access.NewStore(db, nil, wallClock{}, nil)
		if err := st.Load(ctx); err != nil {
			t.Fatal(err)
		}
		snap := st.Current()
		if _, err := snap.Authorize(f.Consumer.ID, "gpt-4o"); err == nil {
			t.Fatal("authorized without a subscription")
		}
		if k, ok := snap.Key("key_1"); !ok || k.Revoked || k.ConsumerID != f.Consumer.ID {
			t.Fatalf("key in snapshot: %+v %v", k, ok)
		}
		f.Subscribe(t, admin.StatusApproved)
		f.Revoke(t, "key_1")
		// Not yet announced: the snapshot is unchanged.
		if _, err := st.Current().Authorize(f.Consumer.ID, "gpt-4o"); err == nil {
			t.Fatal("snapshot changed before Changed")
		}
		before := st.Current().Version
		if err := st.Changed(ctx); err != nil {
			t.Fatal(err)
		}
		snap = st.Current()
		if snap.Version != before+1 {
			t.Fatalf("version %d → %d", before, snap.Version)
		}
		g, err := snap.Authorize(f.Consumer.ID, "gpt-4o")
		if err != nil || g.Service.Limits.RPM != 60 {
			t.Fatalf("after Changed: %+v %v", g, err)
		}
		if k, _ := snap.Key("key_1"); !k.Revoked {
			t.Fatal("revocation not in force after Changed")
		}
	})
}

// TestReplicaSeesChange: a change announced by one replica reaches another
// within two seconds, by polling alone and through Redis.
func TestReplicaSeesChange(t *testing.T) {
	type variant struct {
		name     string
		rdb      func(t *testing.T) redis.UniversalClient
		interval time.Duration
		within   time.Duration
	}
	variants := []variant{{"polling", func(*testing.T) redis.UniversalClient { return nil }, 500 * time.Millisecond, 2 * time.Second}}
	if url := os.Getenv(dbtest.EnvRedis); url != "" {
		variants = append(variants, variant{"redis", func(t *testing.T) redis.UniversalClient {
			opts, err := redis.ParseURL(url)
			if err != nil {
				t.Fatal(err)
			}
			c := redis.NewClient(opts)
			t.Cleanup(func() { c.Close() })
			return c
		}, time.Hour, 500 * time.Millisecond}) // polling effectively off: Redis must carry it
	} else {
		t.Logf("redis variant skipped: %s not set", dbtest.EnvRedis)
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			db := accesstest.Migrated(t, "sqlite")
			f := accesstest.Seed(t, db, admin.Limits{})
			a := access.NewStore(db, v.rdb(t), wallClock{}, nil)
			b := access.NewStore(db, v.rdb(t), wallClock{}, nil)
			for _, s := range []*access.Store{a, b} {
				if err := s.Load(ctx); err != nil {
					t.Fatal(err)
				}
			}
			go b.Watch(ctx, v.interval)
			time.Sleep(100 * time.Millisecond) // let b subscribe
			f.Revoke(t, "key_1")
			if err := a.Changed(ctx); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			for {
				if k, _ := b.Current().Key("key_1"); k.Revoked {
					t.Logf("replica saw the revocation after %s", time.Since(start))
					return
				}
				if time.Since(start) > v.within {
					t.Fatalf("replica did not see the revocation within %s", v.within)
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

func TestTouchAndFlushUsage(t *testing.T) {
	ctx := context.Background()
	db := accesstest.Migrated(t, "sqlite")
	accesstest.Seed(t, db, admin.Limits{})
	st := access.NewStore(db, nil, wallClock{}, nil)
	used := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	st.Touch("key_1", used)
	st.Touch("key_1", used.Add(10*time.Second)) // within the minute: not recorded again
	if err := st.FlushUsage(ctx); err != nil {
		t.Fatal(err)
	}
	var k admin.ConsumerKey
	if err := db.Take(&k, "id = ?", "key_1").Error; err != nil {
		t.Fatal(err)
	}
	if k.LastUsedAt == nil || !k.LastUsedAt.Equal(used) {
		t.Fatalf("last_used_at = %v, want %v", k.LastUsedAt, used)
	}
}
