package proxytest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Cert is a self-signed certificate for 127.0.0.1, ::1 and localhost,
// made for one test: nginx serves it from files, a Go server from
// Certificate, and Go clients trust it through Pool.
type Cert struct {
	// CertFile and KeyFile are the PEM files, in the test's temporary
	// directory.
	CertFile, KeyFile string
	// Certificate is the certificate and its key, for a tls.Config.
	Certificate tls.Certificate
	// Leaf is the parsed certificate.
	Leaf *x509.Certificate
	// Pool holds Leaf alone: the roots of a client that trusts the
	// certificate and nothing else.
	Pool *x509.CertPool
}

// NewCert makes a self-signed ECDSA certificate valid for an hour and
// writes it and its key into dir as cert.pem and key.pem.
func NewCert(t testing.TB, dir string) *Cert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("proxytest: %v", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatalf("proxytest: %v", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "livesse proxytest"},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true, // its own issuer, so that a pool of it alone verifies it
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("proxytest: %v", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("proxytest: %v", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatalf("proxytest: %v", err)
	}
	c := &Cert{
		CertFile:    filepath.Join(dir, "cert.pem"),
		KeyFile:     filepath.Join(dir, "key.pem"),
		Certificate: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf},
		Leaf:        leaf,
		Pool:        x509.NewCertPool(),
	}
	c.Pool.AddCert(leaf)
	if err := os.WriteFile(c.CertFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatalf("proxytest: %v", err)
	}
	if err := os.WriteFile(c.KeyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatalf("proxytest: %v", err)
	}
	return c
}

// Transport returns a transport that trusts the certificate alone and
// speaks HTTP/2 where the server offers it (ALPN), HTTP/1.1 otherwise.
// Close its idle connections when done.
func (c *Cert) Transport() *http.Transport {
	return &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: c.Pool, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2: true, // a custom TLSClientConfig turns HTTP/2 off otherwise
	}
}
