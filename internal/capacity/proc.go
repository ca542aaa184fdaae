package capacity

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// Times are a process's CPU clock ticks from /proc/<pid>/stat.
type Times struct {
	User, System int64
	// ChildUser and ChildSystem are those of children it has waited for: PostgreSQL backends
	// that exited are counted here, in the postmaster's figures.
	ChildUser, ChildSystem int64
	PPID                   int
}

// ParseStat parses the contents of /proc/<pid>/stat. The command name, in parentheses, may
// hold spaces and parentheses itself, so fields are counted from the last ')'.
func ParseStat(b []byte) (Times, error) {
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return Times{}, fmt.Errorf("proc stat: no command name")
	}
	f := strings.Fields(s[i+1:])
	// After the name: state(3) ppid(4) ... utime(14) stime(15) cutime(16) cstime(17).
	if len(f) < 15 {
		return Times{}, fmt.Errorf("proc stat: %d fields after the name, want at least 15", len(f))
	}
	var v [5]int64
	for k, idx := range []int{1, 11, 12, 13, 14} {
		n, err := strconv.ParseInt(f[idx], 10, 64)
		if err != nil {
			return Times{}, fmt.Errorf("proc stat: field %d: %w", idx+3, err)
		}
		v[k] = n
	}
	return Times{PPID: int(v[0]), User: v[1], System: v[2], ChildUser: v[3], ChildSystem: v[4]}, nil
}

// ReadTimes reads /proc/<pid>/stat.
func ReadTimes(pid int) (Times, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return Times{}, err
	}
	return ParseStat(b)
}

// ProcessTicks returns pid's own user+system ticks.
func ProcessTicks(pid int) (int64, error) {
	t, err := ReadTimes(pid)
	return t.User + t.System, err
}

// TreeTicks returns the ticks of a PostgreSQL server: the postmaster's own, those of its
// exited children it collected, and those of its live children (backends, background
// workers). A backend that exits between two readings moves its ticks from the live sum to the
// collected one, so the total only grows.
func TreeTicks(root int) (int64, error) {
	rt, err := ReadTimes(root)
	if err != nil {
		return 0, err
	}
	total := rt.User + rt.System + rt.ChildUser + rt.ChildSystem
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == root {
			continue
		}
		t, err := ReadTimes(pid)
		if err != nil || t.PPID != root {
			continue // gone meanwhile, or not a child
		}
		total += t.User + t.System
	}
	return total, nil
}

// PostmasterPID returns the PID in a data directory's postmaster.pid.
func PostmasterPID(dataDir string) (int, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return 0, err
	}
	first, _, _ := strings.Cut(string(b), "\n")
	return strconv.Atoi(strings.TrimSpace(first))
}

// ClockTicks returns the kernel's clock ticks per second (USER_HZ), 100 on Linux unless
// getconf says otherwise.
func ClockTicks() int64 {
	if out, err := exec.Command("getconf", "CLK_TCK").Output(); err == nil {
		if n, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64); err == nil && n > 0 {
			return n
		}
	}
	return 100
}
