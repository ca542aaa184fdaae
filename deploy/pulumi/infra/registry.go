package infra

import (
	"github.com/acme/catalog/internal/blueprint"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/ecr"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Registry is the container registry the service's images come from.
type Registry struct {
	pulumi.ResourceState

	Repository *ecr.Repository
	// Image is the image reference the task definition runs; empty without an image.
	Image pulumi.StringOutput
}

// NewRegistry makes the ECR repository: scanned on push, immutable tags, the 5 latest images
// kept, emptied on delete.
func NewRegistry(ctx *pulumi.Context, cfg Config, opts ...pulumi.ResourceOption) (*Registry, error) {
	s := &Registry{}
	parent, err := newComponent(ctx, cfg, "Registry", "registry", s, opts...)
	if err != nil {
		return nil, err
	}
	moved := movedFromService(ctx, cfg)
	m := blueprint.Model().Registry
	name := cfg.ModelName(m.Repository)
	mutability := "MUTABLE"
	if m.ImmutableTags {
		mutability = "IMMUTABLE"
	}
	s.Repository, err = ecr.NewRepository(ctx, name, &ecr.RepositoryArgs{
		Name:               pulumi.String(name),
		ImageTagMutability: pulumi.String(mutability),
		ImageScanningConfiguration: &ecr.RepositoryImageScanningConfigurationArgs{
			ScanOnPush: pulumi.Bool(m.ScanOnPush),
		},
		EncryptionConfigurations: ecr.RepositoryEncryptionConfigurationArray{
			ecr.RepositoryEncryptionConfigurationArgs{EncryptionType: pulumi.String("AES256")},
		},
		ForceDelete: pulumi.Bool(m.EmptyOnDelete),
		Tags:        tags(cfg, name),
	}, parent, moved)
	if err != nil {
		return nil, err
	}
	_, err = ecr.NewLifecyclePolicy(ctx, cfg.Name("ecrlifecycle", blueprint.Project), &ecr.LifecyclePolicyArgs{
		Repository: s.Repository.Name,
		Policy:     pulumi.String(m.LifecyclePolicy),
	}, parent, moved)
	if err != nil {
		return nil, err
	}
	switch {
	case cfg.Image != "":
		s.Image = pulumi.String(cfg.Image).ToStringOutput()
	case cfg.ImageTag != "":
		s.Image = pulumi.Sprintf("%s:%s", s.Repository.RepositoryUrl, cfg.ImageTag)
	default:
		s.Image = pulumi.String("").ToStringOutput()
	}
	return s, ctx.RegisterResourceOutputs(s, pulumi.Map{"repositoryUrl": s.Repository.RepositoryUrl})
}
