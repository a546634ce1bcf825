// Package specfile decodes the JSON spec files that the Starlark rules write
// (ctx.actions.write(json.encode(...))) for ocitool's build-time subcommands.
// Decoding is strict: unknown fields, wrong types and trailing data are
// errors that name the file and the field.
package specfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Decode reads the JSON object in the file at path into v (a pointer to a
// struct with json tags).
func Decode(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading spec: %w", err)
	}
	if err := DecodeBytes(data, v); err != nil {
		return fmt.Errorf("spec %s: %w", path, err)
	}
	return nil
}

// DecodeBytes decodes data strictly into v; errors do not name a file.
func DecodeBytes(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return describe(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("unexpected data after the JSON object")
	}
	return nil
}

func describe(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return fmt.Errorf("want a JSON object, got JSON %s", typeErr.Value)
		}
		return fmt.Errorf("field %q: want %s, got JSON %s", typeErr.Field, jsonKind(typeErr.Type.String()), typeErr.Value)
	case errors.As(err, &syntaxErr):
		return fmt.Errorf("invalid JSON at byte %d: %v", syntaxErr.Offset, syntaxErr)
	case errors.Is(err, io.EOF):
		return errors.New("empty file, want a JSON object")
	}
	// Unknown fields come back as `json: unknown field "x"`.
	msg := err.Error()
	if rest, ok := bytes.CutPrefix([]byte(msg), []byte("json: ")); ok {
		msg = string(rest)
	}
	return errors.New(msg)
}

func jsonKind(goType string) string {
	switch goType {
	case "string":
		return "a string"
	case "int", "int64", "int32", "uint32", "uint64":
		return "an integer"
	case "bool":
		return "true or false"
	case "[]string", "*[]string":
		return "a list of strings"
	case "map[string]string":
		return "an object of strings"
	}
	return goType
}

// KeyValue is one KEY=VALUE line of an env, labels or annotations file.
type KeyValue struct{ Key, Value string }

// ReadKeyValues reads a file of KEY=VALUE lines, in order. The value is everything
// after the first "="; empty lines are skipped. A line without "=" or with
// an empty key, a key with whitespace or control characters (an env key
// "A B" cannot be set by a shell), a NUL byte anywhere (the C library would
// cut the value there) or invalid UTF-8 (the image config is JSON) is an
// error naming the file and line.
func ReadKeyValues(field, path string) ([]KeyValue, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", field, err)
	}
	var out []KeyValue
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%q: %s:%d: %q is not KEY=VALUE", field, path, i+1, line)
		}
		if err := checkKeyValue(k, v); err != nil {
			return nil, fmt.Errorf("%q: %s:%d: %v", field, path, i+1, err)
		}
		out = append(out, KeyValue{Key: k, Value: v})
	}
	return out, nil
}

// checkKeyValue refuses what an image config cannot carry as written.
func checkKeyValue(k, v string) error {
	if !utf8.ValidString(k) || !utf8.ValidString(v) {
		return fmt.Errorf("key %q: not valid UTF-8", k)
	}
	if strings.ContainsRune(k, 0) || strings.ContainsRune(v, 0) {
		return fmt.Errorf("key %q: holds a NUL byte", k)
	}
	for _, r := range k {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return fmt.Errorf("key %q holds whitespace or a control character", k)
		}
	}
	return nil
}
