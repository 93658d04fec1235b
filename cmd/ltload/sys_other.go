//go:build !linux

package main

import "os/exec"

// raiseNoFile is a no-op here: ltload's limits are tuned for Linux.
func raiseNoFile(uint64) (uint64, error) { return 0, nil }

func readRSS() uint64 { return 0 }

func cpuTime() int64 { return 0 }

func childAttrs(*exec.Cmd) {}

func machineBusy() int64 { return 0 }

func loadAvg() string { return "" }
