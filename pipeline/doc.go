// Package pipeline wires one run: source → decisions → batches → SIPs → target → ledger, with the
// run's progress and its report.
package pipeline
