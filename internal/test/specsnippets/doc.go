// Package specsnippets proves the Go snippets of the reference document
// /work/shared/spec/server-actions.md (LiveTemplate's "Server Actions") against
// package lt. Each subpackage holds one snippet group verbatim in snippet.go
// (only livetemplate. replaced with lt., then gofmt), the declarations the
// snippet leaves undefined in support.go, and tests of the behaviour the
// document describes in snippet_test.go.
//
//	sessioninterface  the "From any goroutine" TriggerAction call and type Session interface
//	timer             TimerController (both occurrences; the second, complete one)
//	periodic          "Periodic updates" Controller (runTicker, Refresh)
//	webhook           handleWebhook
//	welcome           AuthController (OnConnect welcome, ServerWelcome)
//	export            ExportController (StartExport, ExportComplete, ExportFailed)
//	registry          global sync.Map session registry and NotifyUser
//	threadsafe        concurrent TriggerAction fragment and the mutex-guarded Controller
package specsnippets
