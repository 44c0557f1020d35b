// Command hub is the Community Data Hub: it simulates a street office's departmental systems
// (demo, sim), and — in later commands — syncs them into one resident database, reconciles
// residents and fills reports. Each subcommand is a thin wrapper: flags in, library call, print.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"sort"
	"syscall"

	"communityhub/pipeline/store"
)

type command struct {
	summary string
	run     func(ctx context.Context, args []string) error
}

var commands = map[string]command{
	"demo":    {"write the demo district (twelve simulated systems, ledgers, truth) and sync it", runDemo},
	"sync":    {"pull every source of a deployment config into the resident database", runSync},
	"sources": {"sources check: probe every source (reachable, auth, columns against the mapping)", runSources},
	"sim":     {"sim serve: load the SQL systems into PostgreSQL/MySQL and serve the three APIs", runSim},
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: hub COMMAND [flags]\n\ncommands:")
	var names []string
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-8s %s\n", n, commands[n].summary)
	}
}

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	cmd, ok := commands[os.Args[1]]
	if !ok {
		usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if path := os.Getenv("HUB_CPUPROFILE"); path != "" { // for finding hot paths: go tool pprof
		if f, err := os.Create(path); err == nil {
			pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
	}
	if path := os.Getenv("HUB_MEMPROFILE"); path != "" { // allocations: go tool pprof -sample_index=alloc_space
		defer func() {
			if f, err := os.Create(path); err == nil {
				pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
		}()
	}
	if err := cmd.run(ctx, os.Args[2:]); err != nil {
		fmt.Fprintln(os.Stderr, "hub "+os.Args[1]+":", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

// openDB opens the hub's database with the settings of the environment: HUB_DUCKDB_MEMORY
// (DuckDB's memory_limit, default 2GB) and HUB_LAND_TRACE=1 (each landing statement's time on
// stderr).
func openDB(ctx context.Context, path string) (*store.DB, error) {
	o := store.Options{MemoryLimit: os.Getenv("HUB_DUCKDB_MEMORY")}
	if os.Getenv("HUB_LAND_TRACE") != "" {
		o.Trace = os.Stderr
	}
	return store.Open(ctx, path, o)
}
