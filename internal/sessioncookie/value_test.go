package sessioncookie

import "testing"

func TestSignValues(t *testing.T) {
	old := NewSigner([]byte("0123456789abcdef0123456789abcdef"))
	s := NewSigner([]byte("fedcba9876543210fedcba9876543210"), []byte("0123456789abcdef0123456789abcdef"))
	sig := s.Sign("flash", "v")
	for _, tc := range []struct {
		name    string
		signer  Signer
		purpose string
		value   string
		sig     string
		want    bool
	}{
		{"signed", s, "flash", "v", sig, true},
		{"previous secret", s, "flash", "v", old.Sign("flash", "v"), true},
		{"other value", s, "flash", "w", sig, false},
		{"other purpose", s, "upload", "v", sig, false},
		{"purpose and value shifted", s, "flas", "h\x00v", sig, false},
		{"other secret", NewSigner([]byte("ffffffffffffffffffffffffffffffff")), "flash", "v", sig, false},
		{"mangled", s, "flash", "v", sig[:sigLen-1] + "A", sig[sigLen-1] == 'A'},
		{"empty", s, "flash", "v", "", false},
		{"a session cookie's signature", s, "", "v", s.sign("v"), false},
	} {
		if got := tc.signer.Verify(tc.purpose, tc.value, tc.sig); got != tc.want {
			t.Errorf("%s: Verify = %v, want %v", tc.name, got, tc.want)
		}
	}
}
