package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/acme/catalog/internal/cfnstack"
)

func TestRunWritesTheTemplate(t *testing.T) {
	tpl, err := cfnstack.Build(cfnstack.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := tpl.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	if err := run(nil, &stdout); err != nil {
		t.Fatalf("run() = %v", err)
	}
	if !bytes.Equal(stdout.Bytes(), want) {
		t.Error("run() to stdout differs from cfnstack.Build")
	}
	file := filepath.Join(t.TempDir(), "catalog.json")
	if err := run([]string{"-o", file}, &stdout); err != nil {
		t.Fatalf("run(-o) = %v", err)
	}
	if got, _ := os.ReadFile(file); !bytes.Equal(got, want) {
		t.Error("run(-o) wrote something else than cfnstack.Build")
	}
	if err := run([]string{"-environment", "qa"}, &stdout); err == nil {
		t.Error("run(-environment qa) = nil, want an error")
	}
}
