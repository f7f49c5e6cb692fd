// Package chart embeds the picoclaw-tenant Helm chart in the binary and loads
// it, or a replacement chart from disk, with Helm v4's loader.
package chart

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sync"

	"helm.sh/helm/v4/pkg/chart/loader/archive"
	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/ignore"
)

// chartDir is the chart's directory inside files. The "all:" prefix embeds
// dotfiles such as .helmignore too.
const chartDir = "picoclaw-tenant"

//go:embed all:picoclaw-tenant
var files embed.FS

// utf8ByteOrderMark is stripped from every file, as Helm's directory loader does.
var utf8ByteOrderMark = []byte{0xEF, 0xBB, 0xBF}

var (
	loadOnce    sync.Once
	loadedChart *chartv2.Chart
	loadErr     error
)

// Load returns the embedded picoclaw-tenant chart. It parses the chart on the
// first call and caches the result.
//
// Every call returns a new Chart struct, so a caller may reassign its fields,
// as Helm's Upgrade does to Values when ReuseValues is set. The metadata,
// templates, files and values map underneath are shared by all callers and
// must not be modified in place. Helm's Install and Upgrade only read them for
// a chart without dependencies, like this one.
func Load() (*chartv2.Chart, error) {
	loadOnce.Do(func() {
		loadedChart, loadErr = loadEmbedded(files)
	})
	if loadErr != nil {
		return nil, loadErr
	}

	shallowCopy := *loadedChart
	return &shallowCopy, nil
}

// LoadPath loads a chart directory or a packaged .tgz chart, which operators
// set through CHART_PATH to replace the embedded chart. It reads the disk on
// every call.
func LoadPath(chartPath string) (*chartv2.Chart, error) {
	loaded, err := loader.Load(chartPath)
	if err != nil {
		return nil, fmt.Errorf("load chart %q: %w", chartPath, err)
	}
	return loaded, nil
}

// loadEmbedded reads the chart directory out of fsys and parses it the way
// Helm's directory loader does, skipping the paths that .helmignore and Helm's
// default rules exclude.
func loadEmbedded(fsys fs.FS) (*chartv2.Chart, error) {
	rules, err := readIgnoreRules(fsys)
	if err != nil {
		return nil, err
	}

	var buffered []*archive.BufferedFile
	walkErr := fs.WalkDir(fsys, chartDir, func(name string, entry fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if name == chartDir {
			return nil
		}

		relative := name[len(chartDir)+1:]
		info, err := entry.Info()
		if err != nil {
			return err
		}
		if rules.Ignore(relative, info) {
			if entry.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if entry.IsDir() {
			return nil
		}

		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		data = bytes.TrimPrefix(data, utf8ByteOrderMark)
		buffered = append(buffered, &archive.BufferedFile{Name: relative, ModTime: info.ModTime(), Data: data})
		return nil
	})
	if walkErr != nil {
		return nil, fmt.Errorf("read embedded chart %s: %w", chartDir, walkErr)
	}

	loaded, err := loader.LoadFiles(buffered)
	if err != nil {
		return nil, fmt.Errorf("parse embedded chart %s: %w", chartDir, err)
	}
	return loaded, nil
}

func readIgnoreRules(fsys fs.FS) (*ignore.Rules, error) {
	rules := ignore.Empty()

	ignoreFile, err := fsys.Open(path.Join(chartDir, ignore.HelmIgnore))
	switch {
	case err == nil:
		defer ignoreFile.Close()
		rules, err = ignore.Parse(ignoreFile)
		if err != nil {
			return nil, fmt.Errorf("parse embedded %s: %w", ignore.HelmIgnore, err)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("open embedded %s: %w", ignore.HelmIgnore, err)
	}

	rules.AddDefaults()
	return rules, nil
}
