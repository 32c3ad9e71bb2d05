package identity

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"kumo/internal/identity/token"
)

// Credential blobs (EC2 secrets, TOTP seeds, certificates) are encrypted at
// rest with Fernet, as Keystone's credential provider does, under a key
// repository of their own: DataDir/credential-keys, laid out like
// keystone-manage credential_setup leaves it. Keeping it apart from the
// token keys means rotating token keys never makes a stored secret
// unreadable, and vice versa.

// credentialKeyDir is where the credential keys live under a data directory.
func credentialKeyDir(dataDir string) string { return filepath.Join(dataDir, "credential-keys") }

// openCredentialKeys creates the credential key repository if missing and
// opens it. New calls it once.
func openCredentialKeys(dataDir string) (*token.Repository, error) {
	dir := credentialKeyDir(dataDir)
	if err := token.Setup(dir); err != nil {
		return nil, fmt.Errorf("identity: credential keys: %w", err)
	}
	repo, err := token.OpenRepository(dir)
	if err != nil {
		return nil, fmt.Errorf("identity: credential keys: %w", err)
	}
	return repo, nil
}

// RotateCredentialKeys rotates the credential keys (keystone-manage
// credential_rotate). Blobs sealed with a key that rotation later purges
// become unreadable, so keep maxActive above the number of rotations
// between re-encryptions.
func RotateCredentialKeys(dataDir string, maxActive int) error {
	if maxActive == 0 {
		maxActive = 3
	}
	return token.Rotate(credentialKeyDir(dataDir), maxActive)
}

// sealBlob encrypts a credential blob and returns it with the hash of the
// primary key that sealed it (Keystone's key_hash, the SHA-1 of the key's
// text), which tells an operator which rows still need re-encrypting after
// a rotation.
func (s *Service) sealBlob(plain string) (sealed, keyHash string, err error) {
	keys, err := s.credKeys.Keys()
	if err != nil {
		return "", "", fmt.Errorf("seal credential: %w", err)
	}
	return keys.Encrypt([]byte(plain), time.Now()), primaryKeyHash(s.credKeys.Dir()), nil
}

// openBlob decrypts a stored credential blob.
func (s *Service) openBlob(sealed string) (string, error) {
	keys, err := s.credKeys.Keys()
	if err != nil {
		return "", fmt.Errorf("open credential: %w", err)
	}
	plain, _, err := keys.Decrypt(sealed)
	if err != nil {
		return "", fmt.Errorf("open credential: %w (was its key purged by a rotation?)", err)
	}
	return string(plain), nil
}

// primaryKeyHash returns the SHA-1 of the primary (highest-numbered) key
// file's text, or "" if it cannot be read.
func primaryKeyHash(dir string) string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return ""
	}
	best := -1
	for _, e := range entries {
		if i, err := strconv.Atoi(e.Name()); err == nil && i > best && strconv.Itoa(i) == e.Name() {
			best = i
		}
	}
	if best < 0 {
		return ""
	}
	text, err := os.ReadFile(filepath.Join(dir, strconv.Itoa(best)))
	if err != nil {
		return ""
	}
	sum := sha1.Sum([]byte(strings.TrimSpace(string(text))))
	return hex.EncodeToString(sum[:])
}
