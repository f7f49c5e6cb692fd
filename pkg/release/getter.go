package release

import (
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// clients are the Kubernetes clients every Helm action shares. Discovery and
// the REST mapper are built once per process, not once per action, because
// both cost a round of API discovery requests.
type clients struct {
	config    *rest.Config
	discovery discovery.CachedDiscoveryInterface
	mapper    meta.RESTMapper
	metadata  metadata.Interface
}

func newClients(config *rest.Config) (*clients, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(config)
	if err != nil {
		return nil, err
	}
	cached := memory.NewMemCacheClient(dc)
	mapper := restmapper.NewShortcutExpander(restmapper.NewDeferredDiscoveryRESTMapper(cached), cached, nil)
	md, err := metadata.NewForConfig(config)
	if err != nil {
		return nil, err
	}
	return &clients{config: config, discovery: cached, mapper: mapper, metadata: md}, nil
}

// namespaced is the genericclioptions.RESTClientGetter Helm needs, bound to
// one release namespace.
type namespaced struct {
	*clients
	namespace string
}

func (n namespaced) ToRESTConfig() (*rest.Config, error) { return rest.CopyConfig(n.config), nil }

func (n namespaced) ToDiscoveryClient() (discovery.CachedDiscoveryInterface, error) {
	return n.discovery, nil
}

func (n namespaced) ToRESTMapper() (meta.RESTMapper, error) { return n.mapper, nil }

func (n namespaced) ToRawKubeConfigLoader() clientcmd.ClientConfig { return n }

// The methods below make namespaced a clientcmd.ClientConfig whose only
// content is the REST config and the namespace.

func (n namespaced) RawConfig() (clientcmdapi.Config, error) { return clientcmdapi.Config{}, nil }

func (n namespaced) ClientConfig() (*rest.Config, error) { return n.ToRESTConfig() }

func (n namespaced) Namespace() (string, bool, error) { return n.namespace, true, nil }

func (n namespaced) ConfigAccess() clientcmd.ConfigAccess { return nil }
