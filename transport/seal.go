package transport

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"os"
	"strconv"
	"strings"
	"sync"
)

// TagLen is the length of the authentication tag appended to a sealed frame:
// HMAC-SHA256 truncated to 128 bits (RFC 2104 section 5 allows truncation to
// half the hash length; 128 bits leaves a forger a 2^-128 chance per try).
// It keeps serial frames small.
const TagLen = 16

// MinKeyLen is the shortest shared key LoadKeyFile and NewKeyring accept.
const MinKeyLen = 16

// InsecureKeyID is the key id of an unauthenticated frame (no tag). Key
// files may not use it.
const InsecureKeyID = 0

// Keyring holds the shared keys a node accepts, by key id, and the id of the
// one it sends with. Several keys are accepted at once so a key can be
// rotated without a flag day: add the new key everywhere, then switch every
// node's send key, then remove the old key. A Keyring is immutable and safe
// for concurrent use.
type Keyring struct {
	keys   [256]*key
	sendID uint8
}

type key struct {
	secret []byte
	pool   sync.Pool // of hash.Hash (HMAC keyed with secret)
}

func (k *key) get() hash.Hash {
	if h, ok := k.pool.Get().(hash.Hash); ok {
		h.Reset()
		return h
	}
	return hmac.New(sha256.New, k.secret)
}

// NewKeyring builds a keyring from keys by id (1..255, each at least
// MinKeyLen bytes); sendID must be one of them. The secrets are copied.
func NewKeyring(keys map[uint8][]byte, sendID uint8) (*Keyring, error) {
	var errs []error
	r := &Keyring{sendID: sendID}
	for id, s := range keys {
		switch {
		case id == InsecureKeyID:
			errs = append(errs, fmt.Errorf("transport: keyring: key id 0 is reserved for unauthenticated frames"))
		case len(s) < MinKeyLen:
			errs = append(errs, fmt.Errorf("transport: keyring: key %d is %d bytes, need at least %d", id, len(s), MinKeyLen))
		default:
			r.keys[id] = &key{secret: bytes.Clone(s)}
		}
	}
	if len(errs) == 0 && r.keys[sendID] == nil {
		errs = append(errs, fmt.Errorf("transport: keyring: send key %d is not in the keyring", sendID))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return r, nil
}

// SendID is the id of the key Seal uses.
func (r *Keyring) SendID() uint8 { return r.sendID }

// IDs lists the accepted key ids in increasing order.
func (r *Keyring) IDs() []uint8 {
	var ids []uint8
	for i, k := range r.keys {
		if k != nil {
			ids = append(ids, uint8(i))
		}
	}
	return ids
}

// LoadKeyFile reads a key file. Format (documented in docs/design.md):
//
//	# comment; blank lines are ignored
//	<id> <hex secret> [send]
//
// id is 1..255; the secret is hex, at least MinKeyLen bytes (32 hex digits);
// ids are unique. With one key, it is the send key; with several, exactly one
// line must end in the word "send". Every problem is reported, each naming
// the file and line.
func LoadKeyFile(path string) (*Keyring, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("transport: key file: %w", err)
	}
	return parseKeyFile(path, data)
}

func parseKeyFile(path string, data []byte) (*Keyring, error) {
	var (
		errs  []error
		keys  = map[uint8][]byte{}
		sends []uint8
		line  int
	)
	bad := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("transport: key file %s line %d: "+format, append([]any{path, line}, a...)...))
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.Fields(text)
		if len(fields) < 2 || len(fields) > 3 {
			bad("want \"<id> <hex secret> [send]\", got %d fields", len(fields))
			continue
		}
		id, err := strconv.ParseUint(fields[0], 10, 8)
		if err != nil || id == 0 {
			bad("key id %q: want a number 1..255", fields[0])
			continue
		}
		secret, err := hex.DecodeString(fields[1])
		if err != nil {
			bad("key %d: secret is not hex: %v", id, err)
			continue
		}
		if len(secret) < MinKeyLen {
			bad("key %d: secret is %d bytes, need at least %d (%d hex digits)", id, len(secret), MinKeyLen, 2*MinKeyLen)
			continue
		}
		if _, dup := keys[uint8(id)]; dup {
			bad("key id %d appears twice", id)
			continue
		}
		if len(fields) == 3 {
			if fields[2] != "send" {
				bad("key %d: unknown word %q (only \"send\" may follow the secret)", id, fields[2])
				continue
			}
			sends = append(sends, uint8(id))
		}
		keys[uint8(id)] = secret
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, fmt.Errorf("transport: key file %s: %w", path, err))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	var send uint8
	switch {
	case len(keys) == 0:
		return nil, fmt.Errorf("transport: key file %s: no keys", path)
	case len(sends) > 1:
		return nil, fmt.Errorf("transport: key file %s: %d keys are marked send, want exactly one", path, len(sends))
	case len(sends) == 1:
		send = sends[0]
	case len(keys) == 1:
		for id := range keys {
			send = id
		}
	default:
		return nil, fmt.Errorf("transport: key file %s: %d keys and none marked send; mark the one to send with", path, len(keys))
	}
	return NewKeyring(keys, send)
}

// Sealer seals outgoing frames and opens incoming ones for one cluster. It
// is safe for concurrent use.
type Sealer struct {
	cluster  uint32
	ring     *Keyring
	insecure bool
}

// SealerOption configures a Sealer.
type SealerOption func(*Sealer)

// Unauthenticated makes the Sealer send frames without a tag (key id 0) and
// accept untagged frames. Anyone who can reach a path can then forge
// heartbeats: the caller must log this loudly. If the Sealer also has a
// keyring, tagged frames with a known key id are still verified, which lets a
// cluster move between the two modes node by node.
func Unauthenticated() SealerOption { return func(s *Sealer) { s.insecure = true } }

// NewSealer returns a Sealer for cluster using ring. ring may be nil only
// with the Unauthenticated option.
func NewSealer(cluster uint32, ring *Keyring, opts ...SealerOption) (*Sealer, error) {
	s := &Sealer{cluster: cluster, ring: ring}
	for _, o := range opts {
		o(s)
	}
	if ring == nil && !s.insecure {
		return nil, errors.New("transport: sealer: no keyring (authentication is required unless Unauthenticated is given)")
	}
	return s, nil
}

// Cluster is the cluster id this Sealer seals and accepts.
func (s *Sealer) Cluster() uint32 { return s.cluster }

// Insecure reports whether the Sealer sends unauthenticated frames.
func (s *Sealer) Insecure() bool { return s.insecure }

// Seal encodes f and appends the tag. It overwrites f.Cluster with the
// Sealer's cluster and f.KeyID with the send key id (InsecureKeyID when
// unauthenticated). Errors come from MarshalBinary.
func (s *Sealer) Seal(f Frame) ([]byte, error) {
	return s.AppendSeal(make([]byte, 0, 160), f)
}

// AppendSeal is Seal appending to dst.
func (s *Sealer) AppendSeal(dst []byte, f Frame) ([]byte, error) {
	f.Cluster = s.cluster
	f.KeyID = InsecureKeyID
	if !s.insecure {
		f.KeyID = s.ring.sendID
	}
	start := len(dst)
	b, err := f.AppendBinary(dst)
	if err != nil {
		return dst, err
	}
	if s.insecure {
		return b, nil
	}
	k := s.ring.keys[f.KeyID]
	h := k.get()
	h.Write(b[start:])
	var sum [sha256.Size]byte
	b = append(b, h.Sum(sum[:0])[:TagLen]...)
	k.pool.Put(h)
	return b, nil
}

// Open checks and decodes a sealed frame. In order: length and version
// (ErrMalformed, ErrVersion), cluster id (ErrCluster), key id and tag
// (ErrAuth), then the body (ErrMalformed). Replay is not checked here: see
// ReplayGuard. data is not retained.
func (s *Sealer) Open(data []byte) (Frame, error) {
	if len(data) < headerLen {
		return Frame{}, fmt.Errorf("%w: %d bytes, shorter than the %d byte header", ErrMalformed, len(data), headerLen)
	}
	if len(data) > MaxFrameLen+TagLen {
		return Frame{}, fmt.Errorf("%w: %d bytes, limit %d", ErrMalformed, len(data), MaxFrameLen+TagLen)
	}
	if data[0] != Version {
		return Frame{}, fmt.Errorf("%w: version %d, want %d", ErrVersion, data[0], Version)
	}
	if c := uint32(data[2])<<24 | uint32(data[3])<<16 | uint32(data[4])<<8 | uint32(data[5]); c != s.cluster {
		return Frame{}, fmt.Errorf("%w: cluster %d, want %d", ErrCluster, c, s.cluster)
	}
	id := data[6]
	body := data
	if id == InsecureKeyID {
		if !s.insecure {
			return Frame{}, fmt.Errorf("%w: unauthenticated frame (key id 0) and authentication is required", ErrAuth)
		}
	} else {
		var k *key
		if s.ring != nil {
			k = s.ring.keys[id]
		}
		if k == nil {
			return Frame{}, fmt.Errorf("%w: unknown key id %d", ErrAuth, id)
		}
		if len(data) < headerLen+TagLen {
			return Frame{}, fmt.Errorf("%w: %d bytes, too short for a tag", ErrMalformed, len(data))
		}
		body = data[:len(data)-TagLen]
		h := k.get()
		h.Write(body)
		var sum [sha256.Size]byte
		ok := hmac.Equal(h.Sum(sum[:0])[:TagLen], data[len(body):])
		k.pool.Put(h)
		if !ok {
			return Frame{}, fmt.Errorf("%w: bad tag (key id %d)", ErrAuth, id)
		}
	}
	var f Frame
	if err := f.UnmarshalBinary(body); err != nil {
		return Frame{}, err
	}
	return f, nil
}
