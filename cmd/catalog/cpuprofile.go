//go:build cpuprofile

// A diagnostic build (go build -tags cpuprofile ./cmd/catalog) that profiles the process while
// an outside load generator drives it, which an in-process benchmark cannot show (net/http's
// connection handling, the scheduler, the garbage collector under 64 connections). It writes
// one CPU profile per 10 s window, $TMPDIR/catalog-<pid>-<n>.cpu.prof, so a window is complete
// whenever the process is stopped; merge the windows of a run with go tool pprof. Never in a
// release build: the tag keeps it out.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"time"
)

// profileWindow is how long each profile covers.
const profileWindow = 10 * time.Second

func init() {
	go func() {
		for n := 0; ; n++ {
			path := filepath.Join(os.TempDir(), fmt.Sprintf("catalog-%d-%03d.cpu.prof", os.Getpid(), n))
			f, err := os.Create(path)
			if err != nil {
				fmt.Fprintln(os.Stderr, "cpuprofile:", err)
				return
			}
			if err := pprof.StartCPUProfile(f); err != nil {
				fmt.Fprintln(os.Stderr, "cpuprofile:", err)
				f.Close()
				return
			}
			time.Sleep(profileWindow)
			pprof.StopCPUProfile()
			f.Close()
		}
	}()
}
