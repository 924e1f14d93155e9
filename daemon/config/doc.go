// Package config is failoverd's configuration: the types of one host's TOML
// file (see failover.toml.example at the top of the repository), their
// defaults, the parser and validation, the key file check, and the
// translation into the core's terms.
//
// Load reads one file; Parse does the same on bytes. Default, DefaultPath,
// DefaultService, DefaultCheck and DefaultSNMP hold the defaults, each with
// its reason. The timers (and each service's probe window) come from the
// one table of Presets (fast, lan, wan; `[timers] preset`, DefaultPreset
// when a file names none, and Default's values), each given key overriding
// the preset's; TimerSettings lists the effective timers with where each
// came from.
// Every problem in a file is reported at once (errors.Join of *Problem), each
// as "file:line: key: what is wrong"; unknown keys are rejected with a
// suggestion, and cross-field sense is checked (deadtime > 2 x interval,
// every peer on a path, priorities name known nodes, the VIP is nobody's
// host address, the service NIC carries a UDP path, a [[service.check]] has
// a known kind and the target or command it needs, and the weights of a
// service's checks cannot make this node's priority negative). Checks,
// notify hooks, metrics_listen and realtime_priority are this node's own:
// they are not in the Fingerprint peers compare. CheckKeyFile checks the key file a config names.
//
// Core turns a Config into the quorum.Config the core runs on; SendInterval
// and PathDeadtime give a path's own timing (a serial line may be stretched
// for its line speed); PathPeers is the peers expected on a path.
//
// The package imports the standard library, BurntSushi/toml, transport and
// quorum only, so that hwtest and the CLI read a config without linking the
// daemon. A *Config is not modified after Parse returns and may be shared
// by goroutines; the package has no package-level mutable state.
package config
