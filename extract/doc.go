// Package extract reads dossiers from a legacy database: a root row and its rows from child tables,
// in key order, with one ordered query per table merge-joined in Go, keyset paging on the dossier
// key and one read-only snapshot per run. It keeps no resume position: a run resumes through the
// pipeline's state database and reads the source again from the first key.
//
// Sources: SQLite (modernc.org/sqlite, the embedded default), PostgreSQL (pgx) and Oracle (go-ora).
// A Dialect owns what differs between them: quoting, paging and type mapping.
package extract
