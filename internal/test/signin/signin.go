// Package signin drives the sign-in form the examples share, in Chromium
// through lt/ltbrowser: a form #signin with a field #name and, once
// signed in, the name shown in #me. It is this repository's convention,
// not a part of lt/ltbrowser a user would want.
package signin

import (
	"context"
	"fmt"
	"net/http"

	"github.com/chromedp/chromedp"
	"github.com/livesse/livesse/lt/ltbrowser"
)

// SignIn loads page in the tab of ctx, signs in as name with the page's
// form and waits until the signed-in page is live. The sign-in must land
// back on page.
func SignIn(ctx context.Context, page, name string) error {
	if err := ltbrowser.Do(ctx, chromedp.Navigate(page)); err != nil {
		return err
	}
	return SubmitSignIn(ctx, page, name)
}

// SubmitSignIn is SignIn in a tab that already shows page signed out.
func SubmitSignIn(ctx context.Context, page, name string) error {
	tctx, cancel := context.WithTimeout(ctx, ltbrowser.Timeout)
	defer cancel()
	resp, err := chromedp.RunResponse(tctx, ltbrowser.FillAndClick("#signin", map[string]string{"#name": name}))
	switch {
	case err != nil:
		return fmt.Errorf("signing in as %s: %w", name, err)
	case resp.Status != http.StatusOK || resp.URL != page:
		return fmt.Errorf("signing in as %s: got %d at %s, want %d at %s (after the sign-in's redirect)", name, resp.Status, resp.URL, http.StatusOK, page)
	}
	return waitSignedIn(ctx, name)
}

// OpenSignedIn loads page in the tab of ctx, whose browser is already
// signed in as name, and waits until the page is live.
func OpenSignedIn(ctx context.Context, page, name string) error {
	if err := ltbrowser.Do(ctx, chromedp.Navigate(page)); err != nil {
		return err
	}
	return waitSignedIn(ctx, name)
}

func waitSignedIn(ctx context.Context, name string) error {
	if err := ltbrowser.WaitText(ctx, "#me", name); err != nil {
		return err
	}
	return ltbrowser.WaitStatus(ctx, "online")
}
