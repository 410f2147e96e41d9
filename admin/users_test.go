package admin

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/sluicehq/sluice/internal/dbtest"
	"github.com/sluicehq/sluice/migrations"
)

func migratedUsers(t *testing.T, kind string) *Users {
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
	u := NewUsers(h.Gorm)
	u.cost = bcrypt.MinCost // the production cost is tested in TestProductionCost
	return u
}

func TestProductionCost(t *testing.T) {
	h, err := HashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := bcrypt.Cost([]byte(h)); c != BcryptCost || BcryptCost < 12 {
		t.Fatalf("cost %d", c)
	}
}

func TestUsersStore(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		users := migratedUsers(t, kind)
		u, err := users.Create(ctx, " Ops@Example.com ", "Ops", "correct horse", RoleMember)
		if err != nil {
			t.Fatal(err)
		}
		if u.ID == 0 || u.Email != "ops@example.com" || strings.Contains(u.PasswordHash, "correct") {
			t.Fatalf("created %+v", u)
		}
		if _, err := users.Create(ctx, "ops@example.com", "", "another pw", RoleMember); !errors.Is(err, ErrDuplicate) {
			t.Fatalf("duplicate email: err = %v", err)
		}
		got, err := users.ByEmail(ctx, "OPS@example.com")
		if err != nil || got.ID != u.ID || !CheckPassword(got.PasswordHash, "correct horse") || CheckPassword(got.PasswordHash, "wrong pw") {
			t.Fatalf("ByEmail = %+v, %v", got, err)
		}
		if err := users.SetPassword(ctx, "ops@example.com", "new password"); err != nil {
			t.Fatal(err)
		}
		got, _ = users.ByEmail(ctx, "ops@example.com")
		if !CheckPassword(got.PasswordHash, "new password") {
			t.Fatal("password not changed")
		}
		if err := users.SetPassword(ctx, "nobody@example.com", "new password"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("SetPassword unknown: %v", err)
		}
		if _, err := users.ByEmail(ctx, "nobody@example.com"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("ByEmail unknown: %v", err)
		}
		if _, err := users.Create(ctx, "x@example.com", "", "short", RoleAdmin); err == nil {
			t.Fatal("short password accepted")
		}
		if _, err := users.Create(ctx, "y@example.com", "", "long enough", "root"); err == nil {
			t.Fatal("unknown role accepted")
		}
	})
}

func TestBootstrap(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		users := migratedUsers(t, kind)
		// A member alone does not count as an admin.
		if _, err := users.Create(ctx, "member@example.com", "", "member password", RoleMember); err != nil {
			t.Fatal(err)
		}
		created, generated, err := Bootstrap(ctx, users, "admin@localhost", "")
		if err != nil || !created || len(generated) != 24 {
			t.Fatalf("first bootstrap: created=%v generated=%q err=%v", created, generated, err)
		}
		u, err := users.ByEmail(ctx, "admin@localhost")
		if err != nil || u.Role != RoleAdmin || !CheckPassword(u.PasswordHash, generated) {
			t.Fatalf("bootstrapped admin %+v, %v", u, err)
		}
		created, generated, err = Bootstrap(ctx, users, "other@localhost", "given password")
		if err != nil || created || generated != "" {
			t.Fatalf("second bootstrap: created=%v generated=%q err=%v", created, generated, err)
		}
	})
}

func TestBootstrapRace(t *testing.T) {
	ctx := context.Background()
	users := migratedUsers(t, "sqlite")
	var wg sync.WaitGroup
	var mu sync.Mutex
	createdCount := 0
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			created, _, err := Bootstrap(ctx, users, "admin@localhost", "same password")
			if err != nil {
				t.Error(err)
			}
			if created {
				mu.Lock()
				createdCount++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if createdCount != 1 {
		t.Fatalf("%d bootstraps created an admin, want 1", createdCount)
	}
}

func TestGeneratePassword(t *testing.T) {
	seen := map[string]bool{}
	for range 50 {
		p := GeneratePassword()
		if len(p) != 24 || seen[p] || strings.ContainsAny(p, "0O1lI") {
			t.Fatalf("weak or repeated password %q", p)
		}
		seen[p] = true
	}
}
