// Command cosignrun runs the real cosign for cosign_sign and cosign_attest
// (//tools/cosign:defs.bzl):
//
//	cosignrun sign|attest LAYOUT [ARGS...]
//
// ARGS are the rule's fixed arguments followed by the user's: --repository X
// and --repository=X name the repository (the last one wins), everything else
// goes to `cosign sign|attest REPOSITORY@DIGEST` unchanged. cosign is found on
// PATH; its exit status is this command's.
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"

	"github.com/cat-server/cat-server/tools/cosign/launch"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if len(args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: cosignrun sign|attest LAYOUT [ARGS...]")
		return 2
	}
	cmdArgs, err := launch.Command(args[0], args[1], args[2:])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	bin, err := exec.LookPath("cosign")
	if err != nil {
		fmt.Fprintln(os.Stderr, launch.NotFound(err))
		return 1
	}
	cmd := exec.Command(bin, cmdArgs...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) && exit.ExitCode() > 0 {
			return exit.ExitCode()
		}
		fmt.Fprintf(os.Stderr, "running cosign: %v\n", err)
		return 1
	}
	return 0
}
