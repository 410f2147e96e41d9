package relay

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"
)

// flushLog is a ResponseWriter that records writes and flushes in order.
type flushLog struct {
	*httptest.ResponseRecorder
	ops []string
}

func (f *flushLog) Write(p []byte) (int, error) {
	f.ops = append(f.ops, "write")
	return f.ResponseRecorder.Write(p)
}

func (f *flushLog) Flush() {
	f.ops = append(f.ops, "flush")
	f.ResponseRecorder.Flush()
}

// TestClientWriterSendsHeadersBeforeALargeFirstWrite: a stream's first
// write that would overflow net/http's 2 KiB buffer is preceded by a flush
// of the headers (done off the stream's stack, see clientWriter.flush);
// small writes are not, and nothing is lost either way.
func TestClientWriterSendsHeadersBeforeALargeFirstWrite(t *testing.T) {
	for _, tc := range []struct {
		name   string
		writes []int
		want   []string
	}{
		{"small", []int{100, 200}, []string{"write", "write"}},
		{"large first", []int{3000}, []string{"flush", "write"}},
		{"small then large", []int{100, 3000}, []string{"write", "flush", "write"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &flushLog{ResponseRecorder: httptest.NewRecorder()}
			cw := newClientWriter(rec, time.Now)
			cw.commit(http.StatusOK, "text/event-stream")
			var sent []byte
			for i, n := range tc.writes {
				p := bytes.Repeat([]byte{byte('a' + i)}, n)
				sent = append(sent, p...)
				if _, err := cw.Write(p); err != nil {
					t.Fatal(err)
				}
			}
			if got := rec.ops; !slices.Equal(got, tc.want) {
				t.Fatalf("ops %v, want %v", got, tc.want)
			}
			if !bytes.Equal(rec.Body.Bytes(), sent) || rec.Code != http.StatusOK {
				t.Fatalf("client got %d bytes with %d", rec.Body.Len(), rec.Code)
			}
		})
	}
}

// TestOffStack: f's result comes back, and a panic in f is raised again
// on the caller's goroutine (where the server's recover step catches it)
// instead of ending the process.
func TestOffStack(t *testing.T) {
	v, err := offStack(func() (int, error) { return 42, nil })
	if v != 42 || err != nil {
		t.Fatalf("got %d, %v", v, err)
	}
	defer func() {
		if p := recover(); p != "boom" {
			t.Fatalf("recovered %v, want the panic of f", p)
		}
	}()
	_, _ = offStack(func() (int, error) { panic("boom") })
	t.Fatal("offStack returned after f panicked")
}
