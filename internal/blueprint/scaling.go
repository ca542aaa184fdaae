package blueprint

// Registry is the ECR repository the service's images come from: tags immutable, scanned on
// push, the ECRKeepImages most recent kept, emptied when the stack is deleted.
type Registry struct {
	Repository      Resource
	ImmutableTags   bool
	ScanOnPush      bool
	LifecyclePolicy string
	EmptyOnDelete   bool
}

// Scaling is target tracking on the service's task count: every policy scales out fast and in
// slowly, between Min and Max tasks. It exists with the service. CPU and request-count tracking
// together: request count rises with the sale's traffic itself, a minute before the CPU average
// of tasks that are still starting shows it (docs/capacity.md).
type Scaling struct {
	Target           Resource
	Min, Max         int // the defaults; the Pulumi stack's configuration may change them
	Policies         []ScalingPolicy
	ScaleOutCooldown int
	ScaleInCooldown  int
	// Step adds capacity in proportion on one high-CPU datapoint, two minutes before target
	// tracking's three-datapoint alarm would act (docs/capacity.md).
	Step StepScaling
	// Sale is a planned sale (WithSale, with the service): scheduled actions on the scalable
	// target raise the minimum to the sale's tasks at its start, ahead of the traffic that no
	// reactive policy catches in time, and restore Min at its end. The window and the tasks are
	// per deployment (CloudFormation parameters, Pulumi configuration). CloudFormation writes
	// them as the target's ScheduledActions, Pulumi as ScheduledAction resources.
	Sale []SaleAction
}

// SaleAction is one scheduled action of a planned sale, named sale-{Purpose}-{suffix}.
type SaleAction struct {
	Purpose string
	AtEnd   bool // at the window's end, back to Min; else at its start, up to the sale's tasks
}

// StepScaling is a step scaling policy and the alarm that triggers it. The alarm's only action
// is the policy: it pages nobody (the cpu-high alarm does).
type StepScaling struct {
	Policy Resource
	Alarm  ModelAlarm
	// Steps are relative to the alarm's threshold, in ascending LowerBound order; the last is
	// open-ended. PercentChange applies to the current capacity (PercentChangeInCapacity).
	Steps []ScalingStep
	// MinAdjustment is the fewest tasks a step adds, whatever its percentage of a small count.
	MinAdjustment int
	Cooldown      int
}

// ScalingStep adds PercentChange percent of the capacity while the metric is LowerBound or more
// above the alarm threshold (and below the next step's LowerBound).
type ScalingStep struct {
	LowerBound    int
	PercentChange int
}

// ScalingPolicy tracks one predefined metric at Target (the default): a percentage for the ECS
// utilisation metrics, requests per minute per target for ALBRequestCountPerTarget.
type ScalingPolicy struct {
	Resource
	Metric string
	Target int
	// ResourceLabel: the metric needs the load balancer and target group named
	// ("app/<lb>/<id>/targetgroup/<tg>/<id>"); only ALBRequestCountPerTarget does.
	ResourceLabel bool
}

// Registry and scaling IDs.
const (
	IDRepository           = "Repository"
	IDScalableTarget       = "ScalableTarget"
	IDCPUScalingPolicy     = "CpuScalingPolicy"
	IDMemoryScalingPolicy  = "MemoryScalingPolicy"
	IDRequestScalingPolicy = "RequestScalingPolicy"
	IDStepScalingPolicy    = "StepScalingPolicy"
)

// SaleMinTasks is the default minimum during a planned sale: the tasks 10x of a 2,000 req/s
// baseline needs at RequestsPerTask (15.4, so 16; docs/capacity.md).
const SaleMinTasks = 16

// Step scaling: one 60 s datapoint of service CPU above StepCPUThreshold doubles the tasks,
// 15 points above it (a service near saturation) triples them.
const (
	StepCPUThreshold  = CPUTargetPercent + 10
	StepAlarmPurpose  = "cpu-surge"
	StepMinAdjustment = 2
)

// Resources returns the registry's resources.
func (r Registry) Resources() []Resource { return []Resource{r.Repository} }

// Resources returns the scaling's resources, whatever their option.
func (s Scaling) Resources() []Resource {
	out := []Resource{s.Target}
	for _, p := range s.Policies {
		out = append(out, p.Resource)
	}
	return append(out, s.Step.Policy, s.Step.Alarm.Resource)
}

func registry() Registry {
	return Registry{
		Repository:    Resource{ID: IDRepository, Kind: "ecr", Purpose: Project},
		ImmutableTags: true, ScanOnPush: true, LifecyclePolicy: ECRLifecyclePolicy(), EmptyOnDelete: true,
	}
}

func scaling() Scaling {
	return Scaling{
		Target: Resource{ID: IDScalableTarget, Kind: "scaling", Purpose: Project, When: WithImage},
		Min:    MinTasks, Max: MaxTasks,
		Policies: []ScalingPolicy{
			{Resource{ID: IDCPUScalingPolicy, Kind: "scaling", Purpose: "cpu", When: WithImage}, "ECSServiceAverageCPUUtilization", CPUTargetPercent, false},
			{Resource{ID: IDMemoryScalingPolicy, Kind: "scaling", Purpose: "memory", When: WithImage}, "ECSServiceAverageMemoryUtilization", MemoryTargetPercent, false},
			{Resource{ID: IDRequestScalingPolicy, Kind: "scaling", Purpose: "requests", When: WithImage}, "ALBRequestCountPerTarget", RequestCountTarget, true},
		},
		ScaleOutCooldown: ScaleOutCooldown, ScaleInCooldown: ScaleInCooldown,
		Step: StepScaling{
			Policy: Resource{ID: IDStepScalingPolicy, Kind: "scaling", Purpose: "cpu-step", When: WithImage},
			Alarm: ModelAlarm{Resource: Resource{ID: AlarmID(StepAlarmPurpose), Kind: "alarm", Purpose: StepAlarmPurpose, When: WithImage}, Alarm: Alarm{
				Purpose: StepAlarmPurpose, Description: "Catalog service CPU above " + itoa(StepCPUThreshold) + "% for one minute: step scaling adds tasks",
				Namespace: "AWS/ECS", Metric: "CPUUtilization", Statistic: "Average",
				Comparison: "GreaterThanThreshold", Threshold: StepCPUThreshold,
				PeriodSeconds: 60, EvaluationPeriods: 1, DatapointsToAlarm: 1,
				Dimensions: []string{DimClusterName, DimServiceName}, TreatMissingData: "notBreaching", NeedsService: true,
			}},
			Steps:         []ScalingStep{{LowerBound: 0, PercentChange: 100}, {LowerBound: 15, PercentChange: 200}},
			MinAdjustment: StepMinAdjustment,
			Cooldown:      ScaleOutCooldown,
		},
		Sale: []SaleAction{{Purpose: "start"}, {Purpose: "end", AtEnd: true}},
	}
}
