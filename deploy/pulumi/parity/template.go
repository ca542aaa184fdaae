// Package parity compares the Pulumi program with the CloudFormation template: it reduces each
// to a Summary (resource kinds and counts, and the architecture's key numbers) and lists the
// differences. It reads the template's JSON and a list of registered Pulumi resources, so it
// needs neither AWS nor the Pulumi engine.
package parity

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/acme/catalog/internal/cfn"
)

// GenerateHint says how to make the template when it is missing.
const GenerateHint = "generate it with the CloudFormation builder in internal/cfnstack, from the repository root: " +
	"go run ./cmd/cfngen -o deploy/cloudformation/catalog.json (or refresh the golden file: go test ./internal/cfnstack -update); " +
	"the file comes with the cfn branch"

// LoadTemplate reads a template from a JSON file.
func LoadTemplate(path string) (*cfn.Template, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("the CloudFormation template %s does not exist: %s", path, GenerateHint)
	}
	if err != nil {
		return nil, err
	}
	return cfn.Parse(b)
}
