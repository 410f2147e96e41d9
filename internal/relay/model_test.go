package relay

import (
	"testing"

	"github.com/tidwall/gjson"
)

// TestModelNameSetMatchesSJSON: the byte-for-byte rewrite of "model" gives
// what sjson gives, for every shape of member and name.
func TestModelNameSetMatchesSJSON(t *testing.T) {
	docs := []string{
		`{"id":"x","model":"up-model","choices":[]}`,
		`{"model":"house-model","choices":[]}`,
		`{ "model" : "a\"b\\u00e9" , "x":1}`,
		`{"choices":[{"delta":{"model":"inner"}}]}`,
		`{"model":null}`,
		`{"model":42,"z":{"model":"deep"}}`,
		`{"x":"model","model":"m"}`,
	}
	for _, name := range []string{"house-model", `quoted "name"`, "modèle", "a\\b"} {
		m := newModelName(name)
		for _, doc := range docs {
			data := []byte(doc)
			model, _, _, _ := openAIMembers(data)
			_, got := m.set(nil, data, model)
			if want := setModel([]byte(doc), "model", name); string(got) != string(want) {
				t.Errorf("name %q, doc %s:\n got %s\nwant %s", name, doc, got, want)
			}
			if !gjson.ValidBytes(got) {
				t.Errorf("invalid JSON %s", got)
			}
		}
	}
}
