package blueprint_test

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/acme/catalog/internal/blueprint"
	"github.com/acme/catalog/internal/capacity"
)

// warmInput is the part of a ModifyDBCluster request the sale's schedules send.
type warmInput struct {
	DbClusterIdentifier              string
	ServerlessV2ScalingConfiguration struct{ MinCapacity, MaxCapacity float64 }
}

// A planned sale warms the database: with the sale's window (and only with it) one schedule
// raises the cluster's minimum to the sale's minimum at the start and one restores exactly the
// deployment's minimum at the end (a start alone would keep the sale's capacity, and its cost,
// for good); the maximum never changes; each environment's sale minimum lies within its min
// and max; prod's is about half the reader's 10x need.
func TestPolicySaleWarmsTheDatabase(t *testing.T) {
	a := blueprint.Model()
	w := a.SaleWarm
	var starts, ends []blueprint.SaleSchedule
	for _, s := range w.Schedules {
		if s.When != blueprint.WithSale {
			t.Errorf("schedule %s exists under %q, want exactly with the sale window (%q)", s.ID, s.When, blueprint.WithSale)
		}
		if s.AtEnd {
			ends = append(ends, s)
		} else {
			starts = append(starts, s)
		}
	}
	if len(starts) != 1 || len(ends) != 1 {
		t.Fatalf("schedules %+v: want one at the sale's start and one at its end", w.Schedules)
	}
	if w.Role.When != blueprint.WithSale || w.Role.Policy.When != blueprint.WithSale {
		t.Errorf("the schedules' role under %q, its policy under %q: want both with the sale", w.Role.When, w.Role.Policy.When)
	}
	// Universal targets call the SDK action named in the ARN with Input as its request
	// (https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-targets-universal.html).
	if w.Target != "arn:"+blueprint.PhPartition+":scheduler:::aws-sdk:rds:modifyDBCluster" {
		t.Errorf("target %q, want the RDS ModifyDBCluster universal target", w.Target)
	}
	// OFF: the start must run at its minute, ahead of the traffic. NONE: a schedule deleted
	// after it ran would be drift the next deploy recreates.
	if w.FlexibleWindow != "OFF" || w.ActionAfterCompletion != "NONE" || w.TimeZone != "UTC" {
		t.Errorf("flexible window %q, after completion %q, zone %q: want OFF, NONE, UTC", w.FlexibleWindow, w.ActionAfterCompletion, w.TimeZone)
	}
	for _, e := range blueprint.Environments {
		if e.SaleMinACU < e.MinACU || e.SaleMinACU > e.MaxACU || !slices.Contains(blueprint.ACUChoices, e.SaleMinACU) {
			t.Errorf("%s: sale minimum %v ACU, want one of the template's choices within %v..%v", e.Name, e.SaleMinACU, e.MinACU, e.MaxACU)
		}
		min, sale, max := acu(e.MinACU), acu(e.SaleMinACU), acu(e.MaxACU)
		for _, s := range w.Schedules {
			var in warmInput
			raw := s.Input("db-catalog-x", min, sale, max)
			if err := json.Unmarshal([]byte(raw), &in); err != nil {
				t.Fatalf("%s input %s: %v", s.ID, raw, err)
			}
			want := e.SaleMinACU
			if s.AtEnd {
				want = e.MinACU // exactly the deployment's own minimum again
			}
			sc := in.ServerlessV2ScalingConfiguration
			if in.DbClusterIdentifier != "db-catalog-x" || sc.MinCapacity != want || sc.MaxCapacity != e.MaxACU {
				t.Errorf("%s %s: input %s, want the cluster at %v-%v ACU", e.Name, s.ID, raw, want, e.MaxACU)
			}
		}
		if e.Name != "prod" && e.SaleMinACU != e.MaxACU {
			t.Errorf("%s: sale minimum %v, want its maximum %v (small enough to warm fully)", e.Name, e.SaleMinACU, e.MaxACU)
		}
	}
	if got := starts[0].Expression("2026-12-24T08:55:00", "2026-12-24T12:00:00"); got != "at(2026-12-24T08:55:00)" {
		t.Errorf("start schedule at %q", got)
	}
	if got := ends[0].Expression("2026-12-24T08:55:00", "2026-12-24T12:00:00"); got != "at(2026-12-24T12:00:00)" {
		t.Errorf("end schedule at %q", got)
	}
	// Prod: about half the reader's 10x need (ReaderCPUPerRequest at the CPU target): the
	// largest of the template's choices not above half, from which Serverless v2 climbs the rest
	// in seconds; not more, since both instances pay for it for the whole window.
	prod, err := blueprint.LookupEnvironment("prod")
	if err != nil {
		t.Fatal(err)
	}
	const baseline, factor = 2000.0, 10
	need := math.Ceil(baseline * factor * blueprint.ReaderCPUPerRequest.Seconds() / capacity.VCPUPerACU / (blueprint.CPUTargetPercent / 100.0))
	var half float64
	for _, v := range blueprint.ACUChoices {
		if v <= need/2 {
			half = v
		}
	}
	if prod.SaleMinACU != half {
		t.Errorf("prod sale minimum %v ACU, want %v: the largest choice within half the reader's 10x need (%v ACU)", prod.SaleMinACU, half, need)
	}
}

// The schedules' role: only EventBridge Scheduler of this account assumes it (confused deputy:
// https://docs.aws.amazon.com/scheduler/latest/UserGuide/setting-up.html#setting-up-execution-role),
// and it may only modify this stack's cluster.
func TestPolicySaleWarmRoleIsLeastPrivilege(t *testing.T) {
	w := blueprint.Model().SaleWarm
	want := []blueprint.Statement{{Sid: "ModifyClusterCapacity", Actions: []string{"rds:ModifyDBCluster"},
		Resources: []blueprint.Value{{Ref: blueprint.IDDBCluster, Attr: blueprint.AttrARN}}}}
	if len(w.Role.Statements) != 1 || len(w.Role.OptionalStatements) != 0 || w.Role.Statements[0].Sid != want[0].Sid ||
		!slices.Equal(w.Role.Statements[0].Actions, want[0].Actions) || !slices.Equal(w.Role.Statements[0].Resources, want[0].Resources) ||
		w.Role.Statements[0].Condition != nil {
		t.Errorf("the sale role grants %+v, want only %+v", w.Role.Statements, want)
	}
	sts := w.Trust["Statement"].([]any)
	st := sts[0].(map[string]any)
	cond := st["Condition"].(map[string]any)
	if len(sts) != 1 || st["Principal"].(map[string]any)["Service"] != blueprint.SchedulerPrincipal || st["Action"] != "sts:AssumeRole" ||
		cond["StringEquals"].(map[string]any)["aws:SourceAccount"] != blueprint.PhAccount {
		t.Errorf("sale role trust %v: want %s of this account only", w.Trust, blueprint.SchedulerPrincipal)
	}
}

func acu(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// A deploy refuses a sale window that has ended: what a one-time schedule or scheduled action
// created or changed after its time does is documented by neither service, and a start
// schedule running after the end's would hold the sale's minimum for good. A window under way
// deploys (a fix during the sale); no window deploys; the end is exclusive to the second.
func TestPolicySaleWindowAhead(t *testing.T) {
	now := time.Date(2026, 12, 24, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		end string
		ok  bool
	}{
		{"", true},
		{"2026-12-24T12:00:01", true},
		{"2027-01-01T00:00:00", true},
		{"2026-12-24T12:00:00", false},
		{"2026-12-24T11:59:59", false},
		{"2025-12-24T12:00:00", false},
		{"2026-12-24 12:00:01", false}, // not the layout: refused, never taken as ahead
	} {
		err := blueprint.SaleWindowAhead(c.end, now)
		if (err == nil) != c.ok {
			t.Errorf("SaleWindowAhead(%q, %s) = %v, want ok %v", c.end, now.Format(time.RFC3339), err, c.ok)
		}
		if err != nil && !strings.Contains(err.Error(), c.end) {
			t.Errorf("SaleWindowAhead(%q): %v does not name the end", c.end, err)
		}
	}
	// The layout is the at() expressions': every schedule's expression carries the window's
	// times as given, so a time that parses here is what the services are handed.
	for _, s := range blueprint.Model().SaleWarm.Schedules {
		if got := s.Expression("2026-12-24T08:55:00", "2026-12-24T12:00:00"); !strings.HasPrefix(got, "at(2026-12-24T") {
			t.Errorf("%s expression %q", s.ID, got)
		}
	}
}
