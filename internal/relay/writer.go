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

// flush sends what was written to the client now.
func (cw *clientWriter) flush() error {
	if cw.err != nil {
		return cw.err
	}
	cw.pending = false
	if err := cw.rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
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
