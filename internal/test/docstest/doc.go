// Package docstest checks that every Go snippet of the documentation
// compiles: the ```go fenced blocks of README.md and docs/*.md. It has no
// code of its own; run it with
//
//	go test ./internal/test/docstest/
//
// The conventions a snippet follows are described at the top of
// docstest_test.go.
package docstest
