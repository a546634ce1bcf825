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
	line   string
	lineNo int
	name   string
	id     int // uid (passwd) or gid (group)
	gid    int // passwd only: the primary gid
}

// ParseDB parses a passwd (passwd = true) or group file named file (for
// messages). Blank lines, comments (#) and NIS compat lines (+ or -) are
// kept but are not entries, as glibc reads them. Any other line must be an
// entry of the right number of fields (7 for passwd, 4 for group) with a
// non-empty name and a decimal id in 0..4294967294, without NUL bytes or
// carriage returns (CRLF line endings); a name may appear once. Anything
// else is an error naming the file and the line number.
func ParseDB(file string, data []byte, passwd bool) ([]dbEntry, error) {
	want, shape, idName := 4, "name:password:gid:members", "gid"
	if passwd {
		want, shape, idName = 7, "name:password:uid:gid:gecos:home:shell", "uid"
	}
	var out []dbEntry
	seen := map[string]int{}
	lines := strings.Split(string(data), "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	for i, line := range lines {
		n := i + 1
		errorf := func(format string, args ...any) error {
			return fmt.Errorf("%s line %d: %s", file, n, fmt.Sprintf(format, args...))
		}
		switch {
		case strings.ContainsRune(line, 0):
			return nil, errorf("holds a NUL byte")
		case strings.ContainsRune(line, '\r'):
			return nil, errorf("holds a carriage return (CRLF line endings are not read by the C library)")
		case strings.TrimSpace(line) == "", strings.HasPrefix(line, "#"), strings.HasPrefix(line, "+"), strings.HasPrefix(line, "-"):
			continue
		}
		f := strings.Split(line, ":")
		if len(f) != want {
			return nil, errorf("has %d fields, want %d (%s)", len(f), want, shape)
		}
		if f[0] == "" {
			return nil, errorf("has an empty name")
		}
		id, err := parseDBID(f[2])
		if err != nil {
			return nil, errorf("%s %q is not a decimal number in 0..4294967294", idName, f[2])
		}
		e := dbEntry{line: line, lineNo: n, name: f[0], id: id, gid: -1}
		if passwd {
			if e.gid, err = parseDBID(f[3]); err != nil {
				return nil, errorf("gid %q is not a decimal number in 0..4294967294", f[3])
			}
		}
		if prev, ok := seen[e.name]; ok {
			return nil, errorf("%q is already on line %d", e.name, prev)
		}
		seen[e.name] = n
		out = append(out, e)
	}
	return out, nil
}

func parseDBID(s string) (int, error) {
	if s == "" || s[0] == '+' {
		return 0, errors.New("not a number")
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n == 1<<32-1 {
		return 0, errors.New("not a number")
	}
	return int(n), nil
}

// Merge returns the base's /etc/passwd and /etc/group with the user's
// entries appended (NAME:x:UID:GID::/home/NAME:/sbin/nologin and
// NAME:x:GID:). Base entries are kept byte for byte and in order. An entry
// identical in name and id is reused instead of duplicated; clashes are
// errors naming the setting and the base entry.
func Merge(basePasswd, baseGroup []byte, u User) (passwd, group []byte, err error) {
	users, err := ParseDB("the base image's /etc/passwd", basePasswd, true)
	if err != nil {
		return nil, nil, err
	}
	groups, err := ParseDB("the base image's /etc/group", baseGroup, false)
	if err != nil {
		return nil, nil, err
	}
	for _, f := range []struct {
		file string
		data []byte
	}{{"/etc/passwd", basePasswd}, {"/etc/group", baseGroup}} {
		if n, line := nisLine(f.data, u.Name); n > 0 {
			return nil, nil, u.NameValue.errorf("%q is already named in the base image's %s line %d (%s), a NIS compat entry; choose another user name", u.Name, f.file, n, line)
		}
	}
	addPasswd := true
	for _, e := range users {
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
	for _, e := range users {
		if e.id == u.UID && e.name != u.Name {
			return nil, nil, u.UIDValue.errorf("uid %d is already user %q in the base image's /etc/passwd; choose another uid", u.UID, e.name)
		}
	}
	addGroup := true
	for _, e := range groups {
		if e.name != u.Name {
			continue
		}
		if e.id != u.GID {
			return nil, nil, u.GIDValue.errorf("group %q (named like the user) already exists with gid %d in the base image's /etc/group (%s); choose gid %d or another user name", u.Name, e.id, e.line, e.id)
		}
		addGroup = false
	}
	for _, e := range groups {
		if e.id == u.GID && e.name != u.Name {
			return nil, nil, u.GIDValue.errorf("gid %d is already group %q in the base image's /etc/group; choose another gid", u.GID, e.name)
		}
	}
	passwd = appendLine(basePasswd, addPasswd, fmt.Sprintf("%s:x:%d:%d::/home/%s:/sbin/nologin", u.Name, u.UID, u.GID, u.Name))
	group = appendLine(baseGroup, addGroup, fmt.Sprintf("%s:x:%d:", u.Name, u.GID))
	return passwd, group, nil
}

// nisLine returns the number and text of the first NIS compat line (+name,
// -name) of data that names name, or 0.
func nisLine(data []byte, name string) (int, string) {
	for i, line := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(line, "+") && !strings.HasPrefix(line, "-") {
			continue
		}
		n, _, _ := strings.Cut(line[1:], ":")
		if n == name {
			return i + 1, line
		}
	}
	return 0, ""
}

func gidField(e dbEntry) string { return strconv.Itoa(e.gid) }

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

// Caps on what BaseFiles reads from a base image (untrusted input): each of
// /etc/passwd and /etc/group is read whole, so at most MaxDBBytes each; the
// layers are streamed, at most MaxEntries tar entries in all. Memory stays
// within 2*MaxDBBytes plus the layout reader's bound (see ocilayout).
const (
	MaxDBBytes = 4 << 20
	MaxEntries = 1 << 20
)

// BaseFiles returns /etc/passwd and /etc/group of img's merged filesystem,
// as a container runtime would see them: layers from the top down,
// whiteouts and opaque directories honoured. A file absent from the image is
// returned as nil; any error reading a layer is an error, never "no file".
// An /etc that is a symbolic link is refused: the layer written on top would
// replace it with a directory and hide the base's /etc.
func BaseFiles(img v1.Image) (passwd, group []byte, err error) {
	layers, err := img.Layers()
	if err != nil {
		return nil, nil, fmt.Errorf("reading the base image's layers: %w", err)
	}
	const pw, gr = "/etc/passwd", "/etc/group"
	found := map[string][]byte{}
	done := map[string]bool{}
	etcHidden := false // an upper layer hides the lower layers' /etc
	etcDirAbove := false
	entries := 0
	for i := len(layers) - 1; i >= 0 && !etcHidden && !(done[pw] && done[gr]); i-- {
		where := fmt.Sprintf("layer %d of %d", i+1, len(layers))
		if d, err := layers[i].Digest(); err == nil {
			where += " (" + d.String() + ")"
		}
		rc, err := layers[i].Uncompressed()
		if err != nil {
			return nil, nil, fmt.Errorf("reading the base image's %s: %w", where, err)
		}
		cand := map[string][]byte{}
		whiteout := map[string]bool{}
		hideBelow := false
		tr := tar.NewReader(rc)
		for {
			hdr, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				rc.Close()
				return nil, nil, fmt.Errorf("reading the base image's %s: %w", where, err)
			}
			if entries++; entries > MaxEntries {
				rc.Close()
				return nil, nil, fmt.Errorf("the base image has more than %d files (at %s); refusing to read further", MaxEntries, where)
			}
			p := path.Clean("/" + hdr.Name)
			switch p {
			case "/etc":
				switch {
				case hdr.Typeflag == tar.TypeDir:
					etcDirAbove = true
				case etcDirAbove:
					// A directory above replaces this non-directory.
					hideBelow = true
				case hdr.Typeflag == tar.TypeSymlink:
					rc.Close()
					return nil, nil, fmt.Errorf("the base image's /etc is a symbolic link to %q (%s); the passwd layer would replace it with a directory and hide the base's /etc: use a base whose /etc is a directory", hdr.Linkname, where)
				default:
					rc.Close()
					return nil, nil, fmt.Errorf("the base image's /etc is not a directory (tar type %q, %s)", hdr.Typeflag, where)
				}
			case "/.wh.etc", "/etc/.wh..wh..opq":
				hideBelow = true
			case "/etc/.wh.passwd", "/etc/.wh.group":
				whiteout["/etc/"+strings.TrimPrefix(path.Base(p), ".wh.")] = true
			case pw, gr:
				if done[p] {
					continue
				}
				if hdr.Typeflag != tar.TypeReg {
					rc.Close()
					return nil, nil, fmt.Errorf("the base image's %s is not a regular file (tar type %q, %s); cannot merge into it", p, hdr.Typeflag, where)
				}
				if hdr.Size > MaxDBBytes {
					rc.Close()
					return nil, nil, fmt.Errorf("the base image's %s is %d bytes (%s), more than the %d-byte limit", p, hdr.Size, where, MaxDBBytes)
				}
				data, err := io.ReadAll(io.LimitReader(tr, MaxDBBytes))
				if err != nil {
					rc.Close()
					return nil, nil, fmt.Errorf("reading the base image's %s (%s): %w", p, where, err)
				}
				cand[p] = data
			}
		}
		if err := rc.Close(); err != nil {
			return nil, nil, fmt.Errorf("reading the base image's %s: %w", where, err)
		}
		for _, p := range []string{pw, gr} {
			if done[p] {
				continue
			}
			if data, ok := cand[p]; ok {
				found[p], done[p] = data, true
			} else if whiteout[p] {
				done[p] = true
			}
		}
		etcHidden = hideBelow
	}
	return found[pw], found[gr], nil
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
