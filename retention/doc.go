// Package retention decides, for one dossier and one date, which of the CNIL's three phases it is
// in: active (within the DUC), intermediate (DUA running), final (kept or sampled) or destroy
// (proposed to the archivist), or held, or undetermined with the reason. Decisions are pure
// functions of the rule, the dossier's facts and the as-of date, and each explains itself in one line.
package retention
