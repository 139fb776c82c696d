package s3

// SetTestHookAfterHash runs f between the read that hashes a multipart SIP and its upload; the
// returned func removes it.
func SetTestHookAfterHash(f func(path string)) func() {
	testHookAfterHash = f
	return func() { testHookAfterHash = nil }
}
