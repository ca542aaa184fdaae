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
)

// Resources returns the registry's resources.
func (r Registry) Resources() []Resource { return []Resource{r.Repository} }

// Resources returns the scaling's resources, whatever their option.
func (s Scaling) Resources() []Resource {
	out := []Resource{s.Target}
	for _, p := range s.Policies {
		out = append(out, p.Resource)
	}
	return out
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
	}
}
