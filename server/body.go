package server

import (
	"bytes"
	"io"
	"net/http"
)

// readAll reads a request body, sized by Content-Length when it is known.
func readAll(r *http.Request) ([]byte, error) {
	if r.ContentLength > 0 {
		buf := bytes.NewBuffer(make([]byte, 0, r.ContentLength+1))
		_, err := buf.ReadFrom(r.Body)
		return buf.Bytes(), err
	}
	return io.ReadAll(r.Body)
}
