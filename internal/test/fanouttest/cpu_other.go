//go:build !unix

package fanouttest

import "time"

// cpuTime cannot be read here: CPU ratios are not measured.
func cpuTime() time.Duration { return 0 }
