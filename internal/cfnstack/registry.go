package cfnstack

import (
	"github.com/acme/catalog/internal/blueprint"
	"github.com/acme/catalog/internal/cfn"
)

// IDRepository is the ECR repository's logical ID.
const IDRepository = blueprint.IDRepository

// registry renders blueprint.Registry.
func (b *builder) registry(Options) error {
	r := b.m.Registry
	mutability := "MUTABLE"
	if r.ImmutableTags {
		mutability = "IMMUTABLE"
	}
	b.add(r.Repository.ID, "AWS::ECR::Repository", map[string]any{
		"RepositoryName":             modelName(r.Repository),
		"ImageTagMutability":         mutability,
		"ImageScanningConfiguration": map[string]any{"ScanOnPush": r.ScanOnPush},
		"EncryptionConfiguration":    map[string]any{"EncryptionType": "AES256"},
		"LifecyclePolicy":            map[string]any{"LifecyclePolicyText": r.LifecyclePolicy},
		// Deleting the stack deletes the images too, so nothing is left behind.
		"EmptyOnDelete": r.EmptyOnDelete,
	}, b.when(r.Repository.When))
	return nil
}

// image is the container image: ContainerImage when set, else this stack's repository at
// ImageTag.
func image() any {
	return cfn.If(CondUseContainerImage,
		cfn.Ref(ParamContainerImage),
		cfn.Sub("${"+IDRepository+".RepositoryUri}:${"+ParamImageTag+"}"))
}
