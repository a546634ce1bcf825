// Package passwd adds the image's non-root user: it validates the user name,
// uid and gid the build was given (via --define or defaults), merges a
// passwd and a group entry into the base image's /etc/passwd and /etc/group
// and writes them, with the user's home directory, as a deterministic layer.
package passwd

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/cat-server/cat-server/tools/oci/atomicfile"
	"github.com/cat-server/cat-server/tools/oci/layer"
	"github.com/cat-server/cat-server/tools/oci/ocilayout"
)

// Where a value came from.
const (
	SourceDefault = "default"
	SourceDefine  = "--define"
)

// MaxID is the largest uid/gid accepted: 2^31-2, since 2^31-1 and above
// are not portable (-1 as an unsigned 32-bit value means "no change").
const MaxID = 2147483646

// Value is a setting and where it came from.
type Value struct {
	Key    string // "user", "uid" or "gid"
	Value  string // exactly as typed
	Source string // SourceDefault or SourceDefine
}

// Label names the setting the way the user gave it, for error messages:
// "--define uid=abc" or "uid=abc (default)".
func (v Value) Label() string {
	if v.Source == SourceDefault {
		return fmt.Sprintf("%s=%s (default)", v.Key, v.Value)
	}
	return fmt.Sprintf("--define %s=%s", v.Key, v.Value)
}

func (v Value) errorf(format string, args ...any) error {
	return fmt.Errorf("%s: %s", v.Label(), fmt.Sprintf(format, args...))
}

var nameRE = regexp.MustCompile(`^[a-z_][a-z0-9_-]*[$]?$`)

// CheckName validates a user name by the rule useradd applies by default.
func CheckName(v Value) error {
	if !nameRE.MatchString(v.Value) || len(v.Value) > 32 {
		return v.errorf("%s name must match ^[a-z_][a-z0-9_-]*[$]?$ and be at most 32 characters (the rule useradd applies)", v.Key)
	}
	return nil
}

// ParseID validates a uid or gid: a decimal integer in 1..MaxID written
// without sign, spaces or leading zeros.
func ParseID(v Value) (int, error) {
	s := v.Value
	if s == "0" {
		if v.Key == "gid" {
			return 0, v.errorf("gid 0 is the root group; the image must run with a non-root group")
		}
		return 0, v.errorf("%s 0 is root; the image must run as a non-root user", v.Key)
	}
	valid := s != "" && len(s) <= 10
	for _, c := range s {
		valid = valid && c >= '0' && c <= '9'
	}
	if !valid {
		return 0, v.errorf("%s must be an integer in 1..%d", v.Key, MaxID)
	}
	if s[0] == '0' {
		return 0, v.errorf("%s must be an integer in 1..%d, written without leading zeros", v.Key, MaxID)
	}
	n, err := strconv.Atoi(s)
	if err != nil || n > MaxID {
		return 0, v.errorf("%s must be an integer in 1..%d", v.Key, MaxID)
	}
	return n, nil
}

// User is a validated user.
type User struct {
	Name     string
	UID, GID int
	// The settings, for messages.
	NameValue, UIDValue, GIDValue Value
}

// NewUser validates the three settings.
func NewUser(name, uid, gid Value) (User, error) {
	u := User{Name: name.Value, NameValue: name, UIDValue: uid, GIDValue: gid}
	for _, v := range []Value{name, uid, gid} {
		if v.Source != SourceDefault && v.Source != SourceDefine {
			return User{}, fmt.Errorf("the source of %s is %q, want %q or %q", v.Key, v.Source, SourceDefault, SourceDefine)
		}
	}
	var errs []error
	if err := CheckName(name); err != nil {
		errs = append(errs, err)
	}
	var err error
	if u.UID, err = ParseID(uid); err != nil {
		errs = append(errs, err)
	}
	if u.GID, err = ParseID(gid); err != nil {
		errs = append(errs, err)
	}
	return u, errors.Join(errs...)
}

// dbEntry is a parsed line of /etc/passwd or /etc/group.
type dbEntry struct {
	line string
	name string
	id   int // uid (passwd) or gid (group)
	gid  int // passwd only: the primary gid, -1 if unparsable
}

// parseDB parses the lines of a passwd or group file; lines that are not
// entries (blank, comments, NIS +/- lines, malformed) are skipped.
func parseDB(data []byte, passwd bool) []dbEntry {
	var out []dbEntry
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Split(line, ":")
		if len(f) < 3 || f[0] == "" || strings.HasPrefix(f[0], "#") || strings.HasPrefix(f[0], "+") || strings.HasPrefix(f[0], "-") {
			continue
		}
		id, err := strconv.Atoi(f[2])
		if err != nil {
			continue
		}
		e := dbEntry{line: line, name: f[0], id: id, gid: -1}
		if passwd && len(f) > 3 {
			if g, err := strconv.Atoi(f[3]); err == nil {
				e.gid = g
			}
		}
		out = append(out, e)
	}
	return out
}

// Merge returns the base's /etc/passwd and /etc/group with the user's
// entries appended (NAME:x:UID:GID::/home/NAME:/sbin/nologin and
// NAME:x:GID:). Base entries are kept byte for byte and in order. An entry
// identical in name and id is reused instead of duplicated; clashes are
// errors naming the setting and the base entry.
func Merge(basePasswd, baseGroup []byte, u User) (passwd, group []byte, err error) {
	addPasswd := true
	for _, e := range parseDB(basePasswd, true) {
		if e.name != u.Name {
			continue
		}
		if e.id != u.UID {
			return nil, nil, u.NameValue.errorf("user %q already exists with uid %d in the base image's /etc/passwd (%s); choose another user name", u.Name, e.id, e.line)
		}
		if e.gid != u.GID {
			return nil, nil, u.GIDValue.errorf("user %q already exists in the base image's /etc/passwd with primary gid %s, not %d (%s); choose gid %s or another user name", u.Name, gidField(e), u.GID, e.line, gidField(e))
		}
		addPasswd = false
	}
	for _, e := range parseDB(basePasswd, true) {
		if e.id == u.UID && e.name != u.Name {
			return nil, nil, u.UIDValue.errorf("uid %d is already user %q in the base image's /etc/passwd; choose another uid", u.UID, e.name)
		}
	}
	addGroup := true
	for _, e := range parseDB(baseGroup, false) {
		if e.name != u.Name {
			continue
		}
		if e.id != u.GID {
			return nil, nil, u.GIDValue.errorf("group %q (named like the user) already exists with gid %d in the base image's /etc/group (%s); choose gid %d or another user name", u.Name, e.id, e.line, e.id)
		}
		addGroup = false
	}
	for _, e := range parseDB(baseGroup, false) {
		if e.id == u.GID && e.name != u.Name {
			return nil, nil, u.GIDValue.errorf("gid %d is already group %q in the base image's /etc/group; choose another gid", u.GID, e.name)
		}
	}
	passwd = appendLine(basePasswd, addPasswd, fmt.Sprintf("%s:x:%d:%d::/home/%s:/sbin/nologin", u.Name, u.UID, u.GID, u.Name))
	group = appendLine(baseGroup, addGroup, fmt.Sprintf("%s:x:%d:", u.Name, u.GID))
	return passwd, group, nil
}

func gidField(e dbEntry) string {
	if e.gid < 0 {
		return "(none)"
	}
	return strconv.Itoa(e.gid)
}

func appendLine(base []byte, add bool, line string) []byte {
	out := append([]byte(nil), base...)
	if !add {
		return out
	}
	if len(out) > 0 && out[len(out)-1] != '\n' {
		out = append(out, '\n')
	}
	return append(append(out, line...), '\n')
}

// BaseFiles returns /etc/passwd and /etc/group of img's merged filesystem
// (whiteouts honoured); a missing file is returned as nil.
func BaseFiles(img v1.Image) (passwd, group []byte, err error) {
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return passwd, group, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("reading the base image's filesystem: %w", err)
		}
		p := path.Clean("/" + hdr.Name)
		if p != "/etc/passwd" && p != "/etc/group" {
			continue
		}
		if hdr.Typeflag != tar.TypeReg {
			return nil, nil, fmt.Errorf("the base image's %s is not a regular file (tar type %q); cannot merge into it", p, hdr.Typeflag)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return nil, nil, fmt.Errorf("reading the base image's %s: %w", p, err)
		}
		if p == "/etc/passwd" {
			passwd = data
		} else {
			group = data
		}
	}
}

// Entries returns the layer entries: /etc/passwd and /etc/group (0644,
// root) and /home/NAME (0755, owned by the user).
func Entries(u User, passwd, group []byte) []layer.Entry {
	return []layer.Entry{
		{Type: layer.File, Dest: "/etc/passwd", Mode: 0o644, Data: passwd},
		{Type: layer.File, Dest: "/etc/group", Mode: 0o644, Data: group},
		{Type: layer.Dir, Dest: "/home/" + u.Name, Mode: 0o755, UID: u.UID, GID: u.GID},
	}
}

// Info is the human-readable summary of the settings, one per line.
func Info(u User) string {
	var b bytes.Buffer
	for _, v := range []Value{u.NameValue, u.UIDValue, u.GIDValue} {
		fmt.Fprintf(&b, "%s=%s (%s)\n", v.Key, v.Value, v.Source)
	}
	return b.String()
}

// Spec is the JSON spec of `ocitool passwd`.
type Spec struct {
	// Base is an OCI layout directory; empty means no base (empty files).
	Base    string  `json:"base"`
	User    string  `json:"user"`
	UID     string  `json:"uid"`
	GID     string  `json:"gid"`
	Sources Sources `json:"sources"`
	Out     string  `json:"out"`
	InfoOut string  `json:"info_out"`
}

// Sources says where each setting came from: "default" or "--define".
type Sources struct {
	User string `json:"user"`
	UID  string `json:"uid"`
	GID  string `json:"gid"`
}

// Build validates the settings, merges them into the base and writes the
// layer (gzip) and the info file.
func Build(spec Spec) error {
	if spec.Out == "" {
		return errors.New(`"out" is required`)
	}
	if spec.InfoOut == "" {
		return errors.New(`"info_out" is required`)
	}
	for _, s := range []struct{ field, v string }{{"user", spec.Sources.User}, {"uid", spec.Sources.UID}, {"gid", spec.Sources.GID}} {
		if s.v != SourceDefault && s.v != SourceDefine {
			return fmt.Errorf(`"sources"."%s": %q is not %q or %q`, s.field, s.v, SourceDefault, SourceDefine)
		}
	}
	u, err := NewUser(
		Value{Key: "user", Value: spec.User, Source: spec.Sources.User},
		Value{Key: "uid", Value: spec.UID, Source: spec.Sources.UID},
		Value{Key: "gid", Value: spec.GID, Source: spec.Sources.GID},
	)
	if err != nil {
		return err
	}
	var basePasswd, baseGroup []byte
	if spec.Base != "" {
		img, err := ocilayout.Read(spec.Base)
		if err != nil {
			return fmt.Errorf(`"base": %w`, err)
		}
		if basePasswd, baseGroup, err = BaseFiles(img); err != nil {
			return err
		}
	}
	passwd, group, err := Merge(basePasswd, baseGroup, u)
	if err != nil {
		return err
	}
	if err := layer.WriteFile(spec.Out, Entries(u, passwd, group), layer.Gzip); err != nil {
		return fmt.Errorf("passwd layer %s: %w", spec.Out, err)
	}
	return atomicfile.WriteBytes(spec.InfoOut, 0o644, []byte(Info(u)))
}
