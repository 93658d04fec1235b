// Package e2e holds browser tests of library behaviour that no single
// example shows, run in headless Chromium against small pages.
package e2e
