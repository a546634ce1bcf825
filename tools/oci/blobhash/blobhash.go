// Package blobhash counts and SHA-256-hashes the bytes written to it: the
// size and digest of an OCI blob as it is written or read.
package blobhash

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Writer counts and hashes what is written to it. It never fails.
type Writer struct {
	h hash.Hash
	n int64
}

// New returns an empty Writer.
func New() *Writer { return &Writer{h: sha256.New()} }

func (w *Writer) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return w.h.Write(p)
}

// Reset empties w and returns it.
func (w *Writer) Reset() *Writer {
	w.h.Reset()
	w.n = 0
	return w
}

// Size is the number of bytes written.
func (w *Writer) Size() int64 { return w.n }

// Digest is the sha256 digest of the bytes written.
func (w *Writer) Digest() v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(w.h.Sum(nil))}
}
