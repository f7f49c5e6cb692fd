package kube

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
)

// RestartedAtAnnotation is the pod template annotation that
// `kubectl rollout restart` sets; changing it rolls the pods.
const RestartedAtAnnotation = "kubectl.kubernetes.io/restartedAt"

// WorkloadStatus is the replica counts of one Deployment.
type WorkloadStatus struct {
	Desired   int32 `json:"desired"`
	Ready     int32 `json:"ready"`
	Available int32 `json:"available"`
	Updated   int32 `json:"updated"`
}

// RestartDeployments sets the restartedAt annotation of each Deployment's pod
// template to at, with server-side apply under FieldManager, so that Helm
// upgrades neither remove the annotation nor conflict with it.
func (c *Client) RestartDeployments(ctx context.Context, namespace string, names []string, at time.Time) error {
	for _, name := range names {
		template := corev1ac.PodTemplateSpec().
			WithAnnotations(map[string]string{RestartedAtAnnotation: at.UTC().Format(time.RFC3339)})
		deployment := appsv1ac.Deployment(name, namespace).
			WithSpec(appsv1ac.DeploymentSpec().WithTemplate(template))
		opts := metav1.ApplyOptions{FieldManager: FieldManager, Force: true}
		if _, err := c.clientset.AppsV1().Deployments(namespace).Apply(ctx, deployment, opts); err != nil {
			return fmt.Errorf("restart deployment %s/%s: %w", namespace, name, err)
		}
	}
	return nil
}

// DeploymentExists reports whether Deployment name exists in namespace.
func (c *Client) DeploymentExists(ctx context.Context, namespace, name string) (bool, error) {
	_, err := c.clientset.AppsV1().Deployments(namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("get deployment %s/%s: %w", namespace, name, err)
	}
	return true, nil
}

// Workloads returns the status of each named Deployment in namespace that
// exists; a missing one is left out of the map.
func (c *Client) Workloads(ctx context.Context, namespace string, names []string) (map[string]WorkloadStatus, error) {
	out := make(map[string]WorkloadStatus, len(names))
	for _, name := range names {
		d, err := c.clientset.AppsV1().Deployments(namespace).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("get deployment %s/%s: %w", namespace, name, err)
		}
		status := WorkloadStatus{
			Ready:     d.Status.ReadyReplicas,
			Available: d.Status.AvailableReplicas,
			Updated:   d.Status.UpdatedReplicas,
		}
		if d.Spec.Replicas != nil {
			status.Desired = *d.Spec.Replicas
		}
		out[name] = status
	}
	return out, nil
}

// VolumeExpandable reports whether PersistentVolumeClaim name can grow: its
// StorageClass must allow volume expansion. It also returns the class name.
// A claim that does not exist yet is expandable, since it will be created
// with the requested size.
func (c *Client) VolumeExpandable(ctx context.Context, namespace, name string) (bool, string, error) {
	pvc, err := c.clientset.CoreV1().PersistentVolumeClaims(namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return true, "", nil
	}
	if err != nil {
		return false, "", fmt.Errorf("get persistentvolumeclaim %s/%s: %w", namespace, name, err)
	}
	if pvc.Spec.StorageClassName == nil || *pvc.Spec.StorageClassName == "" {
		return false, "", nil
	}
	class := *pvc.Spec.StorageClassName
	sc, err := c.clientset.StorageV1().StorageClasses().Get(ctx, class, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false, class, nil
	}
	if err != nil {
		return false, class, fmt.Errorf("get storageclass %s: %w", class, err)
	}
	return sc.AllowVolumeExpansion != nil && *sc.AllowVolumeExpansion, class, nil
}
