package main

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestMetricsListenFlagAndEnvironment(t *testing.T) {
	bin := buildBinary(t)
	tests := []struct {
		name        string
		env         []string
		args        []string
		wantMetrics bool
	}{
		{"the flag sets the metrics address", nil, []string{"--metrics-listen", "127.0.0.1:0"}, true},
		{"the environment sets the metrics address", []string{"SLUICE_METRICS_LISTEN=127.0.0.1:0"}, nil, true},
		{"the flag wins over the environment", []string{"SLUICE_METRICS_LISTEN=off"}, []string{"--metrics-listen", "127.0.0.1:0"}, true},
		{"off in the flag opens no metrics listener", []string{"SLUICE_METRICS_LISTEN=127.0.0.1:0"}, []string{"--metrics-listen", "off"}, false},
		{"off in the environment opens no metrics listener", []string{"SLUICE_METRICS_LISTEN=off"}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			p := startServerWith(t, bin, t.TempDir(), tt.env, tt.args...)
			if got := p.metrics != ""; got != tt.wantMetrics {
				t.Fatalf("metrics served at %q, want metrics on: %v", p.metrics, tt.wantMetrics)
			}
			wantListeners := 1
			if tt.wantMetrics {
				wantListeners = 2
				body := getMetrics(t, ctx, p.metrics)
				if !strings.Contains(body, "# TYPE sluice_streams gauge\nsluice_streams 0\n") {
					t.Errorf("GET %s did not report zero streams:\n%s", p.metrics, body)
				}
			}
			if n, err := listeningSockets(p.cmd.Process.Pid); err != nil {
				t.Logf("not counting the server's listening sockets: %v", err)
			} else if n != wantListeners {
				t.Errorf("server has %d listening sockets, want %d", n, wantListeners)
			}
			if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			if err := p.cmd.Wait(); err != nil {
				t.Fatalf("SIGTERM: want exit 0, got %v", err)
			}
		})
	}
}

func TestAMetricsAddressInUseStopsTheServerWithAnErrorNamingIt(t *testing.T) {
	bin := buildBinary(t)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	addr := taken.Addr().String()
	cmd := exec.Command(bin, "--listen", "127.0.0.1:0", "--data-dir", t.TempDir(), "--metrics-listen", addr)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("want exit 1, got %v\n%s", err, out)
	}
	if !strings.Contains(string(out), addr) {
		t.Fatalf("output does not name the address %s:\n%s", addr, out)
	}
}

// getMetrics GETs url and returns the body, checking the status and the
// text format's Content-Type.
func getMetrics(t *testing.T, ctx context.Context, url string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%s", url, resp.Status, body)
	}
	if got, want := resp.Header.Get("Content-Type"), "text/plain; version=0.0.4; charset=utf-8"; got != want {
		t.Errorf("Content-Type = %q, want %q", got, want)
	}
	return string(body)
}

// listeningSockets counts the TCP sockets in LISTEN state that process pid
// holds, from /proc (Linux only; elsewhere it returns an error).
func listeningSockets(pid int) (int, error) {
	dir := filepath.Join("/proc", strconv.Itoa(pid))
	fds, err := os.ReadDir(filepath.Join(dir, "fd"))
	if err != nil {
		return 0, err
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		link, err := os.Readlink(filepath.Join(dir, "fd", fd.Name()))
		if err == nil && strings.HasPrefix(link, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] = true
		}
	}
	n := 0
	for _, table := range []string{"tcp", "tcp6"} {
		data, err := os.ReadFile(filepath.Join(dir, "net", table))
		if err != nil {
			if table == "tcp6" && os.IsNotExist(err) {
				continue
			}
			return 0, err
		}
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		for _, line := range lines[1:] { // after the header
			f := strings.Fields(line)
			const state, inode = 3, 9
			if len(f) > inode && f[state] == "0A" && inodes[f[inode]] { // 0A: TCP_LISTEN
				n++
			}
		}
	}
	return n, nil
}
