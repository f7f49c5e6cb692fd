package testenv

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// credentials are the files and tokens the control plane authenticates with.
//
// Every identity is in the group system:masters. The controller manager and
// the scheduler have their own user names, so audit data and logs tell them
// apart, but they skip the per-controller RBAC of a production cluster,
// which needs --use-service-account-credentials and its token requests.
type credentials struct {
	dir string // Dir/pki

	adminToken             string
	controllerManagerToken string
	schedulerToken         string
	kwokToken              string
}

// Identities in the static token file.
const (
	adminUser             = "testenv-admin"
	controllerManagerUser = "system:kube-controller-manager"
	schedulerUser         = "system:kube-scheduler"
	kwokUser              = "kwok-controller"
	mastersGroup          = "system:masters"
)

func (c *credentials) serviceAccountKeyPath() string    { return filepath.Join(c.dir, "sa.key") }
func (c *credentials) serviceAccountPublicPath() string { return filepath.Join(c.dir, "sa.pub") }
func (c *credentials) tokenFilePath() string            { return filepath.Join(c.dir, "tokens.csv") }

// servingCertDir is where kube-apiserver writes its self-signed serving
// certificate (apiserver.crt, which also contains its CA) and key.
func (c *credentials) servingCertDir() string { return filepath.Join(c.dir, "apiserver") }
func (c *credentials) servingCertPath() string {
	return filepath.Join(c.servingCertDir(), "apiserver.crt")
}

// writeCredentials creates dir/pki with a service account signing key and a
// static token file with a fresh random token per identity.
func writeCredentials(dir string) (*credentials, error) {
	c := &credentials{dir: filepath.Join(dir, "pki")}
	if err := os.MkdirAll(c.servingCertDir(), 0o700); err != nil {
		return nil, fmt.Errorf("create credentials dir: %w", err)
	}

	if err := writeServiceAccountKey(c.serviceAccountKeyPath(), c.serviceAccountPublicPath()); err != nil {
		return nil, err
	}

	tokens := []*string{&c.adminToken, &c.controllerManagerToken, &c.schedulerToken, &c.kwokToken}
	for _, token := range tokens {
		value, err := randomToken()
		if err != nil {
			return nil, err
		}
		*token = value
	}

	// Format of --token-auth-file: token,user,uid,"group1,group2".
	lines := []string{
		tokenLine(c.adminToken, adminUser),
		tokenLine(c.controllerManagerToken, controllerManagerUser),
		tokenLine(c.schedulerToken, schedulerUser),
		tokenLine(c.kwokToken, kwokUser),
	}
	if err := os.WriteFile(c.tokenFilePath(), []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write token file: %w", err)
	}
	return c, nil
}

func tokenLine(token, user string) string {
	return fmt.Sprintf("%s,%s,%s,%q", token, user, user, mastersGroup)
}

func randomToken() (string, error) {
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("generate token: %w", err)
	}
	return hex.EncodeToString(buf), nil
}

// writeServiceAccountKey writes a new RSA key that signs service account
// tokens, and its public key that verifies them.
func writeServiceAccountKey(keyPath, publicPath string) error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return fmt.Errorf("generate service account key: %w", err)
	}

	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	if err := os.WriteFile(keyPath, keyPEM, 0o600); err != nil {
		return fmt.Errorf("write service account key: %w", err)
	}

	publicDER, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return fmt.Errorf("encode service account public key: %w", err)
	}
	publicPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: publicDER})
	if err := os.WriteFile(publicPath, publicPEM, 0o644); err != nil {
		return fmt.Errorf("write service account public key: %w", err)
	}
	return nil
}

// restConfigFor returns a client configuration for host that trusts the
// API server's serving certificate and authenticates with token.
func restConfigFor(host, token string, caData []byte) *rest.Config {
	return &rest.Config{
		Host:            host,
		BearerToken:     token,
		TLSClientConfig: rest.TLSClientConfig{CAData: caData},
		QPS:             50,
		Burst:           100,
	}
}

// writeKubeconfig writes a kubeconfig file with one cluster, user and
// context, all named "testenv".
func writeKubeconfig(path string, config *rest.Config) error {
	const name = "testenv"
	kubeconfig := clientcmdapi.NewConfig()
	kubeconfig.Clusters[name] = &clientcmdapi.Cluster{
		Server:                   config.Host,
		CertificateAuthorityData: config.CAData,
	}
	kubeconfig.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: config.BearerToken}
	kubeconfig.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name, Namespace: "default"}
	kubeconfig.CurrentContext = name

	if err := clientcmd.WriteToFile(*kubeconfig, path); err != nil {
		return fmt.Errorf("write kubeconfig %s: %w", path, err)
	}
	return nil
}
