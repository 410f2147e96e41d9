package cli

import (
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestLogBuffer: info lines wait for the periodic flush, a warning takes
// them out at once (in order), Close writes the rest, and a line after
// Close goes straight out.
func TestLogBuffer(t *testing.T) {
	var out syncBuffer
	b := newLogBuffer(&out)
	log := slog.New(flushOnWarn{slog.NewTextHandler(b, nil), b}).With("app", "sluice")

	log.Info("first")
	if got := out.String(); got != "" {
		t.Fatalf("an info line went out at once: %q", got)
	}
	log.Warn("second")
	got := out.String()
	if i, j := strings.Index(got, "msg=first"), strings.Index(got, "msg=second"); i < 0 || j < i || !strings.Contains(got, "app=sluice") {
		t.Fatalf("after a warning the log is %q", got)
	}

	log.Info("third")
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), "msg=third") {
		if time.Now().After(deadline) {
			t.Fatal("the periodic flush did not write the info line")
		}
		time.Sleep(10 * time.Millisecond)
	}

	log.Info("fourth")
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "msg=fourth") {
		t.Fatalf("Close did not flush: %q", out.String())
	}
	log.Info("fifth")
	if !strings.Contains(out.String(), "msg=fifth") {
		t.Fatalf("a line after Close was kept: %q", out.String())
	}
}
