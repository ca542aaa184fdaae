package scalesim

import (
	"fmt"
	"math"
)

// Second is the state of the service during one second of the simulation.
type Second struct {
	T      int
	Demand float64 // requests/s arriving at the edge
	Origin float64 // requests/s reaching the tasks (after the edge cache)
	// CapacityAtTarget and CapacityFull are what the healthy tasks serve at the CPU target and
	// at 100% CPU.
	CapacityAtTarget float64
	CapacityFull     float64
	Desired          int
	Starting         int // asked for, not RUNNING yet
	Registering      int // RUNNING, not yet healthy in the target group: no traffic
	Healthy          int
	CPU              float64 // the service's CPUUtilization this second, percent
	// OverTarget is the demand served above the CPU target (slower answers); Unserved is the
	// demand beyond 100% CPU (queued, timed out, or refused).
	OverTarget float64
	Unserved   float64
}

// Datapoint is one one-minute CloudWatch datapoint.
type Datapoint struct {
	Minute int
	// CPU is the service's average CPUUtilization over the minute, percent.
	CPU float64
	// RequestsPerTarget is ALBRequestCountPerTarget: requests in the minute over the healthy
	// targets.
	RequestsPerTarget float64
	// VisibleAt is the second from which an alarm can see the datapoint.
	VisibleAt int
}

// Event is a change to the desired count or a task replaced.
type Event struct {
	T        int
	Source   string
	From, To int
	Why      string
}

// Summary is what a person wants from a run.
type Summary struct {
	RampStart int
	// MetAfter is the seconds after the ramp starts from which the healthy tasks' capacity at
	// the CPU target covers the demand to the end of the run; -1 when it never does.
	MetAfter int
	// FullAfter is the same at 100% CPU: from then on no request goes unserved.
	FullAfter       int
	PeakUnserved    float64 // requests/s
	TotalUnserved   float64 // requests
	PeakOverTarget  float64 // requests/s
	TotalOverTarget float64 // requests
	PeakDesired     int
	FinalHealthy    int
	Replaced        int // tasks ECS stopped for failing health checks after the grace period
}

// Result is a whole run.
type Result struct {
	Seconds    []Second
	Datapoints []Datapoint
	Events     []Event
	Summary    Summary
}

type phase int

const (
	starting phase = iota
	registering
	healthy
)

type task struct {
	phase      phase
	since      int // second it entered its phase
	okStreak   int
	failStreak int
}

type sim struct {
	s     Settings
	t     int
	tasks []*task
	// desired is the service's desired count; minimum is the scalable target's current minimum
	// (scheduled actions change it).
	desired, minimum int
	// outUntil is the end of the scale-out cooldown; outBase the capacity before the scale-out
	// that started it.
	outUntil, outBase int
	inUntil           int
	dps               []Datapoint
	events            []Event
	replaced          int
	// per-minute sums
	cpuSum, reqSum, healthySum float64
}

// Run simulates seconds seconds of demand d under settings s.
func Run(s Settings, d Ramp, seconds int) (Result, error) {
	if err := s.Validate(); err != nil {
		return Result{}, fmt.Errorf("scalesim: %w", err)
	}
	if seconds < 1 || seconds > 24*3600 {
		return Result{}, fmt.Errorf("scalesim: seconds: must be 1..86400, got %d", seconds)
	}
	if !(d.Baseline >= 0) || !(d.Factor >= 0) || d.Start < 0 || d.RampSeconds < 0 || math.IsInf(d.Baseline*d.Factor, 0) {
		return Result{}, fmt.Errorf("scalesim: ramp: Baseline and Factor must be non-negative numbers, Start and RampSeconds non-negative")
	}
	m := &sim{s: s, minimum: s.Stack.MinTasks, outUntil: -1, inUntil: -1}
	// Steady state before the sale: enough healthy tasks for the baseline at the target.
	origin0 := d.At(0) * (1 - s.EdgeHitRatio)
	m.desired = clamp(ceil(origin0/s.RPSPerTask), s.Stack.MinTasks, s.Stack.MaxTasks)
	for range m.desired {
		m.tasks = append(m.tasks, &task{phase: healthy, since: -3600})
	}
	res := Result{Seconds: make([]Second, 0, seconds)}
	for m.t = 0; m.t < seconds; m.t++ {
		m.scheduled()
		if m.t > 0 && m.t%60 == 0 {
			m.evaluate()
		}
		m.reconcile()
		m.advance()
		res.Seconds = append(res.Seconds, m.load(d.At(m.t)))
	}
	res.Datapoints, res.Events = m.dps, m.events
	res.Summary = summarize(res.Seconds, d.Start, m.replaced)
	return res, nil
}

func ceil(x float64) int {
	// A ratio that is an integer but for float rounding must not add a task.
	return int(math.Ceil(x - 1e-9))
}

func clamp(n, lo, hi int) int { return max(lo, min(hi, n)) }

func (m *sim) setDesired(n int, source, why string) {
	n = clamp(n, m.minimum, m.s.Stack.MaxTasks)
	if n == m.desired {
		return
	}
	m.events = append(m.events, Event{T: m.t, Source: source, From: m.desired, To: n, Why: why})
	m.desired = n
}

// scheduled applies the scheduled actions due now. Raising the minimum above the desired count
// raises the desired count at once, as Application Auto Scaling does.
func (m *sim) scheduled() {
	for _, sc := range m.s.Scheduled {
		if sc.At == m.t {
			m.minimum = sc.MinTasks
			if m.desired < sc.MinTasks {
				m.setDesired(sc.MinTasks, "scheduled", fmt.Sprintf("minimum set to %d", sc.MinTasks))
			}
		}
	}
}

// visible returns the datapoints an alarm sees now, oldest first.
func (m *sim) visible() []Datapoint {
	n := 0
	for n < len(m.dps) && m.dps[n].VisibleAt <= m.t {
		n++
	}
	return m.dps[:n]
}

// breaching reports whether the last n visible datapoints all satisfy cond, and returns the
// latest one.
func breaching(dps []Datapoint, n int, cond func(Datapoint) bool) (Datapoint, bool) {
	if len(dps) < n {
		return Datapoint{}, false
	}
	for _, dp := range dps[len(dps)-n:] {
		if !cond(dp) {
			return Datapoint{}, false
		}
	}
	return dps[len(dps)-1], true
}

func metricOf(kind PolicyKind, dp Datapoint) float64 {
	if kind == RequestTracking {
		return dp.RequestsPerTarget
	}
	return dp.CPU
}

// evaluate runs the alarms, once a minute as CloudWatch evaluates one-minute alarms, and the
// policies they invoke. An alarm in ALARM invokes its policy at every evaluation, not only on
// the transition, so a sustained breach keeps scaling out.
//
// Cooldown: "While the scale-out cooldown period is in effect, the capacity added by the
// initiating scale-out activity is calculated as part of the desired capacity for the next
// scale-out activity" (target-tracking-scaling-policy-overview.html, "Define cooldown
// periods"). The simulation computes the proposal on the capacity the metric was measured on
// (the capacity before the initiating scale-out) and scales out only when that proposal
// exceeds the current desired count, so a repeat of the same reading adds nothing while a
// higher one adds the difference.
func (m *sim) evaluate() {
	dps := m.visible()
	a := m.s.Assumptions
	inCooldown := m.t < m.outUntil
	base := m.desired
	if inCooldown {
		base = m.outBase
	}
	out, outWhy, outSource := 0, "", ""
	allLow, anyTracking := true, false
	inProposal := 0
	for _, p := range m.s.Policies {
		switch p.Kind {
		case CPUTracking, RequestTracking:
			anyTracking = true
			if dp, ok := breaching(dps, a.HighDatapoints, func(dp Datapoint) bool { return metricOf(p.Kind, dp) > p.Target }); ok {
				v := metricOf(p.Kind, dp)
				if n := ceil(float64(base) * v / p.Target); n > out {
					out, outSource = n, string(p.Kind)
					outWhy = fmt.Sprintf("%d datapoints above %g, latest %.1f: ceil(%d*%.1f/%g)", a.HighDatapoints, p.Target, v, base, v, p.Target)
				}
			}
			if dp, ok := breaching(dps, a.LowDatapoints, func(dp Datapoint) bool {
				return metricOf(p.Kind, dp) < p.Target*a.LowAlarmFraction
			}); ok {
				inProposal = max(inProposal, ceil(float64(m.desired)*metricOf(p.Kind, dp)/p.Target))
			} else {
				allLow = false
			}
		case StepCPU:
			if dp, ok := breaching(dps, p.Datapoints, func(dp Datapoint) bool { return dp.CPU > p.Threshold }); ok {
				pct := 0
				for _, st := range p.Steps {
					if dp.CPU-p.Threshold >= st.LowerBound {
						pct = st.PercentChange
					}
				}
				n := base + max(1, p.MinAdjustment, ceil(float64(base)*float64(pct)/100))
				if n > out {
					out, outSource = n, string(p.Kind)
					outWhy = fmt.Sprintf("%d datapoint(s) above %g, latest %.1f: +%d%% of %d", p.Datapoints, p.Threshold, dp.CPU, pct, base)
				}
			}
		}
	}
	if out > m.desired {
		before := m.desired
		m.setDesired(out, outSource, outWhy)
		if !inCooldown && m.desired > before {
			m.outBase, m.outUntil = before, m.t+m.s.Stack.ScaleOutCooldown
		}
		return
	}
	// Scale in only when every tracking policy agrees, after both cooldowns.
	if anyTracking && allLow && m.t >= m.outUntil && m.t >= m.inUntil && inProposal < m.desired {
		before := m.desired
		m.setDesired(inProposal, "scale-in", fmt.Sprintf("%d datapoints below %.0f%% of target", a.LowDatapoints, a.LowAlarmFraction*100))
		if m.desired < before {
			m.inUntil = m.t + m.s.Stack.ScaleInCooldown
		}
	}
}

// reconcile starts or stops tasks so that their number matches the desired count. Stopping
// takes the least advanced tasks first, as they serve nothing yet.
func (m *sim) reconcile() {
	for len(m.tasks) < m.desired {
		m.tasks = append(m.tasks, &task{phase: starting, since: m.t})
	}
	for len(m.tasks) > m.desired {
		worst := 0
		for i, tk := range m.tasks {
			if tk.phase < m.tasks[worst].phase || (tk.phase == m.tasks[worst].phase && tk.since > m.tasks[worst].since) {
				worst = i
			}
		}
		m.tasks = append(m.tasks[:worst], m.tasks[worst+1:]...)
	}
}

// advance moves tasks through start, target registration and health checks. The ALB checks a
// registered target every HealthCheckInterval seconds and routes to it after HealthyThreshold
// consecutive passes; ECS ignores failures during the grace period, after which
// UnhealthyThreshold consecutive failures get the task stopped and replaced.
func (m *sim) advance() {
	st, a := m.s.Stack, m.s.Assumptions
	for _, tk := range m.tasks {
		switch tk.phase {
		case starting:
			if m.t-tk.since >= a.TaskStart {
				tk.phase, tk.since, tk.okStreak, tk.failStreak = registering, m.t, 0, 0
			}
		case registering:
			age := m.t - tk.since
			if age == 0 || age%st.HealthCheckInterval != 0 {
				continue
			}
			if age >= a.AppReady {
				tk.okStreak, tk.failStreak = tk.okStreak+1, 0
				if tk.okStreak >= st.HealthyThreshold {
					tk.phase, tk.since = healthy, m.t
				}
				continue
			}
			tk.okStreak, tk.failStreak = 0, tk.failStreak+1
			if tk.failStreak >= st.UnhealthyThreshold && age >= st.HealthCheckGracePeriod {
				m.replaced++
				m.events = append(m.events, Event{T: m.t, Source: "ecs", From: m.desired, To: m.desired,
					Why: fmt.Sprintf("task failed %d health checks after the %d s grace period: replaced", tk.failStreak, st.HealthCheckGracePeriod)})
				tk.phase, tk.since, tk.okStreak, tk.failStreak = starting, m.t, 0, 0
			}
		}
	}
}

// load routes this second's demand to the healthy tasks and accumulates the minute's metrics.
func (m *sim) load(demand float64) Second {
	st := m.s.Stack
	sec := Second{T: m.t, Demand: demand, Origin: demand * (1 - m.s.EdgeHitRatio), Desired: m.desired}
	for _, tk := range m.tasks {
		switch tk.phase {
		case starting:
			sec.Starting++
		case registering:
			sec.Registering++
		case healthy:
			sec.Healthy++
		}
	}
	full := m.s.RPSPerTask * 100 / st.CPUTargetPercent
	sec.CapacityAtTarget = float64(sec.Healthy) * m.s.RPSPerTask
	sec.CapacityFull = float64(sec.Healthy) * full
	served := min(sec.Origin, sec.CapacityFull)
	// CPUUtilization is used over reserved CPU of the RUNNING tasks: a task still registering
	// is reserved and (nearly) idle, so it dilutes the average.
	if running := sec.Registering + sec.Healthy; running > 0 {
		sec.CPU = served / full / float64(running) * 100
	}
	sec.OverTarget = max(0, sec.Origin-sec.CapacityAtTarget)
	sec.Unserved = max(0, sec.Origin-sec.CapacityFull)

	m.cpuSum += sec.CPU
	m.reqSum += sec.Origin // the ALB counts every request it receives, served or not
	m.healthySum += float64(sec.Healthy)
	if m.t%60 == 59 {
		dp := Datapoint{Minute: m.t / 60, CPU: m.cpuSum / 60, VisibleAt: m.t + 1 + m.s.Assumptions.MetricDelay}
		if m.healthySum > 0 {
			dp.RequestsPerTarget = m.reqSum / (m.healthySum / 60)
		}
		m.dps = append(m.dps, dp)
		m.cpuSum, m.reqSum, m.healthySum = 0, 0, 0
	}
	return sec
}

const eps = 1e-9

func summarize(secs []Second, rampStart, replaced int) Summary {
	s := Summary{RampStart: rampStart, Replaced: replaced}
	lastOver, lastUnserved := -1, -1
	for _, sec := range secs {
		s.PeakDesired = max(s.PeakDesired, sec.Desired)
		s.PeakUnserved = max(s.PeakUnserved, sec.Unserved)
		s.PeakOverTarget = max(s.PeakOverTarget, sec.OverTarget)
		s.TotalUnserved += sec.Unserved
		s.TotalOverTarget += sec.OverTarget
		if sec.T >= rampStart {
			if sec.OverTarget > eps {
				lastOver = sec.T
			}
			if sec.Unserved > eps {
				lastUnserved = sec.T
			}
		}
	}
	after := func(last int) int {
		switch {
		case last < 0:
			return 0
		case last == secs[len(secs)-1].T:
			return -1
		default:
			return last + 1 - rampStart
		}
	}
	s.MetAfter, s.FullAfter = after(lastOver), after(lastUnserved)
	if len(secs) > 0 {
		s.FinalHealthy = secs[len(secs)-1].Healthy
	}
	return s
}
