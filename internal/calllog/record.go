package calllog

import (
	"encoding/json"
	"time"
)

// Record is one data-plane call: a success, an upstream error, or a
// rejection at authentication, subscription or limits. The caller fills it
// once the call is over and hands it to Logger.Log; zero values mean "not
// known" (a rejected call has no provider, an unauthenticated one no
// consumer).
type Record struct {
	// ID is the record's unique id, a UUIDv7 string. Leave it empty: the
	// Logger assigns it before the record is first written anywhere, so a
	// replay of spilled records never inserts one twice.
	ID string `json:"id"`
	// RequestID is the request's id as the gateway answered it in
	// X-Request-Id; it need not be unique (clients may choose it).
	RequestID string `json:"request_id,omitempty"`
	// StartedAt is when the gateway received the request; the Logger uses
	// its clock when it is zero.
	StartedAt time.Time `json:"started_at"`

	ConsumerID uint64 `json:"consumer_id,omitempty"`
	KeyID      string `json:"key_id,omitempty"`
	ServiceID  uint64 `json:"service_id,omitempty"`
	// TeamID is the team owning the service (or the consumer when the call
	// was rejected before a service was known), for team-scoped reads.
	TeamID uint64 `json:"team_id,omitempty"`
	// Endpoint names the API called: chat, embeddings, messages, prompt,
	// models, …
	Endpoint      string `json:"endpoint,omitempty"`
	PromptSlug    string `json:"prompt_slug,omitempty"`
	PromptVersion int    `json:"prompt_version,omitempty"`
	// Model is the public model name the client asked for.
	Model string `json:"model,omitempty"`
	// Provider and UpstreamModel are those of the attempt that answered
	// (or the last one tried).
	Provider      string `json:"provider,omitempty"`
	UpstreamModel string `json:"upstream_model,omitempty"`

	// Status is the HTTP status answered to the client (499 when the
	// client went away).
	Status int `json:"status"`
	// Error is the error message, empty on success.
	Error          string `json:"error,omitempty"`
	Stream         bool   `json:"stream,omitempty"`
	TokensIn       int64  `json:"tokens_in,omitempty"`
	TokensOut      int64  `json:"tokens_out,omitempty"`
	UsageEstimated bool   `json:"usage_estimated,omitempty"`
	// Cost is computed by the caller from the model's prices, in the
	// currency unit (e.g. USD).
	Cost       float64 `json:"cost,omitempty"`
	BytesIn    int64   `json:"bytes_in,omitempty"`
	BytesOut   int64   `json:"bytes_out,omitempty"`
	ClientAddr string  `json:"client_addr,omitempty"`

	// The waterfall. Auth and Routing are the time spent authenticating
	// and choosing a target, Total the whole call, TTFT the time to the
	// first token sent to the client (streams; zero otherwise).
	Auth     time.Duration `json:"auth,omitempty"`
	Routing  time.Duration `json:"routing,omitempty"`
	Total    time.Duration `json:"total,omitempty"`
	TTFT     time.Duration `json:"ttft,omitempty"`
	Attempts []Attempt     `json:"attempts,omitempty"`

	// RequestBody and ResponseBody are captured only for services that
	// ask for it, with credentials already redacted; nil otherwise. They
	// are stored capped at MaxBodyBytes.
	RequestBody  *string `json:"request_body,omitempty"`
	ResponseBody *string `json:"response_body,omitempty"`
}

// Attempt is one upstream try within a call. Its times are measured from
// the start of the attempt, except Start, which is its offset from the
// start of the call.
type Attempt struct {
	// TargetID is the model target tried (0 when not known).
	TargetID      uint64
	Provider      string
	UpstreamModel string
	// Status is the upstream HTTP status, 0 when no response came.
	Status int
	Error  string
	Start  time.Duration
	// DNS, Connect and TLS are zero when a pooled connection was reused.
	DNS, Connect, TLS time.Duration
	// TTFB is the time to the first response byte, Transfer the time from
	// there to the end of the body.
	TTFB, Transfer time.Duration
	// Retried is set when the gateway went on to another attempt.
	Retried bool
}

// attemptJSON is the stored form of an Attempt: times in microseconds, like
// the duration columns of call_logs.
type attemptJSON struct {
	TargetID      uint64 `json:"target_id,omitempty"`
	Provider      string `json:"provider,omitempty"`
	UpstreamModel string `json:"upstream_model,omitempty"`
	Status        int    `json:"status"`
	Error         string `json:"error,omitempty"`
	StartUS       int64  `json:"start_us"`
	DNSUS         int64  `json:"dns_us"`
	ConnectUS     int64  `json:"connect_us"`
	TLSUS         int64  `json:"tls_us"`
	TTFBUS        int64  `json:"ttfb_us"`
	TransferUS    int64  `json:"transfer_us"`
	Retried       bool   `json:"retried,omitempty"`
}

// MarshalJSON stores the times in microseconds.
func (a Attempt) MarshalJSON() ([]byte, error) {
	return json.Marshal(attemptJSON{
		TargetID: a.TargetID, Provider: a.Provider, UpstreamModel: a.UpstreamModel,
		Status: a.Status, Error: a.Error,
		StartUS: a.Start.Microseconds(), DNSUS: a.DNS.Microseconds(), ConnectUS: a.Connect.Microseconds(),
		TLSUS: a.TLS.Microseconds(), TTFBUS: a.TTFB.Microseconds(), TransferUS: a.Transfer.Microseconds(),
		Retried: a.Retried,
	})
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (a *Attempt) UnmarshalJSON(b []byte) error {
	var j attemptJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	us := func(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
	*a = Attempt{TargetID: j.TargetID, Provider: j.Provider, UpstreamModel: j.UpstreamModel,
		Status: j.Status, Error: j.Error, Start: us(j.StartUS), DNS: us(j.DNSUS), Connect: us(j.ConnectUS),
		TLS: us(j.TLSUS), TTFB: us(j.TTFBUS), Transfer: us(j.TransferUS), Retried: j.Retried}
	return nil
}

// DecodeAttempts parses the attempts column of call_logs.
func DecodeAttempts(s string) ([]Attempt, error) {
	if s == "" {
		return nil, nil
	}
	var out []Attempt
	err := json.Unmarshal([]byte(s), &out)
	return out, err
}

// IsError reports whether a record counts as an error in the rollups: a
// status outside 2xx, or an error message (a stream that failed after its
// 200 was sent).
func (r *Record) IsError() bool {
	return r.Status < 200 || r.Status > 299 || r.Error != ""
}

// StatusClass groups a status for the rollups: 2xx, 4xx, 5xx or other
// (no response, 1xx, 3xx).
func StatusClass(status int) string {
	switch {
	case status >= 200 && status <= 299:
		return "2xx"
	case status >= 400 && status <= 499:
		return "4xx"
	case status >= 500 && status <= 599:
		return "5xx"
	}
	return "other"
}
