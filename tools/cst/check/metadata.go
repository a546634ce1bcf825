package check

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/cat-server/cat-server/tools/cst/config"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func compile(re string) (*regexp.Regexp, error) {
	c, err := regexp.Compile(re)
	if err != nil {
		return nil, fmt.Errorf("invalid regular expression %q: %v", re, err)
	}
	return c, nil
}

// Metadata checks the image config against m: one Result per field (and per
// env var, label, port and volume) that m sets.
func Metadata(file string, m *config.MetadataTest, cf *v1.ConfigFile) []Result {
	if m == nil {
		return nil
	}
	c := cf.Config
	var results []Result
	add := func(r Result) { results = append(results, r) }
	name := func(s string) string { return "metadataTest: " + s }

	env := map[string]string{}
	var envKeys []string
	for _, kv := range c.Env {
		k, v, _ := strings.Cut(kv, "=")
		if _, dup := env[k]; !dup {
			envKeys = append(envKeys, k)
		}
		env[k] = v
	}
	results = append(results, keyValues(file, name("envVars"), m.EnvVars, env, envKeys, "no %s in the image env (it has %s)")...)
	for _, u := range m.UnboundEnvVars {
		r := Result{File: file, Name: name("unboundEnvVars[" + u.Key + "]")}
		if v, ok := env[u.Key]; ok {
			r.fail("", fmt.Sprintf("no %s in the image env", u.Key), fmt.Sprintf("%s=%q", u.Key, v))
		}
		add(r)
	}

	var labelKeys []string
	for k := range c.Labels {
		labelKeys = append(labelKeys, k)
	}
	sort.Strings(labelKeys)
	results = append(results, keyValues(file, name("labels"), m.Labels, c.Labels, labelKeys, "no label %s on the image (it has %s)")...)

	ports := Ports(c.ExposedPorts)
	for _, want := range m.ExposedPorts {
		r := Result{File: file, Name: name("exposedPorts[" + want + "]")}
		if !slices.Contains(ports, want) {
			r.fail("", fmt.Sprintf("port %s to be exposed", want), "exposed ports "+list(ports)+protocolHint(want))
		}
		add(r)
	}
	for _, notWant := range m.UnexposedPorts {
		r := Result{File: file, Name: name("unexposedPorts[" + notWant + "]")}
		if slices.Contains(ports, notWant) {
			r.fail("", fmt.Sprintf("port %s not to be exposed", notWant), "exposed ports "+list(ports))
		}
		add(r)
	}

	if m.Entrypoint != nil {
		r := Result{File: file, Name: name("entrypoint")}
		if !slices.Equal(*m.Entrypoint, c.Entrypoint) {
			r.fail("", fmt.Sprintf("%q", nonNil(*m.Entrypoint)), fmt.Sprintf("%q", nonNil(c.Entrypoint)))
		}
		add(r)
	}
	if m.Cmd != nil {
		r := Result{File: file, Name: name("cmd")}
		if !slices.Equal(*m.Cmd, c.Cmd) {
			r.fail("", fmt.Sprintf("%q", nonNil(*m.Cmd)), fmt.Sprintf("%q", nonNil(c.Cmd)))
		}
		add(r)
	}
	if m.Workdir != nil && *m.Workdir != "" {
		r := Result{File: file, Name: name("workdir")}
		if *m.Workdir != c.WorkingDir {
			r.fail("", fmt.Sprintf("%q", *m.Workdir), fmt.Sprintf("%q", c.WorkingDir))
		}
		add(r)
	}

	var volumes []string
	for v := range c.Volumes {
		volumes = append(volumes, v)
	}
	sort.Strings(volumes)
	for _, want := range m.Volumes {
		r := Result{File: file, Name: name("volumes[" + want + "]")}
		if _, ok := c.Volumes[want]; !ok {
			r.fail("", fmt.Sprintf("volume %s", want), "volumes "+list(volumes))
		}
		add(r)
	}
	for _, notWant := range m.UnmountedVolumes {
		r := Result{File: file, Name: name("unmountedVolumes[" + notWant + "]")}
		if _, ok := c.Volumes[notWant]; ok {
			r.fail("", fmt.Sprintf("no volume %s", notWant), "volumes "+list(volumes))
		}
		add(r)
	}

	if m.User != nil && *m.User != "" {
		r := Result{File: file, Name: name("user")}
		if *m.User != c.User {
			got := fmt.Sprintf("%q", c.User)
			if c.User == "" {
				got += " (unset: root)"
			}
			r.fail("", fmt.Sprintf("%q", *m.User), got)
		}
		add(r)
	}
	return results
}

// keyValues checks each wanted key/value (env var or label) against have,
// whose keys are listed in keys: one Result per want, named field[key]. A
// missing key fails with missing, formatted with the key and the list of keys.
func keyValues[T config.EnvVar | config.Label](file, field string, wants []T, have map[string]string, keys []string, missing string) []Result {
	var results []Result
	for _, w := range wants {
		want := config.EnvVar(w)
		r := Result{File: file, Name: field + "[" + want.Key + "]"}
		got, ok := have[want.Key]
		switch {
		case !ok:
			r.fail("", describe(want.Key, want.Value, want.IsRegex), fmt.Sprintf(missing, want.Key, list(keys)))
		default:
			if msg, bad := compare(want.Value, want.IsRegex, got); bad {
				r.fail("", describe(want.Key, want.Value, want.IsRegex), fmt.Sprintf("%s=%q%s", want.Key, got, msg))
			}
		}
		results = append(results, r)
	}
	return results
}

// Ports lists the image's exposed ports as container-structure-test's drivers
// report them: without the protocol ("8080/tcp" is "8080"), sorted.
func Ports(exposed map[string]struct{}) []string {
	var ports []string
	for p := range exposed {
		num, _, _ := strings.Cut(p, "/")
		ports = append(ports, num)
	}
	sort.Strings(ports)
	return slices.Compact(ports)
}

func protocolHint(want string) string {
	if strings.Contains(want, "/") {
		return " (ports are compared without their protocol, as container-structure-test does: write \"" + strings.SplitN(want, "/", 2)[0] + "\")"
	}
	return ""
}

// compare reports whether got differs from want (a regex when isRegex).
func compare(want string, isRegex bool, got string) (string, bool) {
	if !isRegex {
		return "", got != want
	}
	re, err := compile(want)
	if err != nil {
		return " (" + err.Error() + ")", true
	}
	return "", !re.MatchString(got)
}

func describe(key, value string, isRegex bool) string {
	if isRegex {
		return fmt.Sprintf("%s matching %q", key, value)
	}
	return fmt.Sprintf("%s=%q", key, value)
}

func list(items []string) string {
	if len(items) == 0 {
		return "none"
	}
	return "[" + strings.Join(items, " ") + "]"
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
