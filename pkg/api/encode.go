package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/picoclaw-manager/picoclaw-manager/pkg/tenant"
)

// MaxBodyBytes is the largest request body accepted; larger ones get 413.
const MaxBodyBytes = 1 << 20

// requestError is a request rejected by the API layer before it reached the
// service, with its status code.
type requestError struct {
	status  int
	message string
	details []tenant.FieldError
}

func (e *requestError) Error() string { return e.message }

func badRequest(format string, args ...any) *requestError {
	return &requestError{status: http.StatusBadRequest, message: fmt.Sprintf(format, args...)}
}

// errorBody is the JSON of every error response.
type errorBody struct {
	Error   string              `json:"error"`
	Details []tenant.FieldError `json:"details,omitempty"`
}

// decodeObject reads a JSON object from the request body. Numbers stay
// json.Number so validation can tell integers from fractions.
func decodeObject(w http.ResponseWriter, r *http.Request) (map[string]any, error) {
	return decodeBody(w, r, false)
}

// decodeOptionalObject is decodeObject for endpoints whose body may be empty,
// which reads as an empty object.
func decodeOptionalObject(w http.ResponseWriter, r *http.Request) (map[string]any, error) {
	return decodeBody(w, r, true)
}

func decodeBody(w http.ResponseWriter, r *http.Request, allowEmpty bool) (map[string]any, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, &requestError{status: http.StatusRequestEntityTooLarge,
			message: fmt.Sprintf("request body is larger than %d bytes", MaxBodyBytes)}
	}
	if err != nil {
		return nil, badRequest("cannot read request body: %v", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if allowEmpty {
			return map[string]any{}, nil
		}
		return nil, badRequest("request body is empty; send a JSON object")
	}

	decoder := json.NewDecoder(bytes.NewReader(body))
	decoder.UseNumber()
	var doc any
	if err := decoder.Decode(&doc); err != nil {
		return nil, jsonError(err, int64(len(body)))
	}
	if rest := bytes.TrimSpace(body[decoder.InputOffset():]); len(rest) > 0 {
		return nil, badRequest("malformed JSON at byte offset %d: unexpected data after the JSON object", decoder.InputOffset())
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return nil, badRequest("request body must be a JSON object")
	}
	return obj, nil
}

// jsonError describes a decoding error; end is the body's length, where an
// unexpected end of input happens.
func jsonError(err error, end int64) error {
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		return badRequest("malformed JSON at byte offset %d: %v", syntax.Offset, err)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return badRequest("malformed JSON at byte offset %d: unexpected end of input", end)
	}
	return badRequest("malformed JSON: %v", err)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		slog.Debug("write response", "error", err.Error())
	}
}

// statusOf maps an error onto its status code and response body. It is the
// one place where errors become HTTP.
func statusOf(err error) (int, errorBody) {
	var (
		request    *requestError
		validation *tenant.ValidationError
		conflict   *tenant.ConflictError
		step       *tenant.StepError
	)
	switch {
	case errors.As(err, &request):
		return request.status, errorBody{Error: request.message, Details: request.details}
	case errors.As(err, &validation):
		return http.StatusBadRequest, errorBody{Error: validation.Error(), Details: validation.Fields}
	case errors.Is(err, tenant.ErrNotFound):
		return http.StatusNotFound, errorBody{Error: err.Error()}
	case errors.As(err, &conflict):
		return http.StatusConflict, errorBody{Error: conflict.Reason}
	case errors.As(err, &step) && unavailable(err):
		return http.StatusServiceUnavailable, errorBody{Error: err.Error()}
	case errors.As(err, &step):
		return http.StatusInternalServerError, errorBody{Error: err.Error()}
	}
	return http.StatusInternalServerError, errorBody{Error: "internal error"}
}

func writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, body := statusOf(err)
	var conflict *tenant.ConflictError
	if errors.As(err, &conflict) && conflict.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(conflict.RetryAfter.Seconds())))
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	if status == http.StatusInternalServerError && body.Error == "internal error" {
		logger(r).Error("unexpected error", "error", err.Error())
	}
	writeJSON(w, status, body)
}
