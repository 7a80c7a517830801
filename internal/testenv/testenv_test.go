package testenv_test

import (
	"fmt"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trailhq/trail/internal/testenv"
)

// recorder is a testing.TB that records how a helper ended the test
// instead of ending the real one.
type recorder struct {
	testing.TB
	failed, skipped bool
	msg             string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatal(args ...any) {
	r.failed, r.msg = true, fmt.Sprint(args...)
	runtime.Goexit()
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.failed, r.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Skip(args ...any) {
	r.skipped, r.msg = true, fmt.Sprint(args...)
	runtime.Goexit()
}

// run calls f with a recorder on a goroutine of its own, as the testing
// package runs a test, and returns the recorder once f has ended.
func run(f func(tb testing.TB)) *recorder {
	r := &recorder{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r
}

// missing is the error exec.LookPath gives for a program nobody has.
func missing(t *testing.T) error {
	_, err := exec.LookPath("trail-no-such-program-7f3a")
	if err == nil {
		t.Fatal("trail-no-such-program-7f3a was found")
	}
	return err
}

// TestRequireSkipsByDefault: without TRAIL_REQUIRE_ALL or CI a missing
// program skips the test, naming the program, the error and the hint.
func TestRequireSkipsByDefault(t *testing.T) {
	t.Setenv("TRAIL_REQUIRE_ALL", "")
	t.Setenv("CI", "")
	err := missing(t)
	r := run(func(tb testing.TB) { testenv.Require(tb, "the program", "apt-get install it", err) })
	if !r.skipped || r.failed {
		t.Fatalf("skipped %v, failed %v; want a skip", r.skipped, r.failed)
	}
	for _, want := range []string{"the program", "trail-no-such-program-7f3a", "apt-get install it", "TRAIL_REQUIRE_ALL"} {
		if !strings.Contains(r.msg, want) {
			t.Errorf("skip reason %q does not name %q", r.msg, want)
		}
	}
}

// TestRequireFailsWhenRequired: TRAIL_REQUIRE_ALL (as scripts/test.sh
// sets it) or CI=true turns the skip into a failure.
func TestRequireFailsWhenRequired(t *testing.T) {
	err := missing(t)
	for _, env := range [][2]string{{"1", ""}, {"yes", ""}, {"", "true"}} {
		t.Setenv("TRAIL_REQUIRE_ALL", env[0])
		t.Setenv("CI", env[1])
		r := run(func(tb testing.TB) { testenv.Require(tb, "the program", "apt-get install it", err) })
		if !r.failed || r.skipped {
			t.Errorf("TRAIL_REQUIRE_ALL=%q CI=%q: failed %v, skipped %v; want a failure", env[0], env[1], r.failed, r.skipped)
		}
		if !strings.Contains(r.msg, "trail-no-such-program-7f3a") || !strings.Contains(r.msg, "apt-get install it") {
			t.Errorf("failure %q does not name the program and the hint", r.msg)
		}
	}
}

// TestRequireNilErr: a requirement that is met changes nothing, even
// where every requirement is required.
func TestRequireNilErr(t *testing.T) {
	t.Setenv("TRAIL_REQUIRE_ALL", "1")
	r := run(func(tb testing.TB) { testenv.Require(tb, "sh", "", nil) })
	if r.failed || r.skipped {
		t.Fatalf("failed %v, skipped %v for a met requirement", r.failed, r.skipped)
	}
}

// TestEventually: a condition that comes true within the timeout passes,
// having been polled until then; one that never does fails with what.
func TestEventually(t *testing.T) {
	var calls atomic.Int32
	r := run(func(tb testing.TB) {
		testenv.Eventually(tb, 5*time.Second, "the third call", func() bool { return calls.Add(1) >= 3 })
	})
	if r.failed || calls.Load() != 3 {
		t.Fatalf("failed %v after %d calls; want a pass on the third", r.failed, calls.Load())
	}

	start := time.Now()
	r = run(func(tb testing.TB) {
		testenv.Eventually(tb, 30*time.Millisecond, "a condition that never holds", func() bool { return false })
	})
	if !r.failed || !strings.Contains(r.msg, "a condition that never holds") {
		t.Fatalf("failed %v, message %q; want a failure naming what was awaited", r.failed, r.msg)
	}
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Fatalf("gave up after %v, before the 30ms timeout", d)
	}
}

// TestPoll: Poll reports whether the condition came true in time.
func TestPoll(t *testing.T) {
	n := 0
	if !testenv.Poll(5*time.Second, func() bool { n++; return n == 2 }) || n != 2 {
		t.Fatalf("Poll gave up or went on polling: %d calls", n)
	}
	if testenv.Poll(10*time.Millisecond, func() bool { return false }) {
		t.Fatal("Poll reported a condition that never held")
	}
}
