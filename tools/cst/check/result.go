// Package check runs the metadata, file and image checks of the cst runner
// against an image and reports each as a Result.
package check

import (
	"fmt"
	"strings"
)

// Failure is one way a check failed.
type Failure struct {
	Field    string // the YAML field that failed, e.g. "user", "permissions"; may be empty
	Expected string // rendered expected value
	Got      string // rendered actual value
	Message  string // used instead of expected/got when set
}

func (f Failure) String() string {
	var parts []string
	if f.Field != "" {
		parts = append(parts, f.Field)
	}
	if f.Message != "" {
		parts = append(parts, f.Message)
	} else {
		parts = append(parts, fmt.Sprintf("expected %s, got %s", f.Expected, f.Got))
	}
	return strings.Join(parts, ": ")
}

// Result is the outcome of one check: a test of a config file, or one field
// of a metadataTest or of the image checks.
type Result struct {
	File     string // the config file as named on the command line
	Name     string // test name, or e.g. "metadataTest: user"
	Detail   string // optional, shown on the PASS line (e.g. measured sizes)
	Failures []Failure
}

// Passed reports whether the check passed.
func (r Result) Passed() bool { return len(r.Failures) == 0 }

// Lines renders the result: one PASS line, or one FAIL line per failure.
func (r Result) Lines() []string {
	if r.Passed() {
		s := fmt.Sprintf("PASS %s: %s", r.File, r.Name)
		if r.Detail != "" {
			s += ": " + r.Detail
		}
		return []string{s}
	}
	lines := make([]string, 0, len(r.Failures))
	for _, f := range r.Failures {
		lines = append(lines, fmt.Sprintf("FAIL %s: %s: %s", r.File, r.Name, f))
	}
	return lines
}

// Summary is the last output line: "N passed, M failed".
func Summary(results []Result) string {
	passed, failed := 0, 0
	for _, r := range results {
		if r.Passed() {
			passed++
		} else {
			failed++
		}
	}
	return fmt.Sprintf("%d passed, %d failed", passed, failed)
}

// fail appends a failure to r.
func (r *Result) fail(field, expected, got string) {
	r.Failures = append(r.Failures, Failure{Field: field, Expected: expected, Got: got})
}

// failMsg appends a free-form failure to r.
func (r *Result) failMsg(field, format string, args ...any) {
	r.Failures = append(r.Failures, Failure{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Fail returns a failed Result with a single free-form failure.
func Fail(file, name, field, format string, args ...any) Result {
	r := Result{File: file, Name: name}
	r.failMsg(field, format, args...)
	return r
}

// MatchAll checks output against expected and excluded regular expressions
// the way CST does (regexp.MatchString on the whole text) and returns the
// failures, naming expectedField/excludedField. what names the text in
// messages ("stdout", "the content of /etc/passwd").
func MatchAll(expectedField string, expected []string, excludedField string, excluded []string, what, text string) []Failure {
	var fs []Failure
	for i, re := range expected {
		field := fmt.Sprintf("%s[%d]", expectedField, i)
		ok, err := matchString(re, text)
		if err != nil {
			fs = append(fs, Failure{Field: field, Message: err.Error()})
		} else if !ok {
			fs = append(fs, Failure{Field: field, Expected: fmt.Sprintf("%s to match %q", what, re), Got: "no match in " + Excerpt(text)})
		}
	}
	for i, re := range excluded {
		field := fmt.Sprintf("%s[%d]", excludedField, i)
		ok, err := matchString(re, text)
		if err != nil {
			fs = append(fs, Failure{Field: field, Message: err.Error()})
		} else if ok {
			fs = append(fs, Failure{Field: field, Expected: fmt.Sprintf("%s not to match %q", what, re), Got: "a match in " + Excerpt(text)})
		}
	}
	return fs
}

func matchString(re, text string) (bool, error) {
	c, err := compile(re)
	if err != nil {
		return false, err
	}
	return c.MatchString(text), nil
}

// Excerpt quotes text, shortened to keep failure lines readable.
func Excerpt(text string) string {
	const max = 300
	if len(text) <= max {
		return fmt.Sprintf("%q", text)
	}
	return fmt.Sprintf("%q... (%d bytes)", text[:max], len(text))
}
