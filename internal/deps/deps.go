//go:build linux

// Package deps pins the module's third-party dependencies while the packages
// that use them are being written. It is removed once every dependency has a
// real importer.
package deps

import (
	_ "github.com/BurntSushi/toml"
	_ "github.com/google/go-cmp/cmp"
	_ "github.com/google/nftables"
	_ "github.com/mdlayher/arp"
	_ "github.com/mdlayher/ethernet"
	_ "github.com/mdlayher/ndp"
	_ "github.com/mdlayher/packet"
	_ "github.com/vishvananda/netlink"
	_ "github.com/vishvananda/netns"
	_ "go.bug.st/serial"
	_ "golang.org/x/net/ipv4"
	_ "golang.org/x/net/ipv6"
	_ "golang.org/x/sys/unix"
)
