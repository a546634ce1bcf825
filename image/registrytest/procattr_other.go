//go:build !linux

package registrytest

import "syscall"

// procAttr: without Linux's parent-death signal the registry is stopped by
// Close only.
func procAttr() *syscall.SysProcAttr { return nil }
