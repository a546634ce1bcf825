package registrytest

import "syscall"

// procAttr makes the registry die with the test binary, in a process group
// of its own.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
}
