package ledger

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/trailhq/trail"
	"golang.org/x/mod/sumdb/note"
)

// SystemLog is the last element of the origin of the system events' log.
// Tenant names cannot contain '~', so it never names a tenant's log.
const SystemLog = "~system"

// LogOrigin returns the checkpoint origin of tenant's log in a deployment
// whose origin is origin: "trail.example.com/acme", or
// "trail.example.com/~system" for system events.
func LogOrigin(origin, tenant string) string {
	if tenant == trail.SystemTenant {
		return origin + "/" + SystemLog
	}
	return origin + "/" + tenant
}

// Checkpoint is a log's tree head in the C2SP tlog-checkpoint format: the
// origin line, the tree size and the base64 root hash, each on its own line.
type Checkpoint struct {
	Origin string
	Size   int64
	Root   []byte
}

// Text returns the checkpoint body that a note signs.
func (c Checkpoint) Text() []byte {
	return fmt.Appendf(nil, "%s\n%d\n%s\n", c.Origin, c.Size, base64.StdEncoding.EncodeToString(c.Root))
}

// ParseCheckpoint parses a checkpoint body. Extension lines after the root
// hash are allowed by the format and ignored.
func ParseCheckpoint(text string) (Checkpoint, error) {
	lines := strings.SplitN(text, "\n", 4)
	if len(lines) < 4 {
		return Checkpoint{}, errors.New("checkpoint: fewer than three lines")
	}
	var c Checkpoint
	c.Origin = lines[0]
	if c.Origin == "" {
		return Checkpoint{}, errors.New("checkpoint: empty origin line")
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return Checkpoint{}, fmt.Errorf("checkpoint: tree size %q is not a decimal number", lines[1])
	}
	c.Size = size
	c.Root, err = base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(c.Root) != trail.LedgerHashSize {
		return Checkpoint{}, fmt.Errorf("checkpoint: root hash %q is not 32 bytes of base64", lines[2])
	}
	return c, nil
}

// SignCheckpoint returns c as a note signed by each of s.
func SignCheckpoint(c Checkpoint, s ...note.Signer) ([]byte, error) {
	msg, err := note.Sign(&note.Note{Text: string(c.Text())}, s...)
	if err != nil {
		return nil, fmt.Errorf("sign checkpoint: %w", err)
	}
	return msg, nil
}

// OpenCheckpoint verifies the signed note msg with v and parses the
// checkpoint it carries. With a v from ParseVerifier or Key.Verifier, a
// signature by the same key named after the checkpoint's origin counts
// too (see ParseVerifier).
func OpenCheckpoint(msg []byte, v note.Verifier) (Checkpoint, error) {
	origin, _, _ := strings.Cut(string(msg), "\n")
	n, err := note.Open(msg, verifiersFor(v, origin))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("checkpoint signature: %w", err)
	}
	return ParseCheckpoint(n.Text)
}

// originTenant returns the tenant whose log origin names: the last
// element, or the system tenant for SystemLog.
func originTenant(origin string) string {
	name := origin[strings.LastIndexByte(origin, '/')+1:]
	if name == SystemLog {
		return trail.SystemTenant
	}
	return name
}

// checkOrigin reports an error unless c is a checkpoint of tenant's log.
// When origin is "" any deployment origin is accepted, but the log part
// must still name tenant.
func checkOrigin(c Checkpoint, origin, tenant string) error {
	want := LogOrigin(origin, tenant)
	if origin == "" {
		if i := strings.LastIndexByte(c.Origin, '/'); i > 0 && c.Origin[i:] == want {
			return nil
		}
	} else if c.Origin == want {
		return nil
	}
	return fmt.Errorf("checkpoint origin %q is not the log %q", c.Origin, want)
}
