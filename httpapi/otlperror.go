package httpapi

import (
	"net/http"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/execlog"
	"google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// OTLP/HTTP clients (OpenTelemetry SDKs, collectors) read a failure as a
// google.rpc.Status in the encoding they sent, not Trail's JSON error: the
// OTLP specification requires it. The HTTP status stays what the one error
// table says, so a 429 or 503 still carries Retry-After and is retried.

// errOTLPMediaType answers an OTLP request in neither OTLP encoding: 415,
// as the OTLP/HTTP receivers of the OpenTelemetry Collector answer.
var errOTLPMediaType = trail.Invalid("Content-Type",
	"must be application/x-protobuf or application/json (OTLP/HTTP)")

// otlpErrorDomain is the ErrorInfo domain of Trail's OTLP failures; the
// reason is Trail's error code ("invalid", "unauthorized", ...).
const otlpErrorDomain = "trail"

// otlpAnswers marks a request as OTLP, so that every error answer on its
// way, authentication and panics included, is a google.rpc.Status.
func otlpAnswers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info(r).otlp = true
		next.ServeHTTP(w, r)
	})
}

// writeOTLPError answers r with e as a google.rpc.Status: protobuf-encoded,
// or in its JSON form when the request was OTLP/JSON.
func writeOTLPError(w http.ResponseWriter, r *http.Request, httpStatus int, e *trail.Error) {
	st := otlpStatus(httpStatus, e)
	mediaType, err := execlog.MediaType(r.Header.Get("Content-Type"))
	if err != nil {
		mediaType = execlog.ContentProtobuf // the OTLP/HTTP default
	}
	var body []byte
	if mediaType == execlog.ContentJSON {
		body, err = protojson.Marshal(st)
	} else {
		body, err = proto.Marshal(st)
	}
	if err != nil { // cannot happen with these well-formed messages
		body, httpStatus = nil, http.StatusInternalServerError
	}
	setRetryAfter(w, httpStatus, e)
	w.Header().Set("Content-Type", mediaType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(httpStatus)
	w.Write(body)
}

// otlpStatus is e as a google.rpc.Status: the gRPC code that matches the
// HTTP status, Trail's message, an ErrorInfo with Trail's error code, and a
// BadRequest naming each field at fault.
func otlpStatus(httpStatus int, e *trail.Error) *statuspb.Status {
	st := &statuspb.Status{Code: int32(rpcCode(httpStatus)), Message: e.Message}
	info, _ := anypb.New(&errdetails.ErrorInfo{Reason: e.Code, Domain: otlpErrorDomain})
	st.Details = append(st.Details, info)
	if len(e.Details) > 0 {
		br := &errdetails.BadRequest{}
		for _, d := range e.Details {
			br.FieldViolations = append(br.FieldViolations,
				&errdetails.BadRequest_FieldViolation{Field: d.Field, Description: d.Problem})
		}
		violations, _ := anypb.New(br)
		st.Details = append(st.Details, violations)
	}
	return st
}

// rpcCode maps an HTTP status to the google.rpc.Code gRPC would use.
func rpcCode(httpStatus int) code.Code {
	switch httpStatus {
	case http.StatusBadRequest, http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity:
		return code.Code_INVALID_ARGUMENT
	case http.StatusUnauthorized:
		return code.Code_UNAUTHENTICATED
	case http.StatusForbidden:
		return code.Code_PERMISSION_DENIED
	case http.StatusNotFound:
		return code.Code_NOT_FOUND
	case http.StatusMethodNotAllowed:
		return code.Code_UNIMPLEMENTED
	case http.StatusConflict:
		return code.Code_ABORTED
	case http.StatusRequestEntityTooLarge, http.StatusTooManyRequests, http.StatusInsufficientStorage:
		return code.Code_RESOURCE_EXHAUSTED
	case http.StatusServiceUnavailable:
		return code.Code_UNAVAILABLE
	}
	if httpStatus >= 500 {
		return code.Code_INTERNAL
	}
	return code.Code_INVALID_ARGUMENT
}
