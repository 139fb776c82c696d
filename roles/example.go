package roles

import _ "embed"

// ExampleYAML is a commented roles file (scolarité, human resources, archives, data protection
// officer) to copy and edit; docs and tests use it.
//
//go:embed example.yaml
var ExampleYAML []byte
