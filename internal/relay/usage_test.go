package relay

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/sluicehq/sluice/providers"
)

// TestMeterOpenAIMatchesEncodingJSON: the usage object read with gjson is
// what encoding/json decodes into providers.Usage, for the shapes OpenAI
// and compatible servers send.
func TestMeterOpenAIMatchesEncodingJSON(t *testing.T) {
	docs := []string{
		`{"prompt_tokens":12,"completion_tokens":30,"total_tokens":42}`,
		`{"prompt_tokens":12,"completion_tokens":30,"total_tokens":42,"prompt_tokens_details":{"cached_tokens":8,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":16,"audio_tokens":0,"accepted_prediction_tokens":0}}`,
		`{"prompt_tokens":5,"completion_tokens":0,"total_tokens":5,"prompt_tokens_details":null,"completion_tokens_details":null}`,
		`{"prompt_tokens":7,"total_tokens":7,"prompt_tokens_details":{"cached_tokens":3,"cache_creation_tokens":2}}`,
		`{"completion_tokens":9,"queue_time":0.01,"prompt_time":0.002,"x_groq":{"id":"req_1"}}`,
		`{}`,
	}
	for _, doc := range docs {
		var want providers.Usage
		if err := json.Unmarshal([]byte(doc), &want); err != nil {
			t.Fatal(err)
		}
		var m meter
		m.openAI(gjson.Parse(doc))
		if !m.reported {
			t.Fatalf("%s: not reported", doc)
		}
		if !reflect.DeepEqual(m.usage, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", doc, m.usage, want)
		}
	}
	var m meter
	m.openAI(gjson.Parse(`null`))
	if m.reported {
		t.Fatal("a null usage was reported")
	}
}
