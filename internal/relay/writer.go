package relay

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// clientWriter is the client's side of a call: it counts the bytes sent,
// notes when the first one went, and turns a failed write into
// errClientGone.
type clientWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	now     func() time.Time
	started bool
	stream  bool // the answer is an event stream
	flushed bool // the response headers went out
	pending bool // written since the last flush
	n       int64
	first   time.Time
	err     error
}

func newClientWriter(w http.ResponseWriter, now func() time.Time) *clientWriter {
	return &clientWriter{w: w, rc: http.NewResponseController(w), now: now}
}

// Header is the response header, to be set before commit.
func (cw *clientWriter) Header() http.Header { return cw.w.Header() }

// commit writes the status line with the content type, once.
func (cw *clientWriter) commit(status int, contentType string) {
	if cw.started {
		return
	}
	cw.started = true
	h := cw.w.Header()
	h.Set("Content-Type", contentType)
	if contentType == "text/event-stream" {
		cw.stream = true
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Accel-Buffering", "no")
		h.Del("Content-Length")
	}
	cw.w.WriteHeader(status)
}

func (cw *clientWriter) Write(p []byte) (int, error) {
	if cw.err != nil {
		return 0, cw.err
	}
	if cw.stream && !cw.flushed && cw.n+int64(len(p)) > responseBuffer {
		// This write would send the headers from deep in a stream's
		// stack: send them first (see flush).
		if err := cw.flush(); err != nil {
			return 0, err
		}
	}
	n, err := cw.w.Write(p)
	cw.n += int64(n)
	cw.pending = true
	if n > 0 && cw.first.IsZero() {
		cw.first = cw.now()
	}
	if err != nil {
		cw.err = fmt.Errorf("%w: %w", errClientGone, err)
	}
	return n, cw.err
}

// responseBuffer is what net/http buffers of an answer before it sends
// the response headers (bufferBeforeChunkingSize).
const responseBuffer = 2048

// flush sends what was written to the client now.
//
// The first flush of a stream writes the response headers. net/http's
// code for that has a stack frame of 2.8 KB, and a stream's goroutine is
// already deep there (server, middleware, relay, stream reader): together
// they pass 8 KiB, and Go then doubles the stack to 16 KiB and keeps it
// for as long as the stream lasts. So that flush runs on a short-lived
// goroutine while this one waits (offStack), the way upstream.OffStack
// runs the upstream round trip.
func (cw *clientWriter) flush() error {
	if cw.err != nil {
		return cw.err
	}
	cw.pending = false
	var err error
	if cw.flushed {
		err = cw.rc.Flush()
	} else {
		cw.flushed = true
		_, err = offStack(func() (struct{}, error) { return struct{}{}, cw.rc.Flush() })
	}
	if err != nil && !errors.Is(err, http.ErrNotSupported) {
		cw.err = fmt.Errorf("%w: %w", errClientGone, err)
	}
	return cw.err
}

// flushBeforeRead is an upstream stream body that flushes what was written
// to the client before each read: events that arrived together go out in
// one write, and none waits for the upstream's next event, since a read
// that might block comes only after the flush.
type flushBeforeRead struct {
	r io.Reader
	w *clientWriter
}

func (f *flushBeforeRead) Read(p []byte) (int, error) {
	if f.w.pending {
		if err := f.w.flush(); err != nil {
			return 0, err
		}
	}
	return f.r.Read(p)
}

// offStack runs f on a short-lived goroutine and waits for it. It is for
// deep work done once per call before a stream (decoding the client's
// request, building a translated upstream request): on the call's own
// goroutine it would grow the stack past 8 KiB, and Go keeps the larger
// stack for as long as the stream lasts (see clientWriter.flush). It
// costs a goroutine start, about a microsecond. A panic in f is raised
// again on the caller's goroutine, where the server's recover step turns
// it into a 500, as if f had run there.
func offStack[T any](f func() (T, error)) (T, error) {
	type result struct {
		v        T
		err      error
		panicked bool
		p        any
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- result{panicked: true, p: p}
			}
		}()
		v, err := f()
		done <- result{v: v, err: err}
	}()
	r := <-done
	if r.panicked {
		panic(r.p)
	}
	return r.v, r.err
}
