package s3

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/versement/versement/transfer"
)

// Delete removes every version of the SIP's key, and its delete markers: in a versioned bucket a
// plain delete only hides the destroyed dossiers behind a marker. Governance retention is never
// bypassed. A version the bucket's Object Lock keeps stops the delete with a *transfer.LockedError
// giving its date; the versions deleted before it stay deleted (none holds anything a kept
// dossier needs: the rewritten SIP is stored under another name), and a later run finishes.
func (t *Target) Delete(ctx context.Context, name string) error {
	if err := transfer.CheckName(name); err != nil {
		return err
	}
	key := t.Key(name)
	var versions []string // "" for an unversioned object
	p := s3.NewListObjectVersionsPaginator(t.client, &s3.ListObjectVersionsInput{Bucket: &t.bucket, Prefix: aws.String(key)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			versions = nil // a server without versions: delete the object itself
			break
		}
		for _, v := range page.Versions {
			if aws.ToString(v.Key) == key {
				versions = append(versions, versionID(v.VersionId))
			}
		}
		for _, m := range page.DeleteMarkers {
			if aws.ToString(m.Key) == key {
				versions = append(versions, versionID(m.VersionId))
			}
		}
	}
	if len(versions) == 0 {
		if _, err := t.Stat(ctx, name); err != nil {
			return err
		}
		versions = []string{""}
	}
	for _, v := range versions {
		in := &s3.DeleteObjectInput{Bucket: &t.bucket, Key: &key}
		if v != "" {
			in.VersionId = aws.String(v)
		}
		if _, err := t.client.DeleteObject(ctx, in); err != nil {
			if l := t.lock(ctx, name, key, v); l != nil {
				return l
			}
			return classify(fmt.Errorf("S3 DeleteObject %s (version %q): %w", t.location(key), v, err))
		}
	}
	return nil
}

func versionID(v *string) string {
	if s := aws.ToString(v); s != "null" {
		return s
	}
	return ""
}

// lock says why a refused delete was refused, when it is the object's lock: a legal hold, or a
// retention whose date has not come.
func (t *Target) lock(ctx context.Context, name, key, version string) *transfer.LockedError {
	var vid *string
	if version != "" {
		vid = aws.String(version)
	}
	if h, err := t.client.GetObjectLegalHold(ctx, &s3.GetObjectLegalHoldInput{Bucket: &t.bucket, Key: &key, VersionId: vid}); err == nil &&
		h.LegalHold != nil && h.LegalHold.Status == types.ObjectLockLegalHoldStatusOn {
		return &transfer.LockedError{Name: name, Mode: "legal hold"}
	}
	r, err := t.client.GetObjectRetention(ctx, &s3.GetObjectRetentionInput{Bucket: &t.bucket, Key: &key, VersionId: vid})
	if err != nil || r.Retention == nil || r.Retention.RetainUntilDate == nil || !r.Retention.RetainUntilDate.After(time.Now()) {
		return nil
	}
	return &transfer.LockedError{Name: name, Until: *r.Retention.RetainUntilDate, Mode: string(r.Retention.Mode)}
}
