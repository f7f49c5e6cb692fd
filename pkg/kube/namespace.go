package kube

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// NamespaceState is the lifecycle phase of a namespace.
type NamespaceState int

const (
	NamespaceAbsent NamespaceState = iota
	NamespaceActive
	NamespaceTerminating
)

// ErrNamespaceExists is returned when creating a namespace that exists.
var ErrNamespaceExists = errors.New("namespace already exists")

// NamespaceState returns the state of namespace name.
func (c *Client) NamespaceState(ctx context.Context, name string) (NamespaceState, error) {
	ns, err := c.clientset.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return NamespaceAbsent, nil
	}
	if err != nil {
		return NamespaceAbsent, fmt.Errorf("get namespace %s: %w", name, err)
	}
	if ns.Status.Phase == corev1.NamespaceTerminating || ns.DeletionTimestamp != nil {
		return NamespaceTerminating, nil
	}
	return NamespaceActive, nil
}

// CreateNamespace creates namespace name with labels. It returns
// ErrNamespaceExists when the namespace exists, terminating or not.
func (c *Client) CreateNamespace(ctx context.Context, name string, labels map[string]string) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
	_, err := c.clientset.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{FieldManager: FieldManager})
	if apierrors.IsAlreadyExists(err) {
		return ErrNamespaceExists
	}
	if err != nil {
		return fmt.Errorf("create namespace %s: %w", name, err)
	}
	return nil
}

// DeleteNamespace starts the deletion of namespace name and returns without
// waiting for the namespace controller to finish. A namespace that does not
// exist is not an error.
func (c *Client) DeleteNamespace(ctx context.Context, name string) error {
	policy := metav1.DeletePropagationBackground
	err := c.clientset.CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{PropagationPolicy: &policy})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete namespace %s: %w", name, err)
	}
	return nil
}
