package timer

// The TimerController snippet is complete: it needs no support
// declarations. (examples/timer/main.go runs the same code as a program.)
