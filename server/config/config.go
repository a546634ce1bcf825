// Package config parses and validates cat-server's settings from
// command-line flags and environment variables.
//
// Precedence for every setting that has both a flag and an environment
// variable: an explicitly set flag wins, then a non-empty environment
// variable, then the built-in default.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Environment variable names.
const (
	EnvPort  = "PORT"
	EnvRoot  = "CAT_SERVER_ROOT"
	EnvMode  = "CAT_SERVER_MODE"
	EnvGrace = "CAT_SERVER_SHUTDOWN_GRACE"

	EnvMaxHeaderBytes    = "CAT_SERVER_MAX_HEADER_BYTES"
	EnvMaxConns          = "CAT_SERVER_MAX_CONNS"
	EnvSendTimeout       = "CAT_SERVER_SEND_TIMEOUT"
	EnvMaxListingEntries = "CAT_SERVER_MAX_LISTING_ENTRIES"
	EnvMaxListings       = "CAT_SERVER_MAX_LISTINGS"
	EnvSandbox           = "CAT_SERVER_SANDBOX"
)

// Flag names (without the leading dash).
const (
	FlagRoot  = "root"
	FlagMode  = "mode"
	FlagGrace = "shutdown-grace"

	FlagMaxHeaderBytes    = "max-header-bytes"
	FlagMaxConns          = "max-conns"
	FlagSendTimeout       = "send-timeout"
	FlagMaxListingEntries = "max-listing-entries"
	FlagMaxListings       = "max-listings"
	FlagSandbox           = "sandbox"
)

// Defaults.
const (
	DefaultPort  = 8080
	DefaultRoot  = "/srv"
	DefaultMode  = ModeRelease
	DefaultGrace = 10 * time.Second

	// The limits below are sized for a container with 64 MB of memory:
	// together they keep the worst case well under half of it.

	// DefaultMaxHeaderBytes bounds a request's line and headers (net/http
	// adds 4 KiB of slack). nginx's default buffers allow 8 KiB per line.
	DefaultMaxHeaderBytes = 16 << 10
	// DefaultMaxConns bounds open client connections; at the limit a new
	// one displaces the oldest not serving a request, or is answered 503.
	DefaultMaxConns = 256
	// DefaultSendTimeout is how long one write to a client may make no
	// progress before the connection is closed (nginx's send_timeout).
	DefaultSendTimeout = 60 * time.Second
	// DefaultMaxListingEntries bounds the entries of one listing.
	DefaultMaxListingEntries = 5000
	// DefaultMaxListings bounds listings built at the same time.
	DefaultMaxListings = 4
	// DefaultSandbox: file responses carry "Content-Security-Policy: sandbox".
	DefaultSandbox = true
)

// Mode selects logging behaviour.
type Mode string

// Supported modes.
const (
	// ModeRelease logs JSON at info level, without per-request lines.
	ModeRelease Mode = "release"
	// ModeDebug logs text at debug level, with one line per request.
	ModeDebug Mode = "debug"
)

// Config is the validated server configuration.
type Config struct {
	// Root is the absolute path of the directory served read-only. It
	// existed and was a directory when Parse ran.
	Root string
	// Port is the TCP port to listen on, 1-65535.
	Port int
	// Mode is ModeRelease or ModeDebug.
	Mode Mode
	// ShutdownGrace bounds how long in-flight requests may run after a
	// shutdown signal. It is positive.
	ShutdownGrace time.Duration

	// MaxHeaderBytes bounds the request line and headers (http.Server's
	// MaxHeaderBytes), 1 KiB..1 MiB.
	MaxHeaderBytes int
	// MaxConns bounds concurrently open client connections, >= 1.
	MaxConns int
	// SendTimeout bounds how long a write to a client may make no
	// progress. It is positive.
	SendTimeout time.Duration
	// MaxListingEntries bounds the entries one directory listing shows,
	// >= 1.
	MaxListingEntries int
	// MaxListings bounds directory listings built concurrently, >= 1.
	MaxListings int
	// Sandbox makes file responses carry "Content-Security-Policy:
	// sandbox", so active content cannot run on the server's origin.
	Sandbox bool
}

// Defaults returns a Config with every limit at its default, for Root.
// Port, Mode and ShutdownGrace get their defaults too.
func Defaults(root string) Config {
	return Config{
		Root:              root,
		Port:              DefaultPort,
		Mode:              DefaultMode,
		ShutdownGrace:     DefaultGrace,
		MaxHeaderBytes:    DefaultMaxHeaderBytes,
		MaxConns:          DefaultMaxConns,
		SendTimeout:       DefaultSendTimeout,
		MaxListingEntries: DefaultMaxListingEntries,
		MaxListings:       DefaultMaxListings,
		Sandbox:           DefaultSandbox,
	}
}

// Parse parses args (without the program name) and the environment read
// through getenv, and validates the result, including that Root is an
// existing directory. It returns flag.ErrHelp if -h or -help was given.
// Error messages name the flag or environment variable at fault.
func Parse(args []string, getenv func(string) string) (Config, error) {
	fs := flag.NewFlagSet("cat-server", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	rootFlag := fs.String(FlagRoot, "", "")
	modeFlag := fs.String(FlagMode, "", "")
	graceFlag := fs.String(FlagGrace, "", "")
	flagValues := map[string]*string{}
	for _, name := range []string{FlagMaxHeaderBytes, FlagMaxConns, FlagSendTimeout, FlagMaxListingEntries, FlagMaxListings, FlagSandbox} {
		flagValues[name] = fs.String(name, "", "")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return Config{}, err
		}
		return Config{}, &UsageError{Err: err}
	}
	if fs.NArg() > 0 {
		return Config{}, &UsageError{Err: fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	var cfg Config
	var err error
	if cfg.Port, err = PortFromEnv(getenv); err != nil {
		return Config{}, err
	}

	root := pick(set[FlagRoot], *rootFlag, FlagRoot, getenv, EnvRoot, DefaultRoot)
	if cfg.Root, err = validateRoot(root.value); err != nil {
		return Config{}, root.errorf("%w", err)
	}

	mode := pick(set[FlagMode], *modeFlag, FlagMode, getenv, EnvMode, string(DefaultMode))
	switch Mode(mode.value) {
	case ModeRelease, ModeDebug:
		cfg.Mode = Mode(mode.value)
	default:
		return Config{}, mode.errorf("must be %q or %q", ModeRelease, ModeDebug)
	}

	grace := pick(set[FlagGrace], *graceFlag, FlagGrace, getenv, EnvGrace, DefaultGrace.String())
	d, err := time.ParseDuration(grace.value)
	if err != nil || d <= 0 {
		return Config{}, grace.errorf("must be a positive Go duration such as 10s or 1m30s")
	}
	cfg.ShutdownGrace = d

	intSetting := func(flagName, envName string, def, lo, hi int, dst *int) error {
		st := pick(set[flagName], *flagValues[flagName], flagName, getenv, envName, strconv.Itoa(def))
		n, err := strconv.Atoi(st.value)
		if err != nil || n < lo || n > hi {
			return st.errorf("must be an integer between %d and %d", lo, hi)
		}
		*dst = n
		return nil
	}
	for _, s := range []struct {
		flag, env   string
		def, lo, hi int
		dst         *int
	}{
		{FlagMaxHeaderBytes, EnvMaxHeaderBytes, DefaultMaxHeaderBytes, 1 << 10, 1 << 20, &cfg.MaxHeaderBytes},
		{FlagMaxConns, EnvMaxConns, DefaultMaxConns, 1, 1 << 16, &cfg.MaxConns},
		{FlagMaxListingEntries, EnvMaxListingEntries, DefaultMaxListingEntries, 1, 1 << 20, &cfg.MaxListingEntries},
		{FlagMaxListings, EnvMaxListings, DefaultMaxListings, 1, 1 << 10, &cfg.MaxListings},
	} {
		if err := intSetting(s.flag, s.env, s.def, s.lo, s.hi, s.dst); err != nil {
			return Config{}, err
		}
	}

	send := pick(set[FlagSendTimeout], *flagValues[FlagSendTimeout], FlagSendTimeout, getenv, EnvSendTimeout, DefaultSendTimeout.String())
	if d, err = time.ParseDuration(send.value); err != nil || d <= 0 {
		return Config{}, send.errorf("must be a positive Go duration such as 60s or 1m")
	}
	cfg.SendTimeout = d

	sandbox := pick(set[FlagSandbox], *flagValues[FlagSandbox], FlagSandbox, getenv, EnvSandbox, strconv.FormatBool(DefaultSandbox))
	if cfg.Sandbox, err = strconv.ParseBool(sandbox.value); err != nil {
		return Config{}, sandbox.errorf("must be true or false")
	}
	return cfg, nil
}

// UsageError reports malformed command-line syntax (unknown flag,
// missing flag value, stray argument), as opposed to an invalid value.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// PortFromEnv reads and validates the PORT environment variable, returning
// DefaultPort if it is unset or empty.
func PortFromEnv(getenv func(string) string) (int, error) {
	s := getenv(EnvPort)
	if s == "" {
		return DefaultPort, nil
	}
	return ParsePort(s)
}

// ParsePort parses a decimal TCP port in the range 1-65535. Errors name
// the PORT environment variable.
func ParsePort(s string) (int, error) {
	p, err := strconv.Atoi(s)
	if err != nil || p < 1 || p > 65535 {
		return 0, fmt.Errorf("invalid %s %q: must be an integer between 1 and 65535", EnvPort, s)
	}
	return p, nil
}

func validateRoot(root string) (string, error) {
	if root == "" {
		return "", errors.New("must not be empty")
	}
	fi, err := os.Stat(root)
	if err != nil {
		return "", err
	}
	if !fi.IsDir() {
		return "", errors.New("not a directory")
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return "", fmt.Errorf("make absolute: %w", err)
	}
	return abs, nil
}

// setting is one resolved setting value and where it came from.
type setting struct {
	value    string
	flagName string
	envName  string
	from     string // "flag", "env" or "default"
}

func pick(flagSet bool, flagValue, flagName string, getenv func(string) string, envName, def string) setting {
	s := setting{flagName: flagName, envName: envName}
	switch {
	case flagSet:
		s.value, s.from = flagValue, "flag"
	case getenv(envName) != "":
		s.value, s.from = getenv(envName), "env"
	default:
		s.value, s.from = def, "default"
	}
	return s
}

// errorf returns an error naming the setting's source, e.g.
// `invalid CAT_SERVER_MODE "bogus": must be "release" or "debug"`.
func (s setting) errorf(format string, args ...any) error {
	reason := fmt.Errorf(format, args...)
	switch s.from {
	case "flag":
		return fmt.Errorf("invalid -%s flag %q: %w", s.flagName, s.value, reason)
	case "env":
		return fmt.Errorf("invalid %s %q: %w", s.envName, s.value, reason)
	default:
		return fmt.Errorf("invalid default %s %q (set -%s or %s): %w", s.flagName, s.value, s.flagName, s.envName, reason)
	}
}
