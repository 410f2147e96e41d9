package cli

import (
	"context"
	"net"
	"strings"
	"testing"
)

func TestDemoURLs(t *testing.T) {
	tcp := func(ip string, port int) net.Addr { return &net.TCPAddr{IP: net.ParseIP(ip), Port: port} }
	cases := []struct {
		configured       string
		bound            net.Addr
		console, traffic string
	}{
		{":8080", tcp("::", 8080), "http://localhost:8080", "http://127.0.0.1:8080"},
		{"0.0.0.0:9000", tcp("0.0.0.0", 9000), "http://localhost:9000", "http://127.0.0.1:9000"},
		{"127.0.0.1:0", tcp("127.0.0.1", 41234), "http://127.0.0.1:41234", "http://127.0.0.1:41234"},
		{"[::1]:8080", tcp("::1", 8080), "http://[::1]:8080", "http://[::1]:8080"},
		{"gateway.local:8080", tcp("10.0.0.5", 8080), "http://gateway.local:8080", "http://10.0.0.5:8080"},
	}
	for _, c := range cases {
		if got := consoleURL(c.configured, c.bound); got != c.console {
			t.Errorf("consoleURL(%s) = %s, want %s", c.configured, got, c.console)
		}
		if got := loopbackURL(c.bound); got != c.traffic {
			t.Errorf("loopbackURL(%s) = %s, want %s", c.bound, got, c.traffic)
		}
	}
}

func TestDemoHelpAndBadFlags(t *testing.T) {
	r := run(t, context.Background(), nil, "demo", "--help")
	if r.code != 0 || !strings.Contains(r.stdout, "-rate") || !strings.Contains(r.stdout, "-no-traffic") || !strings.Contains(r.stdout, "-history") {
		t.Fatalf("demo --help: %+v", r)
	}
	for _, args := range [][]string{{"demo", "--rate", "-1"}, {"demo", "--history", "-1h"}, {"demo", "--rate", "x"}} {
		r := run(t, context.Background(), tempEnv(t), args...)
		if r.code != 2 || !strings.Contains(strings.SplitN(r.stderr, "\n", 2)[0], args[1][2:]) {
			t.Errorf("%v: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
}
