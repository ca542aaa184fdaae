package config

import (
	"strings"
	"testing"
)

// TestCacheMaxBytes: the read cache's bound is a size with an optional binary unit; sizes out
// of range, other units and the retired CACHE_SIZE are refused, naming the variable.
func TestCacheMaxBytes(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil || c.CacheMaxBytes != 0 || c.CacheBytes(0) != 256<<20 {
		t.Fatalf("default = %d (%d), %v; want unset, so 256 MiB outside ECS", c.CacheMaxBytes, c.CacheBytes(0), err)
	}
	// In an ECS task without the variable: an eighth of the task, for every Fargate memory size.
	for mib, want := range map[int64]int64{512: 64 << 20, 2048: 256 << 20, 8192: 1 << 30, 30720: 3840 << 20} {
		if got := c.CacheBytes(mib); got != want {
			t.Errorf("task of %d MiB: cache %d, want %d", mib, got, want)
		}
	}
	c, _ = Load(env(map[string]string{"CACHE_MAX_BYTES": "100MiB", "ECS_CONTAINER_METADATA_URI_V4": "http://169.254.170.2/v4/x"}))
	if c.CacheBytes(8192) != 100<<20 || c.ECSMetadataURI != "http://169.254.170.2/v4/x" {
		t.Errorf("CACHE_MAX_BYTES set: %d (metadata %q); the variable wins over the task's size", c.CacheBytes(8192), c.ECSMetadataURI)
	}
	for v, want := range map[string]int64{"1048576": 1 << 20, "512MiB": 512 << 20, "2GiB": 2 << 30, "2048 KiB": 2 << 20, " 1GiB ": 1 << 30} {
		if c, err := Load(env(map[string]string{"CACHE_MAX_BYTES": v})); err != nil || c.CacheMaxBytes != want {
			t.Errorf("CACHE_MAX_BYTES=%q: %d, %v; want %d", v, c.CacheMaxBytes, err, want)
		}
	}
	for _, v := range []string{"1000", "1MB", "256M", "-1GiB", "1.5GiB", "2048GiB", "99999999999999999999", "GiB"} {
		if _, err := Load(env(map[string]string{"CACHE_MAX_BYTES": v})); err == nil || !strings.Contains(err.Error(), "CACHE_MAX_BYTES") {
			t.Errorf("CACHE_MAX_BYTES=%q: err = %v, want one naming the variable", v, err)
		}
	}
	if _, err := Load(env(map[string]string{"CACHE_SIZE": "10000"})); err == nil || !strings.Contains(err.Error(), "CACHE_MAX_BYTES") {
		t.Errorf("CACHE_SIZE set: err = %v, want a refusal naming its replacement", err)
	}
}

// FuzzParseBytes: any text is a non-negative size or a refusal, never a panic or an overflow
// past int64.
func FuzzParseBytes(f *testing.F) {
	for _, s := range []string{"0", "1GiB", "512 MiB", "9223372036854775807", "4611686018427387904KiB", "-0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := parseBytes(s)
		if ok && n < 0 {
			t.Fatalf("parseBytes(%q) = %d, a negative size", s, n)
		}
	})
}
