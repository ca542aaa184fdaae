package scalesim

import (
	"fmt"
	"github.com/acme/catalog/internal/blueprint"
	"math"
	"strings"
)

// Timeline renders a run as text, one line every `every` seconds: demand and healthy capacity
// (at 100% CPU) as bars on one scale, and the tasks healthy/registering/starting of desired.
// A '#' is capacity covering demand, '!' demand beyond capacity, '.' spare capacity.
func Timeline(r Result, every, width int) string {
	if every < 1 {
		every = 15
	}
	if width < 10 {
		width = 40
	}
	top := 0.0
	for _, s := range r.Seconds {
		top = max(top, s.Origin, s.CapacityFull)
	}
	if top == 0 {
		top = 1
	}
	cells := func(v float64) int { return int(math.Round(v / top * float64(width))) }
	var b strings.Builder
	fmt.Fprintf(&b, "%6s  %-*s  %8s %8s  %s\n", "time", width, "origin demand vs healthy capacity", "demand", "capacity", "tasks ok/reg/start (desired)")
	for _, s := range r.Seconds {
		if s.T%every != 0 {
			continue
		}
		d, c := cells(s.Origin), cells(s.CapacityFull)
		bar := strings.Repeat("#", min(d, c)) + strings.Repeat("!", max(0, d-c)) + strings.Repeat(".", max(0, c-d))
		mark := ""
		if s.Unserved > eps {
			mark = fmt.Sprintf("  short %.0f/s", s.Unserved)
		}
		fmt.Fprintf(&b, "%3d:%02d  %-*s  %8.0f %8.0f  %2d/%d/%d (%d)%s\n", s.T/60, s.T%60, width, bar, s.Origin, s.CapacityFull,
			s.Healthy, s.Registering, s.Starting, s.Desired, mark)
	}
	return b.String()
}

// String renders the summary on one line.
func (s Summary) String() string {
	when := func(n int) string {
		if n < 0 {
			return "never (within the run)"
		}
		return fmt.Sprintf("%d s after the ramp starts", n)
	}
	return fmt.Sprintf("capacity at target meets demand %s; no request unserved from %s; peak unserved %.0f req/s, %.0f requests unserved in total (%.0f served above the CPU target); peak desired %d tasks",
		when(s.MetAfter), when(s.FullAfter), s.PeakUnserved, s.TotalUnserved, s.TotalOverTarget, s.PeakDesired)
}

// Alternative is a named variant of the settings, to compare stack changes.
type Alternative struct {
	Name     string
	Settings Settings
}

// Alternatives returns, from base (normally Current): the stacks before issue 19 (Before: CPU
// target tracking alone, at most 10 tasks), the stacks as configured (base: CPU and request-count
// tracking and step scaling, as internal/blueprint declares them), and as configured with a
// planned sale (PlannedSale: the model's sale minimum from saleStart-leadSeconds).
func Alternatives(base Settings, saleStart, leadSeconds int) []Alternative {
	planned := base
	planned.Scheduled = append(append([]Scheduled(nil), base.Scheduled...), PlannedSale(saleStart-leadSeconds)...)
	return []Alternative{
		{fmt.Sprintf("before: CPU tracking, max %d", Before(base).Stack.MaxTasks), Before(base)},
		{fmt.Sprintf("as configured, max %d", base.Stack.MaxTasks), base},
		{fmt.Sprintf("+ planned sale minimum %d", blueprint.SaleMinTasks), planned},
	}
}

// Compare renders one summary line per alternative, side by side in a table.
func Compare(names []string, sums []Summary) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-32s %12s %12s %14s %16s %8s\n", "policy", "met target", "none short", "peak short/s", "short requests", "tasks")
	when := func(n int) string {
		if n < 0 {
			return "never"
		}
		return fmt.Sprintf("%d s", n)
	}
	for i, s := range sums {
		fmt.Fprintf(&b, "%-32s %12s %12s %14.0f %16.0f %8d\n", names[i], when(s.MetAfter), when(s.FullAfter), s.PeakUnserved, s.TotalUnserved, s.PeakDesired)
	}
	return b.String()
}

// SideBySide renders several runs of the same demand in columns, one line every `every`
// seconds from second from: the origin demand, then per run the healthy tasks and the
// requests/s beyond their capacity at 100% CPU.
func SideBySide(names []string, runs []Result, from, every int) string {
	if len(runs) == 0 {
		return ""
	}
	if every < 1 {
		every = 20
	}
	const col = 18
	var b strings.Builder
	fmt.Fprintf(&b, "%6s %8s", "time", "demand")
	for i, n := range names {
		if len(n) > col {
			n = n[:col]
		}
		fmt.Fprintf(&b, " | %-*s", col, fmt.Sprintf("%d:%s", i+1, n))
	}
	b.WriteString("\n")
	for t := max(0, from); t < len(runs[0].Seconds); t += every {
		s0 := runs[0].Seconds[t]
		fmt.Fprintf(&b, "%3d:%02d %8.0f", t/60, t%60, s0.Origin)
		for _, r := range runs {
			if t >= len(r.Seconds) {
				fmt.Fprintf(&b, " | %-*s", col, "")
				continue
			}
			s := r.Seconds[t]
			cell := fmt.Sprintf("%2d ok", s.Healthy)
			if s.Unserved > eps {
				cell += fmt.Sprintf(" short %5.0f", s.Unserved)
			}
			fmt.Fprintf(&b, " | %-*s", col, cell)
		}
		b.WriteString("\n")
	}
	return b.String()
}
