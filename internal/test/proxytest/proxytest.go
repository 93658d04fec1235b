// Package proxytest runs a real nginx in front of a Go test server: an
// HTTP/1.1 reverse proxy with nginx's default response buffering, the
// upstream keepalive and forwarding headers of docs/deploying-nginx.md, and
// a short proxy_read_timeout when a test asks for one. Tests use it to show
// that live pages' event streams pass through such a proxy without being
// held back, outlive its read timeout thanks to heartbeats, and resume after
// it cuts them (Stop, Start, Restart).
//
//	srv := httptest.NewServer(router)
//	px := proxytest.Start(t, srv.URL, proxytest.Options{ReadTimeout: time.Second})
//	tab := lttest.Open(t, px.URL+"/")
//
// With Options.TLS nginx terminates TLS and speaks HTTP/2 to clients (still
// HTTP/1.1 to the Go server), with a self-signed certificate made for the
// test (Proxy.Cert; Cert.Transport trusts it):
//
//	px := proxytest.Start(t, srv.URL, proxytest.Options{TLS: true})
//	client := &http.Client{Transport: px.Cert.Transport()}
//
// nginx is found at $LIVESSE_NGINX, else /usr/sbin/nginx, else as nginx on
// the PATH. Without it the tests are skipped, except under CI=true, where a
// missing nginx fails them (scripts/test.sh installs it).
package proxytest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// StartTimeout bounds how long Start waits for nginx to accept connections,
// and Stop for it to exit before it is killed.
const StartTimeout = 10 * time.Second

// DefaultReadTimeout is the proxy_read_timeout of the production
// configuration: well over lt's 15 s heartbeat.
const DefaultReadTimeout = 75 * time.Second

// Options tune the proxy. The zero value is the production configuration
// of docs/deploying-nginx.md; the other switches reproduce common
// configurations under which nginx holds back a stream that does not ask
// for X-Accel-Buffering: no, for control tests.
type Options struct {
	// ReadTimeout is proxy_read_timeout: nginx ends a response when the
	// upstream has sent nothing for this long (DefaultReadTimeout when
	// zero). nginx counts in milliseconds.
	ReadTimeout time.Duration
	// UpstreamHTTP10 leaves out proxy_http_version 1.1 and the empty
	// Connection header: nginx then speaks its default HTTP/1.0 to the
	// upstream, without keepalive, and gets responses that end when the
	// connection closes. With buffering on, nginx passes such a response
	// on only when a buffer (4 or 8 KiB) fills or the response ends.
	UpstreamHTTP10 bool
	// GzipEventStream adds gzip on for text/event-stream responses. With
	// buffering on, the compressed stream comes out only when gzip's
	// buffers fill or the response ends.
	GzipEventStream bool
	// TLS makes nginx terminate TLS and offer HTTP/2 to clients
	// (`listen ... ssl http2;`, the form every nginx since 1.9.5 reads;
	// 1.25.1 and later deprecate it for `http2 on;` but still accept it),
	// with the certificate and key at CertFile and KeyFile. nginx still
	// speaks HTTP/1.1 to the upstream: HTTP/2 ends at the proxy.
	TLS bool
	// CertFile and KeyFile are the PEM files nginx serves with TLS.
	// Config writes DefaultCertFile and DefaultKeyFile when they are
	// empty; Start makes a self-signed certificate for the test instead
	// (Proxy.Cert).
	CertFile, KeyFile string
}

// The certificate paths Config writes when Options name none.
const (
	DefaultCertFile = "/etc/nginx/tls/fullchain.pem"
	DefaultKeyFile  = "/etc/nginx/tls/privkey.pem"
)

// Config returns the http-context part of the nginx configuration that
// proxies listen (an nginx listen parameter: "80", "127.0.0.1:8081") to
// the Go server at upstream (host:port). With the zero Options it is the
// configuration that docs/deploying-nginx.md documents and that the tests
// run (with shorter timeouts): HTTP/1.1 to the upstream with keepalive
// connections (hence the empty Connection header), the original Host and
// X-Forwarded-* headers, and nginx's default buffering, which lt's streams
// turn off for themselves with X-Accel-Buffering: no.
func Config(upstream, listen string, o Options) string {
	rt := o.ReadTimeout
	if rt <= 0 {
		rt = DefaultReadTimeout
	}
	keepalive, http11 := "    keepalive 16;\n", `        proxy_http_version 1.1;
        proxy_set_header Connection "";
`
	if o.UpstreamHTTP10 {
		keepalive, http11 = "", ""
	}
	gzip := ""
	if o.GzipEventStream {
		gzip = "        gzip on;\n        gzip_types text/event-stream;\n"
	}
	tlsLines := ""
	if o.TLS {
		listen += " ssl http2"
		cert, key := o.CertFile, o.KeyFile
		if cert == "" {
			cert = DefaultCertFile
		}
		if key == "" {
			key = DefaultKeyFile
		}
		tlsLines = fmt.Sprintf("    ssl_certificate     %s;\n    ssl_certificate_key %s;\n", cert, key)
	}
	return fmt.Sprintf(`upstream livesse {
    server %s;
%s}

server {
    listen %s;
%s
    location / {
        proxy_pass http://livesse;
%s        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_set_header X-Forwarded-Host $http_host;
        proxy_read_timeout %s;
%s    }
}
`, upstream, keepalive, listen, tlsLines, http11, nginxDuration(rt), gzip)
}

// nginxDuration writes d as an nginx time: whole seconds as "75s", else
// milliseconds.
func nginxDuration(d time.Duration) string {
	if d%time.Second == 0 {
		return fmt.Sprintf("%ds", d/time.Second)
	}
	ms := d.Milliseconds()
	if ms < 1 {
		ms = 1
	}
	return fmt.Sprintf("%dms", ms)
}

// Proxy is a running (or stopped) nginx in front of one upstream. Its
// methods fail the test on errors and must be called from the test's
// goroutine.
type Proxy struct {
	// URL is the proxy's base URL, http://127.0.0.1:port (no slash), or
	// https:// with Options.TLS.
	URL string
	// Addr is the host:port nginx listens on; it stays the same across
	// Stop and Start.
	Addr string
	// Cert is the self-signed certificate nginx serves with Options.TLS
	// (nil without it, or when Options named their own files).
	Cert *Cert

	t      testing.TB
	bin    string
	dir    string
	conf   string
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has exited
	werr   error         // cmd.Wait's error, set before exited is closed
}

// Start writes an nginx configuration into a temporary directory, starts
// nginx in the foreground with it, in front of upstream (host:port, or an
// http:// URL such as an httptest.Server's), and waits until it accepts
// connections. nginx is stopped when the test ends. Start skips the test
// when nginx is missing, or fails it under CI=true.
func Start(t testing.TB, upstream string, o Options) *Proxy {
	t.Helper()
	bin, err := Nginx()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("proxytest: %v; install it with apt-get install nginx-light (or set LIVESSE_NGINX)", err)
		}
		t.Skipf("proxytest: skipping proxy test: %v (apt-get install nginx-light, or set LIVESSE_NGINX)", err)
	}
	upstream = strings.TrimSuffix(strings.TrimPrefix(upstream, "http://"), "/")
	if _, _, err := net.SplitHostPort(upstream); err != nil {
		t.Fatalf("proxytest: upstream %q is not host:port: %v", upstream, err)
	}
	addr := freeAddr(t)
	dir := t.TempDir()
	p := &Proxy{URL: "http://" + addr, Addr: addr, t: t, bin: bin, dir: dir, conf: filepath.Join(dir, "nginx.conf")}
	if o.TLS {
		p.URL = "https://" + addr
		if o.CertFile == "" && o.KeyFile == "" {
			p.Cert = NewCert(t, dir)
			o.CertFile, o.KeyFile = p.Cert.CertFile, p.Cert.KeyFile
		}
	}
	if err := os.WriteFile(p.conf, []byte(p.mainConfig(upstream, o)), 0o644); err != nil {
		t.Fatalf("proxytest: %v", err)
	}
	t.Cleanup(p.Stop)
	p.Start()
	return p
}

// Nginx returns the path of the nginx binary, or why there is none.
func Nginx() (string, error) {
	if p := os.Getenv("LIVESSE_NGINX"); p != "" {
		if _, err := exec.LookPath(p); err != nil {
			return "", fmt.Errorf("LIVESSE_NGINX=%s is not an executable: %v", p, err)
		}
		return p, nil
	}
	const debian = "/usr/sbin/nginx"
	if _, err := exec.LookPath(debian); err == nil {
		return debian, nil
	}
	p, err := exec.LookPath("nginx")
	if err != nil {
		return "", errors.New("no nginx: not at /usr/sbin/nginx nor on PATH, and LIVESSE_NGINX is unset")
	}
	return p, nil
}

// freeAddr finds a loopback port that is free now. nginx binds it with
// SO_REUSEADDR, so a restart gets it back.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxytest: finding a free port: %v", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// mainConfig is the whole nginx.conf: a single foreground process whose
// pid, logs and temporary files live in the test's directory, around
// Config.
func (p *Proxy) mainConfig(upstream string, o Options) string {
	var b strings.Builder
	fmt.Fprintf(&b, `# Written by internal/test/proxytest for one test.
daemon off;
master_process off;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;

events {
    worker_connections 1024;
}

http {
    access_log %[1]s/access.log;
    client_body_temp_path %[1]s/client_body;
    proxy_temp_path %[1]s/proxy;
`, p.dir)
	// Every temporary path a module of this build would create, so that
	// nginx never touches /var/lib/nginx (not writable without root).
	modules := buildInfo(p.bin)
	for _, m := range []string{"fastcgi", "uwsgi", "scgi"} {
		if !strings.Contains(modules, "--without-http_"+m+"_module") {
			fmt.Fprintf(&b, "    %s_temp_path %s/%s;\n", m, p.dir, m)
		}
	}
	b.WriteString("\n")
	for _, line := range strings.SplitAfter(Config(upstream, p.Addr, o), "\n") {
		if strings.TrimSpace(line) != "" {
			b.WriteString("    ")
		}
		b.WriteString(line)
	}
	b.WriteString("}\n")
	return b.String()
}

var (
	buildOnce sync.Once
	buildText string
)

// buildInfo is the output of nginx -V (its configure arguments).
func buildInfo(bin string) string {
	buildOnce.Do(func() {
		out, _ := exec.Command(bin, "-V").CombinedOutput()
		buildText = string(out)
	})
	return buildText
}

// ConfigText is the nginx.conf the proxy runs with.
func (p *Proxy) ConfigText() string {
	b, err := os.ReadFile(p.conf)
	if err != nil {
		p.t.Fatalf("proxytest: %v", err)
	}
	return string(b)
}

// ErrorLog is what nginx has written to its error log so far (warnings
// and errors, such as "upstream timed out").
func (p *Proxy) ErrorLog() string {
	b, _ := os.ReadFile(filepath.Join(p.dir, "error.log"))
	return string(b)
}

// Running tells whether nginx is running.
func (p *Proxy) Running() bool { return p.cmd != nil }

// Start starts nginx (again, after Stop) on the same address and waits
// until it accepts connections.
func (p *Proxy) Start() {
	p.t.Helper()
	if p.cmd != nil {
		p.t.Fatal("proxytest: Start: nginx is already running")
	}
	stderr, err := os.OpenFile(filepath.Join(p.dir, "stderr.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		p.t.Fatalf("proxytest: %v", err)
	}
	defer stderr.Close() // the child has its own descriptor
	cmd := exec.Command(p.bin, "-p", p.dir, "-c", p.conf, "-e", filepath.Join(p.dir, "error.log"))
	cmd.Stdout, cmd.Stderr = stderr, stderr // *os.File: no copying goroutines
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		p.t.Fatalf("proxytest: starting %s: %v", p.bin, err)
	}
	p.cmd, p.exited = cmd, make(chan struct{})
	go func(exited chan struct{}) {
		p.werr = cmd.Wait()
		close(exited)
	}(p.exited)

	deadline := time.Now().Add(StartTimeout)
	for {
		c, err := net.DialTimeout("tcp", p.Addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-p.exited:
			p.cmd = nil
			p.t.Fatalf("proxytest: nginx exited at start (%v):\n%s%s", p.werr, p.stderrLog(), p.ErrorLog())
		case <-time.After(10 * time.Millisecond): // poll interval
		}
		if time.Now().After(deadline) {
			p.Stop()
			p.t.Fatalf("proxytest: nginx does not accept connections on %s after %v:\n%s%s", p.Addr, StartTimeout, p.stderrLog(), p.ErrorLog())
		}
	}
}

func (p *Proxy) stderrLog() string {
	b, _ := os.ReadFile(filepath.Join(p.dir, "stderr.log"))
	return string(b)
}

// Stop stops nginx at once (SIGTERM, nginx's fast shutdown: open
// connections, streams included, are cut) and waits for it to exit. It
// does nothing if nginx is not running.
func (p *Proxy) Stop() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(StartTimeout):
		_ = p.cmd.Process.Kill()
		<-p.exited
		p.t.Errorf("proxytest: nginx did not stop within %v; killed it", StartTimeout)
	}
	p.cmd = nil
}

// Restart stops nginx, cutting every connection through it, and starts it
// again on the same address.
func (p *Proxy) Restart() {
	p.t.Helper()
	p.Stop()
	p.Start()
}
