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
	name := cfg.Name("ecr", blueprint.Project)
	s.Repository, err = ecr.NewRepository(ctx, name, &ecr.RepositoryArgs{
		Name:               pulumi.String(name),
		ImageTagMutability: pulumi.String("IMMUTABLE"),
		ImageScanningConfiguration: &ecr.RepositoryImageScanningConfigurationArgs{
			ScanOnPush: pulumi.Bool(true),
		},
		EncryptionConfigurations: ecr.RepositoryEncryptionConfigurationArray{
			ecr.RepositoryEncryptionConfigurationArgs{EncryptionType: pulumi.String("AES256")},
		},
		ForceDelete: pulumi.Bool(true),
		Tags:        tags(cfg, name),
	}, parent, moved)
	if err != nil {
		return nil, err
	}
	_, err = ecr.NewLifecyclePolicy(ctx, cfg.Name("ecrlifecycle", blueprint.Project), &ecr.LifecyclePolicyArgs{
		Repository: s.Repository.Name,
		Policy:     pulumi.String(blueprint.ECRLifecyclePolicy()),
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
