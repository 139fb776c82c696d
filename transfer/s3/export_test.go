package s3

// SetTestHookPartHashed runs f once each part of a multipart SIP is hashed, before it is sent;
// the returned func removes it.
func SetTestHookPartHashed(f func(path string, part int)) func() {
	testHookPartHashed = f
	return func() { testHookPartHashed = nil }
}
