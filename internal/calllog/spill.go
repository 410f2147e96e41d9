package calllog

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// spillExt ends every spill file; a file with bad lines keeps them in a
// sibling ending in .bad, which is never replayed.
const (
	spillExt  = ".jsonl"
	badSuffix = ".bad"
)

// spillWriter appends records, one JSON object a line, to the current file
// of a directory, syncing after every write and starting a new file once
// the current one reaches maxBytes. It is safe for concurrent use.
type spillWriter struct {
	dir      string
	maxBytes int64

	mu   sync.Mutex
	f    *os.File
	size int64
	seq  uint64
	buf  bytes.Buffer
}

func newSpillWriter(dir string, maxBytes int64) (*spillWriter, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("calllog: spill directory: %w", err)
	}
	return &spillWriter{dir: dir, maxBytes: maxBytes}, nil
}

// write appends recs and syncs the file. On error some lines may have
// been written; a later write goes to a new file, and the replay skips the
// records already inserted.
func (s *spillWriter) write(recs []*Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf.Reset()
	enc := json.NewEncoder(&s.buf)
	enc.SetEscapeHTML(false)
	for _, r := range recs {
		if err := enc.Encode(r); err != nil {
			return fmt.Errorf("encode record %s: %w", r.ID, err)
		}
	}
	if s.f == nil {
		s.seq++
		name := fmt.Sprintf("calllog-%020d-%06d%s", time.Now().UnixNano(), s.seq, spillExt)
		f, err := os.OpenFile(filepath.Join(s.dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
		if err != nil {
			return err
		}
		s.f, s.size = f, 0
		syncDir(s.dir)
	}
	n, err := s.f.Write(s.buf.Bytes())
	s.size += int64(n)
	if err == nil {
		err = s.f.Sync()
	}
	if err != nil || s.size >= s.maxBytes {
		cerr := s.f.Close()
		s.f = nil
		if err == nil {
			err = cerr
		}
	}
	return err
}

// rotate closes the current file, so every file listed afterwards is
// complete, and returns the spill files in the order they were written.
func (s *spillWriter) rotate() ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f != nil {
		s.f.Close()
		s.f = nil
	}
	return listSpill(s.dir)
}

func (s *spillWriter) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f != nil {
		s.f.Close()
		s.f = nil
	}
}

func listSpill(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), spillExt) {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	slices.Sort(out) // names start with a zero-padded timestamp
	return out, nil
}

// badLine is a spill line that does not parse (a write cut short by a
// crash, or corruption).
type badLine struct {
	line int
	text []byte
	err  error
}

// readSpill calls fn with the file's records in batches of up to n, in
// file order, and returns the lines it could not parse. It stops at fn's
// first error.
func readSpill(path string, n int, fn func([]*Record) error) ([]badLine, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rd := bufio.NewReaderSize(f, 256<<10)
	var bad []badLine
	batch := make([]*Record, 0, n)
	for lineNo := 1; ; lineNo++ {
		line, rerr := rd.ReadBytes('\n')
		if rerr != nil && !errors.Is(rerr, io.EOF) {
			return bad, rerr
		}
		if t := bytes.TrimSpace(line); len(t) > 0 {
			r := new(Record)
			if err := json.Unmarshal(t, r); err != nil || r.ID == "" {
				if err == nil {
					err = errors.New("record has no id")
				}
				bad = append(bad, badLine{line: lineNo, text: bytes.Clone(t), err: err})
			} else {
				batch = append(batch, r)
			}
		}
		if len(batch) == n || (rerr != nil && len(batch) > 0) {
			if err := fn(batch); err != nil {
				return bad, err
			}
			batch = make([]*Record, 0, n)
		}
		if rerr != nil {
			return bad, nil
		}
	}
}

// keepBad appends unparseable lines to path+".bad" for inspection.
func keepBad(path string, bad []badLine) error {
	f, err := os.OpenFile(path+badSuffix, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	for _, b := range bad {
		f.Write(append(b.text, '\n'))
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// syncDir makes a created or removed file name durable.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
