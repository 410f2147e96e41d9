package sse

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func readAll(t *testing.T, in string) ([]Event, error) {
	t.Helper()
	r := NewReader(strings.NewReader(in))
	var out []Event
	for {
		ev, err := r.Next()
		if err != nil {
			if err == io.EOF {
				return out, nil
			}
			return out, err
		}
		cp := *ev
		cp.Data = append([]byte(nil), ev.Data...)
		out = append(out, cp)
	}
}

func TestReader(t *testing.T) {
	cases := []struct {
		name    string
		in      string
		want    []Event
		wantErr error
	}{
		{"openai", "data: {\"a\":1}\n\ndata: [DONE]\n\n", []Event{{Data: []byte(`{"a":1}`)}, {Data: []byte("[DONE]")}}, nil},
		{"anthropic named events", "event: message_start\ndata: {}\n\nevent: ping\ndata: {\"type\": \"ping\"}\n\n",
			[]Event{{Event: "message_start", Data: []byte("{}")}, {Event: "ping", Data: []byte(`{"type": "ping"}`)}}, nil},
		{"crlf and comments", ": keep-alive\r\n\r\ndata:x\r\n\r\n", []Event{{Data: []byte("x")}}, nil},
		{"multi-line data", "data: a\ndata: b\n\n", []Event{{Data: []byte("a\nb")}}, nil},
		{"id and retry", "id: 7\nretry: 100\ndata: z\n\n", []Event{{ID: "7", Retry: "100", Data: []byte("z")}}, nil},
		{"truncated mid-event", "data: {\"a\":1}\n\ndata: {\"b\"", []Event{{Data: []byte(`{"a":1}`)}}, io.ErrUnexpectedEOF},
		{"truncated before blank line", "data: {\"a\":1}\n", nil, io.ErrUnexpectedEOF},
		{"empty", "", nil, nil},
		{"only blank lines", "\n\n\n", nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readAll(t, tc.in)
			if !errors.Is(err, tc.wantErr) && err != tc.wantErr {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d events %+v, want %d", len(got), got, len(tc.want))
			}
			for i := range got {
				g, w := got[i], tc.want[i]
				if g.Event != w.Event || g.ID != w.ID || g.Retry != w.Retry || !bytes.Equal(g.Data, w.Data) {
					t.Errorf("event %d = %+v (%q), want %+v (%q)", i, g, g.Data, w, w.Data)
				}
			}
		})
	}
}

func TestReaderLongLine(t *testing.T) {
	big := strings.Repeat("x", 1<<20) // 1 MiB, far past bufio.Scanner's 64 KiB
	got, err := readAll(t, "data: "+big+"\n\n")
	if err != nil || len(got) != 1 || len(got[0].Data) != len(big) {
		t.Fatalf("long line: err=%v events=%d", err, len(got))
	}
}

func TestWriterRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	if err := w.Event("message_start", []byte(`{"x":1}`)); err != nil {
		t.Fatal(err)
	}
	if err := w.Data([]byte("[DONE]")); err != nil {
		t.Fatal(err)
	}
	if buf.String() != "event: message_start\ndata: {\"x\":1}\n\ndata: [DONE]\n\n" {
		t.Fatalf("wrote %q", buf.String())
	}
	got, err := readAll(t, buf.String())
	if err != nil || len(got) != 2 || got[0].Event != "message_start" || string(got[1].Data) != "[DONE]" {
		t.Fatalf("round trip: %v %+v", err, got)
	}
}

func FuzzReader(f *testing.F) {
	f.Add([]byte("data: {\"a\":1}\n\ndata: [DONE]\n\n"))
	f.Add([]byte("event: x\r\ndata: y\r\n\r\n: c\n"))
	f.Add([]byte("data: partial"))
	f.Fuzz(func(t *testing.T, in []byte) {
		r := NewReader(bytes.NewReader(in))
		for i := 0; i < len(in)+2; i++ {
			ev, err := r.Next()
			if err != nil {
				return
			}
			if len(ev.Data) > len(in) {
				t.Fatalf("event data longer than the input")
			}
		}
		t.Fatalf("reader did not end")
	})
}

func BenchmarkReader(b *testing.B) {
	var in bytes.Buffer
	for i := 0; i < 20; i++ {
		in.WriteString(`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"hello"},"finish_reason":null}]}` + "\n\n")
	}
	in.WriteString("data: [DONE]\n\n")
	src := in.Bytes()
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		r := NewReader(bytes.NewReader(src))
		for {
			if _, err := r.Next(); err != nil {
				break
			}
		}
	}
}
