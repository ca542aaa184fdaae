package ecsmeta

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// fargateTask is the shape of AWS's documented Fargate task response (trimmed): the task's
// limits at the top level, each container's beside it.
const fargateTask = `{
  "Cluster": "arn:aws:ecs:us-west-2:111122223333:cluster/default",
  "TaskARN": "arn:aws:ecs:us-west-2:111122223333:task/default/e9028f8d5d8e4f258373e7b93ce9a3c3",
  "Family": "curltest", "Revision": "3", "DesiredStatus": "RUNNING", "KnownStatus": "RUNNING",
  "Limits": {"CPU": 0.25, "Memory": 512},
  "Containers": [{"Name": "curl", "Limits": {"CPU": 10, "Memory": 128}}],
  "LaunchType": "FARGATE"
}`

func TestTaskLimits(t *testing.T) {
	var asked string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked = r.URL.Path
		switch r.URL.Path {
		case "/v4/abc/task":
			w.Write([]byte(fargateTask))
		case "/v4/nolimits/task":
			w.Write([]byte(`{"Cluster": "x"}`))
		case "/v4/html/task":
			w.Write([]byte(`<html>`))
		case "/v4/slow/task":
			time.Sleep(300 * time.Millisecond)
			w.Write([]byte(fargateTask))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	got, err := TaskLimits(context.Background(), nil, srv.URL+"/v4/abc")
	if err != nil || got != (Limits{CPU: 0.25, Memory: 512}) || asked != "/v4/abc/task" {
		t.Fatalf("TaskLimits = %+v, %v (asked %s); want the task's limits, not a container's", got, err, asked)
	}
	for name, uri := range map[string]string{
		"unset":     "",
		"no limits": srv.URL + "/v4/nolimits",
		"not JSON":  srv.URL + "/v4/html",
		"404":       srv.URL + "/v4/missing",
	} {
		if _, err := TaskLimits(context.Background(), nil, uri); err == nil || !strings.HasPrefix(err.Error(), "ecsmeta: ") {
			t.Errorf("%s: err = %v; want an ecsmeta error", name, err)
		}
	}
	quick := &http.Client{Timeout: 50 * time.Millisecond}
	if _, err := TaskLimits(context.Background(), quick, srv.URL+"/v4/slow"); err == nil {
		t.Error("a slow endpoint must not hold the start past the client's timeout")
	}
}
