package gemini

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/sluicehq/sluice/providers"
)

// maxErrorBody bounds how much of an error answer is read.
const maxErrorBody = 1 << 20

// errorFromResponse reads a non-2xx answer into a *providers.Error and
// closes the body. Google's envelope is {"error":{"code","message","status",
// "details"}}; a streaming endpoint may wrap it in a one-element array.
func errorFromResponse(resp *http.Response) error {
	defer providers.DrainClose(resp.Body)
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	e := parseErrorBody(body, resp.StatusCode)
	if ra := providers.RetryAfter(resp.Header, time.Now()); ra > 0 {
		e.RetryAfter = ra
	}
	return e
}

// parseErrorBody builds the error from an error body and HTTP status.
func parseErrorBody(body []byte, status int) *providers.Error {
	trimmed := bytes.TrimSpace(body)
	var env errorEnvelope
	if len(trimmed) > 0 && trimmed[0] == '[' {
		var list []errorEnvelope
		if json.Unmarshal(trimmed, &list) == nil && len(list) > 0 {
			env = list[0]
		}
	} else {
		_ = json.Unmarshal(trimmed, &env)
	}
	if env.Error == nil {
		msg := string(trimmed)
		if len(msg) > 512 {
			msg = msg[:512]
		}
		if msg == "" {
			msg = http.StatusText(status)
		}
		return &providers.Error{Status: status, Message: msg}
	}
	return errorFromAPI(env.Error, status)
}

// errorFromAPI converts the inside of the envelope. Code is the reason of
// a google.rpc.ErrorInfo detail (API_KEY_INVALID, …), Param the field of a
// google.rpc.BadRequest violation, and RetryAfter the retryDelay of a
// google.rpc.RetryInfo (Gemini's 429s carry it instead of Retry-After).
func errorFromAPI(a *apiError, status int) *providers.Error {
	if status == 0 {
		status = a.Code
	}
	if status == 0 {
		status = http.StatusBadGateway
	}
	e := &providers.Error{Status: status, Type: a.Status, Message: a.Message}
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	for _, raw := range a.Details {
		var d struct {
			Type            string `json:"@type"`
			Reason          string `json:"reason"`
			RetryDelay      string `json:"retryDelay"`
			FieldViolations []struct {
				Field string `json:"field"`
			} `json:"fieldViolations"`
		}
		if json.Unmarshal(raw, &d) != nil {
			continue
		}
		switch d.Type {
		case "type.googleapis.com/google.rpc.ErrorInfo":
			e.Code = d.Reason
		case "type.googleapis.com/google.rpc.RetryInfo":
			if dur, err := time.ParseDuration(d.RetryDelay); err == nil && dur > 0 {
				e.RetryAfter = dur
			}
		case "type.googleapis.com/google.rpc.BadRequest":
			if len(d.FieldViolations) > 0 {
				e.Param = d.FieldViolations[0].Field
			}
		}
	}
	return e
}
