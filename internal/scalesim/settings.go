// Package scalesim simulates, second by second on a fake clock, how the catalog's ECS service
// scales when demand rises sharply: CloudWatch's one-minute datapoints published with a delay,
// the alarms Application Auto Scaling creates for a policy, the cooldowns, Fargate's task start,
// the ALB's target health checks and the ECS health-check grace period. It answers how long a
// flash sale's ramp goes unserved with the stacks' settings, and with the alternatives a later
// stack change could make.
//
// The package is pure: no I/O, no wall clock, the same inputs give the same output.
package scalesim

import (
	"errors"
	"fmt"
	"math"

	"github.com/acme/catalog/internal/blueprint"
)

// PolicyKind names a scaling mechanism.
type PolicyKind string

// The scaling mechanisms the simulation knows.
const (
	// CPUTracking is target tracking on ECSServiceAverageCPUUtilization: what both stacks use.
	CPUTracking PolicyKind = "cpu-target-tracking"
	// RequestTracking is target tracking on ALBRequestCountPerTarget (requests per minute per
	// healthy target).
	RequestTracking PolicyKind = "request-count-tracking"
	// StepCPU is step scaling on a CPU alarm that needs fewer datapoints than target tracking's.
	StepCPU PolicyKind = "step-scaling-cpu"
)

// Step is one step of a step scaling policy: when the metric is at least LowerBound above the
// alarm threshold, capacity grows by PercentChange percent (at least one task).
type Step struct {
	LowerBound    float64
	PercentChange int
}

// Policy is one scaling policy on the service. Application Auto Scaling runs every policy; a
// scale-out of any of them happens ("the largest capacity wins").
type Policy struct {
	Kind PolicyKind
	// Target is the tracked metric's target: percent CPU, or requests per minute per target.
	Target float64
	// Step scaling only: the alarm threshold (percent CPU), its datapoints, and the steps in
	// ascending LowerBound order.
	Threshold  float64
	Datapoints int
	Steps      []Step
	// MinAdjustment is the fewest tasks a step adds (MinAdjustmentMagnitude; 0 counts as 1).
	MinAdjustment int
}

// Scheduled is a scheduled action raising (or lowering) the service's minimum task count at a
// second of the simulation, as an Application Auto Scaling scheduled action does before a
// planned sale.
type Scheduled struct {
	At       int
	MinTasks int
}

// Stack holds what the stacks configure. FromBlueprint fills it from internal/blueprint, so the
// simulation answers for the stacks as they are.
type Stack struct {
	MinTasks                int
	MaxTasks                int
	TaskVCPU                float64
	CPUTargetPercent        float64
	ScaleOutCooldown        int // seconds
	ScaleInCooldown         int // seconds
	HealthCheckGracePeriod  int // seconds
	HealthCheckInterval     int // seconds between ALB target health checks
	HealthyThreshold        int
	UnhealthyThreshold      int
	DeregistrationDelay     int // seconds; a stopped task serves no new requests meanwhile
	ContainerStartPeriod    int // seconds; informational: the ALB, not the container check, gates traffic
	ContainerHealthInterval int
}

// Assumptions are AWS behaviours and facts about the service that no stack setting encodes.
// Each has a stated default in DefaultAssumptions.
type Assumptions struct {
	// TaskStart is the seconds from a desired-count increase to the task RUNNING: ECS placement,
	// ENI attachment, image pull and container start.
	TaskStart int
	// AppReady is the seconds from RUNNING until the process answers its health check.
	AppReady int
	// MetricDelay is the seconds after a one-minute period ends before its datapoint is
	// visible to an alarm.
	MetricDelay int
	// HighDatapoints and LowDatapoints are the consecutive one-minute datapoints target
	// tracking's scale-out and scale-in alarms need.
	HighDatapoints int
	LowDatapoints  int
	// LowAlarmFraction is the scale-in alarm's threshold as a fraction of the target.
	LowAlarmFraction float64
}

// DefaultAssumptions returns the assumptions the bench and docs/capacity.md use.
//
// HighDatapoints 3 and LowDatapoints 15: the alarms Application Auto Scaling creates for a
// target tracking policy ("TargetTracking-...-AlarmHigh": 3 datapoints within 3 minutes;
// "-AlarmLow": 15 datapoints within 15 minutes, at 90% of the target), see "How target tracking
// scaling for Application Auto Scaling works",
// https://docs.aws.amazon.com/autoscaling/application/userguide/target-tracking-scaling-policy-overview.html
// (the page describes the managed alarms, and that capacity is removed only when the metric is
// "typically more than 10%" below the target, hence LowAlarmFraction 0.9; the datapoint counts
// are those of the alarms it creates, as the CloudWatch console shows them, not stated there).
//
// One-minute datapoints: "Amazon ECS sends metrics to CloudWatch at one-minute intervals",
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/available-metrics.html; the
// service-level CPUUtilization is the tasks' used CPU units over their reserved units, so a
// RUNNING task that takes no traffic yet lowers the average. MetricDelay 30 s is an assumption
// (ingestion and alarm evaluation), not a documented figure.
//
// TaskStart 50 s: a Fargate task of a ~25 MB image in a private subnet typically reaches
// RUNNING in 45-60 s; measured on AWS it should replace this default.
func DefaultAssumptions() Assumptions {
	return Assumptions{TaskStart: 50, AppReady: 2, MetricDelay: 30, HighDatapoints: 3, LowDatapoints: 15, LowAlarmFraction: 0.9}
}

// Settings are everything the simulation needs besides the demand curve.
type Settings struct {
	Stack       Stack
	Assumptions Assumptions
	// RPSPerTask is the requests per second one task serves at the CPU target (the capacity
	// model's figure). At 100% CPU a task serves RPSPerTask*100/CPUTargetPercent.
	RPSPerTask float64
	// EdgeHitRatio is the fraction of requests an edge cache answers (0: no CloudFront).
	EdgeHitRatio float64
	Policies     []Policy
	Scheduled    []Scheduled
}

// FromBlueprint returns the stacks' scaling settings as internal/blueprint declares them.
func FromBlueprint() Stack {
	return Stack{
		MinTasks:                blueprint.MinTasks,
		MaxTasks:                blueprint.MaxTasks,
		TaskVCPU:                float64(blueprint.DefaultTaskSize.CPU) / 1024,
		CPUTargetPercent:        blueprint.CPUTargetPercent,
		ScaleOutCooldown:        blueprint.ScaleOutCooldown,
		ScaleInCooldown:         blueprint.ScaleInCooldown,
		HealthCheckGracePeriod:  blueprint.HealthCheckGracePeriod,
		HealthCheckInterval:     blueprint.HealthCheckIntervalSeconds,
		HealthyThreshold:        blueprint.HealthyThreshold,
		UnhealthyThreshold:      blueprint.UnhealthyThreshold,
		DeregistrationDelay:     blueprint.DeregistrationDelaySeconds,
		ContainerStartPeriod:    blueprint.ContainerHealthStartPeriod,
		ContainerHealthInterval: blueprint.ContainerHealthInterval,
	}
}

// Current returns the settings of the stacks as they are: the blueprint's numbers, the default
// assumptions, and the policies both stacks create (Policies).
func Current(rpsPerTask float64) Settings {
	return Settings{Stack: FromBlueprint(), Assumptions: DefaultAssumptions(), RPSPerTask: rpsPerTask, Policies: Policies()}
}

// Policies returns the scaling policies internal/blueprint declares, as the simulation models
// them: target tracking on CPU and on ALB request count at the model's targets, and the step
// policy on its alarm. Memory tracking is left out: the simulated demand moves CPU, and the
// service's memory stays flat under load, so its alarm never fires first.
func Policies() []Policy {
	sc := blueprint.Model().Scaling
	var out []Policy
	for _, p := range sc.Policies {
		switch p.Metric {
		case "ECSServiceAverageCPUUtilization":
			out = append(out, Policy{Kind: CPUTracking, Target: float64(p.Target)})
		case "ALBRequestCountPerTarget":
			out = append(out, Policy{Kind: RequestTracking, Target: float64(p.Target)})
		}
	}
	if st := sc.Step; len(st.Steps) > 0 {
		step := Policy{Kind: StepCPU, Threshold: st.Alarm.Alarm.Threshold, Datapoints: st.Alarm.Alarm.DatapointsToAlarm, MinAdjustment: st.MinAdjustment}
		for _, x := range st.Steps {
			step.Steps = append(step.Steps, Step{LowerBound: float64(x.LowerBound), PercentChange: x.PercentChange})
		}
		out = append(out, step)
	}
	return out
}

// PlannedSale returns the scheduled action both stacks create for a planned sale whose window
// opens at second at (blueprint.Scaling.Sale): the minimum rises to blueprint.SaleMinTasks. The
// window's end is past any simulated run.
func PlannedSale(at int) []Scheduled {
	return []Scheduled{{At: max(0, at), MinTasks: blueprint.SaleMinTasks}}
}

// Before returns base as the stacks were before issue 19's changes: CPU target tracking alone,
// at most 10 tasks. The bench prints it beside the stacks as they are.
func Before(base Settings) Settings {
	s := base
	s.Stack.MaxTasks = min(base.Stack.MaxTasks, 10)
	s.Policies = []Policy{{Kind: CPUTracking, Target: base.Stack.CPUTargetPercent}}
	s.Scheduled = nil
	return s
}

// Validate reports the first setting the simulation cannot run with, naming it.
func (s Settings) Validate() error {
	var errs []error
	bad := func(field, rule string) { errs = append(errs, fmt.Errorf("%s: %s", field, rule)) }
	st, a := s.Stack, s.Assumptions
	if st.MinTasks < 1 {
		bad("MinTasks", "must be at least 1")
	}
	if st.MaxTasks < st.MinTasks {
		bad("MaxTasks", "must be at least MinTasks")
	}
	if !(st.CPUTargetPercent > 0 && st.CPUTargetPercent <= 100) {
		bad("CPUTargetPercent", "must be in (0, 100]")
	}
	if st.HealthCheckInterval < 1 || st.HealthyThreshold < 1 || st.UnhealthyThreshold < 1 {
		bad("HealthCheckInterval/HealthyThreshold/UnhealthyThreshold", "must be at least 1")
	}
	if st.ScaleOutCooldown < 0 || st.ScaleInCooldown < 0 || st.HealthCheckGracePeriod < 0 {
		bad("cooldowns and grace period", "must not be negative")
	}
	if a.TaskStart < 0 || a.AppReady < 0 || a.MetricDelay < 0 {
		bad("TaskStart/AppReady/MetricDelay", "must not be negative")
	}
	if a.HighDatapoints < 1 || a.LowDatapoints < 1 {
		bad("HighDatapoints/LowDatapoints", "must be at least 1")
	}
	if !(s.RPSPerTask > 0) || math.IsInf(s.RPSPerTask, 0) {
		bad("RPSPerTask", "must be a positive number")
	}
	if !(s.EdgeHitRatio >= 0 && s.EdgeHitRatio < 1) {
		bad("EdgeHitRatio", "must be in [0, 1)")
	}
	for i, p := range s.Policies {
		switch p.Kind {
		case CPUTracking, RequestTracking:
			if !(p.Target > 0) {
				bad(fmt.Sprintf("Policies[%d].Target", i), "must be positive")
			}
		case StepCPU:
			if !(p.Threshold > 0) || p.Datapoints < 1 || len(p.Steps) == 0 {
				bad(fmt.Sprintf("Policies[%d]", i), "step scaling needs a positive Threshold, Datapoints >= 1 and at least one step")
			}
		default:
			bad(fmt.Sprintf("Policies[%d].Kind", i), fmt.Sprintf("unknown policy %q", p.Kind))
		}
	}
	for i, sc := range s.Scheduled {
		if sc.At < 0 || sc.MinTasks < 1 || sc.MinTasks > st.MaxTasks {
			bad(fmt.Sprintf("Scheduled[%d]", i), "needs At >= 0 and 1 <= MinTasks <= MaxTasks")
		}
	}
	return errors.Join(errs...)
}

// Ramp is the demand curve: Baseline requests per second until Start, rising linearly to
// Baseline*Factor over RampSeconds, then held.
type Ramp struct {
	Baseline    float64
	Factor      float64
	Start       int
	RampSeconds int
}

// At returns the demand at second t.
func (r Ramp) At(t int) float64 {
	switch {
	case t < r.Start:
		return r.Baseline
	case t >= r.Start+r.RampSeconds:
		return r.Baseline * r.Factor
	default:
		return r.Baseline * (1 + (r.Factor-1)*float64(t-r.Start)/float64(r.RampSeconds))
	}
}

// FlashSale is the scenario: baseline, then 10x over 2 minutes from minute 5.
func FlashSale(baseline float64) Ramp {
	return Ramp{Baseline: baseline, Factor: 10, Start: 300, RampSeconds: 120}
}
