package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strings"
)

// memMetrics are the runtime/metrics a memory snapshot records.
var memMetrics = []struct{ name, label string }{
	{"/sched/goroutines:goroutines", "goroutines"},
	{"/memory/classes/heap/stacks:bytes", "goroutine stacks"},
	{"/gc/heap/live:bytes", "live heap (after a GC)"},
	{"/memory/classes/heap/objects:bytes", "heap objects"},
	{"/memory/classes/total:bytes", "all Go memory (incl. free, not released)"},
}

// memSnapshot (gateway role) runs a GC and writes dir/mem-N.json with
// memMetrics, dir/heap-N.pprof with the heap in use and
// dir/goroutines-N.txt with the goroutines grouped by stack.
func memSnapshot(dir string, n int) error {
	runtime.GC()
	samples := make([]metrics.Sample, len(memMetrics))
	for i, m := range memMetrics {
		samples[i].Name = m.name
	}
	metrics.Read(samples)
	vals := map[string]uint64{}
	for _, s := range samples {
		if s.Value.Kind() == metrics.KindUint64 {
			vals[s.Name] = s.Value.Uint64()
		}
	}
	b, err := json.Marshal(vals)
	if err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, fmt.Sprintf("heap-%d.pprof", n)))
	if err != nil {
		return err
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	g, err := os.Create(filepath.Join(dir, fmt.Sprintf("goroutines-%d.txt", n)))
	if err != nil {
		return err
	}
	if err := pprof.Lookup("goroutine").WriteTo(g, 1); err != nil {
		g.Close()
		return err
	}
	if err := g.Close(); err != nil {
		return err
	}
	// Written last: the bench waits for this file.
	return os.WriteFile(filepath.Join(dir, fmt.Sprintf("mem-%d.json", n)), b, 0o644)
}

// memReport prints what one open slow stream costs the gateway, from the
// snapshot before the streams opened (1) and the one with all open (2):
// goroutines, stack and heap per stream, then the heap's top growth by
// allocation site.
func memReport(out io.Writer, dir string, streams int) {
	fmt.Fprintf(out, "\n== memory of %d open slow streams (runtime/metrics after a GC, per stream; %s) ==\n", streams, dir)
	read := func(n int) (map[string]uint64, bool) {
		path := filepath.Join(dir, fmt.Sprintf("mem-%d.json", n))
		if !waitFile(path, 10e9) {
			fmt.Fprintf(out, "  snapshot %s was not written\n", path)
			return nil, false
		}
		b, err := os.ReadFile(path)
		vals := map[string]uint64{}
		if err == nil {
			err = json.Unmarshal(b, &vals)
		}
		if err != nil {
			fmt.Fprintf(out, "  snapshot %s: %v\n", path, err)
			return nil, false
		}
		return vals, true
	}
	idle, ok1 := read(1)
	peak, ok2 := read(2)
	if !ok1 || !ok2 || streams == 0 {
		return
	}
	for _, m := range memMetrics {
		d := float64(int64(peak[m.name])-int64(idle[m.name])) / float64(streams)
		if strings.HasSuffix(m.name, ":bytes") {
			fmt.Fprintf(out, "  %8.1f KiB  %s\n", d/1024, m.label)
		} else {
			fmt.Fprintf(out, "  %8.2f      %s\n", d, m.label)
		}
	}
	b, err := exec.Command("go", "tool", "pprof", "-top", "-nodecount=20", "-sample_index=inuse_space",
		"-diff_base", filepath.Join(dir, "heap-1.pprof"), filepath.Join(dir, "heap-2.pprof")).CombinedOutput()
	if err != nil {
		fmt.Fprintf(out, "  go tool pprof: %v\n", err)
		return
	}
	fmt.Fprintln(out, "  -- heap growth by allocation site (inuse_space, peak minus idle) --")
	for _, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		if strings.HasPrefix(line, "File:") || strings.HasPrefix(line, "Build ID:") || strings.HasPrefix(line, "Time:") || strings.HasPrefix(line, "Type:") {
			continue
		}
		fmt.Fprintln(out, "  "+line)
	}
}
