// Package export holds the background-job snippet of the Server Actions
// document.
package export

import (
	"context"
	"sync"

	"github.com/livesse/livesse/lt"
)

// Doc: "Notify users when async jobs finish. Use proper cleanup with context
// cancellation:". Verbatim except for one declaration: the doc opens with
//
//	type ExportState struct {
//		ExportStatus string
//	}
//
// but ExportComplete below assigns state.DownloadURL, which that struct
// lacks, so the snippet as printed does not compile ("state.DownloadURL
// undefined (type ExportState has no field or method DownloadURL)").
// ExportState is therefore declared in support.go, with the DownloadURL
// field added. performLongRunningExport and its result type are there too.

type ExportController struct {
	session      lt.Session
	cancelExport context.CancelFunc
	mu           sync.Mutex
}

func (c *ExportController) OnConnect(state ExportState, ctx *lt.Context) (ExportState, error) {
	c.mu.Lock()
	c.session = ctx.Session()
	c.mu.Unlock()
	return state, nil
}

func (c *ExportController) OnDisconnect() {
	c.mu.Lock()
	defer c.mu.Unlock()
	// Cancel any running export when user disconnects
	if c.cancelExport != nil {
		c.cancelExport()
		c.cancelExport = nil
	}
	c.session = nil
}

func (c *ExportController) StartExport(state ExportState, ctx *lt.Context) (ExportState, error) {
	// Create cancellable context for the background job
	jobCtx, cancel := context.WithCancel(context.Background())
	c.mu.Lock()
	c.cancelExport = cancel
	c.mu.Unlock()
	go func() {
		defer cancel() // Clean up when done
		result, err := performLongRunningExport(jobCtx)
		// Check if cancelled before notifying
		select {
		case <-jobCtx.Done():
			return // User disconnected, don't notify
		default:
		}
		c.mu.Lock()
		session := c.session
		c.mu.Unlock()
		if session != nil {
			if err != nil {
				session.TriggerAction("exportFailed", map[string]interface{}{
					"error": err.Error(),
				})
			} else {
				session.TriggerAction("exportComplete", map[string]interface{}{
					"downloadURL": result.URL,
				})
			}
		}
	}()
	state.ExportStatus = "Processing..."
	return state, nil
}

func (c *ExportController) ExportComplete(state ExportState, ctx *lt.Context) (ExportState, error) {
	state.ExportStatus = "Complete"
	state.DownloadURL = ctx.GetString("downloadURL")
	return state, nil
}

func (c *ExportController) ExportFailed(state ExportState, ctx *lt.Context) (ExportState, error) {
	state.ExportStatus = "Failed: " + ctx.GetString("error")
	return state, nil
}
