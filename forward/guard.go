package forward

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/trailhq/trail"
)

// Guard keeps tenant-owned destinations (forwarders and alert webhooks of
// a tenant) from reaching the network Trail runs in: loopback, private,
// link-local, unspecified, multicast, reserved and cloud metadata
// addresses are refused, unless an allowed network holds them. It checks
// each address at connect time, after DNS, so a name that resolves (or
// rebinds) to such an address is refused too. A nil *Guard allows every
// address: operator destinations keep full freedom.
type Guard struct {
	allow []netip.Prefix
}

// NewGuard returns a Guard that allows the networks of allow, on top of
// every public address.
func NewGuard(allow []netip.Prefix) *Guard { return &Guard{allow: allow} }

// ParseNetworks reads a comma-separated list of CIDRs (or single
// addresses), such as "10.1.0.0/16,192.168.7.9".
func ParseNetworks(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil || a.Zone() != "" {
				return nil, fmt.Errorf("%q is not a CIDR like 10.0.0.0/8 or an address", f)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// RefusedError is a connection the Guard refused.
type RefusedError struct {
	Addr   netip.Addr
	Reason string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("destination address %s refused (%s); the operator can allow networks with --forward-allow-networks",
		e.Addr, e.Reason)
}

// Well-known cloud metadata services.
var metadataAddrs = []netip.Addr{
	netip.MustParseAddr("169.254.169.254"), // AWS, GCP, Azure, OpenStack, ...
	netip.MustParseAddr("169.254.170.2"),   // AWS ECS task metadata
	netip.MustParseAddr("fd00:ec2::254"),   // AWS IPv6
	netip.MustParseAddr("100.100.100.200"), // Alibaba Cloud
	netip.MustParseAddr("192.0.0.192"),     // Oracle Cloud
}

// reserved are special-purpose ranges that are not public destinations.
var reserved = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),      // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),  // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),   // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),  // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),    // reserved, broadcast
	netip.MustParsePrefix("::/96"),          // IPv4-compatible (deprecated)
	netip.MustParsePrefix("fec0::/10"),      // site-local (deprecated)
	netip.MustParsePrefix("100::/64"),       // discard-only
	netip.MustParsePrefix("64:ff9b:1::/48"), // local-use NAT64
	netip.MustParsePrefix("2001:10::/28"),   // ORCHID
	netip.MustParsePrefix("192.88.99.0/24"), // 6to4 relay anycast
}

// nat64 is the well-known NAT64 prefix: its addresses reach the IPv4
// address in their last 32 bits, which is checked instead.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// Check returns a *RefusedError when ip may not be reached, nil when it
// may.
func (g *Guard) Check(ip netip.Addr) error {
	if g == nil {
		return nil
	}
	ip = ip.WithZone("").Unmap()
	for _, p := range g.allow {
		if p.Contains(ip) {
			return nil
		}
	}
	if reason := refusal(ip); reason != "" {
		return &RefusedError{Addr: ip, Reason: reason}
	}
	return nil
}

// refusal names why ip is not a public destination, "" when it is one.
func refusal(ip netip.Addr) string {
	if nat64.Contains(ip) {
		b := ip.As16()
		if r := refusal(netip.AddrFrom4([4]byte(b[12:]))); r != "" {
			return r + " via NAT64"
		}
	}
	for _, m := range metadataAddrs {
		if ip == m {
			return "cloud metadata service"
		}
	}
	switch {
	case ip.IsUnspecified():
		return "unspecified"
	case ip.IsLoopback():
		return "loopback"
	case ip.IsPrivate():
		return "private"
	case ip.IsLinkLocalUnicast():
		return "link-local"
	case ip.IsMulticast():
		return "multicast"
	}
	for _, p := range reserved {
		if p.Contains(ip) {
			return "reserved"
		}
	}
	return ""
}

// control is a net.Dialer Control function: it runs for every address a
// dial tries, after name resolution.
func (g *Guard) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("destination address %q: %w", address, err)
	}
	return g.Check(ap.Addr())
}

// Dialer returns a dialer that refuses what g refuses; a nil g's dialer
// allows everything.
func (g *Guard) Dialer(timeout time.Duration) *net.Dialer {
	d := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	if g != nil {
		d.Control = g.control
	}
	return d
}

// Transport returns an HTTP transport that dials through g. With a
// non-nil g it uses no proxy: a proxy would connect on Trail's behalf to
// addresses that g never sees.
func (g *Guard) Transport() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if g != nil {
		tr.Proxy = nil
		tr.DialContext = g.Dialer(30 * time.Second).DialContext
	}
	return tr
}

// CheckURL refuses, at creation, a URL whose host is a literal address
// that g refuses, naming field. Names are checked at connect time only,
// since what they resolve to can change.
func (g *Guard) CheckURL(field, raw string) error {
	if g == nil {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil // the URL's own check reports it
	}
	ip, err := netip.ParseAddr(u.Hostname())
	if err != nil {
		return nil
	}
	if err := g.Check(ip); err != nil {
		var re *RefusedError
		errors.As(err, &re)
		return trail.Invalid(field, fmt.Sprintf("address %s is refused (%s); the operator can allow networks with --forward-allow-networks", re.Addr, re.Reason))
	}
	return nil
}

// CheckDestination refuses, at creation, a tenant forwarder whose uri
// names a literal address that g refuses. Operator forwarders (tenant "")
// may go anywhere.
func (g *Guard) CheckDestination(f *trail.Forwarder) error {
	if f.Tenant == trail.SystemTenant {
		return nil
	}
	return g.CheckURL("uri", f.URI)
}

// guardFor returns the guard of f's connections: g for a tenant's
// forwarder, nil (no limit) for an operator forwarder.
func guardFor(g *Guard, f *trail.Forwarder) *Guard {
	if f.Tenant == trail.SystemTenant {
		return nil
	}
	return g
}

// isRefused reports whether err is (or wraps) a Guard refusal.
func isRefused(err error) bool {
	var re *RefusedError
	return errors.As(err, &re)
}

// ErrorText is err's text as a tenant may see it in a status or a dead
// letter: a failed name lookup keeps the name and the reason but not the
// address of the DNS server Trail asked, which is part of the network
// Trail runs in.
func ErrorText(err error) string {
	s := err.Error()
	var dns *net.DNSError
	if errors.As(err, &dns) && dns.Server != "" {
		public := *dns
		public.Server = ""
		s = strings.ReplaceAll(s, dns.Error(), public.Error())
	}
	return s
}
