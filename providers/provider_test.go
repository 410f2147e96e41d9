package providers

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		h    http.Header
		want time.Duration
	}{
		{"none", http.Header{}, 0},
		{"seconds", http.Header{"Retry-After": {"3"}}, 3 * time.Second},
		{"fractional", http.Header{"Retry-After": {"0.5"}}, 500 * time.Millisecond},
		{"ms wins", http.Header{"Retry-After": {"3"}, "Retry-After-Ms": {"250"}}, 250 * time.Millisecond},
		{"date", http.Header{"Retry-After": {now.Add(10 * time.Second).Format(http.TimeFormat)}}, 10 * time.Second},
		{"past date", http.Header{"Retry-After": {now.Add(-time.Minute).Format(http.TimeFormat)}}, 0},
		{"garbage", http.Header{"Retry-After": {"soon"}}, 0},
		{"negative", http.Header{"Retry-After": {"-4"}}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := RetryAfter(tc.h, now); got != tc.want {
				t.Fatalf("RetryAfter = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestErrorRetryable(t *testing.T) {
	cases := []struct {
		err  *Error
		want bool
	}{
		{&Error{Status: 500}, true},
		{&Error{Status: 503}, true},
		{&Error{Status: 429}, true},
		{&Error{Status: 408}, true},
		{&Error{Status: 400}, false},
		{&Error{Status: 401}, false},
		{&Error{Status: 404}, false},
		{&Error{Err: errors.New("connection refused")}, true},
		{&Error{Err: context.Canceled}, false},
	}
	for _, tc := range cases {
		if got := tc.err.Retryable(); got != tc.want {
			t.Errorf("%v Retryable = %v, want %v", tc.err, got, tc.want)
		}
	}
}

type nopProvider struct{}

func (nopProvider) Chat(context.Context, *ChatRequest) (*ChatResponse, error) { return nil, nil }
func (nopProvider) ChatStream(context.Context, *ChatRequest) (Stream, error)  { return nil, nil }

func TestRegistry(t *testing.T) {
	Register("test-kind", func(Config) (Provider, error) { return nopProvider{}, nil })
	if _, err := New(Config{Kind: "test-kind"}); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{Kind: "no-such-kind"}); err == nil {
		t.Fatal("unknown kind accepted")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("duplicate Register did not panic")
		}
	}()
	Register("test-kind", func(Config) (Provider, error) { return nopProvider{}, nil })
}

func TestContentJSON(t *testing.T) {
	for _, in := range []string{`"hi"`, `""`, `null`, `[{"type":"text","text":"a"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AA=="}}]`} {
		var c Content
		if err := c.UnmarshalJSON([]byte(in)); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		out, err := c.MarshalJSON()
		if err != nil || string(out) != in {
			t.Fatalf("round trip %s -> %s (%v)", in, out, err)
		}
	}
	var c Content
	if err := c.UnmarshalJSON([]byte(`42`)); err == nil {
		t.Fatal("number accepted as content")
	}
}
