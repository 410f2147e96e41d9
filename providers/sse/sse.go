// Package sse reads and writes server-sent events, the streaming format of
// every provider. It is the one SSE reader of the gateway: lines up to
// MaxLine bytes (not bufio.Scanner's 64 KiB), and an event cut off by the end
// of the stream is reported as io.ErrUnexpectedEOF, never taken as complete.
//
// It imports only the standard library.
package sse

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// MaxLine is the longest line the reader accepts (a single data: line of a
// large tool call or an inline image can be megabytes).
const MaxLine = 16 << 20

// ErrLineTooLong is returned for a line longer than MaxLine.
var ErrLineTooLong = errors.New("sse: line longer than the limit")

// Event is one server-sent event. Data holds the data: lines joined by "\n";
// it is valid only until the next call to Next.
type Event struct {
	Event string
	Data  []byte
	ID    string
	Retry string
}

// readBuffer is the size of a Reader's buffer: a typical chat chunk event
// (a few hundred bytes) fits.
const readBuffer = 1 << 10

// Reader reads events from a stream.
type Reader struct {
	br   *bufio.Reader
	data []byte
	ev   Event
	line []byte
}

// NewReader returns a Reader reading from r.
func NewReader(r io.Reader) *Reader {
	// Streams are read from an HTTP body that the transport already
	// buffers, so a small buffer costs a few more in-memory reads, not
	// system calls, and keeps the memory of each open stream down; a
	// longer line is assembled in r.line.
	return &Reader{br: bufio.NewReaderSize(r, readBuffer)}
}

// Next returns the next event. At a clean end of the stream (after a blank
// line or with nothing pending) it returns io.EOF; when the stream ends in
// the middle of an event it returns io.ErrUnexpectedEOF. Comment lines
// (": keep-alive") are skipped.
func (r *Reader) Next() (*Event, error) {
	r.ev = Event{}
	r.data = r.data[:0]
	pending, dataLines := false, 0
	for {
		line, err := r.readLine()
		if err != nil {
			if err == io.EOF && (pending || len(line) > 0) {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
		if len(line) == 0 {
			if !pending {
				continue
			}
			r.ev.Data = r.data
			return &r.ev, nil
		}
		if line[0] == ':' {
			continue
		}
		field, value := line, []byte(nil)
		if i := bytes.IndexByte(line, ':'); i >= 0 {
			field, value = line[:i], line[i+1:]
			if len(value) > 0 && value[0] == ' ' {
				value = value[1:]
			}
		}
		switch string(field) {
		case "data":
			if dataLines > 0 {
				r.data = append(r.data, '\n')
			}
			r.data = append(r.data, value...)
			dataLines++
			pending = true
		case "event":
			r.ev.Event = string(value)
			pending = true
		case "id":
			r.ev.ID = string(value)
			pending = true
		case "retry":
			r.ev.Retry = string(value)
			pending = true
		}
	}
}

// readLine returns one line without its line ending ("\n", "\r\n" or "\r"
// followed by "\n"). At end of stream it returns the unterminated rest and
// io.EOF.
func (r *Reader) readLine() ([]byte, error) {
	r.line = r.line[:0]
	for {
		chunk, err := r.br.ReadSlice('\n')
		r.line = append(r.line, chunk...)
		if len(r.line) > MaxLine {
			return nil, fmt.Errorf("%w (%d bytes)", ErrLineTooLong, MaxLine)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return r.line, err
		}
		line := r.line[:len(r.line)-1]
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		return line, nil
	}
}

// maxKeptBuffer is the largest event buffer a Writer keeps for the next
// event; a larger event's buffer is left to the garbage collector.
const maxKeptBuffer = 16 << 10

// Writer writes events to a client. It reuses one buffer for the events it
// writes, so the io.Writer must not keep the slices it is given (none of
// the standard library's does).
type Writer struct {
	w   io.Writer
	buf []byte
}

// NewWriter returns a Writer writing to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Data writes one "data:" event. data must not contain a newline
// (JSON produced by encoding/json never does).
func (w *Writer) Data(data []byte) error {
	return w.Event("", data)
}

// Event writes one event with an optional name.
func (w *Writer) Event(name string, data []byte) error {
	buf := w.buf[:0]
	if name != "" {
		buf = append(buf, "event: "...)
		buf = append(buf, name...)
		buf = append(buf, '\n')
	}
	buf = append(buf, "data: "...)
	buf = append(buf, data...)
	buf = append(buf, "\n\n"...)
	if cap(buf) <= maxKeptBuffer {
		w.buf = buf
	}
	_, err := w.w.Write(buf)
	return err
}
