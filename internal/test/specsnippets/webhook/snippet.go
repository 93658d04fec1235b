// Package webhook holds the webhook snippet of the Server Actions document.
package webhook

import (
	"encoding/json"
	"net/http"
)

// Doc: "External events pushing updates to users:". WebhookPayload,
// getUserSession and the controller that stores the sessions during
// OnConnect are not declared by the snippet; see support.go.

// HTTP handler receives webhook from external service
func handleWebhook(w http.ResponseWriter, r *http.Request) {
	var payload WebhookPayload
	json.NewDecoder(r.Body).Decode(&payload)
	// Get session for target user (stored during OnConnect)
	if session := getUserSession(payload.UserID); session != nil {
		session.TriggerAction("notification", map[string]interface{}{
			"message": payload.Message,
			"type":    "webhook",
		})
	}
	w.WriteHeader(http.StatusOK)
}
