package testenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
)

// kwokNodeAnnotation marks the nodes kwok simulates; Start runs kwok with
// --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake.
const kwokNodeAnnotation = "kwok.x-k8s.io/node"

// kwokStageFiles are the kwok Stages that Start loads, relative to
// StagesDir (kwok's kustomize/stage tree, checked with kwok v0.8.0). They
// make nodes Ready, keep them Ready, make pods Running (init containers
// included) and delete them, and provision, bind and release volumes of the
// StorageClass in kwokStorageClassFile.
var kwokStageFiles = []string{
	"node/fast/node-initialize.yaml",
	"node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
	"pod/fast/pod-ready.yaml",
	"pod/fast/pod-complete.yaml",
	"pod/fast/pod-delete.yaml",
	"volume/fast/pvc-provision.yaml",
	"volume/fast/pv-bind.yaml",
	"volume/fast/pvc-delete.yaml",
	"volume/fast/pv-delete.yaml",
}

// kwokStorageClassFile is kwok's default StorageClass "kwok-volume", whose
// provisioner kwok.x-k8s.io/volume is the volume stages themselves.
const kwokStorageClassFile = "volume/fast/storage-class.yaml"

// nodeResources is the capacity and the allocatable resources of each
// simulated node.
var nodeResources = corev1.ResourceList{
	corev1.ResourceCPU:    resource.MustParse("4"),
	corev1.ResourceMemory: resource.MustParse("16Gi"),
	corev1.ResourcePods:   resource.MustParse("110"),
}

// waitForCluster creates the StorageClass and the nodes, then waits until
// the controller manager works and every node can take pods.
func (c *ControlPlane) waitForCluster(ctx context.Context) error {
	client, err := c.clientset()
	if err != nil {
		return fmt.Errorf("control plane: create client: %w", err)
	}

	if err := c.createStorageClass(ctx, client); err != nil {
		return err
	}
	if err := c.createNodes(ctx, client); err != nil {
		return err
	}

	// The serviceaccount controller creates "default" in every namespace.
	err = waitFor(ctx, "kube-controller-manager to create the default ServiceAccount", func(ctx context.Context) error {
		_, err := client.CoreV1().ServiceAccounts(metav1.NamespaceDefault).Get(ctx, "default", metav1.GetOptions{})
		return err
	}, c.controllerManager, c.apiServer, c.etcd)
	if err != nil {
		return fmt.Errorf("control plane: %w", err)
	}

	err = waitFor(ctx, "nodes to be Ready and schedulable", func(ctx context.Context) error {
		return c.checkNodesSchedulable(ctx, client)
	}, c.kwok, c.controllerManager, c.scheduler, c.apiServer, c.etcd)
	if err != nil {
		return fmt.Errorf("control plane: %w", err)
	}
	return nil
}

func (c *ControlPlane) createStorageClass(ctx context.Context, client kubernetes.Interface) error {
	path := filepath.Join(c.StagesDir, kwokStorageClassFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("control plane: read StorageClass: %w", err)
	}

	object, _, err := scheme.Codecs.UniversalDeserializer().Decode(data, nil, nil)
	if err != nil {
		return fmt.Errorf("control plane: decode %s: %w", path, err)
	}
	storageClass, ok := object.(*storagev1.StorageClass)
	if !ok {
		return fmt.Errorf("control plane: %s contains a %T, expected a StorageClass", path, object)
	}

	if _, err := client.StorageV1().StorageClasses().Create(ctx, storageClass, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("control plane: create StorageClass %s: %w", storageClass.Name, err)
	}
	return nil
}

// createNodes registers the simulated nodes, as kubelet would, with the
// annotation that puts them under kwok's management.
func (c *ControlPlane) createNodes(ctx context.Context, client kubernetes.Interface) error {
	for i := range c.Nodes {
		name := fmt.Sprintf("kwok-node-%d", i)
		node := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{
				Name:        name,
				Annotations: map[string]string{kwokNodeAnnotation: "fake"},
				Labels: map[string]string{
					corev1.LabelHostname:   name,
					corev1.LabelOSStable:   "linux",
					corev1.LabelArchStable: "amd64",
					"type":                 "kwok",
				},
			},
			Status: corev1.NodeStatus{
				Capacity:    nodeResources.DeepCopy(),
				Allocatable: nodeResources.DeepCopy(),
			},
		}
		if _, err := client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("control plane: create node %s: %w", name, err)
		}
	}
	return nil
}

// checkNodesSchedulable returns nil when Nodes nodes are Ready and carry no
// NoSchedule taint. New nodes start with node.kubernetes.io/not-ready, which
// the node lifecycle controller removes once kwok reports them Ready.
func (c *ControlPlane) checkNodesSchedulable(ctx context.Context, client kubernetes.Interface) error {
	nodes, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}

	schedulable := 0
	for _, node := range nodes.Items {
		if nodeReady(&node) && !hasNoScheduleTaint(&node) {
			schedulable++
		}
	}
	if schedulable < c.Nodes {
		return fmt.Errorf("%d of %d nodes are Ready and schedulable", schedulable, c.Nodes)
	}
	return nil
}

func nodeReady(node *corev1.Node) bool {
	for _, condition := range node.Status.Conditions {
		if condition.Type == corev1.NodeReady {
			return condition.Status == corev1.ConditionTrue
		}
	}
	return false
}

func hasNoScheduleTaint(node *corev1.Node) bool {
	for _, taint := range node.Spec.Taints {
		if taint.Effect == corev1.TaintEffectNoSchedule {
			return true
		}
	}
	return node.Spec.Unschedulable
}
