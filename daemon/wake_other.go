//go:build !linux

package daemon

func newWakeTimer() wakeup { return newRuntimeTimer() }
