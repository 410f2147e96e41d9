package access

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"

	"github.com/sluicehq/sluice/admin"
	"github.com/sluicehq/sluice/internal/relay"
	"github.com/sluicehq/sluice/providers"
)

// Clock tells the time.
type Clock interface{ Now() time.Time }

// Channel is the default Redis pub/sub channel that announces config
// changes; Store.Channel overrides it.
const Channel = "sluice:config-changed"

// Store holds the current snapshot and keeps it current. It implements
// admin.ChangeNotifier for the control plane.
type Store struct {
	db    *gorm.DB
	rdb   redis.UniversalClient // nil without Redis
	clock Clock
	log   *slog.Logger

	cur    atomic.Pointer[Snapshot]
	reload sync.Mutex // one load at a time

	usage sync.Map // key id → *atomic.Int64 (unix seconds of last use)

	// Channel is the Redis channel of config changes (default Channel).
	Channel string

	// BuildProvider turns a providers row into a live provider; nil
	// leaves every model without targets.
	BuildProvider func(admin.Provider) (providers.Provider, error)
}

var _ admin.ChangeNotifier = (*Store)(nil)

// NewStore returns a store over db; rdb may be nil.
func NewStore(db *gorm.DB, rdb redis.UniversalClient, clock Clock, log *slog.Logger) *Store {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Store{db: db, rdb: rdb, clock: clock, log: log}
}

// Current returns the snapshot in force. It is never nil after Load.
func (s *Store) Current() *Snapshot { return s.cur.Load() }

// Load reads everything from the database and swaps the snapshot in.
func (s *Store) Load(ctx context.Context) error {
	s.reload.Lock()
	defer s.reload.Unlock()
	// The version is read before the data: a change committed during the
	// load leaves a newer version behind, so the next check loads again.
	version, err := s.version(ctx)
	if err != nil {
		return err
	}
	var d Data
	d.Version = version
	db := s.db.WithContext(ctx)
	if err := db.Find(&d.Keys).Error; err != nil {
		return fmt.Errorf("load keys: %w", err)
	}
	if err := db.Preload("Models").Find(&d.Services).Error; err != nil {
		return fmt.Errorf("load services: %w", err)
	}
	if err := db.Find(&d.Models).Error; err != nil {
		return fmt.Errorf("load models: %w", err)
	}
	if err := db.Find(&d.Subscriptions).Error; err != nil {
		return fmt.Errorf("load subscriptions: %w", err)
	}
	if err := db.Select("id", "team_id").Find(&d.Consumers).Error; err != nil {
		return fmt.Errorf("load consumers: %w", err)
	}
	if d.Targets, err = s.loadTargets(ctx); err != nil {
		return err
	}
	if d.Prompts, err = loadPrompts(ctx, db); err != nil {
		return err
	}
	s.cur.Store(Build(d, s.clock.Now()))
	return nil
}

// loadTargets builds the enabled providers and the routes that use them.
// A provider that cannot be built (a credential sealed under another
// secret, a bad setting) is left out with a warning, so its models route
// to their other targets.
func (s *Store) loadTargets(ctx context.Context) (map[uint64][]relay.Target, error) {
	if s.BuildProvider == nil {
		return nil, nil
	}
	var rows []admin.Provider
	if err := s.db.WithContext(ctx).Where("enabled = ?", true).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load providers: %w", err)
	}
	var targets []admin.ModelTarget
	if err := s.db.WithContext(ctx).Order("priority, id").Find(&targets).Error; err != nil {
		return nil, fmt.Errorf("load model targets: %w", err)
	}
	built := make(map[uint64]admin.Provider, len(rows))
	live := make(map[uint64]providers.Provider, len(rows))
	for _, p := range rows {
		pv, err := s.BuildProvider(p)
		if err != nil {
			s.log.Warn("provider left out of routing", "provider", p.Name, "err", err)
			continue
		}
		built[p.ID], live[p.ID] = p, pv
	}
	out := map[uint64][]relay.Target{}
	for _, t := range targets {
		p, ok := built[t.ProviderID]
		if !ok {
			continue
		}
		out[t.ModelID] = append(out[t.ModelID], relay.Target{
			ID:           p.Name + "/" + t.UpstreamModel,
			ProviderName: p.Name, ProviderKind: p.Kind, Provider: live[t.ProviderID],
			UpstreamModel: t.UpstreamModel, Weight: t.Weight, Priority: t.Priority,
		})
	}
	return out, nil
}

func (s *Store) version(ctx context.Context) (int64, error) {
	var v admin.ConfigVersion
	if err := s.db.WithContext(ctx).Take(&v, 1).Error; err != nil {
		return 0, fmt.Errorf("read config version: %w", err)
	}
	return v.Version, nil
}

// Changed records a committed control-plane change: it bumps the config
// version, reloads this instance's snapshot before returning (so the change
// is in force here at once), and tells the other replicas through Redis.
func (s *Store) Changed(ctx context.Context) error {
	err := s.db.WithContext(ctx).Model(&admin.ConfigVersion{}).Where("id = ?", 1).
		Updates(map[string]any{"version": gorm.Expr("version + 1"), "updated_at": s.clock.Now().UTC()}).Error
	if err != nil {
		return fmt.Errorf("bump config version: %w", err)
	}
	if err := s.Load(ctx); err != nil {
		return err
	}
	if s.rdb != nil {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		if err := s.rdb.Publish(pctx, s.channel(), strconv.FormatInt(s.Current().Version, 10)).Err(); err != nil {
			// Other replicas still notice by polling the version.
			s.log.Warn("config change not published to Redis; replicas will poll", "err", err)
		}
	}
	return nil
}

// Watch keeps the snapshot current until ctx ends: it reloads when Redis
// announces a change and, as a safety net and for set-ups without Redis,
// whenever the database's config version moves (checked every interval).
func (s *Store) Watch(ctx context.Context, interval time.Duration) {
	kick := make(chan struct{}, 1)
	if s.rdb != nil {
		go s.subscribe(ctx, kick)
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-kick:
			if err := s.Load(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("snapshot reload failed", "err", err)
			}
		case <-t.C:
			v, err := s.version(ctx)
			if err != nil {
				if ctx.Err() == nil {
					s.log.Warn("config version check failed; serving the last snapshot", "err", err)
				}
				continue
			}
			if cur := s.Current(); cur == nil || v != cur.Version {
				if err := s.Load(ctx); err != nil && ctx.Err() == nil {
					s.log.Warn("snapshot reload failed", "err", err)
				}
			}
		}
	}
}

func (s *Store) subscribe(ctx context.Context, kick chan<- struct{}) {
	for ctx.Err() == nil {
		sub := s.rdb.Subscribe(ctx, s.channel())
		ch := sub.Channel()
	recv:
		for {
			select {
			case <-ctx.Done():
				break recv
			case msg, ok := <-ch:
				if !ok {
					break recv
				}
				v, _ := strconv.ParseInt(msg.Payload, 10, 64)
				if cur := s.Current(); cur == nil || v != cur.Version {
					select {
					case kick <- struct{}{}:
					default:
					}
				}
			}
		}
		_ = sub.Close()
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// Touch notes that key was used at now. It costs a map lookup; the time is
// written to the database by FlushUsage, at most once a minute per key.
func (s *Store) Touch(keyID string, now time.Time) {
	sec := now.Unix()
	if v, ok := s.usage.Load(keyID); ok {
		a := v.(*atomic.Int64)
		if old := a.Load(); sec-old >= 60 || old < 0 {
			a.Store(sec)
		}
		return
	}
	a := new(atomic.Int64)
	a.Store(sec)
	s.usage.LoadOrStore(keyID, a)
}

// FlushUsage writes keys' last-used times to the database.
func (s *Store) FlushUsage(ctx context.Context) error {
	var firstErr error
	s.usage.Range(func(k, v any) bool {
		a := v.(*atomic.Int64)
		sec := a.Swap(-1) // -1: flushed; the next Touch records again
		if sec < 0 {
			return true
		}
		t := time.Unix(sec, 0).UTC()
		err := s.db.WithContext(ctx).Model(&admin.ConsumerKey{}).
			Where("id = ? AND (last_used_at IS NULL OR last_used_at < ?)", k.(string), t).
			Update("last_used_at", t).Error
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return true
	})
	return firstErr
}

func (s *Store) channel() string {
	if s.Channel != "" {
		return s.Channel
	}
	return Channel
}
