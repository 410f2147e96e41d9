package fakekit

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

type fault struct{ Status int }

func TestRecorderTakesFaultsInOrderAndRecords(t *testing.T) {
	var r Recorder[fault]
	r.Script(fault{500}, fault{429})
	req := httptest.NewRequest("POST", "/v1/x?y=1", strings.NewReader(""))
	req.Header.Set("A", "b")
	for i, want := range []int{500, 429, 0} {
		f, seq := r.Take(req, []byte("body"))
		if f.Status != want || seq != i+1 {
			t.Fatalf("take %d: fault %v seq %d", i, f, seq)
		}
	}
	got := r.Requests()
	if len(got) != 3 || got[0].Path != "/v1/x" || got[0].RawQuery != "y=1" || got[0].Header.Get("A") != "b" || string(got[0].Body) != "body" {
		t.Fatalf("recorded %+v", got)
	}
	got[0].Body[0] = 'X'
	if string(r.Requests()[0].Body) != "body" {
		t.Fatal("Requests does not return copies")
	}
	r.Reset()
	if len(r.Requests()) != 0 {
		t.Fatal("Reset kept requests")
	}
	if _, seq := r.Take(req, nil); seq != 1 {
		t.Fatal("Reset kept the sequence")
	}
	r.DisableRecording = true
	r.Take(req, nil)
	if len(r.Requests()) != 1 {
		t.Fatal("recorded with recording off")
	}
}

func TestSleep(t *testing.T) {
	if !Sleep(context.Background(), time.Millisecond) {
		t.Fatal("full sleep reported as cut")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if Sleep(ctx, time.Hour) || time.Since(start) > time.Second {
		t.Fatal("sleep did not end with its context")
	}
}
