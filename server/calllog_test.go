package server

import (
	"context"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/sluicehq/sluice/admin"
	"github.com/sluicehq/sluice/internal/calllog"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/db"
	"github.com/sluicehq/sluice/internal/fakes/openaifake"
)

// TestMixedOutcomesEachLeaveOneRecord sends calls of every outcome through
// the whole server with the real call log on SQLite, then checks that the
// database holds exactly one record per call, with the status each client
// got, and rollups that add up to the same calls.
func TestMixedOutcomesEachLeaveOneRecord(t *testing.T) {
	var logger *calllog.Logger
	var gdb *gorm.DB
	g := newGatewayWith(t, admin.Limits{RPM: 6}, func(d *gorm.DB) CallLog {
		gdb = d
		l, err := calllog.New(&db.DB{Gorm: d, Driver: config.SQLite}, calllog.Options{SpillDir: t.TempDir(), BatchSize: 4, FlushInterval: 20 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		logger = l
		return l
	})
	send := func(ctx context.Context, key, body string) int {
		req, _ := http.NewRequestWithContext(ctx, "POST", g.url+"/v1/chat/completions", strings.NewReader(body))
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 499 // the client gave up
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode
	}
	chat := `{"model":"gpt-4o","messages":[{"role":"user","content":"hi there"}]}`
	stream := `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"one two three four five"}]}`
	bg := context.Background()

	var got []int
	got = append(got, send(bg, "", chat))                      // 401 no key
	got = append(got, send(bg, g.f.Key, `{"model":"claude"}`)) // 403 no service offers it
	got = append(got, send(bg, g.f.Key, `{"model":"gpt-9"}`))  // 404 unknown model
	got = append(got, send(bg, g.f.Key, `{"model":`))          // 400 malformed JSON
	for range 3 {
		got = append(got, send(bg, g.f.Key, chat)) // 200 ×3
	}
	g.fake.Script(openaifake.Fault{Status: 500}, openaifake.Fault{Status: 500}, openaifake.Fault{Status: 500})
	got = append(got, send(bg, g.f.Key, chat)) // 502 after three upstream 500s
	g.fake.Script(openaifake.Fault{CutAfterChunks: 2})
	got = append(got, send(bg, g.f.Key, stream)) // 200, then an error event: cut midway
	g.fake.Script(openaifake.Fault{DelayFirstByte: 5 * time.Second})
	ctx, cancel := context.WithTimeout(bg, 200*time.Millisecond)
	got = append(got, send(ctx, g.f.Key, chat)) // the client leaves
	cancel()
	got = append(got, send(bg, g.f.Key, chat)) // 429: the seventh counted call in the minute

	want := []int{401, 403, 404, 400, 200, 200, 200, 502, 200, 499, 429}
	if len(got) != len(want) {
		t.Fatalf("sent %d calls", len(got))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("call %d answered %d, want %d (all: %v)", i, got[i], want[i], got)
		}
	}

	// The disconnected call is recorded when its handler returns; wait for
	// all of them to be handed over, then drain.
	deadline := time.Now().Add(5 * time.Second)
	for {
		var n int64
		gdb.Table("call_logs").Count(&n)
		if n == int64(len(want)) || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := logger.Close(bg); err != nil {
		t.Fatal(err)
	}
	var statuses []int
	if err := gdb.Table("call_logs").Pluck("status", &statuses).Error; err != nil {
		t.Fatal(err)
	}
	sort.Ints(statuses)
	sorted := append([]int(nil), want...)
	sort.Ints(sorted)
	if len(statuses) != len(sorted) {
		t.Fatalf("%d records for %d calls: %v", len(statuses), len(sorted), statuses)
	}
	for i := range sorted {
		if statuses[i] != sorted[i] {
			t.Fatalf("recorded statuses %v, want %v", statuses, sorted)
		}
	}
	var streamed struct {
		Stream   bool
		Attempts string
	}
	if err := gdb.Table("call_logs").Select("stream, attempts").Where("stream = ?", true).Take(&streamed).Error; err != nil || streamed.Attempts == "" {
		t.Fatalf("stream record: %+v %v", streamed, err)
	}
	var failed struct{ Attempts string }
	if err := gdb.Table("call_logs").Select("attempts").Where("status = ?", 502).Take(&failed).Error; err != nil ||
		strings.Count(failed.Attempts, `"Status":500`)+strings.Count(failed.Attempts, `"status":500`) != 3 {
		t.Fatalf("the 502 record should hold three attempts of 500: %q %v", failed.Attempts, err)
	}
	var rolled int64
	if err := gdb.Table("call_rollups").Select("COALESCE(SUM(requests),0)").Scan(&rolled).Error; err != nil || rolled != int64(len(want)) {
		t.Fatalf("rollups count %d requests, want %d (%v)", rolled, len(want), err)
	}
}
