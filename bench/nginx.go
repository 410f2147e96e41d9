package main

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// proxyProc is a baseline proxy in front of the fake, on the gateway's
// CPU: nginx (proxy_pass, one process with master_process off, keep-alive
// to the fake) or the bare Go proxy (goproxy.go).
type proxyProc struct {
	name       string
	cmd        *exec.Cmd
	base       string
	exited     chan struct{}
	stopSignal os.Signal
	errLog     string // read when it exits at start
}

func (n *proxyProc) pid() int { return n.cmd.Process.Pid }

// waitReady waits until the proxy answers, for 5 s.
func (n *proxyProc) waitReady() error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		select {
		case <-n.exited:
			b, _ := os.ReadFile(n.errLog)
			return fmt.Errorf("%s exited: %s", n.name, strings.TrimSpace(string(b)))
		default:
		}
		if resp, err := http.Get(n.base + "/v1/models"); err == nil {
			resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) {
			n.stop()
			return fmt.Errorf("%s did not answer on %s", n.name, n.base)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startNginx writes a config proxying 127.0.0.1:PORT to upstream and
// runs nginx in the foreground.
func startNginx(bin string, pin pinning, dir, upstream string) (*proxyProc, error) {
	for _, d := range []string{"", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, err
		}
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	up := strings.TrimPrefix(upstream, "http://")
	tmp := filepath.Join(dir, "tmp")
	conf := fmt.Sprintf(`daemon off;
master_process off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 10000; }
http {
    access_log off;
    client_body_temp_path %[2]s/body;
    proxy_temp_path %[2]s/proxy;
    fastcgi_temp_path %[2]s/fastcgi;
    uwsgi_temp_path %[2]s/uwsgi;
    scgi_temp_path %[2]s/scgi;
    keepalive_requests 1000000;
    upstream fake {
        server %[3]s;
        keepalive 512;
        keepalive_requests 1000000;
    }
    server {
        listen 127.0.0.1:%[4]d backlog=4096;
        location / {
            proxy_pass http://fake;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
        }
    }
}
`, dir, tmp, up, port)
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	argv := pin.wrap(bin, "-p", dir, "-c", confPath, "-e", filepath.Join(dir, "error.log"))
	cmd := exec.Command(argv[0], argv[1:]...)
	out, err := os.Create(filepath.Join(dir, "stdout.log"))
	if err != nil {
		return nil, err
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	n := &proxyProc{name: "nginx", cmd: cmd, base: "http://127.0.0.1:" + strconv.Itoa(port), exited: make(chan struct{}),
		stopSignal: syscall.SIGQUIT, errLog: filepath.Join(dir, "error.log")} // SIGQUIT: nginx's graceful stop
	go func() { _ = cmd.Wait(); close(n.exited) }()
	if err := n.waitReady(); err != nil {
		return nil, err
	}
	return n, nil
}

func (n *proxyProc) stop() {
	_ = n.cmd.Process.Signal(n.stopSignal)
	select {
	case <-n.exited:
	case <-time.After(5 * time.Second):
		_ = n.cmd.Process.Kill()
		<-n.exited
	}
}
