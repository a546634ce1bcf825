package push

import (
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Args are the run-time arguments of an oci_push target, parsed as
// rules_oci's push.sh.tpl parses them.
type Args struct {
	// Repository is the last -r/--repository given ("" if none).
	Repository string
	// Tags are the -t/--tag values, in order.
	Tags []string
	// Insecure allows plain http and unverified TLS for any registry.
	Insecure bool
	// Verbose logs the registry requests.
	Verbose bool
	// AllowNondistributable pushes non-distributable (foreign) layers too.
	AllowNondistributable bool
	// Platform ("os/arch[/variant]") is crane's global --platform. It only
	// matters when reading remote indexes, which a push of a local layout
	// does not do; it is accepted and checked for compatibility.
	Platform *v1.Platform
}

// ParseArgs parses args with upstream's grammar: -r/--repository VALUE,
// --repository=VALUE, -t/--tag VALUE, --tag=VALUE, --insecure, -v,
// --verbose, --allow-nondistributable-artifacts, --platform VALUE. Upstream
// hands anything else to `crane push`; there is no crane here, so anything
// else is an error naming the argument.
func ParseArgs(args []string) (Args, error) {
	var a Args
	value := func(i int) (string, error) {
		if i+1 >= len(args) {
			return "", fmt.Errorf("%s needs a value", args[i])
		}
		return args[i+1], nil
	}
	for i := 0; i < len(args); i++ {
		arg := args[i]
		switch {
		case arg == "--insecure":
			a.Insecure = true
		case arg == "-v" || arg == "--verbose":
			a.Verbose = true
		case arg == "--allow-nondistributable-artifacts":
			a.AllowNondistributable = true
		case arg == "--platform":
			v, err := value(i)
			if err != nil {
				return Args{}, err
			}
			p, err := v1.ParsePlatform(v)
			if err != nil || p.OS == "" || p.Architecture == "" {
				return Args{}, fmt.Errorf("--platform %q: want OS/ARCH[/VARIANT], e.g. linux/arm64", v)
			}
			a.Platform = p
			i++
		case arg == "-t" || arg == "--tag":
			v, err := value(i)
			if err != nil {
				return Args{}, err
			}
			a.Tags = append(a.Tags, v)
			i++
		case strings.HasPrefix(arg, "--tag="):
			a.Tags = append(a.Tags, strings.TrimPrefix(arg, "--tag="))
		case arg == "-r" || arg == "--repository":
			v, err := value(i)
			if err != nil {
				return Args{}, err
			}
			a.Repository = v
			i++
		case strings.HasPrefix(arg, "--repository="):
			a.Repository = strings.TrimPrefix(arg, "--repository=")
		default:
			return Args{}, fmt.Errorf("unknown argument %q: oci_push accepts -r/--repository, -t/--tag, --insecure, -v/--verbose, --platform and --allow-nondistributable-artifacts (rules_oci would hand it to crane push, which this repository does not use)", arg)
		}
	}
	return a, nil
}
