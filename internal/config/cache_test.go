package config

import (
	"strings"
	"testing"
)

// TestCacheMaxBytes: the read cache's bound is a size with an optional binary unit; sizes out
// of range, other units and the retired CACHE_SIZE are refused, naming the variable.
func TestCacheMaxBytes(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil || c.CacheMaxBytes != 256<<20 {
		t.Fatalf("default = %d, %v; want 256 MiB", c.CacheMaxBytes, err)
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
