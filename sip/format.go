package sip

import (
	"net/http"
	"strings"
)

// Format is what a data object is: its MIME type, its PRONOM identifier (the registry VITAM's
// format identification, Siegfried, answers with) and the file extension its name carries.
type Format struct {
	MIME   string
	PRONOM string // "" when the table below has no identifier for it
	Ext    string // with its dot; "" when none is known
}

// formats are the formats versement writes or finds in the LOBs of the applications it archives,
// with the PRONOM identifiers VITAM's own identification gives them.
// A PRONOM identifier is given only where the MIME type fixes it: PDF, GIF or TIFF have one per
// version, which VITAM's identification finds at ingest.
var formats = []Format{
	{MIME: "application/json", PRONOM: "fmt/817", Ext: ".json"},
	{MIME: "image/jpeg", PRONOM: "fmt/43", Ext: ".jpg"},
	{MIME: "image/png", PRONOM: "fmt/11", Ext: ".png"},
	{MIME: "text/plain", PRONOM: "x-fmt/111", Ext: ".txt"},
	{MIME: "application/pdf", Ext: ".pdf"},
	{MIME: "image/gif", Ext: ".gif"},
	{MIME: "image/tiff", Ext: ".tif"},
	{MIME: "image/bmp", Ext: ".bmp"},
	{MIME: "image/webp", Ext: ".webp"},
	{MIME: "text/xml", Ext: ".xml"},
	{MIME: "text/html", Ext: ".html"},
	{MIME: "application/zip", PRONOM: "x-fmt/263", Ext: ".zip"},
	{MIME: "application/octet-stream", Ext: ".bin"},
}

// FormatOf is the known format of a MIME type, or one with the MIME type alone.
func FormatOf(mime string) Format {
	for _, f := range formats {
		if f.MIME == mime {
			return f
		}
	}
	return Format{MIME: mime}
}

// Sniff names the format of bytes from their first 512 (http.DetectContentType's rules, without
// the MIME type's parameters).
func Sniff(head []byte) Format {
	mime := http.DetectContentType(head)
	if i := strings.IndexByte(mime, ';'); i >= 0 {
		mime = mime[:i]
	}
	return FormatOf(mime)
}
