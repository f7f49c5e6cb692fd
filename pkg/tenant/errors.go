package tenant

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/picoclaw-manager/picoclaw-manager/pkg/picoclaw"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/release"
)

// ErrNotFound is returned when no tenant has the requested id. Errors of
// the service wrap it with the id.
var ErrNotFound = errors.New("tenant not found")

// notFound returns an error naming id that matches ErrNotFound.
func notFound(id string) error {
	return &notFoundError{id: id}
}

type notFoundError struct{ id string }

func (e *notFoundError) Error() string { return fmt.Sprintf("tenant %s not found", e.id) }

func (e *notFoundError) Is(target error) bool { return target == ErrNotFound }

// ConflictError is returned when a request cannot proceed because of the
// tenant's current state: its id exists, an operation on it runs, or its old
// namespace is still terminating.
type ConflictError struct {
	Reason string
	// RetryAfter is how long a client should wait before retrying, when the
	// conflict is expected to clear by itself; zero when it will not.
	RetryAfter time.Duration
}

func (e *ConflictError) Error() string { return e.Reason }

// FieldError is one invalid field of a request.
type FieldError struct {
	Field string `json:"field"`
	Error string `json:"error"`
}

// ValidationError is a request rejected before anything was changed. It
// lists every invalid field at once.
type ValidationError struct {
	Fields []FieldError
}

func (e *ValidationError) Error() string {
	if len(e.Fields) == 1 {
		return fmt.Sprintf("invalid request: %s: %s", e.Fields[0].Field, e.Fields[0].Error)
	}
	names := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		names[i] = f.Field
	}
	return fmt.Sprintf("invalid request: %d invalid fields: %s", len(e.Fields), strings.Join(names, ", "))
}

// StepError is a failure of one step of an operation on a tenant, after
// validation passed. Step names the step ("install release", "create
// namespace") so the client learns what broke.
type StepError struct {
	Operation string
	Tenant    string
	Step      string
	Err       error
}

func (e *StepError) Error() string {
	return fmt.Sprintf("%s tenant %s: %s: %v", e.Operation, e.Tenant, e.Step, e.Err)
}

func (e *StepError) Unwrap() error { return e.Err }

// fieldErrors collects FieldErrors while a request is checked.
type fieldErrors []FieldError

func (f *fieldErrors) add(field, format string, args ...any) {
	*f = append(*f, FieldError{Field: field, Error: fmt.Sprintf(format, args...)})
}

// err returns a *ValidationError listing the collected fields, or nil.
func (f fieldErrors) err() error {
	if len(f) == 0 {
		return nil
	}
	return &ValidationError{Fields: f}
}

// scrub replaces every secret in message with "(redacted)", for messages
// from Helm or Kubernetes that may quote the values they reject.
func scrub(message string, secrets []string) string {
	for _, secret := range secrets {
		if secret != "" {
			message = strings.ReplaceAll(message, secret, "(redacted)")
		}
	}
	return message
}

// fromRelease converts an error of a release action with values into what
// the service returns: a schema rejection becomes a *ValidationError, because
// the request asked for values the chart does not accept, and anything else a
// *StepError. Both are scrubbed of the secrets in values.
func fromRelease(operation, id, step string, values map[string]any, err error) error {
	secrets := secretsOf(values)
	var invalid *release.InvalidValuesError
	if errors.As(err, &invalid) {
		return &ValidationError{Fields: []FieldError{{Field: "values", Error: scrub(invalid.Error(), secrets)}}}
	}
	return &StepError{Operation: operation, Tenant: id, Step: step, Err: &scrubbedError{scrub(err.Error(), secrets), err}}
}

// secretsOf returns the secrets in chart values.
func secretsOf(values map[string]any) []string {
	return picoclaw.Secrets(object(values["config"]))
}

// scrubbedError is an error whose message had secrets removed. It still
// unwraps to the original, so errors.Is and errors.As see the cause.
type scrubbedError struct {
	message string
	err     error
}

func (e *scrubbedError) Error() string { return e.message }

func (e *scrubbedError) Unwrap() error { return e.err }
