package transport

// Gate is the receive pipeline for sealed frames: Sealer.Open, then the
// replay check under (Frame.Node, Packet.Path), counting every rejection in
// the path's Counters. Safe for concurrent use by several path readers.
type Gate struct {
	Sealer *Sealer
	Replay *ReplayGuard
}

// Admit opens p.Data and checks it for replay. A nil c counts nothing. The
// returned error wraps one of ErrMalformed, ErrVersion, ErrCluster, ErrAuth
// or ErrReplay; the frame must then be ignored. Frames from our own node
// are not filtered here (the caller knows its name).
func (g *Gate) Admit(p Packet, c *Counters) (Frame, error) {
	if c == nil {
		c = new(Counters)
	}
	f, err := g.Sealer.Open(p.Data)
	if err != nil {
		return Frame{}, c.Reject(err)
	}
	if err := g.Replay.Check(f.Node, p.Path, f.Epoch, f.Seq); err != nil {
		return Frame{}, c.Reject(err)
	}
	return f, nil
}
