package deliver

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"communityhub/connectors"
	"communityhub/pipeline/store"
)

// Row is one line item of a package (one conflict of R12, one person of a roster): column →
// value. Only the Table target stores rows (in <table>_rows, as a JSON object per row).
type Row map[string]string

// Package is one filled workbook on its way to a department: the build it comes from
// (report.builds), what it is, who it is for, the file's name and bytes, and optional line items.
type Package struct {
	BuildID    int64
	Kind       string // the report kind's code, "R05"
	Community  string // the community's name, "*" for the street roll-up
	Period     string // "2026-11"
	Department string // who receives it, "残联"
	FileName   string // the workbook's file name, "R05_兴隆社区_2026-11.xlsx"
	Body       []byte // the workbook
	Rows       []Row
}

func (p Package) String() string {
	return fmt.Sprintf("%s %s %s (build %d)", p.Kind, p.Community, p.Period, p.BuildID)
}

// Target is one way of handing packages to a department.
//
// Name identifies the target in the ledger and in the idempotency key: it must be unique among the
// targets of a Push and stay the same from run to run (renaming a target makes its packages
// look unsent). Kind is "outbox", "http" or "table".
//
// Send hands one package over. It must be idempotent for the same key: a Send repeated with a key
// the target has already accepted (a retry after an answer was lost, a re-run after a crash)
// must not deliver a second time, and should succeed with the receipt of the first. The receipt
// is what the target says it did (a path, a Location, a row id), kept in the ledger. A failure
// that retrying cannot fix (bad configuration, an HTTP 4xx other than 408 and 429, a refused
// file name) is returned wrapped in Permanent; every other error is retried with backoff, and
// RetryAfter may say how long the target asked to wait. Send must return soon after ctx ends.
type Target interface {
	Name() string
	Kind() string
	Send(ctx context.Context, p Package, key string) (receipt string, err error)
}

// Secretive is the optional ability of a target that holds secrets (tokens, DSNs): Push removes
// them from every error it records or returns.
type Secretive interface {
	Secrets() []string
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as one that retrying cannot fix: Push records the failure and does not try
// again in this run. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

// IsPermanent reports whether err (or an error it wraps) was marked Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

type retryAfterError struct {
	err   error
	after time.Duration
}

func (e *retryAfterError) Error() string { return e.err.Error() }
func (e *retryAfterError) Unwrap() error { return e.err }

// RetryAfter marks a transient err with the wait the target asked for (HTTP Retry-After): Push
// waits at least that long (up to Options.MaxRetryAfter) before the next attempt.
func RetryAfter(err error, d time.Duration) error {
	if err == nil {
		return nil
	}
	return &retryAfterError{err, d}
}

func retryAfterOf(err error) time.Duration {
	var r *retryAfterError
	if errors.As(err, &r) {
		return r.after
	}
	return 0
}

// Key is the idempotency key of a delivery: a stable hash of the report kind, community, period
// and target name, the same for every attempt, every build version and every run.
func Key(kind, community, period, target string) string {
	h := sha256.Sum256([]byte(strings.Join([]string{"communityhub delivery v1", kind, community, period, target}, "\x00")))
	return "hub-" + hex.EncodeToString(h[:20])
}

// Options tune Push. Zero values take the defaults.
type Options struct {
	// MaxAttempts is how many times one package is tried on one target in one Push (default 5).
	MaxAttempts int
	// Backoff is the wait after the first failed attempt (default 1 s); it doubles after each
	// further failure up to MaxBackoff (default 1 min). Each wait is jittered to between half and
	// all of it.
	Backoff, MaxBackoff time.Duration
	// MaxRetryAfter caps the wait a target may ask for with RetryAfter (default 5 min).
	MaxRetryAfter time.Duration
	// Sleep waits d or until ctx ends (returning ctx's error); tests pass one that does not wait.
	Sleep func(ctx context.Context, d time.Duration) error
	// Redact removes secrets from error texts before they are recorded or returned, after the
	// targets' own secrets (Secretive) and recognisable credentials are removed.
	Redact func(string) string
}

func (o Options) withDefaults() Options {
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 5
	}
	if o.Backoff <= 0 {
		o.Backoff = time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = time.Minute
	}
	if o.MaxBackoff < o.Backoff {
		o.MaxBackoff = o.Backoff
	}
	if o.MaxRetryAfter <= 0 {
		o.MaxRetryAfter = 5 * time.Minute
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	return o
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// wait is the jittered backoff after the n-th failed attempt (n from 1), at least what the
// target asked for.
func (o Options) wait(n int, err error) time.Duration {
	d := o.Backoff
	for i := 1; i < n && d < o.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, o.MaxBackoff)
	d = d/2 + rand.N(d/2+1)
	if ra := min(retryAfterOf(err), o.MaxRetryAfter); ra > d {
		d = ra
	}
	return d
}

// Outcome is what became of one package on one target.
type Outcome struct {
	BuildID                                     int64
	Kind, Community, Period, Department, Target string
	Key                                         string
	Attempts                                    int    // attempts made by this Push
	Receipt                                     string // the target's receipt (the ledger's, when already sent)
	Err                                         string // the last error, redacted ("" when sent)
	Permanent                                   bool   // the last error was permanent: not retried
}

// Summary is what a Push did: the deliveries it made, those the ledger had as sent already, and
// those that failed (each recorded as failed in report.deliveries).
type Summary struct {
	Sent, AlreadySent, Failed []Outcome
}

func (s Summary) String() string {
	return fmt.Sprintf("%d sent, %d already sent, %d failed", len(s.Sent), len(s.AlreadySent), len(s.Failed))
}

// Push delivers every package to every target: a (kind, community, period, target) that
// report.deliveries has as sent is skipped (AlreadySent); any other is attempted up to
// Options.MaxAttempts times with backoff, each attempt recorded in the ledger (one row per build
// and target: attempts, last_attempt_at, status pending → sent | failed, the last error redacted,
// the receipt, sent_at). A permanent error is not retried. A target that failed a package after
// all its attempts gets one attempt for each further package of this Push (it is down: waiting
// for every package would hold up the others); one success restores its retries. A failure of
// one target does not stop the others.
//
// Push checks the packages against report.builds first (the build exists and is the same kind,
// community and period; its sha256, when recorded, is the body's) and sends nothing when one is
// wrong. Its error is for what stops the whole push: a bad package or target, a ledger write that
// failed (without the ledger nothing could be sent safely), or ctx ending — then the summary
// holds what was done until then, and the interrupted delivery is recorded as failed.
func Push(ctx context.Context, db *store.DB, pkgs []Package, targets []Target, opts Options) (Summary, error) {
	var sum Summary
	opts = opts.withDefaults()
	if err := checkTargets(targets); err != nil {
		return sum, err
	}
	if err := checkPackages(ctx, db, pkgs); err != nil {
		return sum, err
	}
	down := map[string]bool{}
	for _, p := range pkgs {
		for _, t := range targets {
			if err := ctx.Err(); err != nil {
				return sum, err
			}
			o, state, err := deliver(ctx, db, p, t, opts, down[t.Name()])
			switch state {
			case stateSent:
				sum.Sent = append(sum.Sent, o)
				down[t.Name()] = false
			case stateAlready:
				sum.AlreadySent = append(sum.AlreadySent, o)
			case stateFailed:
				sum.Failed = append(sum.Failed, o)
				if o.Attempts > 0 && !o.Permanent {
					down[t.Name()] = true
				}
			}
			if err != nil {
				return sum, err
			}
		}
	}
	return sum, nil
}

type state int

const (
	stateSent state = iota + 1
	stateAlready
	stateFailed
)

func deliver(ctx context.Context, db *store.DB, p Package, t Target, opts Options, down bool) (Outcome, state, error) {
	o := Outcome{BuildID: p.BuildID, Kind: p.Kind, Community: p.Community, Period: p.Period, Department: p.Department,
		Target: t.Name(), Key: Key(p.Kind, p.Community, p.Period, t.Name())}
	var secrets []string
	if s, ok := t.(Secretive); ok {
		secrets = s.Secrets()
	}
	redact := func(msg string) string {
		msg = connectors.Redact(msg, secrets...)
		if opts.Redact != nil {
			msg = opts.Redact(msg)
		}
		return msg
	}
	limit := opts.MaxAttempts
	if down {
		limit = 1
	}
	for {
		id, receipt, already, err := beginAttempt(ctx, db, p, t, o.Key)
		if err != nil {
			return o, stateFailed, fmt.Errorf("report.deliveries: %s to %s: %s", p, t.Name(), redact(err.Error()))
		}
		if already {
			o.Receipt = receipt
			return o, stateAlready, nil
		}
		o.Attempts++
		receipt, sendErr := t.Send(ctx, p, o.Key)
		if sendErr == nil {
			o.Receipt, o.Err = redact(receipt), ""
			if err := endAttempt(ctx, db, id, "sent", "", o.Receipt); err != nil {
				return o, stateSent, fmt.Errorf("report.deliveries: %s to %s was sent (%s) but not recorded: %s", p, t.Name(), o.Receipt, redact(err.Error()))
			}
			return o, stateSent, nil
		}
		o.Err = redact(sendErr.Error())
		interrupted := ctx.Err() != nil
		if interrupted {
			o.Err = "interrupted: " + o.Err
		}
		o.Permanent = IsPermanent(sendErr)
		last := interrupted || o.Permanent || o.Attempts >= limit
		status := "pending"
		if last {
			status = "failed"
		}
		if err := endAttempt(ctx, db, id, status, o.Err, ""); err != nil {
			return o, stateFailed, fmt.Errorf("report.deliveries: %s to %s: recording the failure (%s): %s", p, t.Name(), o.Err, redact(err.Error()))
		}
		if interrupted {
			return o, stateFailed, ctx.Err()
		}
		if last {
			return o, stateFailed, nil
		}
		if err := opts.Sleep(ctx, opts.wait(o.Attempts, sendErr)); err != nil {
			o.Err = "interrupted while waiting to retry: " + o.Err
			if err := endAttempt(ctx, db, id, "failed", o.Err, ""); err != nil {
				return o, stateFailed, fmt.Errorf("report.deliveries: %s to %s: %s", p, t.Name(), redact(err.Error()))
			}
			return o, stateFailed, err
		}
	}
}

// checkTargets refuses a nil target, an empty or repeated name and an empty kind.
func checkTargets(targets []Target) error {
	seen := map[string]bool{}
	for i, t := range targets {
		if t == nil {
			return fmt.Errorf("target #%d: nil", i+1)
		}
		name := t.Name()
		switch {
		case name == "":
			return fmt.Errorf("target #%d (%s): empty name", i+1, t.Kind())
		case t.Kind() == "":
			return fmt.Errorf("target %s: empty kind", name)
		case seen[name]:
			return fmt.Errorf("target %s: name used twice (it is the delivery's identity: give each target its own)", name)
		}
		seen[name] = true
	}
	return nil
}

// checkPackages refuses a package with a field missing, or whose build is not in report.builds
// as the same kind, community and period, or whose body is not the file the build recorded.
func checkPackages(ctx context.Context, db *store.DB, pkgs []Package) error {
	for i, p := range pkgs {
		where := fmt.Sprintf("package #%d (%s)", i+1, p)
		for _, f := range []struct{ name, v string }{
			{"kind", p.Kind}, {"community", p.Community}, {"period", p.Period}, {"department", p.Department}, {"file_name", p.FileName},
		} {
			if strings.TrimSpace(f.v) == "" {
				return fmt.Errorf("%s: %s: empty", where, f.name)
			}
		}
		if len(p.Body) == 0 {
			return fmt.Errorf("%s: body: empty", where)
		}
		var kind, community, period string
		var sum sql.NullString
		err := db.SQL().QueryRowContext(ctx, `SELECT kind, community, period, sha256 FROM report.builds WHERE build_id = ?`, p.BuildID).
			Scan(&kind, &community, &period, &sum)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%s: build_id %d: not in report.builds", where, p.BuildID)
		}
		if err != nil {
			return fmt.Errorf("%s: reading report.builds: %w", where, err)
		}
		for _, f := range []struct{ name, pkg, build string }{{"kind", p.Kind, kind}, {"community", p.Community, community}, {"period", p.Period, period}} {
			if f.pkg != f.build {
				return fmt.Errorf("%s: %s: %q, but build %d is %q", where, f.name, f.pkg, p.BuildID, f.build)
			}
		}
		if sum.Valid && sum.String != "" {
			h := sha256.Sum256(p.Body)
			if got := hex.EncodeToString(h[:]); !strings.EqualFold(got, sum.String) {
				return fmt.Errorf("%s: body: sha256 %s is not the %s build %d recorded", where, got[:12], sum.String[:min(12, len(sum.String))], p.BuildID)
			}
		}
	}
	return nil
}

// beginAttempt records an attempt of p on t before it is made, in one transaction with the check
// that no build of the same kind, community and period was sent to t already (then it records
// nothing and returns that delivery's receipt). The row is the build's and target's: made on the
// first attempt, counted up on each later one.
func beginAttempt(ctx context.Context, db *store.DB, p Package, t Target, key string) (id int64, receipt string, already bool, err error) {
	err = db.Tx(ctx, func(conn *sql.Conn) error {
		var rec sql.NullString
		err := conn.QueryRowContext(ctx, `SELECT receipt FROM report.deliveries
			WHERE kind = ? AND community = ? AND period = ? AND target = ? AND status = 'sent'
			ORDER BY sent_at DESC, delivery_id DESC LIMIT 1`, p.Kind, p.Community, p.Period, t.Name()).Scan(&rec)
		switch {
		case err == nil:
			already, receipt = true, rec.String
			return nil
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("looking for an earlier delivery: %w", err)
		}
		err = conn.QueryRowContext(ctx, `SELECT delivery_id FROM report.deliveries WHERE build_id = ? AND target = ?`, p.BuildID, t.Name()).Scan(&id)
		switch {
		case err == nil:
			_, err = conn.ExecContext(ctx, `UPDATE report.deliveries SET attempts = attempts + 1, last_attempt_at = now(),
				status = 'pending', idempotency_key = ?, target_kind = ?, department = ? WHERE delivery_id = ?`,
				key, t.Kind(), p.Department, id)
			return err
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("looking for the delivery row: %w", err)
		}
		if err := conn.QueryRowContext(ctx, `SELECT coalesce(max(delivery_id), 0) + 1 FROM report.deliveries`).Scan(&id); err != nil {
			return fmt.Errorf("next delivery id: %w", err)
		}
		_, err = conn.ExecContext(ctx, `INSERT INTO report.deliveries (delivery_id, build_id, kind, community, period, department,
			target, target_kind, idempotency_key, status, attempts, first_attempt_at, last_attempt_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 1, now(), now())`,
			id, p.BuildID, p.Kind, p.Community, p.Period, p.Department, t.Name(), t.Kind(), key)
		return err
	})
	return id, receipt, already, err
}

// maxErrorText bounds the error kept in the ledger.
const maxErrorText = 2000

// endAttempt records an attempt's outcome. It is written also when ctx has ended, so an
// interrupted attempt is recorded too.
func endAttempt(ctx context.Context, db *store.DB, id int64, status, errText, receipt string) error {
	ctx = context.WithoutCancel(ctx)
	var e, r any
	if errText != "" {
		e = connectors.Excerpt(errText, maxErrorText)
	}
	if receipt != "" {
		r = receipt
	}
	return db.Tx(ctx, func(conn *sql.Conn) error {
		if status == "sent" {
			_, err := conn.ExecContext(ctx, `UPDATE report.deliveries SET status = 'sent', sent_at = now(), receipt = ? WHERE delivery_id = ?`, r, id)
			return err
		}
		_, err := conn.ExecContext(ctx, `UPDATE report.deliveries SET status = ?, error = ? WHERE delivery_id = ?`, status, e, id)
		return err
	})
}
