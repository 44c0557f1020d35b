//go:build !unix

package filedrop

const openFlags = 0
