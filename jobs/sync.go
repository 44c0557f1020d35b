package jobs

import (
	"context"
	"fmt"
	"io"
	"sync"

	"communityhub/pipeline/land"
)

// SyncOptions tune one sync.
type SyncOptions struct {
	Only     []string            // source names; empty = all enabled
	Getenv   func(string) string // secrets; os.Getenv when nil
	Progress func(land.Stats)    // called as sources read (from several goroutines)
	Done     func(land.Stats)    // called when a source ends, ok or not
	KeyCheck *bool               // force key reconciliation on or off; nil = every KeyCheckEvery-th sync
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
// its error thresholds, drifted) is rolled back alone and reported; the others still land.
// Sync returns an error only when it cannot run at all.
func Sync(ctx context.Context, cfg *Config, db *land.DB, opts SyncOptions) (Result, error) {
	names, err := cfg.Names(opts.Only)
	if err != nil {
		return Result{}, err
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
	db.EndSync(context.WithoutCancel(ctx), id, len(res.Failed()) == 0)
	return res, ctx.Err()
}

func syncOne(ctx context.Context, cfg *Config, db *land.DB, id int64, name string, keyCheck bool, opts SyncOptions) land.Stats {
	s, _ := cfg.Source(name)
	src, err := cfg.Open(s, opts.Getenv)
	if err != nil {
		return land.Stats{Source: name, Kind: s.Kind, Err: err}
	}
	if c, ok := src.(io.Closer); ok {
		defer c.Close()
	}
	st, err := db.Land(ctx, id, s.Spec(keyCheck), src, opts.Progress)
	if err != nil && st.Err == nil {
		st.Err = err
	}
	if st.Err != nil {
		st.Err = fmt.Errorf("source %s: %w", name, st.Err)
	}
	return st
}
