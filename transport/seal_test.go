package transport

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var (
	key1 = bytes.Repeat([]byte{0x11}, 32)
	key2 = bytes.Repeat([]byte{0x22}, 16)
)

func newTestSealer(t testing.TB, cluster uint32) *Sealer {
	t.Helper()
	r, err := NewKeyring(map[uint8][]byte{1: key1, 2: key2}, 1)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSealer(cluster, r)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSealOpen(t *testing.T) {
	s := newTestSealer(t, 7)
	f := sampleFrame()
	f.Cluster, f.KeyID = 99, 99 // overwritten by Seal
	b, err := s.Seal(f)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Open(b)
	if err != nil {
		t.Fatal(err)
	}
	want := sampleFrame()
	want.Cluster, want.KeyID = 7, 1
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestOpenRejects(t *testing.T) {
	s := newTestSealer(t, 7)
	good, err := s.Seal(sampleFrame())
	if err != nil {
		t.Fatal(err)
	}
	other := newTestSealer(t, 8)
	otherCluster, _ := other.Seal(sampleFrame())
	wrongKey, _ := NewKeyring(map[uint8][]byte{1: bytes.Repeat([]byte{0x33}, 32)}, 1)
	forger, _ := NewSealer(7, wrongKey)
	forged, _ := forger.Seal(sampleFrame())
	unknownKey, _ := NewKeyring(map[uint8][]byte{9: key1}, 9)
	u, _ := NewSealer(7, unknownKey)
	unknown, _ := u.Seal(sampleFrame())
	insec, _ := NewSealer(7, nil, Unauthenticated())
	untagged, _ := insec.Seal(sampleFrame())

	flip := func(i int) []byte { b := bytes.Clone(good); b[i] ^= 1; return b }
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrMalformed},
		{"header only", good[:headerLen], ErrMalformed},
		{"truncated", good[:len(good)-1], ErrAuth},
		{"truncated to half", good[:len(good)/2], ErrAuth},
		{"flipped body bit", flip(10), ErrAuth},
		{"flipped tag bit", flip(len(good) - 1), ErrAuth},
		{"extended", append(bytes.Clone(good), 0), ErrAuth},
		{"other cluster", otherCluster, ErrCluster},
		{"wrong key", forged, ErrAuth},
		{"unknown key id", unknown, ErrAuth},
		{"unauthenticated", untagged, ErrAuth},
		{"version", flip(0), ErrVersion},
		{"oversize", make([]byte, MaxFrameLen+TagLen+1), ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Open(tt.b)
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestRotation(t *testing.T) {
	old, _ := NewKeyring(map[uint8][]byte{1: key1}, 1)
	both, _ := NewKeyring(map[uint8][]byte{1: key1, 2: key2}, 2)
	newOnly, _ := NewKeyring(map[uint8][]byte{2: key2}, 2)
	sOld, _ := NewSealer(1, old)
	sBoth, _ := NewSealer(1, both)
	sNew, _ := NewSealer(1, newOnly)
	fromOld, _ := sOld.Seal(sampleFrame())
	fromBoth, _ := sBoth.Seal(sampleFrame())
	if _, err := sBoth.Open(fromOld); err != nil {
		t.Errorf("node with both keys rejects old key: %v", err)
	}
	if _, err := sNew.Open(fromBoth); err != nil {
		t.Errorf("node with the new key rejects the new send key: %v", err)
	}
	if _, err := sNew.Open(fromOld); !errors.Is(err, ErrAuth) {
		t.Errorf("old key after removal: err = %v, want ErrAuth", err)
	}
}

func TestUnauthenticatedMode(t *testing.T) {
	if _, err := NewSealer(1, nil); err == nil {
		t.Fatal("NewSealer without keyring and without Unauthenticated succeeded")
	}
	ring, _ := NewKeyring(map[uint8][]byte{1: key1}, 1)
	insec, _ := NewSealer(1, ring, Unauthenticated())
	b, err := insec.Seal(sampleFrame())
	if err != nil {
		t.Fatal(err)
	}
	if b[6] != InsecureKeyID {
		t.Errorf("key id = %d, want 0", b[6])
	}
	if _, err := insec.Open(b); err != nil {
		t.Errorf("insecure Open of untagged frame: %v", err)
	}
	secure, _ := NewSealer(1, ring)
	tagged, _ := secure.Seal(sampleFrame())
	if _, err := insec.Open(tagged); err != nil {
		t.Errorf("insecure Open of tagged frame with known key: %v", err)
	}
	tagged[10] ^= 1
	if _, err := insec.Open(tagged); !errors.Is(err, ErrAuth) {
		t.Errorf("insecure Open of forged tagged frame: err = %v, want ErrAuth", err)
	}
}

func TestLoadKeyFile(t *testing.T) {
	hex32 := strings.Repeat("ab", 16)
	hex16 := strings.Repeat("cd", 16)
	tests := []struct {
		name    string
		file    string
		send    uint8
		ids     []uint8
		wantErr []string
	}{
		{"single", "# test\n\n1 " + hex32 + "\n", 1, []uint8{1}, nil},
		{"two marked", "1 " + hex32 + "\n 2 " + hex16 + " send \n", 2, []uint8{1, 2}, nil},
		{"two unmarked", "1 " + hex32 + "\n2 " + hex16 + "\n", 0, nil, []string{"none marked send"}},
		{"two marked send", "1 " + hex32 + " send\n2 " + hex16 + " send\n", 0, nil, []string{"2 keys are marked send"}},
		{"empty", "# nothing\n", 0, nil, []string{"no keys"}},
		{"errors on every line", "0 " + hex32 + "\nx " + hex32 + "\n3 abcd\n4 zz" + hex32 + "\n5\n6 " + hex32 + " sned\n",
			0, nil, []string{"line 1: key id \"0\"", "line 2: key id \"x\"", "line 3: key 3: secret is 2 bytes",
				"line 4: key 4: secret is not hex", "line 5: want", "line 6: key 6: unknown word \"sned\""}},
		{"duplicate", "1 " + hex32 + "\n1 " + hex16 + "\n", 0, nil, []string{"line 2: key id 1 appears twice"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "keys")
			if err := os.WriteFile(p, []byte(tt.file), 0o600); err != nil {
				t.Fatal(err)
			}
			r, err := LoadKeyFile(p)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatal("no error")
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) || !strings.Contains(err.Error(), p) {
						t.Errorf("error %q does not contain %q and the file name", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.SendID() != tt.send {
				t.Errorf("SendID = %d, want %d", r.SendID(), tt.send)
			}
			if diff := cmp.Diff(tt.ids, r.IDs()); diff != "" {
				t.Errorf("IDs (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := LoadKeyFile(filepath.Join(t.TempDir(), "missing")); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing file: err = %v", err)
	}
}
