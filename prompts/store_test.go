package prompts

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/sluicehq/sluice/admin"
	"github.com/sluicehq/sluice/internal/access/accesstest"
	"github.com/sluicehq/sluice/internal/dbtest"
)

type countingNotifier struct{ n int }

func (c *countingNotifier) Changed(context.Context) error { c.n++; return nil }

func TestStore(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		db := accesstest.Migrated(t, kind)
		f := accesstest.Seed(t, db, admin.Limits{})
		notes := &countingNotifier{}
		s := NewStore(db, notes, nil)
		uid := uint64(7)
		actor := admin.Actor{ID: &uid, Email: "ops@example.com"}

		if _, err := s.Create(ctx, actor, &Prompt{Slug: "p", Name: "P", ServiceID: 999}); !isField(err, "service_id") {
			t.Fatalf("unknown service: %v", err)
		}
		p, err := s.Create(ctx, actor, &Prompt{Slug: "summarize", Name: "Summarize", ServiceID: f.Service.ID})
		if err != nil {
			t.Fatal(err)
		}
		if p.TeamID != f.Team.ID || p.ServiceSlug != "chat" {
			t.Fatalf("view %+v", p)
		}
		if _, err := s.Create(ctx, actor, &Prompt{Slug: "summarize", Name: "again", ServiceID: f.Service.ID}); !errors.Is(err, admin.ErrDuplicate) {
			t.Fatalf("duplicate slug: %v", err)
		}

		v1 := &Version{Model: "gpt-4o", Messages: []Message{{Role: "user", Content: "Summarize {{text}}"}},
			VariablesSchema: json.RawMessage(`{"type":"object","properties":{"text":{"type":"string"}},"required":["text"]}`)}
		if err := s.AddVersion(ctx, actor, p.ID, &Version{Model: "nope", Messages: v1.Messages, VariablesSchema: v1.VariablesSchema}); !isField(err, "model") {
			t.Fatalf("unknown model: %v", err)
		}
		if err := s.AddVersion(ctx, actor, p.ID, v1); err != nil || v1.Version != 1 {
			t.Fatalf("v1: %d %v", v1.Version, err)
		}
		v2 := &Version{Model: "claude", Messages: []Message{{Role: "user", Content: "Briefly: {{text}}"}}, VariablesSchema: v1.VariablesSchema,
			Parameters: json.RawMessage(`{"temperature":0}`), Note: "shorter"}
		if err := s.AddVersion(ctx, actor, p.ID, v2); err != nil || v2.Version != 2 {
			t.Fatalf("v2: %d %v", v2.Version, err)
		}
		list, total, err := s.Versions(ctx, p.ID, admin.Page{})
		if err != nil || total != 2 || list[0].Version != 2 || list[0].Messages[0].Content != "Briefly: {{text}}" ||
			string(list[0].Parameters) != `{"temperature":0}` || list[0].CreatedByEmail != "ops@example.com" || list[1].AllowedOverrides != nil {
			t.Fatalf("versions %+v %d %v", list, total, err)
		}

		if live, err := LoadLive(ctx, db); err != nil || len(live) != 0 {
			t.Fatalf("unpublished is live: %v %v", live, err)
		}
		if _, err := s.Publish(ctx, actor, p.ID, 3); !isField(err, "version") {
			t.Fatalf("publish missing version: %v", err)
		}
		before := notes.n
		pub, err := s.Publish(ctx, actor, p.ID, 2)
		if err != nil || pub.PublishedVersion != 2 || pub.PublishedByEmail != "ops@example.com" || pub.PublishedAt == nil || notes.n != before+1 {
			t.Fatalf("publish: %+v %v", pub, err)
		}
		live, err := LoadLive(ctx, db)
		if err != nil || len(live) != 1 || live[0].Version.Version != 2 || live[0].Version.Model != "claude" {
			t.Fatalf("live %+v %v", live, err)
		}
		// Rollback.
		if pub, err = s.Publish(ctx, actor, p.ID, 1); err != nil || pub.PublishedVersion != 1 {
			t.Fatalf("rollback: %+v %v", pub, err)
		}
		// A deleted model cannot be published.
		if err := db.Where("name = ?", "claude").Delete(&admin.Model{}).Error; err != nil {
			t.Fatal(err)
		}
		if _, err := s.Publish(ctx, actor, p.ID, 2); !errors.Is(err, admin.ErrConflict) {
			t.Fatalf("publish with a deleted model: %v", err)
		}
		var entries []admin.AuditEntry
		db.Where("resource = ? AND resource_id = ?", "prompt", "1").Order("id").Find(&entries)
		if len(entries) < 5 || entries[len(entries)-1].Action != "publish" || entries[len(entries)-1].ActorEmail != "ops@example.com" {
			t.Fatalf("audit %+v", entries)
		}

		// Scope: another team sees nothing.
		got, n, err := s.List(ctx, Filter{Scope: admin.Scope{Teams: []uint64{f.Team.ID + 100}}})
		if err != nil || n != 0 || len(got) != 0 {
			t.Fatalf("scoped list %v %d %v", got, n, err)
		}
		got, n, err = s.List(ctx, Filter{Scope: admin.Scope{Teams: []uint64{f.Team.ID}}, Q: "SUMM"})
		if err != nil || n != 1 || got[0].Slug != "summarize" {
			t.Fatalf("list %v %d %v", got, n, err)
		}

		if _, err := s.Unpublish(ctx, actor, p.ID); err != nil {
			t.Fatal(err)
		}
		if live, _ := LoadLive(ctx, db); len(live) != 0 {
			t.Fatalf("unpublished still live")
		}
		if err := s.Delete(ctx, actor, p.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(ctx, p.ID); !errors.Is(err, admin.ErrNotFound) {
			t.Fatalf("deleted: %v", err)
		}
		var left int64
		db.Model(&Version{}).Count(&left)
		if left != 0 {
			t.Fatalf("%d versions left", left)
		}
	})
}

func isField(err error, field string) bool {
	var fe *admin.FieldError
	return errors.As(err, &fe) && fe.Field == field
}
