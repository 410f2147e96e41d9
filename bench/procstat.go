package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// clockTicks is the kernel's USER_HZ (getconf CLK_TCK), the unit of
// utime and stime in /proc/<pid>/stat.
var clockTicks = func() float64 {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(out))); err == nil && n > 0 {
			return float64(n)
		}
	}
	return 100
}()

// cpuTime is a process's user+system CPU time so far, from fields 14
// (utime) and 15 (stime) of /proc/<pid>/stat.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces:
	// count fields after its closing parenthesis, which is field 3.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("unexpected /proc/pid/stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("short /proc/pid/stat")
	}
	utime, err1 := strconv.ParseFloat(f[14-3], 64)
	stime, err2 := strconv.ParseFloat(f[15-3], 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("bad utime/stime in /proc/pid/stat")
	}
	return time.Duration((utime + stime) / clockTicks * float64(time.Second)), nil
}

// memory is a process's resident set, from /proc/<pid>/status.
type memory struct {
	RSS, HWM int64 // VmRSS and VmHWM (peak), bytes
}

func readMemory(pid int) (memory, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memory{}, err
	}
	var m memory
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		var dst *int64
		switch k {
		case "VmRSS":
			dst = &m.RSS
		case "VmHWM":
			dst = &m.HWM
		default:
			continue
		}
		f := strings.Fields(v) // "12345 kB"
		if len(f) > 0 {
			n, _ := strconv.ParseInt(f[0], 10, 64)
			*dst = n << 10
		}
	}
	return m, nil
}

// resetPeak resets VmHWM to the current RSS (writing 5 to clear_refs), so
// that each scenario's peak is its own. It reports whether that worked;
// when not, peaks are since the process started.
func resetPeak(pid int) bool {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0) == nil
}

// cpuBusy is the busy time of CPUs 0 and 1 so far (all processes), from
// /proc/stat: everything but idle and iowait, in seconds.
func cpuBusy() [2]float64 {
	var out [2]float64
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return out
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 8 || (f[0] != "cpu0" && f[0] != "cpu1") {
			continue
		}
		var busy float64
		for i, v := range f[1:] {
			if i == 3 || i == 4 || i >= 8 { // idle, iowait; guest time is already in user
				continue
			}
			n, _ := strconv.ParseFloat(v, 64)
			busy += n
		}
		out[f[0][3]-'0'] = busy / clockTicks
	}
	return out
}
