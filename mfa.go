package trail

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// Actions that record multi-factor sign-in, with the user (or, for
// mfa.required_changed, the tenant) as the target.
const (
	ActionMFAEnrolled         = "mfa.enrolled"
	ActionMFADisabled         = "mfa.disabled"           // metadata: method (code, password or reset)
	ActionMFARecoveryCodeUsed = "mfa.recovery_code_used" // metadata: remaining
	ActionMFARequiredChanged  = "mfa.required_changed"   // metadata: before, after
)

// MFALoginTTL is how long the second step of a sign-in waits for a code.
const MFALoginTTL = 5 * time.Minute

// MFALogin is a sign-in that passed its password and waits for a code
// (or, when Enroll is set, for the user to set up multi-factor sign-in
// that the tenant requires). The browser holds a random token in an
// HttpOnly cookie; the store keeps its SHA-256.
type MFALogin struct {
	Hash      string
	Tenant    string
	UserID    string
	Next      string // where to go once signed in
	Enroll    bool
	ExpiresAt time.Time
}

// NewMFALogin returns a pending login of u that expires MFALoginTTL after
// now, and its token for the browser's cookie.
func NewMFALogin(u *User, next string, enroll bool, now time.Time) (*MFALogin, string) {
	token := randomHex(32)
	return &MFALogin{Hash: HashSessionToken(token), Tenant: u.Tenant, UserID: u.ID, Next: next,
		Enroll: enroll, ExpiresAt: NormalTime(now.Add(MFALoginTTL))}, token
}

// MFAStore keeps what multi-factor sign-in needs besides the user's own
// fields (User.MFASecret and the rest, which UserStore keeps): pending
// second steps and each tenant's requirement.
type MFAStore interface {
	// CreateMFALogin stores l, deleting pending logins that expired
	// before now.
	CreateMFALogin(ctx context.Context, l *MFALogin, now time.Time) error
	// MFALogin returns the pending login whose token hashes to hash;
	// ENOTFOUND when there is none or it expired at now.
	MFALogin(ctx context.Context, hash string, now time.Time) (*MFALogin, error)
	// DeleteMFALogin deletes the pending login whose token hashes to hash;
	// ENOTFOUND when it is gone already, so that of two racing uses one
	// wins.
	DeleteMFALogin(ctx context.Context, hash string) error
	// MFARequired reports whether tenant requires multi-factor sign-in.
	MFARequired(ctx context.Context, tenant string) (bool, error)
	// SetMFARequired sets whether tenant requires multi-factor sign-in and
	// reports whether that changed it.
	SetMFARequired(ctx context.Context, tenant string, required bool, now time.Time) (bool, error)
}

// SetMFARequiredRecorded sets whether tenant requires multi-factor sign-in
// and, when that changes it, records mfa.required_changed by actor: the
// tenant as target, the requirement before and after as metadata. A change
// that cannot be recorded is undone, so that none is missing from the log.
// It reports whether the requirement changed.
func SetMFARequiredRecorded(ctx context.Context, ms MFAStore, record Recorder, tenant string, required bool,
	actor Actor, c Context, now time.Time) (bool, error) {
	changed, err := ms.SetMFARequired(ctx, tenant, required, now)
	if err != nil || !changed {
		return false, err
	}
	e := NewSystemEvent(AuditLog(tenant), ActionMFARequiredChanged, actor, c, now,
		Target{Type: "tenant", ID: tenant, Name: tenant})
	e.Metadata, _ = json.Marshal(map[string]bool{"before": !required, "after": required}) // bools always encode
	if err := record(ctx, []*Event{e}); err != nil {
		_, uerr := ms.SetMFARequired(context.WithoutCancel(ctx), tenant, !required, now)
		return false, errors.Join(Errorf(EUNAVAILABLE, "could not record the change, so it was not made; try again"), err, uerr)
	}
	return true, nil
}
