package tenant

import (
	"context"
	"time"
)

// Restart rolls the pods of tenant id's gateway and agent, as
// `kubectl rollout restart` does, and returns the time it set.
func (s *Service) Restart(ctx context.Context, id string) (at time.Time, err error) {
	start := time.Now()
	defer func() { s.logOperation("restart", id, start, err) }()

	ctx, cancel := s.operation(ctx)
	defer cancel()
	unlock, err := s.lock(ctx, "restart", id)
	if err != nil {
		return time.Time{}, err
	}
	defer unlock()

	row, err := s.getRow(ctx, "restart", id)
	if err != nil {
		return time.Time{}, err
	}

	names := []string{GatewayDeployment}
	agent, err := s.Cluster.DeploymentExists(ctx, row.Namespace, AgentDeployment)
	if err != nil {
		return time.Time{}, &StepError{Operation: "restart", Tenant: id, Step: "read agent deployment", Err: err}
	}
	if agent {
		names = append(names, AgentDeployment)
	}

	at = s.now().UTC().Truncate(time.Second)
	if err := s.Cluster.RestartDeployments(ctx, row.Namespace, names, at); err != nil {
		return time.Time{}, &StepError{Operation: "restart", Tenant: id, Step: "restart deployments", Err: err}
	}
	return at, nil
}
