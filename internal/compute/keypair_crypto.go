package compute

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// Key pair crypto as nova/crypto.py: MD5 colon-hex fingerprints of SSH
// public keys, SHA-1 ones of X.509 certificates, generated keys are
// 2048-bit RSA.

// sshFingerprint validates an OpenSSH public key line ("<type> <base64>
// [comment]") and returns the MD5 of its key blob as colon-separated hex.
func sshFingerprint(line string) (string, error) {
	fields := strings.Fields(line)
	if len(fields) < 2 {
		return "", fmt.Errorf("failed to generate fingerprint")
	}
	blob, err := base64.StdEncoding.DecodeString(fields[1])
	if err != nil {
		return "", fmt.Errorf("failed to generate fingerprint")
	}
	pub, err := ssh.ParsePublicKey(blob)
	if err != nil || pub.Type() != fields[0] {
		return "", fmt.Errorf("failed to generate fingerprint")
	}
	return ssh.FingerprintLegacyMD5(pub), nil
}

// x509Fingerprint returns the SHA-1 of a PEM certificate as colon hex.
func x509Fingerprint(pemText string) (string, error) {
	block, _ := pem.Decode([]byte(pemText))
	if block == nil {
		return "", fmt.Errorf("failed to generate X509 fingerprint. Error message: Unable to load PEM file. See https://cryptography.io/en/latest/faq/#why-can-t-i-import-my-pem-file for more details. MalformedFraming")
	}
	if _, err := x509.ParseCertificate(block.Bytes); err != nil {
		return "", fmt.Errorf("failed to generate X509 fingerprint. Error message: error parsing asn1 value: %v", err)
	}
	sum := sha1.Sum(block.Bytes)
	return colonHex(sum[:]), nil
}

func colonHex(b []byte) string {
	h := hex.EncodeToString(b)
	parts := make([]string, 0, len(h)/2)
	for i := 0; i+1 < len(h); i += 2 {
		parts = append(parts, h[i:i+2])
	}
	return strings.Join(parts, ":")
}

// generateSSHKey makes a key pair as Nova's generate_key_pair: the
// private key in PKCS#1 PEM, the public key "ssh-rsa <b64>
// Generated-by-Nova".
func generateSSHKey() (private, public, fingerprint string, err error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", "", "", err
	}
	pub, err := ssh.NewPublicKey(&key.PublicKey)
	if err != nil {
		return "", "", "", err
	}
	private = string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	public = pub.Type() + " " + base64.StdEncoding.EncodeToString(pub.Marshal()) + " Generated-by-Nova"
	return private, public, ssh.FingerprintLegacyMD5(pub), nil
}

// generateX509 makes a self-signed client certificate for user, as Nova's
// generate_winrm_x509_cert: CN=user_id, valid ten years, for client
// authentication.
func generateX509(user string) (private, cert, fingerprint string, err error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", "", "", err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 63))
	if err != nil {
		return "", "", "", err
	}
	now := time.Now().UTC()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: user},
		NotBefore:    now,
		NotAfter:     now.AddDate(10, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", "", "", err
	}
	sum := sha1.Sum(der)
	p8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", "", err
	}
	private = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8}))
	cert = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	return private, cert, colonHex(sum[:]), nil
}
