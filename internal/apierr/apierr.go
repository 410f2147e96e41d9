// Package apierr is the one place where errors become HTTP answers. Handlers
// return an *Error (or any error, which becomes a 500 whose cause is logged
// but not shown); Write renders it in the OpenAI envelope
// {"error":{"message","type","code","param"}} that every OpenAI SDK parses.
// The message is chosen on purpose for the caller and tells them what to do.
package apierr

import (
	"encoding/json"
	"errors"
	"net/http"
)

// Error is an error with the status and message a client should see.
type Error struct {
	// Status is the HTTP status.
	Status int
	// Type is the OpenAI error type; empty means derived from Status.
	Type string
	// Code is a machine-readable code (invalid_api_key, model_not_found…).
	Code string
	// Param is the request field at fault, if any.
	Param string
	// Message is shown to the client.
	Message string
	// Err is the internal cause, logged and never shown.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error with status and message.
func New(status int, message string) *Error {
	return &Error{Status: status, Message: message}
}

// BadRequest is a 400 naming the field at fault.
func BadRequest(param, message string) *Error {
	return &Error{Status: http.StatusBadRequest, Param: param, Message: message}
}

// From returns err as an *Error: itself when it is one, else a 500 that
// hides the cause.
func From(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Status: http.StatusInternalServerError, Message: "internal error; the request id identifies it in the server log", Err: err}
}

// TypeFor is the OpenAI error type for a status.
func TypeFor(status int) string {
	switch {
	case status == http.StatusUnauthorized:
		return "authentication_error"
	case status == http.StatusForbidden:
		return "permission_error"
	case status == http.StatusNotFound:
		return "not_found_error"
	case status == http.StatusRequestEntityTooLarge:
		return "request_too_large"
	case status == http.StatusTooManyRequests:
		return "rate_limit_error"
	case status == http.StatusServiceUnavailable:
		return "service_unavailable"
	case status == http.StatusGatewayTimeout:
		return "timeout_error"
	case status >= 500:
		return "api_error"
	default:
		return "invalid_request_error"
	}
}

type body struct {
	Error envelope `json:"error"`
}

type envelope struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Code    *string `json:"code"`
	Param   *string `json:"param"`
}

// JSON renders e in the OpenAI envelope.
func JSON(e *Error) []byte {
	env := envelope{Message: e.Message, Type: e.Type}
	if env.Type == "" {
		env.Type = TypeFor(e.Status)
	}
	if e.Code != "" {
		env.Code = &e.Code
	}
	if e.Param != "" {
		env.Param = &e.Param
	}
	b, _ := json.Marshal(body{Error: env})
	return b
}

// Write renders err to w in the OpenAI envelope with its status.
func Write(w http.ResponseWriter, err error) {
	e := From(err)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.Status)
	_, _ = w.Write(JSON(e))
}
