// Package seda writes and reads SEDA 2.1/2.2/2.3 ArchiveTransfer packages (SIPs): a zip with
// manifest.xml at its root and the data objects under Content/. The writer streams: archive units
// are written one at a time, and every byte is hashed in the same pass that writes it. The reader
// verifies any SEDA 2.x SIP, ours or another producer's, without unpacking it.
package seda
