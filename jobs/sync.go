package jobs

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"

	"communityhub/connectors"
	"communityhub/pipeline/land"
	"communityhub/pipeline/store"
)

// SyncOptions tune one sync.
type SyncOptions struct {
	Only     []string            // source names; empty = all enabled
	Getenv   func(string) string // secrets; os.Getenv when nil
	Progress func(land.Stats)    // called as sources read (from several goroutines)
	Done     func(land.Stats)    // called when a source ends, ok or not
	KeyCheck *bool               // force key reconciliation on or off; nil = every KeyCheckEvery-th sync
	// AcceptDeletes names the sources whose deletion guard is lifted for this sync: an operator
	// has checked that the rows they would end really are gone.
	AcceptDeletes []string
}

// Result is one sync's outcome: per-source figures in config order.
type Result struct {
	SyncID int64
	Stats  []land.Stats
}

// Failed lists the sources that failed.
func (r Result) Failed() []land.Stats {
	var out []land.Stats
	for _, s := range r.Stats {
		if s.Err != nil {
			out = append(out, s)
		}
	}
	return out
}

// Sync lands every selected source, Workers at a time. A source that fails (unreachable, over
// its error thresholds, drifted, refused by the deletion guard) is rolled back alone and
// reported; the others still land. Every source leaves its meta.runs row. Sync returns an error
// only when it cannot run at all, or when ctx was cancelled (the sources in flight rolled back).
func Sync(ctx context.Context, cfg *Config, db *store.DB, opts SyncOptions) (Result, error) {
	names, err := cfg.Names(opts.Only)
	if err != nil {
		return Result{}, err
	}
	for _, a := range opts.AcceptDeletes {
		if _, ok := cfg.Source(a); !ok {
			return Result{}, fmt.Errorf("--accept-deletes: no source %q", a)
		}
	}
	id, err := db.BeginSync(ctx, cfg.Path)
	if err != nil {
		return Result{}, err
	}
	keyCheck := id%int64(cfg.KeyCheckEvery) == 0
	if opts.KeyCheck != nil {
		keyCheck = *opts.KeyCheck
	}
	res := Result{SyncID: id, Stats: make([]land.Stats, len(names))}
	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(cfg.Workers, len(names)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				res.Stats[i] = syncOne(ctx, cfg, db, id, names[i], keyCheck, opts)
				if opts.Done != nil {
					opts.Done(res.Stats[i])
				}
			}
		}()
	}
	for i := range names {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if err := db.EndSync(context.WithoutCancel(ctx), id, len(res.Failed()) == 0); err != nil {
		return res, err
	}
	return res, ctx.Err()
}

// secrets records the secret values a source's connector looked up, so that messages can be
// cleaned of them.
type secrets struct {
	getenv func(string) string
	mu     sync.Mutex
	seen   []string
}

func (s *secrets) get(name string) string {
	v := s.getenv(name)
	s.mu.Lock()
	s.seen = append(s.seen, v)
	s.mu.Unlock()
	return v
}

func (s *secrets) redact(msg string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return connectors.Redact(msg, s.seen...)
}

func syncOne(ctx context.Context, cfg *Config, db *store.DB, id int64, name string, keyCheck bool, opts SyncOptions) land.Stats {
	s, _ := cfg.Source(name)
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	sec := &secrets{getenv: getenv}
	src, err := cfg.Open(s, sec.get)
	if err != nil {
		st := land.Stats{Source: name, Kind: s.Kind, Err: fmt.Errorf("source %s: %s", name, sec.redact(err.Error()))}
		if rerr := land.FailedRun(ctx, db, id, st); rerr != nil {
			st.Err = fmt.Errorf("%w (and %v)", st.Err, rerr)
		}
		return st
	}
	if c, ok := src.(io.Closer); ok {
		defer c.Close()
	}
	// An incremental source without key columns cannot list its keys: its deletions are not
	// detected (Warnings says so at load), and its key check is skipped rather than failed.
	if inc, ok := src.(connectors.Incremental); ok && inc.Incremental() && len(s.Key) == 0 {
		keyCheck = false
	}
	spec := s.Spec(SpecOptions{KeyCheck: keyCheck, AcceptDeletes: contains(opts.AcceptDeletes, name), Redact: sec.redact})
	st, err := land.Land(ctx, db, id, spec, src, opts.Progress)
	if err != nil && st.Err == nil {
		st.Err = err
	}
	if st.Err != nil {
		st.Err = fmt.Errorf("source %s: %w", name, st.Err)
	}
	return st
}
