package console

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"html/template"
	"image/png"
	"slices"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/trailhq/trail"
)

// TOTP as authenticator apps know it (RFC 6238): SHA-1, six digits, a new
// code every 30 seconds. A code of the step before or after is accepted
// too, for clocks that drift and users who type slowly.
const (
	totpPeriod    = 30
	recoveryCount = 10
	// secretLen is the length of a base32 secret of 160 bits, the size
	// pquerna/otp makes.
	secretLen = 32
)

// b32 is the encoding of secrets (as authenticator apps take them) and of
// recovery codes.
var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// errWrongCode is a code that is not the user's current one, was used
// already, or is no unused recovery code.
var errWrongCode = trail.Errorf(trail.EUNAUTHORIZED, "code: wrong, or used already")

// newTOTPKey makes a fresh secret for u and returns it with its QR code as
// a data: URL (the console's CSP allows data: images).
func newTOTPKey(u *trail.User) (secret string, qr template.URL, err error) {
	b := make([]byte, 20)
	rand.Read(b)
	secret = b32.EncodeToString(b)
	qr, err = totpQR(u, secret)
	return secret, qr, err
}

// totpQR renders the otpauth:// URL of secret for u as a PNG data: URL.
func totpQR(u *trail.User, secret string) (template.URL, error) {
	raw, _ := b32.DecodeString(secret)
	key, err := totp.Generate(totp.GenerateOpts{Issuer: "Trail", AccountName: u.Email + " (" + u.Tenant + ")", Secret: raw})
	if err != nil {
		return "", err
	}
	img, err := key.Image(220, 220)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return "", err
	}
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(b.Bytes())), nil
}

// validSecret reports whether s is a secret that newTOTPKey makes.
func validSecret(s string) bool {
	raw, err := b32.DecodeString(s)
	return len(s) == secretLen && err == nil && len(raw) == 20
}

// totpStep returns the time step whose code for secret is code, trying
// the steps around now; ok is false when none matches.
func totpStep(secret, code string, now time.Time) (step int64, ok bool) {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(code) != 6 {
		return 0, false
	}
	current := now.Unix() / totpPeriod
	for _, st := range []int64{current - 1, current, current + 1} {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(st*totpPeriod, 0), totpOpts)
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return st, true
		}
	}
	return 0, false
}

// useCode returns a change that accepts code for the user as stored (so
// that two requests cannot both use one code): a TOTP code of a later
// step than the last one accepted, which it remembers, or an unused
// recovery code, which it uses up and reports in *recovery.
func useCode(code string, now time.Time, recovery *bool) func(u *trail.User) error {
	return func(u *trail.User) error {
		if !u.MFA() {
			return errWrongCode
		}
		if step, ok := totpStep(u.MFASecret, code, now); ok {
			if step <= u.MFALastStep {
				return errWrongCode // a replay
			}
			u.MFALastStep = step
			return nil
		}
		i := slices.Index(u.MFARecovery, hashRecovery(code))
		if i < 0 {
			return errWrongCode
		}
		u.MFARecovery = slices.Delete(slices.Clone(u.MFARecovery), i, i+1)
		*recovery = true
		return nil
	}
}

// newRecoveryCodes makes recoveryCount codes of 80 random bits, shown as
// xxxx-xxxx-xxxx-xxxx, and returns them with their hashes.
func newRecoveryCodes() (codes, hashes []string) {
	for range recoveryCount {
		b := make([]byte, 10)
		rand.Read(b)
		c := strings.ToLower(b32.EncodeToString(b))
		codes = append(codes, c[0:4]+"-"+c[4:8]+"-"+c[8:12]+"-"+c[12:16])
		hashes = append(hashes, hashRecovery(c))
	}
	return codes, hashes
}

// hashRecovery is the stored form of a recovery code, however it was
// typed (case, dashes, spaces). 80 random bits need no slow hash.
func hashRecovery(code string) string {
	code = strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return -1
		}
		return r
	}, strings.ToLower(strings.TrimSpace(code)))
	return trail.HashSessionToken("recovery:" + code)
}
