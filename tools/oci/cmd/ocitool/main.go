// Command ocitool is the one Go tool behind the project's OCI image rules
// (a stand-in for rules_oci). Each subcommand lives in its own file, which
// registers it in commands from an init function:
//
//	func init() {
//		commands["name"] = command{
//			usage: "name --flag VALUE",
//			summary: "what it does",
//			run: runName,
//		}
//	}
//
// Build-time subcommands read a JSON spec (--spec FILE) written by Starlark;
// run-time ones take flags. On failure ocitool prints "ocitool NAME: ERROR"
// to stderr and exits 1 (2 for usage errors).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
)

// command is one subcommand.
type command struct {
	// usage is the synopsis without the leading "ocitool ".
	usage string
	// summary is a one-line description.
	summary string
	// run executes the subcommand; args are the arguments after its name.
	// Output for the user goes to stdout. Return a usageError for bad
	// arguments.
	run func(ctx context.Context, args []string, stdout io.Writer) error
}

// commands holds every subcommand by name; files add to it from init.
var commands = map[string]command{}

// upstreamError is printed exactly as it is, without the "ocitool CMD: "
// prefix: a message rules_oci's scripts print word for word.
type upstreamError struct{ msg string }

func (e upstreamError) Error() string { return e.msg }

// usageError is a bad command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return usageError{fmt.Sprintf(format, args...)}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printUsage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "ocitool: unknown subcommand %q\n", args[0])
		printUsage(stderr)
		return 2
	}
	err := cmd.run(ctx, args[1:], stdout)
	var uerr usageError
	var upErr upstreamError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &upErr):
		fmt.Fprintln(stderr, upErr.msg)
		return 1
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprintf(stderr, "usage: ocitool %s\n", cmd.usage)
		return 0
	case errors.As(err, &uerr):
		fmt.Fprintf(stderr, "ocitool %s: %v\nusage: ocitool %s\n", args[0], err, cmd.usage)
		return 2
	}
	fmt.Fprintf(stderr, "ocitool %s: %v\n", args[0], err)
	return 1
}

func printUsage(w io.Writer) {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "usage: ocitool SUBCOMMAND [ARGS]\n\nsubcommands:")
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n      ocitool %s\n", n, commands[n].summary, commands[n].usage)
	}
}
