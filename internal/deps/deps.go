// Package deps pins the project's third-party modules while the packages that use them are being
// written, so that go.mod is shared by everyone from the first commit. Remove an import here once a
// real package imports the module; delete the file when it is empty.
package deps

import (
	_ "github.com/aws/aws-sdk-go-v2/aws"
	_ "github.com/aws/aws-sdk-go-v2/config"
	_ "github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	_ "github.com/aws/aws-sdk-go-v2/service/s3"
	_ "github.com/beevik/etree"
	_ "github.com/expr-lang/expr"
	_ "github.com/goccy/go-yaml"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "github.com/jacoelho/xsd"
	_ "github.com/klauspost/compress/flate"
	_ "github.com/minio/sha256-simd"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/prometheus/common/expfmt"
	_ "github.com/robfig/cron/v3"
	_ "github.com/schollz/progressbar/v3"
	_ "github.com/sijms/go-ora/v2"
	_ "github.com/urfave/cli/v2"
	_ "modernc.org/sqlite"
)
