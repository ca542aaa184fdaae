package scalesim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/acme/catalog/internal/blueprint"
)

// plain returns settings with round numbers for hand-computed expectations: a task serves 70
// requests/s at the 70% target, so 100 at 100% CPU.
func plain() Settings {
	return Settings{
		Stack: Stack{MinTasks: 2, MaxTasks: 20, TaskVCPU: 1, CPUTargetPercent: 70, ScaleOutCooldown: 60, ScaleInCooldown: 300,
			HealthCheckGracePeriod: 60, HealthCheckInterval: 10, HealthyThreshold: 2, UnhealthyThreshold: 3},
		Assumptions: Assumptions{TaskStart: 50, AppReady: 2, MetricDelay: 30, HighDatapoints: 3, LowDatapoints: 15, LowAlarmFraction: 0.9},
		RPSPerTask:  70,
		Policies:    []Policy{{Kind: CPUTracking, Target: 70}},
	}
}

// step is demand from before until second 1, then after, held.
func step(before, after float64) Ramp {
	return Ramp{Baseline: before, Factor: after / before, Start: 1, RampSeconds: 0}
}

func run(t testing.TB, s Settings, d Ramp, seconds int) Result {
	t.Helper()
	r, err := Run(s, d, seconds)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return r
}

func scaleOuts(r Result) []Event {
	var out []Event
	for _, e := range r.Events {
		if e.To > e.From {
			out = append(out, Event{T: e.T, Source: e.Source, From: e.From, To: e.To})
		}
	}
	return out
}

// diff returns "" when want and got are deeply equal, else both, for a failure message.
func diff(want, got any) string {
	if reflect.DeepEqual(want, got) {
		return ""
	}
	return fmt.Sprintf("-%+v\n+%+v", want, got)
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

func TestDatapointsAverageTheMinuteAndAppearAfterTheDelay(t *testing.T) {
	// 2 tasks, 100 req/s: CPU 100/100/2 = 50%; per target 100*60/2 = 3000 requests a minute.
	r := run(t, plain(), step(100, 100), 180)
	if len(r.Datapoints) != 3 {
		t.Fatalf("datapoints = %d, want 3 (one per minute)", len(r.Datapoints))
	}
	dp := r.Datapoints[0]
	if dp.Minute != 0 || !near(dp.CPU, 50) || !near(dp.RequestsPerTarget, 3000) || dp.VisibleAt != 90 {
		t.Errorf("datapoint 0 = %+v, want minute 0, CPU 50, 3000 requests/target, visible at 60+30", dp)
	}
	// Demand 180 from second 1: minute 0 averages one second at 50% and 59 at 90%.
	r = run(t, plain(), step(100, 180), 120)
	if want := (50 + 59*90.0) / 60; !near(r.Datapoints[0].CPU, want) || !near(r.Datapoints[1].CPU, 90) {
		t.Errorf("CPU datapoints = %.3f, %.3f; want %.3f, 90", r.Datapoints[0].CPU, r.Datapoints[1].CPU, want)
	}
}

func TestTargetTrackingNeedsThreeDatapoints(t *testing.T) {
	// 90% CPU from second 1. Minutes 0, 1, 2 become visible at 90, 150, 210: the evaluation at
	// 180 sees two, the one at 240 three: ceil(2*90/70) = 3.
	r := run(t, plain(), step(100, 180), 241)
	if diff := diff([]Event{{T: 240, Source: string(CPUTracking), From: 2, To: 3}}, scaleOuts(r)); diff != "" {
		t.Errorf("scale-outs (-want +got):\n%s", diff)
	}
	// With one datapoint the evaluation at 120 acts on minute 0 (89.33%): ceil(2*89.33/70) = 3.
	s := plain()
	s.Assumptions.HighDatapoints = 1
	r = run(t, s, step(100, 180), 121)
	if diff := diff([]Event{{T: 120, Source: string(CPUTracking), From: 2, To: 3}}, scaleOuts(r)); diff != "" {
		t.Errorf("one datapoint: scale-outs (-want +got):\n%s", diff)
	}
	// A longer metric delay pushes minute 2 to 60*3+90 = 270: the first action waits for 300.
	s = plain()
	s.Assumptions.MetricDelay = 90
	r = run(t, s, step(100, 180), 301)
	if got := scaleOuts(r); len(got) != 1 || got[0].T != 300 {
		t.Errorf("delay 90 s: scale-outs = %+v, want one at 300", got)
	}
}

func TestScaleOutCooldownCountsTheCapacityAlreadyAdded(t *testing.T) {
	// Scale-out to 3 at 240 opens a 120 s cooldown. At 300 the latest datapoint (minute 3) is
	// still 90% on the 2 tasks it was measured on: ceil(2*90/70) = 3, already asked for.
	s := plain()
	s.Stack.ScaleOutCooldown = 120
	r := run(t, s, step(100, 180), 301)
	if got := scaleOuts(r); len(got) != 1 {
		t.Errorf("cooldown 120: scale-outs = %+v, want only the one at 240", got)
	}
	// A 60 s cooldown (the blueprint's) ends at 300, exactly when the next evaluation runs: with
	// one-minute alarms it never holds back a scale-out.
	s.Stack.ScaleOutCooldown = 60
	r = run(t, s, step(100, 180), 301)
	if got := scaleOuts(r); len(got) != 2 {
		t.Errorf("cooldown 60: scale-outs = %+v, want two (240 and 300)", got)
	}
	// Without a cooldown the same reading is applied to 3 tasks: ceil(3*90/70) = 4 at 300.
	s.Stack.ScaleOutCooldown = 0
	r = run(t, s, step(100, 180), 301)
	want := []Event{{T: 240, Source: string(CPUTracking), From: 2, To: 3}, {T: 300, Source: string(CPUTracking), From: 3, To: 4}}
	if diff := diff(want, scaleOuts(r)); diff != "" {
		t.Errorf("cooldown 0: scale-outs (-want +got):\n%s", diff)
	}
}

func TestTaskStartAndTargetHealthChecksGateTraffic(t *testing.T) {
	// Minimum raised to 3 at 10: the task starts at 10, is RUNNING at 60, passes checks at 70
	// and 80 (interval 10, threshold 2) and takes traffic from 80.
	s := plain()
	s.Policies = nil
	s.Scheduled = []Scheduled{{At: 10, MinTasks: 3}}
	r := run(t, s, step(100, 100), 100)
	for _, c := range []struct{ t, starting, registering, healthy int }{
		{9, 0, 0, 2}, {10, 1, 0, 2}, {59, 1, 0, 2}, {60, 0, 1, 2}, {79, 0, 1, 2}, {80, 0, 0, 3},
	} {
		sec := r.Seconds[c.t]
		if sec.Starting != c.starting || sec.Registering != c.registering || sec.Healthy != c.healthy {
			t.Errorf("second %d: starting/registering/healthy = %d/%d/%d, want %d/%d/%d", c.t,
				sec.Starting, sec.Registering, sec.Healthy, c.starting, c.registering, c.healthy)
		}
	}
	// A registering task is RUNNING and idle: it dilutes the service's CPU (100 req/s over 3
	// reserved tasks at 100 each is 33.3%).
	if got := r.Seconds[70].CPU; !near(got, 100.0/3) {
		t.Errorf("CPU while registering = %.2f, want 33.33", got)
	}
	s.Assumptions.TaskStart = 20
	r = run(t, s, step(100, 100), 100)
	if r.Seconds[49].Healthy != 2 || r.Seconds[50].Healthy != 3 {
		t.Errorf("task start 20 s: healthy at 49/50 = %d/%d, want 2/3", r.Seconds[49].Healthy, r.Seconds[50].Healthy)
	}
}

func TestGracePeriodSparesASlowStarter(t *testing.T) {
	// The app answers 45 s after RUNNING (60): checks at 70, 80, 90, 100 fail, 110 and 120 pass.
	s := plain()
	s.Policies = nil
	s.Assumptions.AppReady = 45
	s.Scheduled = []Scheduled{{At: 10, MinTasks: 3}}
	r := run(t, s, step(100, 100), 300)
	if r.Summary.Replaced != 0 || r.Seconds[119].Healthy != 2 || r.Seconds[120].Healthy != 3 {
		t.Errorf("grace 60: replaced %d, healthy at 119/120 = %d/%d; want 0, 2/3", r.Summary.Replaced, r.Seconds[119].Healthy, r.Seconds[120].Healthy)
	}
	// Without a grace period the third failure (at 90) stops the task; each replacement runs
	// 50 s and fails 30 s later again: stopped at 90, 170, 250.
	s.Stack.HealthCheckGracePeriod = 0
	r = run(t, s, step(100, 100), 300)
	if r.Summary.Replaced != 3 || r.Summary.FinalHealthy != 2 {
		t.Errorf("grace 0: replaced %d, final healthy %d; want 3, 2", r.Summary.Replaced, r.Summary.FinalHealthy)
	}
}

func TestMaxTasksCapsEveryPolicy(t *testing.T) {
	// 1000 req/s on 2 tasks: per target 30000 a minute against 4200: ceil(2*30000/4200) = 15,
	// capped at 10.
	s := plain()
	s.Stack.MaxTasks = 10
	s.Policies = []Policy{{Kind: RequestTracking, Target: 70 * 60}}
	r := run(t, s, step(100, 1000), 1200)
	if r.Summary.PeakDesired != 10 {
		t.Errorf("peak desired = %d, want MaxTasks 10", r.Summary.PeakDesired)
	}
	for _, sec := range r.Seconds {
		if sec.Desired > 10 || sec.Starting+sec.Registering+sec.Healthy > 10 {
			t.Fatalf("second %d: desired %d, tasks %d, over MaxTasks", sec.T, sec.Desired, sec.Starting+sec.Registering+sec.Healthy)
		}
	}
	// 10 tasks serve exactly 1000 req/s at 100% CPU, never at the 70% target.
	if r.Summary.FullAfter < 0 || r.Summary.MetAfter != -1 {
		t.Errorf("10 tasks for 1000 req/s: FullAfter %d, MetAfter %d; want >= 0, -1", r.Summary.FullAfter, r.Summary.MetAfter)
	}
}

func TestRequestCountSeesDemandThatCPUCannot(t *testing.T) {
	// 1000 req/s on 2 tasks of 100 req/s at full CPU: CPU saturates at 100%, so CPU tracking
	// asks ceil(2*100/70) = 3; request count asks ceil(2*30000/4200) = 15.
	r := run(t, plain(), step(100, 1000), 241)
	if diff := diff([]Event{{T: 240, Source: string(CPUTracking), From: 2, To: 3}}, scaleOuts(r)); diff != "" {
		t.Errorf("CPU tracking (-want +got):\n%s", diff)
	}
	s := plain()
	s.Policies = append(s.Policies, Policy{Kind: RequestTracking, Target: 70 * 60})
	r = run(t, s, step(100, 1000), 241)
	if diff := diff([]Event{{T: 240, Source: string(RequestTracking), From: 2, To: 15}}, scaleOuts(r)); diff != "" {
		t.Errorf("CPU and request count tracking (-want +got):\n%s", diff)
	}
}

func TestStepScalingActsOnOneDatapoint(t *testing.T) {
	// Minute 0 (89.33%) is visible at 90; the evaluation at 120 doubles 2 to 4.
	s := plain()
	s.Policies = []Policy{{Kind: StepCPU, Threshold: 80, Datapoints: 1, Steps: []Step{{0, 100}, {15, 200}}}}
	r := run(t, s, step(100, 180), 121)
	if diff := diff([]Event{{T: 120, Source: string(StepCPU), From: 2, To: 4}}, scaleOuts(r)); diff != "" {
		t.Errorf("step scaling (-want +got):\n%s", diff)
	}
	// Minute 0 averages 99.17%, 19.17 above the threshold: the second step triples 2 to 6.
	r = run(t, s, step(100, 1000), 121)
	if got := scaleOuts(r); len(got) != 1 || got[0].To != 6 {
		t.Errorf("step scaling at 100%%: %+v, want 2 -> 6", got)
	}
}

func TestScheduledMinimumRaisesAndHoldsDesired(t *testing.T) {
	s := plain()
	s.Scheduled = []Scheduled{{At: 30, MinTasks: 8}, {At: 200, MinTasks: 2}}
	r := run(t, s, step(100, 100), 1500)
	if r.Seconds[29].Desired != 2 || r.Seconds[30].Desired != 8 {
		t.Errorf("desired at 29/30 = %d/%d, want 2/8", r.Seconds[29].Desired, r.Seconds[30].Desired)
	}
	// Lowering the minimum lowers nothing by itself; the low alarm (15 datapoints below 63%)
	// scales in later, and not below the new minimum.
	if r.Seconds[200].Desired != 8 {
		t.Errorf("desired right after the minimum drops = %d, want 8", r.Seconds[200].Desired)
	}
	if got := r.Seconds[1499].Desired; got != 2 {
		t.Errorf("desired at the end = %d, want 2 after scale-in", got)
	}
}

func TestScaleInNeedsFifteenLowDatapoints(t *testing.T) {
	// 4 tasks for 280 req/s (70% exactly: neither alarm), then 70 req/s: 17.5%. Minute 14 is
	// visible at 930; the evaluation at 960 scales in to max(2, ceil(4*17.5/70)) = 2.
	r := run(t, plain(), step(280, 70), 1000)
	if r.Seconds[0].Desired != 4 {
		t.Fatalf("initial desired = %d, want 4", r.Seconds[0].Desired)
	}
	var got []Event
	for _, e := range r.Events {
		got = append(got, Event{T: e.T, From: e.From, To: e.To})
	}
	if diff := diff([]Event{{T: 960, From: 4, To: 2}}, got); diff != "" {
		t.Errorf("scale-in (-want +got):\n%s", diff)
	}
}

func TestEdgeCacheTakesItsShare(t *testing.T) {
	s := plain()
	s.EdgeHitRatio = 0.75
	r := run(t, s, step(400, 400), 60)
	if sec := r.Seconds[10]; !near(sec.Origin, 100) || !near(sec.CPU, 50) || sec.Desired != 2 {
		t.Errorf("75%% edge hits of 400 req/s: origin %.1f, CPU %.1f, desired %d; want 100, 50, 2", sec.Origin, sec.CPU, sec.Desired)
	}
}

func TestSummary(t *testing.T) {
	secs := []Second{
		{T: 0}, {T: 1, OverTarget: 5, Unserved: 2}, {T: 2, OverTarget: 3}, {T: 3}, {T: 4},
	}
	got := summarize(secs, 1, 0)
	want := Summary{RampStart: 1, MetAfter: 2, FullAfter: 1, PeakUnserved: 2, TotalUnserved: 2, PeakOverTarget: 5, TotalOverTarget: 8}
	if diff := diff(want, got); diff != "" {
		t.Errorf("summarize (-want +got):\n%s", diff)
	}
	secs[4].Unserved = 1
	if got := summarize(secs, 1, 0); got.FullAfter != -1 {
		t.Errorf("short in the last second: FullAfter = %d, want -1 (never)", got.FullAfter)
	}
}

func TestFromBlueprintReadsTheStacksNumbers(t *testing.T) {
	want := Stack{
		MinTasks: blueprint.MinTasks, MaxTasks: blueprint.MaxTasks,
		TaskVCPU: float64(blueprint.DefaultTaskSize.CPU) / 1024, CPUTargetPercent: blueprint.CPUTargetPercent,
		ScaleOutCooldown: blueprint.ScaleOutCooldown, ScaleInCooldown: blueprint.ScaleInCooldown,
		HealthCheckGracePeriod: blueprint.HealthCheckGracePeriod, HealthCheckInterval: blueprint.HealthCheckIntervalSeconds,
		HealthyThreshold: blueprint.HealthyThreshold, UnhealthyThreshold: blueprint.UnhealthyThreshold,
		DeregistrationDelay: blueprint.DeregistrationDelaySeconds, ContainerStartPeriod: blueprint.ContainerHealthStartPeriod,
		ContainerHealthInterval: blueprint.ContainerHealthInterval,
	}
	if diff := diff(want, FromBlueprint()); diff != "" {
		t.Errorf("FromBlueprint (-want +got):\n%s", diff)
	}
	step := blueprint.Model().Scaling.Step
	wantPolicies := []Policy{
		{Kind: CPUTracking, Target: blueprint.CPUTargetPercent},
		{Kind: RequestTracking, Target: blueprint.RequestCountTarget},
		{Kind: StepCPU, Threshold: blueprint.StepCPUThreshold, Datapoints: 1, MinAdjustment: blueprint.StepMinAdjustment,
			Steps: []Step{{float64(step.Steps[0].LowerBound), step.Steps[0].PercentChange}, {float64(step.Steps[1].LowerBound), step.Steps[1].PercentChange}}},
	}
	if c := Current(100); c.Stack != FromBlueprint() || !reflect.DeepEqual(c.Policies, wantPolicies) {
		t.Errorf("Current policies = %+v, want %+v", c.Policies, wantPolicies)
	}
}

// TestStacksAsConfiguredAbsorbTheSale is issue 19's proof on the stacks as configured, with the
// capacity model's figures (blueprint.RequestsPerTask, 2,000 req/s baseline): the automatic policies
// leave less unserved than CPU tracking alone did, and a planned sale's scheduled minimum (the
// model's SaleMinTasks, raised 5 minutes ahead) leaves nothing unserved.
func TestStacksAsConfiguredAbsorbTheSale(t *testing.T) {
	ramp := FlashSale(2000)
	run := func(s Settings) Summary {
		t.Helper()
		r, err := Run(s, ramp, 1200)
		if err != nil {
			t.Fatal(err)
		}
		return r.Summary
	}
	cur := Current(blueprint.RequestsPerTask)
	before, now := run(Before(cur)), run(cur)
	if !(now.TotalUnserved < before.TotalUnserved/2) || !sooner(now.FullAfter, before.FullAfter) {
		t.Errorf("automatic policies: %.0f requests unserved until %d s; before: %.0f until %d s; want under half, sooner",
			now.TotalUnserved, now.FullAfter, before.TotalUnserved, before.FullAfter)
	}
	planned := cur
	planned.Scheduled = PlannedSale(ramp.Start - 300)
	if p := run(planned); p.TotalUnserved != 0 || p.PeakDesired > cur.Stack.MaxTasks {
		t.Errorf("planned sale: %.0f requests unserved, peak %d tasks; want none within MaxTasks %d", p.TotalUnserved, p.PeakDesired, cur.Stack.MaxTasks)
	}
}

// sooner says a is earlier than b, times in seconds where -1 is never (Summary's MetAfter and
// FullAfter): compared as numbers, never would be the earliest of all.
func sooner(a, b int) bool {
	switch {
	case a < 0:
		return false
	case b < 0:
		return true
	default:
		return a < b
	}
}

func TestSooner(t *testing.T) {
	for _, c := range []struct {
		a, b int
		want bool
	}{{10, 20, true}, {20, 10, false}, {10, 10, false}, {250, -1, true}, {-1, 250, false}, {-1, -1, false}, {0, -1, true}} {
		if got := sooner(c.a, c.b); got != c.want {
			t.Errorf("sooner(%d, %d) = %t, want %t", c.a, c.b, got, c.want)
		}
	}
}

// TestStepMinAdjustment: a step adds at least MinAdjustment tasks, even when its percentage of
// a small count rounds to fewer.
func TestStepMinAdjustment(t *testing.T) {
	s := plain()
	s.Policies = []Policy{{Kind: StepCPU, Threshold: 80, Datapoints: 1, Steps: []Step{{0, 10}}, MinAdjustment: 3}}
	r, err := Run(s, FlashSale(140), 900)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Events) == 0 || r.Events[0].To-r.Events[0].From != 3 {
		t.Fatalf("first scale-out %+v, want +3 tasks (10%% of 2 rounds to 1)", r.Events)
	}
}

// TestEveryStackNumberChangesTheAnswer proves the flash-sale answer depends on each scaling
// number FromBlueprint reads: a change to any of them in blueprint changes what the bench prints.
func TestEveryStackNumberChangesTheAnswer(t *testing.T) {
	ramp := FlashSale(100)
	for name, c := range map[string]struct {
		appReady int // the grace period and unhealthy threshold matter only to a slow starter
		change   func(*Stack)
	}{
		"MinTasks":               {2, func(s *Stack) { s.MinTasks++ }},
		"MaxTasks":               {2, func(s *Stack) { s.MaxTasks += 5 }},
		"CPUTargetPercent":       {2, func(s *Stack) { s.CPUTargetPercent -= 20 }},
		"ScaleOutCooldown":       {2, func(s *Stack) { s.ScaleOutCooldown = 300 }},
		"HealthCheckInterval":    {2, func(s *Stack) { s.HealthCheckInterval *= 2 }},
		"HealthyThreshold":       {2, func(s *Stack) { s.HealthyThreshold += 3 }},
		"UnhealthyThreshold":     {65, func(s *Stack) { s.UnhealthyThreshold = 7 }},
		"HealthCheckGracePeriod": {45, func(s *Stack) { s.HealthCheckGracePeriod = 0 }},
	} {
		base := Current(70)
		base.Assumptions.AppReady = c.appReady
		ref := run(t, base, ramp, 1800)
		s := base
		c.change(&s.Stack)
		s.Policies = []Policy{{Kind: CPUTracking, Target: s.Stack.CPUTargetPercent}}
		got := run(t, s, ramp, 1800)
		if reflect.DeepEqual(got.Summary, ref.Summary) && reflect.DeepEqual(got.Events, ref.Events) {
			t.Errorf("changing %s changed neither the summary nor the scaling events", name)
		}
	}
}

func TestValidateNamesTheField(t *testing.T) {
	for field, change := range map[string]func(*Settings){
		"MinTasks":         func(s *Settings) { s.Stack.MinTasks = 0 },
		"MaxTasks":         func(s *Settings) { s.Stack.MaxTasks = 1 },
		"CPUTargetPercent": func(s *Settings) { s.Stack.CPUTargetPercent = 120 },
		"RPSPerTask":       func(s *Settings) { s.RPSPerTask = math.NaN() },
		"EdgeHitRatio":     func(s *Settings) { s.EdgeHitRatio = 1 },
		"Policies[0].Kind": func(s *Settings) { s.Policies[0].Kind = "magic" },
		"Scheduled[0]":     func(s *Settings) { s.Scheduled = []Scheduled{{At: 0, MinTasks: 99}} },
	} {
		s := plain()
		s.Policies = append([]Policy(nil), s.Policies...)
		change(&s)
		if _, err := Run(s, step(100, 100), 60); err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: Run error = %v, want one naming %s", field, err, field)
		}
	}
	if _, err := Run(plain(), step(100, 100), 0); err == nil {
		t.Error("Run(0 seconds) succeeded")
	}
}

// TestInvariantsUnderRandomSettings runs random stacks and ramps and checks what must hold
// whatever the numbers: tasks add up to desired, desired stays within its bounds, shortfalls
// are ordered, CPU is a percentage, and a second run is identical.
func TestInvariantsUnderRandomSettings(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 1))
	kinds := []PolicyKind{CPUTracking, RequestTracking, StepCPU}
	for i := range 300 {
		s := plain()
		s.Stack.MinTasks = 1 + rng.IntN(4)
		s.Stack.MaxTasks = s.Stack.MinTasks + rng.IntN(30)
		s.Stack.CPUTargetPercent = 20 + rng.Float64()*80
		s.Stack.ScaleOutCooldown = rng.IntN(400)
		s.Stack.ScaleInCooldown = rng.IntN(400)
		s.Stack.HealthCheckGracePeriod = rng.IntN(120)
		s.Stack.HealthCheckInterval = 5 + rng.IntN(30)
		s.Stack.HealthyThreshold = 2 + rng.IntN(5)
		s.Stack.UnhealthyThreshold = 2 + rng.IntN(5)
		s.Assumptions.TaskStart = rng.IntN(120)
		s.Assumptions.AppReady = rng.IntN(90)
		s.Assumptions.MetricDelay = rng.IntN(120)
		s.Assumptions.HighDatapoints = 1 + rng.IntN(5)
		s.RPSPerTask = 1 + rng.Float64()*1000
		s.EdgeHitRatio = rng.Float64() * 0.9
		s.Policies = nil
		for range 1 + rng.IntN(3) {
			k := kinds[rng.IntN(len(kinds))]
			s.Policies = append(s.Policies, Policy{Kind: k, Target: 1 + rng.Float64()*5000, Threshold: 10 + rng.Float64()*80,
				Datapoints: 1 + rng.IntN(3), Steps: []Step{{0, rng.IntN(300)}}, MinAdjustment: rng.IntN(5)})
		}
		if rng.IntN(2) == 0 {
			s.Scheduled = []Scheduled{{At: rng.IntN(900), MinTasks: 1 + rng.IntN(s.Stack.MaxTasks)}}
		}
		ramp := Ramp{Baseline: rng.Float64() * 2000, Factor: rng.Float64() * 20, Start: rng.IntN(600), RampSeconds: rng.IntN(300)}
		a := run(t, s, ramp, 1800)
		b := run(t, s, ramp, 1800)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("case %d: two runs differ", i)
		}
		for _, sec := range a.Seconds {
			if sec.Starting+sec.Registering+sec.Healthy != sec.Desired || sec.Desired < 1 || sec.Desired > s.Stack.MaxTasks ||
				sec.Unserved > sec.OverTarget+1e-9 || sec.OverTarget > sec.Origin+1e-9 || sec.CPU < 0 || sec.CPU > 100+1e-9 {
				t.Fatalf("case %d, second %d: %+v breaks an invariant (settings %+v)", i, sec.T, sec, s)
			}
		}
	}
}

func TestTimelineShowsShortfall(t *testing.T) {
	r := run(t, plain(), step(100, 1000), 120)
	out := Timeline(r, 60, 20)
	if lines := strings.Count(out, "\n"); lines != 3 {
		t.Errorf("Timeline has %d lines, want a header and 2 rows:\n%s", lines, out)
	}
	if !strings.Contains(out, "short 800/s") || !strings.Contains(out, "!") {
		t.Errorf("Timeline does not show the 800 req/s shortfall:\n%s", out)
	}
}

// TestDefaultAssumptionsAreAWSBehaviour pins the AWS facts the simulation rests on. Sources:
// https://docs.aws.amazon.com/autoscaling/application/userguide/target-tracking-scaling-policy-overview.html
// (target tracking's managed alarms: 3 one-minute datapoints to scale out, 15 to scale in, scale-in
// "typically more than 10%" below the target) and
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/available-metrics.html (ECS sends
// metrics at one-minute intervals, which the simulation's datapoints are).
func TestDefaultAssumptionsAreAWSBehaviour(t *testing.T) {
	a := DefaultAssumptions()
	if a.HighDatapoints != 3 || a.LowDatapoints != 15 || a.LowAlarmFraction != 0.9 {
		t.Errorf("target tracking alarms = %d/%d datapoints at %.2f of target, want 3/15 at 0.90", a.HighDatapoints, a.LowDatapoints, a.LowAlarmFraction)
	}
	r := run(t, plain(), step(100, 100), 600)
	for i, dp := range r.Datapoints {
		if dp.Minute != i || dp.VisibleAt != 60*(i+1)+plain().Assumptions.MetricDelay {
			t.Fatalf("datapoint %d = %+v, want one per minute, visible MetricDelay after it ends", i, dp)
		}
	}
}
