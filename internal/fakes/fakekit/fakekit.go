// Package fakekit is what every provider fake shares: recording the
// requests a fake received, the FIFO of scripted faults applied one per
// request, and a context-aware sleep. Each fake defines its own Fault type
// (the faults differ a little by provider) and embeds a Recorder of it.
// It is test support code: imported by the fakes only.
package fakekit

import (
	"bytes"
	"context"
	"net/http"
	"sync"
	"time"
)

// Recorded is one request a fake received.
type Recorded struct {
	Method   string
	Path     string
	RawQuery string
	Header   http.Header
	Body     []byte
}

// Recorder keeps a fake's received requests and its scripted faults. Its
// methods are safe for concurrent use; embed it in the fake.
type Recorder[F any] struct {
	// DisableRecording stops keeping requests for Requests (for
	// long-running benchmarks); faults are still applied.
	DisableRecording bool

	mu       sync.Mutex
	requests []Recorded
	faults   []F
	seq      int
}

// Script queues faults for the next requests, one per request.
func (r *Recorder[F]) Script(faults ...F) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.faults = append(r.faults, faults...)
}

// Requests returns copies of the requests received so far.
func (r *Recorder[F]) Requests() []Recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Recorded, len(r.requests))
	for i, q := range r.requests {
		q.Header = q.Header.Clone()
		q.Body = bytes.Clone(q.Body)
		out[i] = q
	}
	return out
}

// Reset forgets recorded requests and scripted faults.
func (r *Recorder[F]) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests, r.faults, r.seq = nil, nil, 0
}

// Record keeps req (unless recording is off) and returns its sequence
// number, from 1.
func (r *Recorder[F]) Record(req *http.Request, body []byte) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.DisableRecording {
		r.requests = append(r.requests, Recorded{Method: req.Method, Path: req.URL.Path, RawQuery: req.URL.RawQuery,
			Header: req.Header.Clone(), Body: bytes.Clone(body)})
	}
	r.seq++
	return r.seq
}

// NextFault takes the next scripted fault; the zero fault when none is left.
func (r *Recorder[F]) NextFault() F {
	r.mu.Lock()
	defer r.mu.Unlock()
	var f F
	if len(r.faults) > 0 {
		f = r.faults[0]
		r.faults = r.faults[1:]
	}
	return f
}

// Take records req and takes the next fault: Record then NextFault.
func (r *Recorder[F]) Take(req *http.Request, body []byte) (F, int) {
	seq := r.Record(req, body)
	return r.NextFault(), seq
}

// Sleep waits d, or less when ctx ends first; it reports whether the full
// wait elapsed (false: the client went away).
func Sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
