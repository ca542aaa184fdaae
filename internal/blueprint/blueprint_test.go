package blueprint

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
)

func TestTaskSizes(t *testing.T) {
	if err := DefaultTaskSize.Valid(); err != nil {
		t.Fatalf("default task size: %v", err)
	}
	for _, bad := range []TaskSize{{1024, 1024}, {256, 4096}, {3000, 6144}, {0, 0}} {
		if err := bad.Valid(); err == nil {
			t.Errorf("TaskSize%v.Valid() = nil, want an error", bad)
		}
	}
	sizes := ValidTaskSizes()
	if got, want := len(sizes), 3+4+7+13+23; got != want {
		t.Errorf("len(ValidTaskSizes()) = %d, want %d", got, want)
	}
}

func TestSuffix(t *testing.T) {
	for _, ok := range []string{"dev", "pr123", "a", "feature-x", strings.Repeat("a", MaxSuffixLength)} {
		if err := ValidateSuffix(ok); err != nil {
			t.Errorf("ValidateSuffix(%q) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []string{"", "Dev", "-dev", "dev-", "dev_1", strings.Repeat("a", MaxSuffixLength+1), "dév", "a--b", "a-", "x---y"} {
		if err := ValidateSuffix(bad); err == nil {
			t.Errorf("ValidateSuffix(%q) = nil, want an error", bad)
		}
	}
	// The longest name with a length limit must fit it.
	if n := len(Name("alb", Project, strings.Repeat("a", MaxSuffixLength))); n > 32 {
		t.Errorf("longest ALB name is %d characters, limit 32", n)
	}
}

func TestSubnetsInsideVPCAndDisjoint(t *testing.T) {
	vpc := netip.MustParsePrefix(VPCCIDR)
	var all []netip.Prefix
	for _, tier := range [][AZCount]string{PublicSubnetCIDRs, PrivateSubnetCIDRs, IsolatedSubnetCIDRs} {
		for _, c := range tier {
			p := netip.MustParsePrefix(c)
			if !vpc.Contains(p.Addr()) || p.Bits() < vpc.Bits() {
				t.Errorf("subnet %s is not inside %s", p, vpc)
			}
			for _, q := range all {
				if p.Overlaps(q) {
					t.Errorf("subnets %s and %s overlap", p, q)
				}
			}
			all = append(all, p)
		}
	}
}

func TestECRLifecyclePolicy(t *testing.T) {
	var doc struct {
		Rules []struct {
			RulePriority int
			Selection    struct {
				TagStatus   string
				CountType   string
				CountNumber int
			}
		}
	}
	if err := json.Unmarshal([]byte(ECRLifecyclePolicy()), &doc); err != nil {
		t.Fatalf("lifecycle policy is not JSON: %v", err)
	}
	last := doc.Rules[len(doc.Rules)-1]
	if last.Selection.TagStatus != "any" || last.Selection.CountType != "imageCountMoreThan" || last.Selection.CountNumber != ECRKeepImages {
		t.Errorf("last rule = %+v, want any/imageCountMoreThan/%d", last, ECRKeepImages)
	}
}

func TestShutdownTiming(t *testing.T) {
	if DrainDelay >= ShutdownTimeout {
		t.Errorf("drain delay %v must leave time inside the shutdown timeout %v", DrainDelay, ShutdownTimeout)
	}
	if ShutdownTimeout.Seconds() >= StopTimeoutSeconds {
		t.Errorf("shutdown timeout %v must end before ECS's stop timeout %ds", ShutdownTimeout, StopTimeoutSeconds)
	}
}

func TestEnvironments(t *testing.T) {
	for _, e := range Environments {
		if e.MinACU < MinACULimit || e.MaxACU > MaxACULimit || e.MinACU > e.MaxACU {
			t.Errorf("environment %s has ACU %v-%v outside %v-%v", e.Name, e.MinACU, e.MaxACU, MinACULimit, MaxACULimit)
		}
		if got, err := LookupEnvironment(e.Name); err != nil || got != e {
			t.Errorf("LookupEnvironment(%q) = %v, %v", e.Name, got, err)
		}
	}
	if _, err := LookupEnvironment("qa"); err == nil {
		t.Error(`LookupEnvironment("qa") = nil error, want one`)
	}
}

// FuzzSuffix: every suffix ValidateSuffix accepts makes names RDS accepts (no "--", no trailing
// hyphen, at most MaxSuffixLength characters), and the pattern alone agrees with it up to length.
func FuzzSuffix(f *testing.F) {
	for _, s := range []string{"dev", "a--b", "a-", "-a", "pr-12-x", strings.Repeat("z", 17)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ValidateSuffix(s) != nil {
			return
		}
		id := Name("db", "writer", s)
		if strings.Contains(id, "--") || strings.HasSuffix(id, "-") || len(s) > MaxSuffixLength {
			t.Errorf("ValidateSuffix(%q) = nil, but %q breaks RDS identifier rules", s, id)
		}
	})
}

func TestDBURLHasNoFilePathCertificate(t *testing.T) {
	u := DBURL("db.example")
	if strings.Contains(u, "sslrootcert") {
		t.Errorf("DBURL = %q: sslrootcert is a file path to clients; leave it to them", u)
	}
	if want := "postgres://catalog_admin@db.example:5432/catalog?sslmode=verify-full"; u != want {
		t.Errorf("DBURL = %q, want %q", u, want)
	}
	if err := ValidateDBEngineVersion(DBEngineVersion); err != nil {
		t.Error(err)
	}
	for _, bad := range []string{"", "15.4", "16", "16.x", "17.1"} {
		if ValidateDBEngineVersion(bad) == nil {
			t.Errorf("ValidateDBEngineVersion(%q) = nil, want an error", bad)
		}
	}
}
