package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"
)

// raiseNoFile raises RLIMIT_NOFILE to at least want (the hard limit too,
// if the process may) and returns the soft limit in force.
func raiseNoFile(want uint64) (uint64, error) {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0, fmt.Errorf("getrlimit: %w", err)
	}
	if r.Cur >= want {
		return r.Cur, nil
	}
	n := r
	n.Cur = want
	if n.Max < want {
		n.Max = want // only root (CAP_SYS_RESOURCE) may
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &n); err != nil {
		if r.Max < want {
			return r.Cur, fmt.Errorf("need %d open files, the hard limit is %d and cannot be raised (%v): raise it with ulimit -Hn or use a smaller -n", want, r.Max, err)
		}
		return r.Cur, fmt.Errorf("setrlimit(RLIMIT_NOFILE, %d): %w", want, err)
	}
	return want, nil
}

// readRSS is the process's resident set (VmRSS) in bytes, 0 if unknown.
func readRSS() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Bytes()
		if rest, ok := bytes.CutPrefix(line, []byte("VmRSS:")); ok {
			fields := bytes.Fields(rest) // "123456 kB"
			if len(fields) > 0 {
				kb, _ := strconv.ParseUint(string(fields[0]), 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}

// cpuTime is the user and system CPU time this process has used.
func cpuTime() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// childAttrs makes the kernel kill the server if ltload dies.
func childAttrs(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// machineBusy is the CPU time all processes have used (the busy columns
// of /proc/stat's cpu line), so that a run can tell how much of the
// machine something other than ltload took. 0 if unknown.
func machineBusy() int64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := bytes.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	if len(f) < 9 || string(f[0]) != "cpu" {
		return 0
	}
	var busy int64
	for _, i := range []int{1, 2, 3, 6, 7, 8} {
		v, _ := strconv.ParseInt(string(f[i]), 10, 64)
		busy += v
	}
	return busy * int64(time.Second) / 100 // USER_HZ
}

// loadAvg is the first field of /proc/loadavg, "" if unknown.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := bytes.Fields(b)
	if len(f) < 3 {
		return ""
	}
	return string(f[0]) + " " + string(f[1]) + " " + string(f[2])
}
