package vitam

import (
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"

	"github.com/versement/versement/transfer"
)

// ObjectInfo is what access-external says of a binary object it streams.
type ObjectInfo struct {
	Filename string // from Content-Disposition: FileInfo/Filename, or the object id
	MimeType string
	Size     int64 // -1 when VITAM did not say
}

// Object opens one binary object of a unit, by usage and version (BinaryMaster, 1 for
// BinaryMaster_1), as a stream: GET /access-external/v1/units/{id}/objects with X-Qualifier and
// X-Version. Unlike a DIP, which carries only the last version of each usage, it reaches every
// version, such as a dossier's document (BinaryMaster_1) when its photo is BinaryMaster_2.
// Reading more than MaxObject bytes fails.
func (a *Access) Object(ctx context.Context, unitID, usage string, version int) (io.ReadCloser, ObjectInfo, error) {
	if !headerValue.MatchString(unitID) || !headerValue.MatchString(usage) || version < 1 {
		return nil, ObjectInfo{}, transfer.Permanent(fmt.Errorf("VITAM object: want a unit SystemId, a usage and a version ≥ 1, got %q, %q, %d", unitID, usage, version))
	}
	resp, rid, err := a.doHeaders(ctx, http.MethodGet, "/access-external/v1/units/"+url.PathEscape(unitID)+"/objects", nil, "application/octet-stream", false,
		map[string]string{"X-Qualifier": usage, "X-Version": strconv.Itoa(version)})
	if err != nil {
		return nil, ObjectInfo{}, err
	}
	if resp.StatusCode != http.StatusOK {
		reply, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		resp.Body.Close()
		return nil, ObjectInfo{}, a.refused(fmt.Sprintf("object %s_%d of unit %s", usage, version, unitID), resp, rid, reply)
	}
	limit := a.MaxObject
	if limit <= 0 {
		limit = DefaultMaxObject
	}
	what := fmt.Sprintf("VITAM object %s_%d of unit %s", usage, version, unitID)
	if resp.ContentLength > limit {
		resp.Body.Close()
		return nil, ObjectInfo{}, transfer.Permanent(fmt.Errorf("%s: %d bytes, more than the %d allowed", what, resp.ContentLength, limit))
	}
	info := ObjectInfo{MimeType: resp.Header.Get("Content-Type"), Size: resp.ContentLength}
	if _, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition")); err == nil {
		info.Filename = params["filename"]
	}
	return &cappedBody{rc: resp.Body, left: limit, what: what, limit: limit}, info, nil
}
