package api

import (
	_ "embed"
	"net/http"
)

// openAPISpec is the OpenAPI 3 description of this API.
//
//go:embed openapi.yaml
var openAPISpec []byte

// OpenAPISpec returns the OpenAPI 3 document the manager serves.
func OpenAPISpec() []byte { return openAPISpec }

func (h *handlers) openAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	w.Write(openAPISpec)
}
