package pipeline

import (
	"errors"

	"github.com/versement/versement/profiles"
)

func asErrors(err error, target *profiles.Errors) bool { return errors.As(err, target) }
