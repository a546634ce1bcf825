package passwd

import (
	"bytes"
	"strconv"
	"testing"
)

// FuzzMerge feeds arbitrary base passwd/group files and users to Merge. It
// must not panic; when it succeeds, the base is kept byte for byte as a
// prefix, the result parses, and it holds the user exactly once with the
// asked ids.
func FuzzMerge(f *testing.F) {
	f.Add([]byte(basePasswd), []byte(baseGroup), "app", 1001, 1001)
	f.Add([]byte(basePasswd), []byte(baseGroup), "existing", 1000, 1000)
	f.Add([]byte("root:x:0:0:root:/root:/bin/sh"), []byte("root:x:0:"), "app$", 5, 6)
	f.Add([]byte("app:x:1000:1000::/home/app:/sbin/nologin\r\n"), []byte{}, "app", 1000, 1000)
	f.Add([]byte("+app\n-nis\n#c\n\n"), []byte("app:x:1000:\x00\n"), "app", 1000, 1000)
	f.Add([]byte("a:x:4294967295:1:::\n"), []byte("a:x:+1:\n"), "a", 1, 1)
	f.Fuzz(func(t *testing.T, basePw, baseGr []byte, name string, uid, gid int) {
		u, err := NewUser(
			Value{Key: "user", Value: name, Source: SourceDefine},
			Value{Key: "uid", Value: strconv.Itoa(uid), Source: SourceDefine},
			Value{Key: "gid", Value: strconv.Itoa(gid), Source: SourceDefine},
		)
		if err != nil {
			return
		}
		pw, gr, err := Merge(basePw, baseGr, u)
		if err != nil {
			if bytes.ContainsRune([]byte(err.Error()), '\n') {
				t.Errorf("error spans lines: %q", err)
			}
			return
		}
		if !bytes.HasPrefix(pw, basePw) || !bytes.HasPrefix(gr, baseGr) {
			t.Fatalf("the base is not kept as a prefix")
		}
		users, err := ParseDB("merged passwd", pw, true)
		if err != nil {
			t.Fatalf("merged passwd does not parse: %v\n%q", err, pw)
		}
		groups, err := ParseDB("merged group", gr, false)
		if err != nil {
			t.Fatalf("merged group does not parse: %v\n%q", err, gr)
		}
		n := 0
		for _, e := range users {
			if e.name == u.Name {
				n++
				if e.id != u.UID || e.gid != u.GID {
					t.Errorf("user %q has %d:%d, want %d:%d", e.name, e.id, e.gid, u.UID, u.GID)
				}
			} else if e.id == u.UID {
				t.Errorf("uid %d is also user %q", u.UID, e.name)
			}
		}
		if n != 1 {
			t.Errorf("user %q appears %d times", u.Name, n)
		}
		for _, e := range groups {
			if e.id == u.GID && e.name != u.Name {
				t.Errorf("gid %d is also group %q", u.GID, e.name)
			}
		}
	})
}
