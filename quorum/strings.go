package quorum

import "fmt"

// String returns the original Failover's name for the state.
func (s State) String() string {
	switch s {
	case StateRecover:
		return "recover"
	case StateUp:
		return "up"
	case StateFail:
		return "fail"
	case StateIndoubt:
		return "indoubt"
	case StateReclaim:
		return "reclaim"
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// MarshalText encodes the state as its name, for JSON.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText decodes a name written by MarshalText.
func (s *State) UnmarshalText(b []byte) error {
	for v := StateRecover; v <= StateReclaim; v++ {
		if v.String() == string(b) {
			*s = v
			return nil
		}
	}
	return fmt.Errorf("quorum: unknown service state %q", b)
}

// String returns "up", "suspect" or "down".
func (s PathState) String() string {
	switch s {
	case PathUp:
		return "up"
	case PathSuspect:
		return "suspect"
	case PathDown:
		return "down"
	}
	return fmt.Sprintf("path(%d)", uint8(s))
}

// MarshalText encodes the path state as its name, for JSON.
func (s PathState) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText decodes a name written by MarshalText.
func (s *PathState) UnmarshalText(b []byte) error {
	for v := PathUp; v <= PathDown; v++ {
		if v.String() == string(b) {
			*s = v
			return nil
		}
	}
	return fmt.Errorf("quorum: unknown path state %q", b)
}

// String returns "unknown", "alive", "degraded" or "dead".
func (s PeerState) String() string {
	switch s {
	case PeerUnknown:
		return "unknown"
	case PeerAlive:
		return "alive"
	case PeerDegraded:
		return "degraded"
	case PeerDead:
		return "dead"
	}
	return fmt.Sprintf("peer(%d)", uint8(s))
}

// MarshalText encodes the verdict as its name, for JSON.
func (s PeerState) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText decodes a name written by MarshalText.
func (s *PeerState) UnmarshalText(b []byte) error {
	for v := PeerUnknown; v <= PeerDead; v++ {
		if v.String() == string(b) {
			*s = v
			return nil
		}
	}
	return fmt.Errorf("quorum: unknown peer state %q", b)
}

// String returns "fail" or "recover".
func (o Op) String() string {
	switch o {
	case OpFail:
		return "fail"
	case OpRecover:
		return "recover"
	}
	return fmt.Sprintf("op(%d)", uint8(o))
}

// String returns "release", "ack" or "reclaim".
func (o ControlOp) String() string {
	switch o {
	case CtlRelease:
		return "release"
	case CtlAck:
		return "ack"
	case CtlReclaim:
		return "reclaim"
	}
	return fmt.Sprintf("control(%d)", uint8(o))
}
