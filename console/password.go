package console

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/trailhq/trail"
	"golang.org/x/crypto/argon2"
)

// Password rules.
const (
	MinPasswordLen = 12  // characters
	MaxPasswordLen = 256 // bytes; bounds the hashing work one request can ask for
)

// argon2id parameters: OWASP's second recommended set (19 MiB, 2 passes,
// 1 lane). They are stored in each hash, so they can be raised later
// without breaking existing passwords.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024 // KiB
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// hashSlots bounds concurrent password hashing, so that a burst of logins
// cannot take 19 MiB times the number of requests. It is package state
// because memory is a process-wide resource: every Server shares it.
var hashSlots = make(chan struct{}, 4)

// ValidatePassword checks a new password against the password rules.
func ValidatePassword(pw string) error {
	switch {
	case utf8.RuneCountInString(pw) < MinPasswordLen:
		return trail.Invalid("password", fmt.Sprintf("must be at least %d characters", MinPasswordLen))
	case len(pw) > MaxPasswordLen:
		return trail.Invalid("password", fmt.Sprintf("must be at most %d bytes", MaxPasswordLen))
	case !utf8.ValidString(pw):
		return trail.Invalid("password", "must be valid UTF-8")
	}
	return nil
}

// HashPassword returns the argon2id hash of pw in PHC string format:
// $argon2id$v=19$m=19456,t=2,p=1$salt$hash.
func HashPassword(pw string) (string, error) {
	if err := ValidatePassword(pw); err != nil {
		return "", err
	}
	salt := make([]byte, argonSaltLen)
	rand.Read(salt)
	key := idKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		argonMemory, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword reports whether pw matches encoded, a hash that
// HashPassword made. The comparison takes constant time.
func CheckPassword(encoded, pw string) bool {
	if len(pw) > MaxPasswordLen {
		return false
	}
	var version int
	var mem, passes uint32
	var threads uint8
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &passes, &threads); err != nil {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 || mem > 1<<20 || passes > 16 || threads == 0 {
		return false
	}
	got := idKey([]byte(pw), salt, passes, mem, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

func idKey(pw, salt []byte, passes, mem uint32, threads uint8, keyLen uint32) []byte {
	hashSlots <- struct{}{}
	defer func() { <-hashSlots }()
	return argon2.IDKey(pw, salt, passes, mem, threads, keyLen)
}

// dummyHash is checked against when a sign-in names no user, so that an
// unknown email takes as long as a wrong password.
var dummyHash = sync.OnceValue(func() string {
	h, _ := HashPassword("not a password anyone has")
	return h
})

// CreateUser validates the fields and the password, hashes the password
// and stores the user. The CLI (`trail users create`) calls it.
func CreateUser(ctx context.Context, s trail.UserStore, tenant, email, role, password string, now time.Time) (*trail.User, error) {
	if err := ValidatePassword(password); err != nil {
		return nil, err
	}
	// Check the fields before hashing, so a bad request costs no hashing.
	u, err := trail.NewUser(tenant, email, role, "pending", now)
	if err != nil {
		return nil, err
	}
	if u.PasswordHash, err = HashPassword(password); err != nil {
		return nil, err
	}
	if err := s.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	return u, nil
}
