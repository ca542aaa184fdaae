// Package ecsmeta reads the Amazon ECS task metadata endpoint (version 4), which ECS serves to
// every container of a Fargate task (platform 1.4.0 and later) at the address in
// ECS_CONTAINER_METADATA_URI_V4:
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-metadata-endpoint-v4-fargate.html
package ecsmeta

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// EnvURI names the variable ECS sets to the container's metadata address.
const EnvURI = "ECS_CONTAINER_METADATA_URI_V4"

// maxBody bounds what is read from the endpoint: a task's metadata is a few kilobytes.
const maxBody = 1 << 20

// Limits is the task's size as the task definition (or the service) gave it: CPU in vCPUs and
// memory in MiB. The task response carries it for the whole task; on Fargate the task's size
// is what bounds its containers.
type Limits struct {
	CPU    float64 `json:"CPU"`
	Memory int64   `json:"Memory"`
}

// TaskLimits asks uri + "/task" for the task's limits. A client without a timeout gets one:
// the endpoint is local, and a service must not wait on it at start.
func TaskLimits(ctx context.Context, client *http.Client, uri string) (Limits, error) {
	if uri == "" {
		return Limits{}, errors.New("ecsmeta: no metadata address (" + EnvURI + " is not set)")
	}
	if client == nil {
		client = &http.Client{Timeout: 2 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri+"/task", nil)
	if err != nil {
		return Limits{}, fmt.Errorf("ecsmeta: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return Limits{}, fmt.Errorf("ecsmeta: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Limits{}, fmt.Errorf("ecsmeta: %s/task answered %s", uri, resp.Status)
	}
	var task struct {
		Limits *Limits `json:"Limits"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxBody)).Decode(&task); err != nil {
		return Limits{}, fmt.Errorf("ecsmeta: the task metadata is not JSON: %w", err)
	}
	if task.Limits == nil || task.Limits.Memory <= 0 {
		return Limits{}, errors.New("ecsmeta: the task metadata names no memory limit")
	}
	return *task.Limits, nil
}
