package server

import (
	"errors"
	"io"
	"net/http"
)

// readAll reads a request body in one allocation when Content-Length is
// known (the server has already bounded it), else with io.ReadAll.
func readAll(r *http.Request) ([]byte, error) {
	if r.ContentLength > 0 {
		b := make([]byte, r.ContentLength)
		n, err := io.ReadFull(r.Body, b)
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return b[:n], errors.New("body shorter than its Content-Length")
		}
		return b[:n], err
	}
	return io.ReadAll(r.Body)
}
