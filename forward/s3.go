package forward

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/trailhq/trail"
)

// systemTenantDir is the key folder of system events. Its parentheses
// cannot appear in a tenant name, so it never collides with a tenant's.
const systemTenantDir = "(system)"

// s3Sender writes each batch as gzipped JSON Lines objects, one per tenant
// and time window, to an S3-compatible bucket through minio-go. Keys are
// derived from the events, so a batch sent again overwrites the same
// objects instead of adding copies.
type s3Sender struct {
	f      *trail.Forwarder
	client *minio.Client
}

func newS3(f *trail.Forwarder, g *Guard) (*s3Sender, error) {
	u, err := url.Parse(f.URI)
	if err != nil {
		return nil, fmt.Errorf("s3 uri: %w", err)
	}
	lookup := minio.BucketLookupAuto
	if f.S3.PathStyle {
		lookup = minio.BucketLookupPath
	}
	tr := g.Transport()
	client, err := minio.New(u.Host, &minio.Options{
		Creds:        credentials.NewStaticV4(f.S3.AccessKey, f.S3.SecretKey, ""),
		Secure:       u.Scheme == "https",
		Region:       f.S3.Region,
		BucketLookup: lookup,
		Transport:    userAgentTransport{tr, userAgent(f)},
		// Trail retries with its own backoff and dead-letter list.
		MaxRetries: 1,
	})
	if err != nil {
		return nil, fmt.Errorf("s3 client: %w", err)
	}
	return &s3Sender{f: f, client: client}, nil
}

// userAgentTransport sets the forwarder's User-Agent on every request. S3
// signatures do not cover the User-Agent header, so this is safe.
type userAgentTransport struct {
	rt http.RoundTripper
	ua string
}

func (t userAgentTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set("User-Agent", t.ua)
	return t.rt.RoundTrip(req)
}

func (s *s3Sender) send(ctx context.Context, b *batch) error {
	for _, obj := range s3Objects(b.events, s.f.Batch.Wait.Std()) {
		body, err := gzipJSONLines(obj.events)
		if err != nil {
			return permanent(err)
		}
		key := s.f.S3.Prefix + obj.key()
		octx, cancel := context.WithTimeout(ctx, s.f.Timeout.Std())
		_, err = s.client.PutObject(octx, s.f.S3.Bucket, key, bytes.NewReader(body), int64(len(body)),
			minio.PutObjectOptions{ContentType: "application/gzip", DisableMultipart: true})
		cancel()
		if err != nil {
			return s3Error(key, err)
		}
	}
	return nil
}

// s3Error classifies a failed upload like an HTTP answer: the service's
// 4xx (but 408 and 429) are permanent, anything else is worth retrying.
//
// An answer of the server is reported by its status and S3 error code
// only: its message stays in the logs, out of what a tenant reads.
func s3Error(key string, err error) error {
	var er minio.ErrorResponse
	if !errors.As(err, &er) || er.StatusCode == 0 {
		return &deliveryError{err: fmt.Errorf("put s3 object %s: %w", key, err), permanent: isRefused(err)}
	}
	short := fmt.Sprintf("put s3 object %s: %d %s", key, er.StatusCode, http.StatusText(er.StatusCode))
	if s3Code.MatchString(er.Code) {
		short += " (" + er.Code + ")"
	}
	de := &deliveryError{err: errors.New(short), body: oneLine([]byte(err.Error()))}
	s := er.StatusCode
	de.permanent = s >= 400 && s < 500 && s != http.StatusRequestTimeout && s != http.StatusTooManyRequests
	return de
}

// s3Code is what an S3 error code looks like, such as NoSuchBucket.
var s3Code = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9.]{0,63}$`)

func (s *s3Sender) close() error { return nil }

// s3Object is the events of one object: one tenant, one time window.
type s3Object struct {
	tenant string
	window time.Time
	events []*trail.Event
}

// key is tenant/YYYY/MM/DD/HH/<first id>-<last id>.jsonl.gz, dated by the
// window's start in UTC.
func (o *s3Object) key() string {
	return fmt.Sprintf("%s/%s/%s-%s.jsonl.gz", tenantDir(o.tenant), o.window.UTC().Format("2006/01/02/15"),
		o.events[0].ID, o.events[len(o.events)-1].ID)
}

// s3Objects groups events by tenant and by the window of their
// received_at, keeping stream order within each object.
func s3Objects(evs []*trail.Event, window time.Duration) []*s3Object {
	type groupKey struct {
		tenant string
		window int64
	}
	var objs []*s3Object
	index := map[groupKey]*s3Object{}
	for _, e := range evs {
		w := e.ReceivedAt.UTC().Truncate(window)
		k := groupKey{e.Tenant, w.UnixNano()}
		o := index[k]
		if o == nil {
			o = &s3Object{tenant: e.Tenant, window: w}
			index[k] = o
			objs = append(objs, o)
		}
		o.events = append(o.events, e)
	}
	return objs
}

// tenantDir is a tenant's key folder. "." and ".." would be read as path
// steps by some servers, so they are spelled out.
func tenantDir(tenant string) string {
	switch tenant {
	case trail.SystemTenant:
		return systemTenantDir
	case ".":
		return "(dot)"
	case "..":
		return "(dotdot)"
	}
	return tenant
}

func gzipJSONLines(evs []*trail.Event) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	for _, e := range evs {
		data, err := eventJSON(e)
		if err != nil {
			return nil, err
		}
		zw.Write(data)
		zw.Write([]byte{'\n'}) // a gzip.Writer's error comes again from Close
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
