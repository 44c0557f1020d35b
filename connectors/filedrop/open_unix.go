//go:build unix

package filedrop

import "syscall"

// openFlags make opening a named pipe return at once instead of waiting for a writer.
const openFlags = syscall.O_NONBLOCK
