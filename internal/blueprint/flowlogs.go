package blueprint

// FlowLogs are the VPC's flow logs (WithFlowLogs: on for prod by default, off otherwise unless
// set): every accepted and rejected flow of the VPC's interfaces, delivered to a log group
// encrypted with the stack's key (Observability.LogGroups, so the key policy lets the logs
// service use the key for it) under the stack's retention, by a role only the flow-logs service
// of this account, for this account's flow logs, may assume (confused deputy:
// https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html).
type FlowLogs struct {
	FlowLog  Resource
	LogGroup string // the Observability log group's ID
	Role     Role
	// Trust is the role's trust policy, with placeholders.
	Trust map[string]any
	// TrafficType is ALL: rejected flows show probes, accepted ones what talked to what.
	TrafficType string
	// MaxAggregationSeconds is how long flows aggregate before a record: 600 (the default; 60
	// costs more records for faster visibility).
	MaxAggregationSeconds int
}

// Flow-log IDs.
const (
	IDFlowLog         = "VPCFlowLog"
	IDFlowLogGroup    = "FlowLogGroup"
	IDFlowLogRole     = "FlowLogRole"
	FlowLogsPrincipal = "vpc-flow-logs.amazonaws.com"
)

// FlowLogGroupPath is the flow-log group's path for a suffix.
func FlowLogGroupPath(suffix string) string { return "/vpc/flow-logs/" + Name("vpc", Project, suffix) }

// Resources returns the flow log, its role and the role's policy.
func (f FlowLogs) Resources() []Resource {
	return []Resource{f.FlowLog, f.Role.Resource, f.Role.Policy}
}

func flowLogs() FlowLogs {
	return FlowLogs{
		FlowLog:  Resource{ID: IDFlowLog, Kind: "flowlog", Purpose: Project, When: WithFlowLogs},
		LogGroup: IDFlowLogGroup,
		Role: Role{
			Resource:    Resource{ID: IDFlowLogRole, Kind: "role", Purpose: "flow-logs", When: WithFlowLogs},
			Policy:      Resource{ID: IDFlowLogRole + "Policy", Kind: "policy", Purpose: "flow-logs", When: WithFlowLogs},
			Description: "The VPC flow-logs service delivers the catalog VPC's flow logs to their log group with this role",
			Statements: []Statement{
				// The actions the flow-logs service uses on its group, and no other group's.
				{"DeliverToFlowLogGroup", []string{"logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"},
					[]Value{{Ref: IDFlowLogGroup, Attr: AttrLogStreams}}, nil},
				// DescribeLogGroups checks the destination exists; it lists by name prefix, so it
				// takes the account's log-group ARN pattern, not one group's.
				{"FindFlowLogGroup", []string{"logs:DescribeLogGroups"},
					[]Value{{Text: "arn:" + PhPartition + ":logs:" + PhRegion + ":" + PhAccount + ":log-group:*"}}, nil},
			},
		},
		Trust: map[string]any{
			"Version": "2012-10-17",
			"Statement": []any{map[string]any{
				"Effect":    "Allow",
				"Principal": map[string]any{"Service": FlowLogsPrincipal},
				"Action":    "sts:AssumeRole",
				"Condition": map[string]any{
					"StringEquals": map[string]any{"aws:SourceAccount": PhAccount},
					"ArnLike":      map[string]any{"aws:SourceArn": "arn:" + PhPartition + ":ec2:" + PhRegion + ":" + PhAccount + ":vpc-flow-log/*"},
				},
			}},
		},
		TrafficType:           "ALL",
		MaxAggregationSeconds: 600,
	}
}
