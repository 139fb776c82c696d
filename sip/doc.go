// Package sip maps dossiers into SEDA submission information packages: what a dossier becomes in a
// SIP (its unit's Content and Management, its objects' names and formats, its rendering), what a SIP
// of a class holds besides (the data dictionary, the series unit), what names a SIP, and the one
// record a finished SIP leaves. It knows nothing of spools, states, ledgers or targets: the pipeline
// batches dossiers into Builders and keeps the files crash-safe; seda writes the bytes.
//
// The mapping is deterministic: the same dossiers, decided as of the same date, give the same bytes
// under the same name, which is what lets a rerun recognise a SIP an earlier run sent.
package sip
