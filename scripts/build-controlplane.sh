#!/usr/bin/env bash
# Builds the local control plane and the helm CLIs from pinned Go modules:
# etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, kwok
# (with its stages), helm v4 and helm v3. Binaries are cached by version under
# $PICOCLAW_CACHE (default ~/.cache/picoclaw-manager), outside the checkout, so
# a second run only checks that they exist. Prints the bin directory last.
set -euo pipefail

KUBERNETES_VERSION=${KUBERNETES_VERSION:-v1.37.2}
STAGING_VERSION=${STAGING_VERSION:-v0.37.2}
ETCD_VERSION=${ETCD_VERSION:-v3.6.16}
KWOK_VERSION=${KWOK_VERSION:-v0.8.0}
HELM4_VERSION=${HELM4_VERSION:-v4.3.2}
HELM3_VERSION=${HELM3_VERSION:-v3.21.4}

cache=${PICOCLAW_CACHE:-$HOME/.cache/picoclaw-manager}
bin="$cache/bin"
mkdir -p "$bin"
export GOFLAGS=-mod=mod GOTOOLCHAIN=${GOTOOLCHAIN:-local}

log() { printf '==> %s\n' "$*" >&2; }

# have NAME VERSION: true when bin/NAME was built at VERSION.
have() { [ -x "$bin/$1" ] && [ "$(cat "$bin/.$1.version" 2>/dev/null)" = "$2" ]; }
mark() { echo "$2" >"$bin/.$1.version"; }

build_kubernetes() {
  local missing=()
  for c in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
    have "$c" "$KUBERNETES_VERSION" || missing+=("$c")
  done
  [ ${#missing[@]} -eq 0 ] && return

  local work="$cache/src/kubernetes-$KUBERNETES_VERSION"
  mkdir -p "$work"
  if [ ! -f "$work/go.mod" ]; then
    log "preparing a module that requires k8s.io/kubernetes $KUBERNETES_VERSION"
    local info
    info=$(go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION")
    local gomod
    gomod=$(printf '%s' "$info" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
    {
      echo "module picoclaw.local/controlplane"
      echo
      echo "go 1.26"
      echo
      echo "require k8s.io/kubernetes $KUBERNETES_VERSION"
      echo
      echo "replace ("
      awk -v v="$STAGING_VERSION" '/^replace \(/ {r = 1; next} r && /^\)/ {r = 0} r {print "\t" $1 " => " $1 " " v}' "$gomod"
      echo ")"
    } >"$work/go.mod.tmp"
    mv "$work/go.mod.tmp" "$work/go.mod"
    printf 'package controlplane\n\nimport _ "k8s.io/kubernetes/cmd/kube-apiserver/app"\n' >"$work/tools.go"
  fi

  for c in "${missing[@]}"; do
    log "building $c $KUBERNETES_VERSION (kube-apiserver takes about 4 minutes cold)"
    (cd "$work" && go build -o "$bin/$c" "k8s.io/kubernetes/cmd/$c")
    mark "$c" "$KUBERNETES_VERSION"
  done
}

# install_tool NAME VERSION MODULE PACKAGE builds PACKAGE from MODULE@VERSION
# in a throwaway module, because `go install pkg@version` rejects modules whose
# go.mod has replace directives (etcd's server does).
install_tool() {
  have "$1" "$2" && return
  log "building $1 $2"
  local work="$cache/src/$1-$2"
  mkdir -p "$work"
  (
    cd "$work"
    [ -f go.mod ] || go mod init "picoclaw.local/build/$1" >/dev/null 2>&1
    go get "$3@$2" >/dev/null
    go build -o "$bin/$1" "$4"
  )
  mark "$1" "$2"
}

install_kwok_stages() {
  local stages="$cache/kwok-stages-$KWOK_VERSION"
  [ -d "$stages" ] && return
  local dir
  dir=$(go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  mkdir -p "$stages.tmp"
  cp -r "$dir/kustomize/stage/." "$stages.tmp/"
  chmod -R u+w "$stages.tmp"
  mv "$stages.tmp" "$stages"
}

install_tool etcd "$ETCD_VERSION" go.etcd.io/etcd/server/v3 go.etcd.io/etcd/server/v3
install_tool kwok "$KWOK_VERSION" sigs.k8s.io/kwok sigs.k8s.io/kwok/cmd/kwok
install_kwok_stages
install_tool helm "$HELM4_VERSION" helm.sh/helm/v4 helm.sh/helm/v4/cmd/helm
install_tool helm3 "$HELM3_VERSION" helm.sh/helm/v3 helm.sh/helm/v3/cmd/helm
build_kubernetes

log "control plane binaries ready in $bin"
echo "$bin"
