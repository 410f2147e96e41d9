package prompts

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Diff compares two versions of a prompt.
type Diff struct {
	From int `json:"from"`
	To   int `json:"to"`
	// Messages is a unified line diff of the messages, each written as a
	// "## role" header line followed by its content.
	Messages string `json:"messages"`
	// Changes lists every other field that differs, by JSON path
	// (model, parameters.temperature, variables_schema.properties.topic.maxLength…).
	Changes []Change `json:"changes"`
}

// Change is one value that differs between two versions. From is absent
// for an addition, To for a removal.
type Change struct {
	Path string          `json:"path"`
	From json.RawMessage `json:"from,omitempty"`
	To   json.RawMessage `json:"to,omitempty"`
}

// Compare diffs version a against version b.
func Compare(a, b *Version) Diff {
	d := Diff{From: a.Version, To: b.Version, Changes: []Change{}}
	d.Messages = unified(messageLines(a.Messages), messageLines(b.Messages),
		fmt.Sprintf("version %d", a.Version), fmt.Sprintf("version %d", b.Version))
	fa, fb := map[string]string{}, map[string]string{}
	flattenRaw("model", mustJSON(a.Model), fa)
	flattenRaw("model", mustJSON(b.Model), fb)
	flattenRaw("parameters", a.Parameters, fa)
	flattenRaw("parameters", b.Parameters, fb)
	flattenRaw("variables_schema", a.VariablesSchema, fa)
	flattenRaw("variables_schema", b.VariablesSchema, fb)
	flattenRaw("allowed_overrides", mustJSON(a.AllowedOverrides), fa)
	flattenRaw("allowed_overrides", mustJSON(b.AllowedOverrides), fb)
	keys := slices.Sorted(maps.Keys(fa))
	for k := range fb {
		if _, ok := fa[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		va, ina := fa[k]
		vb, inb := fb[k]
		if ina && inb && va == vb {
			continue
		}
		c := Change{Path: k}
		if ina {
			c.From = json.RawMessage(va)
		}
		if inb {
			c.To = json.RawMessage(vb)
		}
		d.Changes = append(d.Changes, c)
	}
	return d
}

func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

// flattenRaw records each leaf of a JSON value under its dotted path;
// arrays of scalars are one leaf.
func flattenRaw(path string, raw json.RawMessage, out map[string]string) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		out[path] = string(raw)
		return
	}
	flatten(path, v, out)
}

func flatten(path string, v any, out map[string]string) {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 {
			out[path] = "{}"
		}
		for k, e := range x {
			flatten(path+"."+k, e, out)
		}
	case []any:
		scalar := true
		for _, e := range x {
			switch e.(type) {
			case map[string]any, []any:
				scalar = false
			}
		}
		if scalar {
			out[path] = string(mustJSON(x))
			return
		}
		for i, e := range x {
			flatten(path+"."+strconv.Itoa(i), e, out)
		}
	default:
		out[path] = string(mustJSON(x))
	}
}

func messageLines(msgs []Message) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, "## "+m.Role)
		out = append(out, strings.Split(m.Content, "\n")...)
	}
	return out
}

// maxDiffCells bounds the LCS table; larger inputs diff as whole blocks.
const maxDiffCells = 4 << 20

// unified is a unified diff of a and b (whole-file hunk, no context
// trimming: prompts are short).
func unified(a, b []string, nameA, nameB string) string {
	if slices.Equal(a, b) {
		return ""
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "--- %s\n+++ %s\n@@ -1,%d +1,%d @@\n", nameA, nameB, len(a), len(b))
	if (len(a)+1)*(len(b)+1) > maxDiffCells {
		for _, l := range a {
			sb.WriteString("-" + l + "\n")
		}
		for _, l := range b {
			sb.WriteString("+" + l + "\n")
		}
		return sb.String()
	}
	// lcs[i][j] is the LCS length of a[i:] and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			sb.WriteString(" " + a[i] + "\n")
			i, j = i+1, j+1
		case i < len(a) && (j == len(b) || lcs[i+1][j] >= lcs[i][j+1]):
			sb.WriteString("-" + a[i] + "\n")
			i++
		default:
			sb.WriteString("+" + b[j] + "\n")
			j++
		}
	}
	return sb.String()
}
