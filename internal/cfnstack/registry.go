package cfnstack

import (
	"github.com/acme/catalog/internal/blueprint"
	"github.com/acme/catalog/internal/cfn"
)

// IDRepository is the ECR repository's logical ID.
const IDRepository = "Repository"

func (b *builder) registry(Options) error {
	b.add(IDRepository, "AWS::ECR::Repository", map[string]any{
		"RepositoryName":             name("ecr", blueprint.Project),
		"ImageTagMutability":         "IMMUTABLE",
		"ImageScanningConfiguration": map[string]any{"ScanOnPush": true},
		"EncryptionConfiguration":    map[string]any{"EncryptionType": "AES256"},
		"LifecyclePolicy":            map[string]any{"LifecyclePolicyText": blueprint.ECRLifecyclePolicy()},
		// Deleting the stack deletes the images too, so nothing is left behind.
		"EmptyOnDelete": true,
		"Tags":          tags(nil),
	})
	return nil
}

// image is the container image: ContainerImage when set, else this stack's repository at
// ImageTag.
func image() any {
	return cfn.If(CondUseContainerImage,
		cfn.Ref(ParamContainerImage),
		cfn.Sub("${"+IDRepository+".RepositoryUri}:${"+ParamImageTag+"}"))
}
