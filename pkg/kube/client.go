// Package kube does what Helm does not: it manages tenant namespaces, restarts
// workloads and reads their readiness.
package kube

import (
	"context"
	"fmt"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// FieldManager is the server-side apply field manager of the manager's own
// changes, kept apart from Helm's so that neither removes the other's fields.
const FieldManager = "picoclaw-manager"

// Client is a Kubernetes client for the objects the manager handles itself.
type Client struct {
	clientset kubernetes.Interface
}

// NewClient returns a Client for the cluster that config points at.
func NewClient(config *rest.Config) (*Client, error) {
	cs, err := kubernetes.NewForConfig(config)
	if err != nil {
		return nil, fmt.Errorf("create Kubernetes client: %w", err)
	}
	return &Client{clientset: cs}, nil
}

// Ping checks that the Kubernetes API server is reachable and ready.
func (c *Client) Ping(ctx context.Context) error {
	body, err := c.clientset.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
	if err != nil {
		return fmt.Errorf("kubernetes API not ready: %w", err)
	}
	if string(body) != "ok" {
		return fmt.Errorf("kubernetes API not ready: %s", body)
	}
	return nil
}
