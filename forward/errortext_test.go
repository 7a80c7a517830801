package forward_test

import (
	"net"
	"net/url"
	"strings"
	"testing"

	"github.com/trailhq/trail/forward"
)

// TestErrorText: a failed lookup shown to a tenant names the host and the
// reason, never the DNS server of the network Trail runs in.
func TestErrorText(t *testing.T) {
	dns := &net.DNSError{Err: "no such host", Name: "siem.internal", Server: "10.255.255.53:53", IsNotFound: true}
	err := &url.Error{Op: "Post", URL: "https://siem.internal/in", Err: &net.OpError{Op: "dial", Net: "tcp", Err: dns}}
	got := forward.ErrorText(err)
	if strings.Contains(got, "10.255.255.53") {
		t.Errorf("ErrorText = %q, names the DNS server", got)
	}
	for _, want := range []string{"siem.internal", "no such host"} {
		if !strings.Contains(got, want) {
			t.Errorf("ErrorText = %q, want it to name %q", got, want)
		}
	}
	if plain := forward.ErrorText(net.ErrClosed); plain != net.ErrClosed.Error() {
		t.Errorf("ErrorText of another error = %q, want it unchanged", plain)
	}
}
