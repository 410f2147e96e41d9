package apierr

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"testing"
)

func TestWrite(t *testing.T) {
	cases := []struct {
		name       string
		err        error
		wantStatus int
		wantType   string
		wantMsg    string
		wantParam  any
	}{
		{"bad request names field", BadRequest("messages", "messages is required"), 400, "invalid_request_error", "messages is required", "messages"},
		{"unauthorized", New(401, "missing key"), 401, "authentication_error", "missing key", nil},
		{"wrapped", fmt.Errorf("ctx: %w", New(403, "no subscription covers model \"m\"")), 403, "permission_error", "no subscription covers model \"m\"", nil},
		{"plain error hides cause", errors.New("dial tcp 10.0.0.1: secret detail"), 500, "api_error", "internal error; the request id identifies it in the server log", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			Write(rec, tc.err)
			if rec.Code != tc.wantStatus || rec.Header().Get("Content-Type") != "application/json" {
				t.Fatalf("status %d ct %q", rec.Code, rec.Header().Get("Content-Type"))
			}
			var got struct {
				Error struct {
					Message string `json:"message"`
					Type    string `json:"type"`
					Code    any    `json:"code"`
					Param   any    `json:"param"`
				} `json:"error"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if got.Error.Type != tc.wantType || got.Error.Message != tc.wantMsg || got.Error.Param != tc.wantParam {
				t.Fatalf("body %s", rec.Body.String())
			}
		})
	}
}
